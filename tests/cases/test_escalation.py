"""13510 on the real calendar: 1 day → contact the guardian, 3 → home visit, 5 → suspected
dropout with 10 working days of persuasion, then the dropout ledger."""

import datetime as dt

from baoxue.attendance.services import absence_excuse, leave_approve, roll_call_submit
from baoxue.audit.models import AuditEntry
from baoxue.calendar import workdays
from baoxue.calendar.services import closure_add
from baoxue.cases.escalation import escalate
from baoxue.cases.models import Case, DropoutForm, Report, Task
from baoxue.cases.selectors import case_json
from baoxue.cases.services import case_mark_missing, rules_change
from baoxue.org.models import SchoolClass
from tests.conftest import make_student

D = dt.date


def school_days(school, start, end):
    return workdays.school_days(school, start, end)


def test_a_run_across_national_day_with_the_make_up_sunday(diary, students, school):
    zs = students["zhangsan"]
    run = [D(2025, 9, 25), D(2025, 9, 26), D(2025, 9, 28), D(2025, 9, 29), D(2025, 9, 30)]
    for day in run:
        diary.day(day, absent=[zs])
    case = Case.objects.get(student=zs)
    assert case.unexcused_days == 5 and case.first_absent_on == D(2025, 9, 25)
    contact = Task.objects.get(case=case, kind="contact_guardian")
    visit = Task.objects.get(case=case, kind="home_visit")
    assert (contact.opened_on, contact.due_on) == (D(2025, 9, 25), D(2025, 9, 25))
    assert (visit.opened_on, visit.due_on) == (D(2025, 9, 28), D(2025, 9, 29))  # day 3 is the make-up Sunday
    assert case.stage == "suspected_dropout" and case.suspected_on == D(2025, 9, 30)
    assert case.persuasion_due == D(2025, 10, 21)  # 10 working days after 9-30, across the holiday
    assert contact.assignee == diary.actor


def test_the_holiday_neither_counts_nor_breaks_a_run(diary, students):
    zs = students["zhangsan"]
    for day in [D(2025, 9, 29), D(2025, 9, 30), D(2025, 10, 9), D(2025, 10, 10), D(2025, 10, 11)]:
        diary.day(day, absent=[zs])
    case = Case.objects.get(student=zs)
    assert (case.first_absent_on, case.unexcused_days) == (D(2025, 9, 29), 5)
    assert case.suspected_on == D(2025, 10, 11)  # the make-up Saturday is day 5
    assert case.persuasion_due == D(2025, 10, 24)


def test_return_closes_the_case_and_its_tasks(diary, students):
    zs = students["zhangsan"]
    for day in [D(2025, 9, 22), D(2025, 9, 23), D(2025, 9, 24)]:
        diary.day(day, absent=[zs])
    diary.day(D(2025, 9, 25))
    case = Case.objects.get(student=zs)
    assert (case.is_open, case.outcome, case.closed_on) == (False, "returned", D(2025, 9, 25))
    assert not Task.objects.filter(case=case, done_on__isnull=True, closed_on__isnull=True).exists()
    assert case_json(case)["state"] == "closed" and case_json(case)["stage"] == "home_visit"


def test_an_excused_day_ends_the_run(diary, students, people):
    zs = students["zhangsan"]
    diary.day(D(2025, 9, 22), absent=[zs])
    diary.day(D(2025, 9, 23), absent=[zs])
    diary.day(D(2025, 9, 24), absent=[zs], mark="sick")
    diary.day(D(2025, 9, 25), absent=[zs])
    first, second = Case.objects.filter(student=zs).order_by("id")
    assert (first.outcome, first.closed_on, first.unexcused_days) == ("excused", D(2025, 9, 24), 2)
    assert (second.first_absent_on, second.unexcused_days, second.is_open) == (D(2025, 9, 25), 1, True)


def test_approved_leave_covers_its_days(diary, students, people):
    zs = students["zhangsan"]
    diary.day(D(2025, 9, 22), absent=[zs])
    leave_approve(actor=people["users"]["t71"], student=zs, kind="sick", start=D(2025, 9, 23), end=D(2025, 9, 24),
                  reason="发烧，县医院门诊")
    diary.day(D(2025, 9, 23), absent=[zs], mark="unknown")
    case = Case.objects.get(student=zs)
    assert case.outcome == "excused" and case.closed_on == D(2025, 9, 23)


def test_a_valid_reason_reclassifies_the_absence(diary, students, people):
    zs = students["zhangsan"]
    diary.day(D(2025, 9, 22), absent=[zs], mark="unknown")
    diary.day(D(2025, 9, 23), absent=[zs], mark="unknown")
    record = zs.attendance.get(date=D(2025, 9, 23))
    absence_excuse(actor=people["users"]["t71"], record=record, mark="sick", reason="住院，有诊断证明")
    case = Case.objects.get(student=zs)
    assert case.is_open is False and case.closed_on == D(2025, 9, 23) and case.unexcused_days == 1
    assert AuditEntry.objects.filter(object_type="attendancerecord", note__contains="住院").exists()


def test_a_closure_inside_a_run_neither_counts_nor_breaks_it(diary, students, school):
    zs = students["zhangsan"]
    closure_add(actor=None, school=school, date=D(2025, 9, 24), reason="秋季运动会")
    diary.day(D(2025, 9, 22), absent=[zs])
    diary.day(D(2025, 9, 23), absent=[zs])
    escalate(day=D(2025, 9, 24), schools=[school])  # not a school day: nothing happens
    diary.day(D(2025, 9, 25), absent=[zs])
    case = Case.objects.get(student=zs)
    assert case.unexcused_days == 3 and case.is_open and case.stage == "home_visit"


def test_a_forgotten_roll_call_never_looks_like_a_return(diary, students, school):
    zs = students["zhangsan"]
    diary.day(D(2025, 9, 22), absent=[zs])
    escalate(day=D(2025, 9, 23), schools=[school])  # nobody took the roll call
    case = Case.objects.get(student=zs)
    assert case.is_open and case.unexcused_days == 1
    diary.day(D(2025, 9, 24), absent=[zs])
    case.refresh_from_db()
    assert case.is_open and case.unexcused_days == 2  # the unknown day neither counts nor breaks


def run_to_dropout(diary, student, school):
    days = school_days(school, D(2025, 9, 1), D(2025, 10, 31))
    for day in days:
        diary.day(day, absent=[student])
        case = Case.objects.get(student=student)
        if case.stage == "dropout":
            return case, day
    raise AssertionError("never reached the dropout ledger")


def test_no_return_goes_to_the_dropout_ledger_with_form_and_reports(diary, students, school, townships):
    zs = students["zhangsan"]
    case, day = run_to_dropout(diary, zs, school)
    assert case.suspected_on == D(2025, 9, 5)
    assert case.persuasion_due == workdays.add_working_days(D(2025, 9, 5), 10) == D(2025, 9, 19)
    assert day == D(2025, 9, 22) == case.dropout_on  # first school day after the deadline
    zs.refresh_from_db()
    assert zs.status == "dropped_out" and zs.status_since == D(2025, 9, 22)
    form = DropoutForm.objects.get(case=case)
    assert form.data["name"] == "张三" and form.data["first_absent_on"] == "2025-09-01"
    assert len(form.data["absences"]) == case.unexcused_days
    reports = {r.recipient: r for r in Report.objects.filter(case=case)}
    assert reports["township"].township == townships["城关镇"] and reports["county"].county == school.county
    assert case_json(case)["stage"] == "dropout" and case_json(case)["state"] == "open"


def test_missing_goes_to_the_dropout_ledger_at_once(diary, students, people):
    zs = students["zhangsan"]
    diary.day(D(2025, 9, 22), absent=[zs])
    case = Case.objects.get(student=zs)
    case_mark_missing(actor=people["users"]["office"], case=case, on=D(2025, 9, 22), note="电话停机，家中无人")
    case.refresh_from_db()
    assert case.stage == "dropout" and case.dropout_cause == "missing"
    assert Report.objects.filter(case=case).count() == 2
    diary.day(D(2025, 9, 23))  # dropouts leave the roll; persuasion goes on in the ledger
    case.refresh_from_db()
    assert case.is_open


def test_running_twice_changes_nothing(diary, students, school):
    zs = students["zhangsan"]
    for day in school_days(school, D(2025, 9, 1), D(2025, 9, 8)):
        diary.day(day, absent=[zs])
    counts = (Case.objects.count(), Task.objects.count(), AuditEntry.objects.count())
    escalate(day=D(2025, 9, 8), schools=[school])
    escalate(day=D(2025, 9, 8), through=True, schools=[school])
    assert (Case.objects.count(), Task.objects.count(), AuditEntry.objects.count()) == counts


def cases_of(school):
    out = []
    for c in Case.objects.filter(school=school).order_by("first_absent_on", "id"):
        j = case_json(c)
        out.append({k: v for k, v in j.items() if k not in ("registry_no", "name", "school")})
    return out


def test_late_attendance_with_through_gives_what_daily_runs_gave(people, students, school, other_school, term, other_term):
    """The same attendance in two schools: one evaluated daily, one entered late and run with --through."""
    from baoxue.org.models import Grade

    grade = Grade.objects.create(school=other_school, name="七年级", order=7)
    cls = SchoolClass.objects.create(school=other_school, grade=grade, name="(1)班")
    twin = make_student(other_school, cls, "张三", 50)
    pattern = {D(2025, 9, 3), D(2025, 9, 4), D(2025, 9, 5), D(2025, 9, 8), D(2025, 9, 9), D(2025, 9, 10),
               D(2025, 9, 15), D(2025, 9, 16), D(2025, 9, 17), D(2025, 9, 18), D(2025, 9, 19), D(2025, 9, 22)}
    days = school_days(school, D(2025, 9, 1), D(2025, 10, 17))
    for day in days:
        roll_call_submit(actor=None, school_class=people["c71"], date=day,
                         marks={students["zhangsan"].pk: ("truant", "")} if day in pattern else {})
        escalate(day=day, schools=[school])
        roll_call_submit(actor=None, school_class=cls, date=day, marks={twin.pk: ("truant", "")} if day in pattern else {})
    escalate(day=D(2025, 10, 17), through=True, schools=[other_school])
    assert cases_of(school) == cases_of(other_school)
    assert len(cases_of(school)) == 2


def test_a_roll_call_entered_after_the_daily_run_replays_the_day(diary, students, school):
    zs = students["zhangsan"]
    diary.day(D(2025, 9, 22), absent=[zs])
    escalate(day=D(2025, 9, 23), schools=[school])  # roll call forgotten
    diary.day(D(2025, 9, 23), absent=[], escalate_daily=False)  # filled in the next morning: he was there
    case = Case.objects.get(student=zs)
    assert (case.is_open, case.outcome, case.closed_on) == (False, "returned", D(2025, 9, 23))


def test_a_correction_of_the_first_day_cancels_the_run(diary, students, school):
    zs = students["zhangsan"]
    diary.day(D(2025, 9, 22), absent=[zs])
    roll_call_submit(actor=diary.actor, school_class=diary.school_class, date=D(2025, 9, 22), marks={})
    case = Case.objects.get(student=zs)
    assert case.outcome == "corrected" and not case.is_open
    assert AuditEntry.objects.filter(object_type="attendancerecord", note="更正点名").exists()


def test_changed_county_thresholds_apply_to_new_cases_only(diary, students, school, people):
    zs, ls = students["zhangsan"], students["lisi"]
    diary.day(D(2025, 9, 22), absent=[zs])
    rules_change(actor=people["users"]["county"], county=school.county, contact_day=1, visit_day=2, suspect_day=3,
                 persuasion_working_days=5, min_attempts=2)
    other = diary.__class__(people["c72"], people["users"]["t72"])
    for day in [D(2025, 9, 23), D(2025, 9, 24)]:
        diary.day(day, absent=[zs])
        other.day(day, absent=[ls])
    old, new = Case.objects.get(student=zs), Case.objects.get(student=ls)
    assert old.stage == "home_visit" and old.rules.suspect_day == 5
    assert new.stage == "home_visit" and new.unexcused_days == 2
    other.day(D(2025, 9, 25), absent=[ls])
    diary.day(D(2025, 9, 25), absent=[zs])
    old.refresh_from_db(), new.refresh_from_db()
    assert new.stage == "suspected_dropout" and new.persuasion_due == workdays.add_working_days(D(2025, 9, 25), 5)
    assert old.stage == "home_visit" and old.unexcused_days == 4
