"""Trying to lose a student: late corrections, split runs, paperwork in the middle of a case,
closures entered afterwards (issue 7's examples, on the real calendar of autumn 2025)."""

import datetime as dt
import io
import json

import pytest
from django.core.management import call_command
from django.utils import timezone

from baoxue.attendance.models import AttendanceRecord
from baoxue.attendance.services import absence_excuse, roll_call_submit
from baoxue.calendar.models import CalendarDay, CalendarYear
from baoxue.calendar.services import closure_add
from baoxue.cases.escalation import escalate
from baoxue.cases.models import Case, Outcome, Stage, Task
from baoxue.cases.services import attempt_add, contact_add, home_visit_add, persuader_assign
from baoxue.org.models import RegistryStatus
from baoxue.registry.changes import registry_change_cancel, registry_change_mark_done, registry_change_record
from tests.conftest import make_student

D = dt.date
# Five school days of 七(1)班, then the days after.
WEEK = [D(2025, 9, 22), D(2025, 9, 23), D(2025, 9, 24), D(2025, 9, 25), D(2025, 9, 26)]
NEXT = [D(2025, 9, 28), D(2025, 9, 29), D(2025, 9, 30)]  # 9-28 is the make-up Sunday


@pytest.fixture
def absent_week(diary, students):
    """张三 旷课 for five school days: a suspected-dropout case with its two tasks."""
    for day in WEEK:
        diary.day(day, absent=[students["zhangsan"]])
    return Case.objects.get(student=students["zhangsan"])


def _records(case, office):
    at = timezone.make_aware(dt.datetime(2025, 9, 22, 10, 0))
    contact_add(actor=office, case=case, at=at, method="phone", reached="母亲", reason_given="不想上学")
    home_visit_add(actor=office, case=case, date=D(2025, 9, 24), visitors="李老师", met="母亲", findings="在家")
    persuader_assign(actor=office, case=case, name="王主任", on=D(2025, 9, 26))
    attempt_add(actor=office, case=case, date=D(2025, 9, 26), method="phone", participants=[{"name": "王主任", "unit": "学校"}],
                result="答应下周返校")


def test_a_correction_of_an_earlier_day_keeps_the_case_and_every_record(absent_week, students, people, diary):
    case, office = absent_week, people["users"]["office"]
    _records(case, office)
    other = make_student(case.school, people["c71"], "王五", 7)
    # The head teacher corrects Monday twice: 王五 was late, and 张三's mark was 原因不明 after all.
    for marks in ({students["zhangsan"].pk: ("truant", ""), other.pk: ("late", "")},
                  {students["zhangsan"].pk: ("unknown", ""), other.pk: ("late", "")}):
        roll_call_submit(actor=diary.actor, school_class=people["c71"], date=WEEK[0], marks=marks)
    assert list(Case.objects.filter(student=students["zhangsan"]).values_list("pk", flat=True)) == [case.pk]
    case.refresh_from_db()
    assert (case.is_open, case.stage, case.unexcused_days, case.suspected_on) == (True, Stage.SUSPECTED_DROPOUT, 5, WEEK[4])
    assert (case.contacts.count(), case.home_visits.count(), case.persuaders.count(), case.attempts.count()) == (1, 1, 1, 1)
    # The tasks done stay done: nothing comes back as due.
    assert not Task.objects.filter(case=case, done_on__isnull=True, closed_on__isnull=True).exists()


def test_a_correction_that_splits_the_run_leaves_no_five_day_row_that_never_was(absent_week, students):
    case = absent_week
    record = AttendanceRecord.objects.get(student=students["zhangsan"], date=WEEK[2])
    absence_excuse(actor=None, record=record, mark="sick", reason="发烧，有诊所证明")
    cases = list(Case.objects.filter(student=students["zhangsan"]).order_by("first_absent_on"))
    assert len(cases) == 2
    before, now = cases
    assert now.pk == case.pk  # the open case stays the same case, for its last two days
    assert (now.is_open, now.first_absent_on, now.unexcused_days, now.stage) == (True, WEEK[3], 2, Stage.CONTACT_GUARDIAN)
    assert (now.suspected_on, now.persuasion_due) == (None, None)
    assert (before.is_open, before.outcome, before.closed_on, before.unexcused_days) == (False, Outcome.EXCUSED, WEEK[2], 2)
    assert not Case.objects.filter(suspected_on__isnull=False).exists()
    visit = Task.objects.get(case=now, kind="home_visit")
    assert visit.cancelled_on is not None and not visit.is_open  # day 3 never came: cancelled, kept


def test_a_correction_that_removes_the_run_closes_it_as_corrected_today_with_its_records(absent_week, students, people,
                                                                                         diary):
    case = absent_week
    _records(case, people["users"]["office"])
    for day in WEEK:
        roll_call_submit(actor=diary.actor, school_class=people["c71"], date=day, marks={})
    case.refresh_from_db()
    assert (case.is_open, case.outcome, case.closed_on) == (False, Outcome.CORRECTED, timezone.localdate())
    assert case.attempts.count() == 1 and case.contacts.count() == 1
    assert Case.objects.filter(student=students["zhangsan"]).count() == 1
    # Marked absent again: the same case comes back, not a copy.
    for day in WEEK:
        roll_call_submit(actor=diary.actor, school_class=people["c71"], date=day,
                         marks={students["zhangsan"].pk: ("truant", "")})
    assert list(Case.objects.filter(student=students["zhangsan"]).values_list("pk", "is_open")) == [(case.pk, True)]


def test_a_return_recorded_late_reopens_nothing_and_a_late_absence_reopens_the_case(absent_week, students, diary, people):
    diary.day(NEXT[0])  # back on the make-up Sunday: 已返校
    case = Case.objects.get(pk=absent_week.pk)
    assert (case.is_open, case.outcome) == (False, Outcome.RETURNED)
    # The teacher finds she was wrong: 张三 was not there on Sunday, nor Monday.
    diary.day(NEXT[1], absent=[students["zhangsan"]])
    roll_call_submit(actor=diary.actor, school_class=people["c71"], date=NEXT[0],
                     marks={students["zhangsan"].pk: ("truant", "")})
    case.refresh_from_db()
    assert (case.is_open, case.unexcused_days, case.last_absent_on) == (True, 7, NEXT[1])
    # The one-day case of Monday was part of this run all along: withdrawn, kept, visible.
    assert list(Case.objects.filter(student=students["zhangsan"]).exclude(pk=case.pk).values_list(
        "first_absent_on", "outcome")) == [(NEXT[1], Outcome.CORRECTED)]


def test_a_closure_entered_afterwards_moves_day_five_and_the_deadline(diary, students, school):
    zs = students["zhangsan"]
    for day in WEEK + NEXT[:1]:
        diary.day(day, absent=[zs])
    case = Case.objects.get(student=zs)
    assert (case.suspected_on, case.persuasion_due, case.unexcused_days) == (WEEK[4], D(2025, 10, 16), 6)
    closure_add(actor=None, school=school, date=WEEK[1], reason="运动会")  # Tuesday was the sports day
    case.refresh_from_db()
    assert (case.unexcused_days, case.suspected_on, case.persuasion_due) == (5, NEXT[0], D(2025, 10, 17))
    assert Task.objects.get(case=case, kind="home_visit").opened_on == WEEK[3]


def test_a_transfer_recorded_mid_case_is_not_a_return(absent_week, students, diary, people):
    zs = students["zhangsan"]
    change = registry_change_record(actor=people["users"]["registrar"], student=zs, change_type="transfer_out",
                                    date=NEXT[0], reason="随父母外出务工", scope="in_province", other_school="郑州某中学")
    for day in NEXT[:2]:
        diary.day(day)  # 张三 is no longer on the roll call
    case = Case.objects.get(pk=absent_week.pk)
    assert (case.is_open, case.change_pending, case.unexcused_days) == (True, "转出", 5)
    out = io.StringIO()
    call_command("cases", "--format", "json", stdout=out)
    assert "change_pending" in json.loads(out.getvalue())[0]["flags"]
    registry_change_mark_done(actor=people["users"]["registrar"], change=change, system="national", done_on=NEXT[1])
    case.refresh_from_db()
    assert (case.is_open, case.outcome, case.closed_on) == (False, Outcome.TRANSFERRED, NEXT[1])


def test_a_cancelled_transfer_brings_the_case_back_counting(absent_week, students, diary, people):
    zs = students["zhangsan"]
    change = registry_change_record(actor=people["users"]["registrar"], student=zs, change_type="transfer_out",
                                    date=NEXT[0], reason="随父母外出务工", scope="in_province", other_school="郑州某中学")
    for day in NEXT[:2]:
        diary.day(day)
    registry_change_cancel(actor=people["users"]["registrar"], change=change, reason="对方学校未接收")
    zs.refresh_from_db()
    case = Case.objects.get(pk=absent_week.pk)
    assert zs.status == RegistryStatus.IN_SCHOOL
    # Nobody saw him on the two days he was off the list: they count.
    assert (case.is_open, case.change_pending, case.unexcused_days) == (True, "", 7)


def test_an_overdue_transfer_counts_again_after_its_deadline(absent_week, students, diary, people, school):
    zs = students["zhangsan"]
    registry_change_record(actor=people["users"]["registrar"], student=zs, change_type="transfer_out", date=NEXT[0],
                           reason="外出", scope="in_province", other_school="某中学")
    case = Case.objects.get(pk=absent_week.pk)
    assert case.change_due_on == D(2025, 10, 17)  # 10 working days after 9-28
    for day in [NEXT[0], NEXT[1], NEXT[2], D(2025, 10, 17), D(2025, 10, 20), D(2025, 10, 21)]:
        diary.day(day)
    case.refresh_from_db()
    # Pending through its deadline, then nobody has seen him: the days count again.
    assert (case.is_open, case.unexcused_days, case.last_absent_on) == (True, 7, D(2025, 10, 21))


def test_a_dropout_keeps_counting_and_one_seen_at_school_raises_a_flag(diary, students, school, people):
    zs = students["zhangsan"]
    days = [d for d in _school_days(school, WEEK[0], D(2025, 10, 31))]
    for day in days[:16]:
        diary.day(day, absent=[zs])
    case = Case.objects.get(student=zs)
    assert case.stage == Stage.DROPOUT and case.dropout_on == days[15] == D(2025, 10, 17)
    for day in days[16:18]:
        diary.day(day)  # 张三 is off the list now; nobody saw him
    case.refresh_from_db()
    assert case.unexcused_days == 18 and case.seen_at_school_on is None
    AttendanceRecord.objects.create(county=school.county, school=school, student=zs, date=days[18], mark="present")
    diary.day(days[18])
    case.refresh_from_db()
    assert (case.is_open, case.seen_at_school_on, case.unexcused_days) == (True, days[18], 18)


def test_escalate_warns_for_every_case_whose_deadline_cannot_be_computed(diary, students, school, people):
    zs = students["zhangsan"]
    CalendarDay.objects.filter(date__year=2026).delete()
    CalendarYear.objects.filter(year=2026).delete()
    december = [d for d in _school_days(school, D(2025, 12, 15), D(2025, 12, 31))][-5:]
    for day in december:
        diary.day(day, absent=[zs], escalate_daily=False)
    out, err = io.StringIO(), io.StringIO()
    call_command("escalate", "--through", "2025-12-31", stdout=out, stderr=err)
    case = Case.objects.get(student=zs)
    assert case.suspected_on == december[-1] and case.persuasion_due is None
    assert f"张三（个案 {case.pk}）" in err.getvalue() and "2026年的工作日历尚未录入" in err.getvalue()


def _school_days(school, start, end):
    from baoxue.calendar import workdays

    return workdays.school_days(school, start, end)


def test_a_head_teacher_who_sees_a_dropout_at_school_raises_the_flag(diary, students, school, people):
    zs = students["zhangsan"]
    days = _school_days(school, WEEK[0], D(2025, 10, 31))
    for day in days[:16]:
        diary.day(day, absent=[zs])
    assert Case.objects.get(student=zs).stage == Stage.DROPOUT
    roll_call_submit(actor=diary.actor, school_class=people["c71"], date=days[16], marks={}, seen={zs.pk})
    escalate(day=days[16], schools=[school])
    case = Case.objects.get(student=zs)
    assert (case.is_open, case.seen_at_school_on) == (True, days[16])
    # She ticked the wrong name: unticking takes the flag back.
    roll_call_submit(actor=diary.actor, school_class=people["c71"], date=days[16], marks={}, seen=set())
    case.refresh_from_db()
    assert case.seen_at_school_on is None and case.unexcused_days == 17


def test_a_corrected_file_for_an_earlier_day_keeps_every_open_case(absent_week, students, people, tmp_path):
    """The gate system's corrected export of Tuesday, with an unrelated change (李四 late): the
    open case of 张三 keeps its identity, days and records."""
    from tests.cases.test_import_attendance import write

    case = absent_week
    _records(case, people["users"]["office"])
    path = write(tmp_path / "门禁更正.xlsx", [[str(WEEK[1]), students["zhangsan"].registry_no, "旷课", ""],
                                             [str(WEEK[1]), students["lisi"].registry_no, "迟到", ""]])
    call_command("import_attendance", path, stdout=io.StringIO())
    assert list(Case.objects.filter(student=students["zhangsan"]).values_list("pk", "is_open", "unexcused_days")) == [
        (case.pk, True, 5)]
    assert case.attempts.count() == 1 and not Case.objects.filter(student=students["lisi"]).exists()
