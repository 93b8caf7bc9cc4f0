"""Audit retention: the log keeps at least six months online, older rows can be moved to an
archive file; no row is ever edited (the database refuses an UPDATE of the table).

An archive is a gzipped JSON-lines file, one entry per line with every field, written and
synced to disk before the rows leave the database, with its SHA-256 in the audit row that
records the archiving.
"""

import datetime
import gzip
import hashlib
import json
import os
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from baoxue.audit.models import Action, AuditEntry
from baoxue.audit.services import audit_record
from baoxue.lib.dates import add_months

# Never less than this, whatever the setting says.
MIN_KEEP_MONTHS = 6


class ArchiveRefused(ValueError):
    pass


def keep_months() -> int:
    return max(MIN_KEEP_MONTHS, int(getattr(settings, "AUDIT_KEEP_MONTHS", MIN_KEEP_MONTHS)))


def earliest_cut(today: datetime.date | None = None) -> datetime.date:
    """Rows before this day may be archived; later ones stay online."""
    return add_months(today or timezone.localdate(), -keep_months())


def archive(*, before: datetime.date, to: Path | None = None, actor=None) -> dict:
    """Move every entry dated before `before` into an archive file. Returns {"file", "rows", "sha256"}."""
    cut = earliest_cut()
    if before > cut:
        raise ArchiveRefused(f"操作日志至少在线保留 {keep_months()} 个月：只能归档 {cut} 之前的记录")
    folder = Path(to) if to else Path(settings.VAR_DIR) / "archive"
    folder.mkdir(parents=True, exist_ok=True)
    moment = timezone.make_aware(datetime.datetime.combine(before, datetime.time.min))
    rows = AuditEntry.objects.filter(at__lt=moment).order_by("id")
    ids = list(rows.values_list("id", flat=True))
    if not ids:
        return {"file": None, "rows": 0, "sha256": ""}
    target = folder / f"audit-before-{before.isoformat()}-{timezone.localtime():%Y%m%d%H%M%S}.jsonl.gz"
    partial = target.with_suffix(".partial")
    digest = hashlib.sha256()
    with open(partial, "wb") as raw:
        with gzip.GzipFile(fileobj=raw, mode="wb") as out:
            for entry in rows.values().iterator(chunk_size=2000):
                entry["at"] = entry["at"].isoformat()
                line = (json.dumps(entry, ensure_ascii=False, default=str) + "\n").encode()
                out.write(line)
                digest.update(line)
        raw.flush()
        os.fsync(raw.fileno())
    os.replace(partial, target)
    with transaction.atomic():
        for start in range(0, len(ids), 5000):
            AuditEntry.objects.filter(id__in=ids[start:start + 5000])._raw_delete(using="default")
        audit_record(actor=actor, action=Action.DELETE, object_type="auditentry", object_repr="操作日志归档",
                     actor_label="" if actor else "系统（归档）",
                     changes={"rows": [len(ids), 0], "file": [None, target.name], "sha256": [None, digest.hexdigest()]},
                     note=f"归档 {before} 之前的操作日志 {len(ids)} 条（文件内容 SHA-256 见变更）")
    return {"file": target, "rows": len(ids), "sha256": digest.hexdigest()}
