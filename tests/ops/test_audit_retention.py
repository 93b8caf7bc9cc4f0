"""The audit log keeps at least six months online, can be archived to a file, and is never edited."""

import datetime as dt
import gzip
import hashlib
import json

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from baoxue.audit.archive import ArchiveRefused, archive, earliest_cut
from baoxue.audit.models import AuditEntry
from baoxue.audit.services import audit_record

pytestmark = pytest.mark.django_db


def _entry(days_ago: int, note: str) -> AuditEntry:
    entry = audit_record(actor=None, action="update", object_type="student", object_id="1", note=note,
                         actor_label="测试")
    with connection.cursor() as c:  # backdate by re-inserting: the table refuses updates
        c.execute("DELETE FROM audit_auditentry WHERE id = %s", [entry.pk])
    entry.at = timezone.now() - dt.timedelta(days=days_ago)
    entry.save_base(raw=True)  # raw: keeps `at` (auto_now_add would set it to now)
    return entry


def test_an_audit_row_cannot_be_edited_even_in_sql():
    entry = audit_record(actor=None, action="update", object_type="student", note="原文", actor_label="测试")
    with pytest.raises(DatabaseError):
        with transaction.atomic():
            AuditEntry.objects.filter(pk=entry.pk).update(note="改过")
    assert AuditEntry.objects.get(pk=entry.pk).note == "原文"


def test_archiving_is_refused_inside_six_months():
    with pytest.raises(ArchiveRefused, match="至少在线保留 6 个月"):
        archive(before=timezone.localdate() - dt.timedelta(days=30))
    with pytest.raises(CommandError, match="至少在线保留"):
        call_command("audit_archive", "--before", timezone.localdate().isoformat())


def test_old_rows_move_to_a_verifiable_file_and_recent_ones_stay(tmp_path):
    old = [_entry(400, f"旧记录{n}") for n in range(3)]
    recent = _entry(10, "新记录")
    done = archive(before=earliest_cut(), to=tmp_path)
    assert done["rows"] == 3
    with gzip.open(done["file"], "rb") as f:
        data = f.read()
    lines = [json.loads(line) for line in data.decode().splitlines()]
    assert [line["note"] for line in lines] == [e.note for e in old]
    assert hashlib.sha256(data).hexdigest() == done["sha256"]
    assert not AuditEntry.objects.filter(pk__in=[e.pk for e in old]).exists()
    assert AuditEntry.objects.filter(pk=recent.pk).exists()
    record = AuditEntry.objects.get(object_repr="操作日志归档")
    assert record.changes["sha256"][1] == done["sha256"] and record.changes["rows"] == [3, 0]
