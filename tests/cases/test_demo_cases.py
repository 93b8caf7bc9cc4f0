"""The demo's roll calls and 13510 cases (`baoxue.demo.attendance`): built once per module on
Sunday 2026-11-29 (rolled back afterwards), then checked the way the demo is meant to be
used: every stage, both ledgers, the 一生一表 and every inbox have something to show."""

import datetime
from collections import Counter

import pytest
from django.contrib.auth import get_user_model
from django.db import transaction

from tests.conftest import delete_everything
from baoxue.attendance.models import EXCUSED, UNEXCUSED, AttendanceRecord, LeaveRequest, Mark, RollCall
from baoxue.calendar import workdays
from baoxue.cases.escalation import escalate, evaluate_day
from baoxue.cases.models import (
    STAGE_ORDER,
    Case,
    DropoutCause,
    Outcome,
    Persuader,
    PersuasionAttempt,
    Report,
    Stage,
    Task,
)
from baoxue.cases.selectors import case_json, cases_for_user, reports_for_user, tasks_for_user
from baoxue.demo.county import build_demo
from baoxue.demo.management.commands.demo import summary
from baoxue.org.models import (
    RegistryStatus,
    School,
    SchoolClass,
    Student,
)

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 11, 29)  # a Sunday
LAST_SCHOOL_DAY = datetime.date(2026, 11, 27)
FIRST = "4109990001"
User = get_user_model()


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic():
        yield build_demo(seed=2025, today=TODAY)
        transaction.set_rollback(True)


def _cases(**filters):
    return Case.objects.filter(**filters).select_related("student", "school", "rules").prefetch_related("attempts")


def _insufficient(case: Case) -> bool:
    """劝返不足: 3 or fewer working days left and fewer than 3 attempts."""
    left = workdays.working_days_left(TODAY, case.persuasion_due)
    return left <= 3 and case.attempts.count() < 3


def _everything() -> list:
    """What the seed decides about attendance and cases, independent of primary keys."""
    rows = [("case", tuple(sorted(case_json(c).items()))) for c in _cases()]
    for a in PersuasionAttempt.objects.select_related("case__student"):
        rows.append(("attempt", a.case.student.registry_no, a.number, a.date, a.method, repr(a.participants),
                     a.reason_heard, a.result, a.next_step))
    for p in Persuader.objects.select_related("case__student", "user"):
        rows.append(("persuader", p.case.student.registry_no, p.name, p.unit, p.assigned_on,
                     p.user.username if p.user else None))
    for t in Task.objects.select_related("case__student"):
        rows.append(("task", t.case.student.registry_no, t.kind, t.opened_on, t.due_on, t.done_on, t.closed_on))
    for r in AttendanceRecord.objects.select_related("student"):
        rows.append(("record", r.student.registry_no, r.date, r.mark, r.reason))
    for r in RollCall.objects.select_related("school_class__grade", "school"):
        rows.append(("roll call", r.school.code, str(r.school_class), r.date))
    return sorted(rows, key=repr)


def test_roll_calls_cover_five_weeks_up_to_the_last_school_day(demo):
    days = sorted(set(RollCall.objects.values_list("date", flat=True)))
    assert days[-1] == LAST_SCHOOL_DAY
    assert len(days) == 25 and days[0] == datetime.date(2026, 10, 26)
    for school in School.objects.all():
        assert days == workdays.school_days(school, days[0], TODAY)
    assert demo.attendance.first_day == days[0] and demo.attendance.last_day == LAST_SCHOOL_DAY
    assert not AttendanceRecord.objects.filter(date__gt=LAST_SCHOOL_DAY).exists()
    assert not AttendanceRecord.objects.exclude(date__in=days).exists()


def test_one_class_of_the_first_school_has_not_taken_the_last_roll_call(demo):
    missing = [c for c in SchoolClass.objects.select_related("school", "grade")
               if not RollCall.objects.filter(school_class=c, date=LAST_SCHOOL_DAY).exists()]
    assert len(missing) == 1
    (cls,) = missing
    assert cls.school.code == FIRST and str(cls) != "七年级(1)班"
    assert not AttendanceRecord.objects.filter(student__school_class=cls, date=LAST_SCHOOL_DAY).exists()
    # Every other class took every roll call.
    days = set(RollCall.objects.values_list("date", flat=True))
    assert RollCall.objects.count() == SchoolClass.objects.count() * len(days) - 1
    assert demo.attendance.missing_roll_calls == [f"示范县第一初级中学 {cls} {LAST_SCHOOL_DAY}"]


def test_absences_are_those_of_a_real_school(demo):
    """Besides the planted runs: about 0.5–1% of student-days, mostly approved leave, some late
    arrival and early leave, a few unexcused single days."""
    planted = set(Case.objects.filter(unexcused_days__gte=2).values_list("student_id", flat=True))
    background = AttendanceRecord.objects.exclude(student_id__in=planted)
    student_days = Student.objects.filter(status=RegistryStatus.IN_SCHOOL).count() * 25
    assert 0.004 <= background.count() / student_days <= 0.012
    marks = Counter(background.values_list("mark", flat=True))
    excused = sum(marks[m] for m in EXCUSED)
    unexcused = sum(marks[m] for m in UNEXCUSED)
    assert excused > 0.5 * background.count()
    assert marks[Mark.LATE] and marks[Mark.EARLY]
    assert 3 <= unexcused <= 0.1 * background.count()
    assert LeaveRequest.objects.filter(approved_at__isnull=False).exists()
    # Students on 休学 are not on the roll.
    assert not AttendanceRecord.objects.filter(student__status=RegistryStatus.SUSPENDED).exists()


def test_every_stage_has_an_open_case(demo):
    for stage in STAGE_ORDER:
        assert Case.objects.filter(stage=stage, is_open=True).exists(), stage


def test_every_stage_has_an_open_case_in_the_first_school(demo):
    for stage in STAGE_ORDER:
        assert Case.objects.filter(school__code=FIRST, stage=stage, is_open=True).exists(), stage
    others = set(Case.objects.exclude(school__code=FIRST).filter(is_open=True).values_list("stage", flat=True))
    assert {Stage.CONTACT_GUARDIAN, Stage.SUSPECTED_DROPOUT} <= others


def test_closed_runs_returned_excused_and_resumed(demo):
    closed = Case.objects.filter(is_open=False)
    returned = closed.filter(outcome=Outcome.RETURNED)
    assert returned.filter(unexcused_days__in=(2, 3)).exists()
    assert returned.filter(stage=Stage.SUSPECTED_DROPOUT).exists()  # 销账 from the 疑似辍学 ledger
    excused = closed.get(outcome=Outcome.EXCUSED, school__code=FIRST)
    assert AttendanceRecord.objects.filter(student=excused.student, date=excused.closed_on, mark=Mark.SICK).exists()
    resumed = closed.get(outcome=Outcome.RESUMED)
    assert resumed.stage == Stage.DROPOUT and resumed.dropout_on < resumed.closed_on <= LAST_SCHOOL_DAY
    assert resumed.student.status == RegistryStatus.IN_SCHOOL and resumed.student.status_since == resumed.closed_on
    assert resumed.attempts.filter(date__gt=resumed.dropout_on, method="joint").exists()
    for case in closed:
        assert case.closed_on <= LAST_SCHOOL_DAY and case.close_note


def test_suspected_cases_have_0_to_3_attempts_and_one_is_short_of_persuasion(demo):
    open_suspected = list(_cases(stage=Stage.SUSPECTED_DROPOUT, is_open=True))
    assert {c.attempts.count() for c in open_suspected} >= {0, 1, 2, 3}
    for case in open_suspected:
        # Deadlines need no 2027 calendar, and none has passed on the last school day.
        assert LAST_SCHOOL_DAY <= case.persuasion_due <= datetime.date(2026, 12, 31)
        assert case.persuasion_due == workdays.add_working_days(case.suspected_on, 10)
    short = [c for c in open_suspected if _insufficient(c)]
    assert len(short) >= 1
    assert any(c.school.code == FIRST for c in short)
    assert demo.attendance.insufficient == len(short)
    # A case with 3 or fewer days left but 3 attempts is not short.
    assert any(workdays.working_days_left(TODAY, c.persuasion_due) <= 3 and c.attempts.count() >= 3
               for c in open_suspected)


def test_persuasion_records_are_complete_and_in_the_past(demo):
    for attempt in PersuasionAttempt.objects.select_related("case__school"):
        assert attempt.case.suspected_on <= attempt.date <= TODAY
        assert attempt.result and attempt.participants and attempt.recorded_by.username.startswith("office")
        if attempt.method == "joint":
            assert any(p["unit"] not in ("学校", attempt.case.school.name) for p in attempt.participants)
    units = {p["unit"] for a in PersuasionAttempt.objects.all() for p in a.participants}
    assert any(u.endswith("村委会") for u in units) and any(u.endswith("派出所") for u in units)
    assert any(u.endswith("人民政府") for u in units)
    results = set(PersuasionAttempt.objects.values_list("result", flat=True))
    assert "学生在外打工，电话未接通" in results
    assert any(r.startswith("家长答应") and r.endswith("送孩子返校") for r in results)
    # Every case with attempts has one staff persuader and one from outside the school.
    for case in Case.objects.filter(attempts__isnull=False).distinct():
        persuaders = list(case.persuaders.all())
        assert [p.user is not None for p in persuaders].count(True) == 1
        assert any(p.user is None and p.unit != "学校" for p in persuaders)


def test_diligent_head_teachers_leave_a_couple_of_tasks_open(demo):
    tasks = Task.objects.select_related("assignee", "case")
    done = tasks.filter(done_on__isnull=False)
    assert done.count() >= 0.8 * tasks.count()
    for task in done:
        assert task.done_on <= LAST_SCHOOL_DAY and task.assignee == task.case.student.school_class.head_teacher
    open_tasks = tasks.filter(done_on__isnull=True, closed_on__isnull=True)
    assert 1 <= open_tasks.count() <= 5
    teacher71 = User.objects.get(username="teacher71")
    mine = tasks_for_user(teacher71).filter(done_on__isnull=True, closed_on__isnull=True, due_on__lte=TODAY)
    assert mine.filter(assignee=teacher71, kind=Task.Kind.CONTACT_GUARDIAN).exists()


def test_dropouts_are_in_the_ledger_with_the_form_and_both_reports(demo):
    dropouts = list(_cases(stage=Stage.DROPOUT, is_open=True))
    assert len(dropouts) >= 2
    assert {c.dropout_cause for c in dropouts} == {DropoutCause.NOT_RETURNED, DropoutCause.MISSING}
    for case in dropouts:
        assert case.student.status == RegistryStatus.DROPPED_OUT and case.dropout_on <= LAST_SCHOOL_DAY
        assert case.form.data["attempts"] and case.form.data["whereabouts"]
        assert set(case.reports.values_list("recipient", flat=True)) == {"township", "county"}
        # A dropout is no longer on the roll after the day they were reported: nobody marks them,
        # except the head teacher who saw one at school (到校), which the office is asked about.
        after = AttendanceRecord.objects.filter(student=case.student, date__gt=case.dropout_on)
        assert not after.exclude(mark="present").exists()
        assert (case.seen_at_school_on is not None) == after.exists()
    assert any(c.seen_at_school_on for c in dropouts)
    not_returned = next(c for c in dropouts if c.dropout_cause == DropoutCause.NOT_RETURNED)
    assert not_returned.dropout_on > not_returned.persuasion_due
    assert not_returned.attempts.count() >= 3


def test_every_inbox_has_something(demo):
    township = User.objects.get(username="township")
    reports = reports_for_user(township)
    assert reports.exists()
    assert {r.case.student.residence_township.name for r in reports} == {"留固镇"}
    assert reports.filter(case__is_open=True, case__stage=Stage.DROPOUT).exists()
    county = User.objects.get(username="county")
    assert reports_for_user(county).count() == Report.objects.filter(recipient="county").count() >= 3
    for office in ("office", "office2", "office3", "office4"):
        assert cases_for_user(User.objects.get(username=office)).filter(is_open=True).exists(), office
    assert cases_for_user(User.objects.get(username="principal")).filter(stage=Stage.DROPOUT).exists()


def test_running_the_daily_job_again_changes_nothing(demo):
    before = _everything()
    escalate(day=TODAY, through=True)
    for school in School.objects.all():
        evaluate_day(school, LAST_SCHOOL_DAY, force=True)
    assert _everything() == before


def test_the_summary_counts_cases_by_stage(demo):
    text = "\n".join(summary(demo, 1.0))
    counts = Counter((c.stage, c.is_open) for c in Case.objects.all())
    for stage, label in ((Stage.CONTACT_GUARDIAN, "联系家长"), (Stage.SUSPECTED_DROPOUT, "疑似辍学"),
                         (Stage.DROPOUT, "辍学")):
        assert f"{label} 未销账 {counts[(stage, True)]}、已销账 {counts[(stage, False)]}" in text
    assert "点名：2026-10-26 至 2026-11-27 共 25 个在校日" in text
    assert "缺点名：示范县第一初级中学" in text
    assert f"劝返不足 {demo.attendance.insufficient} 个" in text
    assert demo.counts["13510个案"] == Case.objects.count()


def test_the_same_seed_gives_the_same_cases(demo):
    first = _everything()
    assert len([row for row in first if row[0] == "case"]) == Case.objects.count() >= 20
    delete_everything()
    build_demo(seed=2025, today=TODAY)
    assert _everything() == first
