"""学籍异动: each change moves the student's 学籍状态 as the table says; a transfer has 10 working
days on the real calendar; no transfer while suspended; no expulsion; 复学 goes 国网 first."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from baoxue.audit.models import AuditEntry
from baoxue.cases.models import Case, Outcome, Stage
from baoxue.cases.services import case_mark_missing, case_open
from baoxue.org.models import RegistryStatus as S
from baoxue.registry.changes import (
    NO_EXPULSION,
    RESUME_NATIONAL_FIRST,
    SUSPENDED_NO_TRANSFER,
    TRANSITIONS,
    registry_change_mark_done,
    registry_change_record,
)
from baoxue.registry.models import ChangeType, RegistryChange
from tests.conftest import approved_application

D = dt.date
T = ChangeType


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def clerk(people):
    return people["users"]["registrar"]


@pytest.fixture
def zhangsan(students):
    return students["zhangsan"]


def record(actor, student, change_type, date=D(2025, 10, 9), reason="测试原因", **kw):
    if change_type in (T.SUSPEND, T.DEFER) and "application" not in kw:
        kw["application"] = approved_application(student, date, outcome="defer" if change_type == T.DEFER else "")
    return registry_change_record(actor=actor, student=student, change_type=change_type, date=date, reason=reason, **kw)


def with_status(student, status, since=D(2025, 9, 1)):
    student.status, student.status_since = status, since
    student.save()
    return student


def shot(name="国网复学成功.png"):
    return SimpleUploadedFile(name, b"\x89PNG\r\n\x1a\n fake", content_type="image/png")


@pytest.mark.parametrize("change_type, start, expected", [
    (T.TRANSFER_IN, S.TRANSFERRED_OUT, S.IN_SCHOOL),
    (T.TRANSFER_IN, S.IN_SCHOOL, S.IN_SCHOOL),
    (T.TRANSFER_OUT, S.IN_SCHOOL, S.TRANSFERRED_OUT),
    (T.SUSPEND, S.IN_SCHOOL, S.SUSPENDED),
    (T.RESUME, S.SUSPENDED, S.IN_SCHOOL),
    (T.RESUME, S.DROPPED_OUT, S.IN_SCHOOL),
    (T.DROPOUT, S.IN_SCHOOL, S.DROPPED_OUT),
    (T.DEATH, S.IN_SCHOOL, S.DECEASED),
    (T.ABROAD, S.IN_SCHOOL, S.OTHER_LEFT),
    (T.OTHER_LEAVE, S.IN_SCHOOL, S.OTHER_LEFT),
    (T.REPEAT, S.IN_SCHOOL, S.IN_SCHOOL),
    (T.SKIP, S.IN_SCHOOL, S.IN_SCHOOL),
    (T.DEFER, S.IN_SCHOOL, S.DEFERRED),
])
def test_it_moves_the_status_as_the_table_says(clerk, zhangsan, change_type, start, expected):
    with_status(zhangsan, start)
    extra = {"scope": "in_province", "other_school": "濮阳市第二中学"} if change_type == T.TRANSFER_OUT else {}
    change = record(clerk, zhangsan, change_type, **extra)
    zhangsan.refresh_from_db()
    assert zhangsan.status == expected
    assert (change.status_before, change.status_after) == (start, expected)
    assert change.handled_by == clerk and change.school == zhangsan.school and change.county == zhangsan.county


def test_every_type_has_a_row_in_the_table():
    assert set(TRANSITIONS) == set(ChangeType.values)


def test_the_status_date_follows_the_record(clerk, zhangsan):
    with_status(zhangsan, S.IN_SCHOOL)
    record(clerk, zhangsan, T.SUSPEND, date=D(2025, 10, 13))
    zhangsan.refresh_from_db()
    assert zhangsan.status_since == D(2025, 10, 13)


def test_repeating_a_year_changes_class_not_status(clerk, zhangsan):
    with_status(zhangsan, S.IN_SCHOOL, since=D(2025, 9, 1))
    record(clerk, zhangsan, T.REPEAT, date=D(2025, 9, 10))
    zhangsan.refresh_from_db()
    assert (zhangsan.status, zhangsan.status_since) == (S.IN_SCHOOL, D(2025, 9, 1))
    assert not AuditEntry.objects.filter(object_type="student", student_id=zhangsan.pk, action="update").exists()


def test_a_transfer_out_has_ten_working_days_across_national_day(clerk, zhangsan):
    change = record(clerk, zhangsan, T.TRANSFER_OUT, date=D(2025, 9, 30), scope="cross_province",
                    other_school="浙江省义乌市稠城中学")
    assert change.due_on == D(2025, 10, 21)
    assert change.get_scope_display() == "跨省"


def test_a_transfer_in_has_the_same_ten_working_days(clerk, zhangsan):
    change = record(clerk, zhangsan, T.TRANSFER_IN, date=D(2025, 9, 26), other_school="留固镇初级中学")
    assert change.due_on == D(2025, 10, 16)


def test_a_transfer_out_needs_scope_and_receiving_school(clerk, zhangsan):
    with pytest.raises(ValidationError) as e:
        record(clerk, zhangsan, T.TRANSFER_OUT)
    assert set(e.value.message_dict) == {"scope", "other_school"}
    assert not RegistryChange.objects.exists()


def test_a_transfer_out_is_refused_while_suspended(clerk, zhangsan):
    with_status(zhangsan, S.SUSPENDED)
    with pytest.raises(ValidationError) as e:
        record(clerk, zhangsan, T.TRANSFER_OUT, scope="in_province", other_school="濮阳市第二中学")
    assert e.value.message_dict["change_type"] == [SUSPENDED_NO_TRANSFER]
    zhangsan.refresh_from_db()
    assert zhangsan.status == S.SUSPENDED
    assert not RegistryChange.objects.exists()


def test_there_is_no_expulsion_or_withdrawal(clerk, zhangsan):
    for kind in ("expel", "withdraw"):
        with pytest.raises(ValidationError) as e:
            record(clerk, zhangsan, kind)
        assert e.value.message_dict["change_type"] == [NO_EXPULSION]
    assert "expel" not in ChangeType.values and "withdraw" not in ChangeType.values


def test_a_change_from_the_wrong_status_is_refused(clerk, zhangsan):
    with_status(zhangsan, S.DROPPED_OUT)
    with pytest.raises(ValidationError, match="学籍状态为“辍学”的学生不能办理休学"):
        record(clerk, zhangsan, T.SUSPEND)
    with_status(zhangsan, S.DECEASED)
    with pytest.raises(ValidationError):
        record(clerk, zhangsan, T.RESUME)


def test_a_change_needs_a_reason_and_a_date_not_in_the_future(clerk, zhangsan):
    with pytest.raises(ValidationError) as e:
        record(clerk, zhangsan, T.SUSPEND, reason=" ", date=timezone.localdate() + dt.timedelta(days=1))
    assert set(e.value.message_dict) == {"reason", "date"}


def test_a_change_cannot_predate_the_current_status(clerk, zhangsan):
    with_status(zhangsan, S.SUSPENDED, since=D(2025, 10, 13))
    with pytest.raises(ValidationError, match="早于当前学籍状态"):
        record(clerk, zhangsan, T.RESUME, date=D(2025, 10, 1))


def test_a_transfer_in_a_year_without_calendar_is_refused_not_guessed(clerk, zhangsan, monkeypatch):
    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: D(2026, 12, 28))
    with pytest.raises(ValidationError, match="2027年的工作日历尚未录入"):
        record(clerk, zhangsan, T.TRANSFER_OUT, date=D(2026, 12, 28), scope="in_province", other_school="某校")
    assert not RegistryChange.objects.exists()


def test_documents_are_stored_with_the_change(clerk, zhangsan):
    change = record(clerk, zhangsan, T.SUSPEND, documents=SimpleUploadedFile("诊断证明.pdf", b"%PDF-1.4"))
    assert change.documents.name.startswith("registry/changes/")
    assert change.documents.read() == b"%PDF-1.4"


def test_it_writes_the_audit_rows(clerk, zhangsan):
    with_status(zhangsan, S.IN_SCHOOL, since=None)
    change = record(clerk, zhangsan, T.SUSPEND, date=D(2025, 10, 13), reason="因病休学（白血病）")
    row = AuditEntry.objects.get(object_type="registrychange", object_id=str(change.pk))
    assert row.action == "create" and row.actor == clerk and row.student_id == zhangsan.pk
    assert row.changes["change_type"] == [None, "休学"]
    student_row = AuditEntry.objects.get(object_type="student", object_id=str(zhangsan.pk), action="update")
    assert student_row.changes["status"] == ["in_school", "suspended"]
    assert student_row.changes["status_since"] == [None, "2025-10-13"]
    assert student_row.actor == clerk


def test_resuming_a_dropout_closes_the_dropout_case(clerk, zhangsan, school):
    case = case_open(student_id=zhangsan.pk, school=school, run_days=[D(2025, 9, 22)])
    case_mark_missing(actor=clerk, case=case, on=D(2025, 9, 23), note="失联")
    zhangsan.refresh_from_db()
    assert zhangsan.status == S.DROPPED_OUT
    record(clerk, zhangsan, T.RESUME, date=D(2025, 10, 20), reason="劝返成功，返校复学")
    case.refresh_from_db()
    zhangsan.refresh_from_db()
    assert zhangsan.status == S.IN_SCHOOL and zhangsan.status_since == D(2025, 10, 20)
    assert (case.is_open, case.outcome, case.closed_on) == (False, Outcome.RESUMED, D(2025, 10, 20))
    assert case.stage == Stage.DROPOUT


def test_resuming_a_dropout_before_the_dropout_date_is_refused(clerk, zhangsan, school):
    case = case_open(student_id=zhangsan.pk, school=school, run_days=[D(2025, 9, 22)])
    case_mark_missing(actor=clerk, case=case, on=D(2025, 9, 23))
    zhangsan.refresh_from_db()
    zhangsan.status_since = None  # even without the status date, the case's date holds
    zhangsan.save()
    with pytest.raises(ValidationError, match="复学日期不能早于辍学日期"):
        record(clerk, zhangsan, T.RESUME, date=D(2025, 9, 22))
    assert Case.objects.get(pk=case.pk).is_open


# ---------------------------------------------------------------- 国网 and 省网

def test_it_records_national_and_provincial_processing(clerk, zhangsan):
    change = record(clerk, zhangsan, T.SUSPEND, date=D(2025, 10, 13))
    registry_change_mark_done(actor=clerk, change=change, system="provincial", done_on=D(2025, 10, 14))
    registry_change_mark_done(actor=clerk, change=change, system="national", done_on=D(2025, 10, 15),
                              screenshot=shot("国网休学.png"))
    change.refresh_from_db()
    assert change.provincial_done_on == D(2025, 10, 14) and change.national_done_on == D(2025, 10, 15)
    assert change.national_screenshot.name.startswith("registry/screenshots/")
    rows = AuditEntry.objects.filter(object_type="registrychange", object_id=str(change.pk), action="update")
    assert {tuple(r.changes) for r in rows} == {("provincial_done_on",), ("national_done_on", "national_screenshot")}


def test_provincial_resumption_before_national_is_refused(clerk, zhangsan):
    with_status(zhangsan, S.SUSPENDED)
    change = record(clerk, zhangsan, T.RESUME, date=D(2025, 10, 13))
    with pytest.raises(ValidationError) as e:
        registry_change_mark_done(actor=clerk, change=change, system="provincial", done_on=D(2025, 10, 14))
    assert e.value.messages == [RESUME_NATIONAL_FIRST]
    assert "省网办理复学时需上传国网复学成功截图" in RESUME_NATIONAL_FIRST


def test_national_resumption_needs_the_success_screenshot(clerk, zhangsan):
    with_status(zhangsan, S.SUSPENDED)
    change = record(clerk, zhangsan, T.RESUME, date=D(2025, 10, 13))
    with pytest.raises(ValidationError) as e:
        registry_change_mark_done(actor=clerk, change=change, system="national", done_on=D(2025, 10, 14))
    assert "screenshot" in e.value.message_dict
    registry_change_mark_done(actor=clerk, change=change, system="national", done_on=D(2025, 10, 14), screenshot=shot())
    registry_change_mark_done(actor=clerk, change=change, system="provincial", done_on=D(2025, 10, 15))
    change.refresh_from_db()
    assert change.national_screenshot and change.provincial_done_on == D(2025, 10, 15)


def test_a_step_is_recorded_once_and_not_before_the_change(clerk, zhangsan):
    change = record(clerk, zhangsan, T.SUSPEND, date=D(2025, 10, 13))
    with pytest.raises(ValidationError, match="不能早于异动日期"):
        registry_change_mark_done(actor=clerk, change=change, system="national", done_on=D(2025, 10, 10))
    registry_change_mark_done(actor=clerk, change=change, system="national", done_on=D(2025, 10, 14))
    with pytest.raises(ValidationError, match="国网已于 2025-10-14 办结"):
        registry_change_mark_done(actor=clerk, change=change, system="national", done_on=D(2025, 10, 15))
    with pytest.raises(ValidationError):
        registry_change_mark_done(actor=clerk, change=change, system="county", done_on=D(2025, 10, 15))
