"""Cadence due dates and overdue flags on the real calendar (the 2025 National Day holiday)."""

import datetime

from baoxue.calendar.models import CalendarYear
from baoxue.care import due, services
from baoxue.care.models import CareForm, RiskMark
from baoxue.org.models import KeyGroup, Student

from tests.care.conftest import add_group

D = datetime.date


def report(org, today, *students):
    ids = [s.pk for s in students] or [org.lisi.pk]
    return due.due_report(Student.objects.filter(pk__in=ids), today)


def item(rep, student, group):
    return next(i for i in rep.items if i.student.pk == student.pk and i.group == group)


def test_it_dues_left_behind_a_month_after_joining_moved_past_the_holiday(org):
    # Joined Wed 2025-09-03: four weeks later is 1 October (国庆), so the due day is the first
    # working day after the holiday, Thursday 9 October.
    i = item(report(org, D(2025, 9, 30)), org.lisi, KeyGroup.LEFT_BEHIND)
    assert i.due_on == D(2025, 10, 9)
    assert i.rule == "每月与监护人联系"
    assert not i.overdue and not i.this_week
    assert i.teacher == org.mentor  # the mentor, not the head teacher


def test_it_is_due_this_week_then_overdue(org):
    assert item(report(org, D(2025, 10, 9)), org.lisi, KeyGroup.LEFT_BEHIND).this_week
    late = item(report(org, D(2025, 10, 10)), org.lisi, KeyGroup.LEFT_BEHIND)
    assert late.overdue and not late.this_week


def test_a_contact_with_the_caregiver_satisfies_it_and_other_forms_do_not(org, on_day):
    on_day(D(2025, 10, 20))
    services.care_record_add(actor=org.mentor, student=org.lisi, date=D(2025, 10, 9), form=CareForm.TUTORING,
                             content="数学辅导")
    assert item(report(org, D(2025, 10, 20)), org.lisi, KeyGroup.LEFT_BEHIND).overdue
    services.care_record_add(actor=org.mentor, student=org.lisi, date=D(2025, 10, 9), form=CareForm.HOME_SCHOOL,
                             content="电话联系爷爷，了解周末情况")
    i = item(report(org, D(2025, 10, 20)), org.lisi, KeyGroup.LEFT_BEHIND)
    assert i.last_on == D(2025, 10, 9) and i.due_on == D(2025, 11, 6) and not i.overdue


def test_the_head_teacher_is_responsible_without_a_mentor(org):
    add_group(org.zhangsan, KeyGroup.MIGRANT, D(2025, 9, 1))
    add_group(org.zhangsan, KeyGroup.LEARNING, D(2025, 9, 1))
    i = item(report(org, D(2025, 9, 10), org.zhangsan), org.zhangsan, KeyGroup.LEARNING)
    assert i.teacher == org.head_teacher
    assert i.due_on == D(2025, 9, 15)  # 学习困难: 学业辅导 every two weeks


def test_an_aid_check_is_due_by_the_20th_working_day_of_the_term_and_done_once_a_term(org, on_day):
    add_group(org.zhangsan, KeyGroup.POOR, D(2024, 3, 1), "低保")
    i = item(report(org, D(2025, 9, 10), org.zhangsan), org.zhangsan, KeyGroup.POOR)
    assert i.rule == "每学期资助核查"
    assert i.due_on == D(2025, 9, 26) and not i.overdue
    assert item(report(org, D(2025, 9, 29), org.zhangsan), org.zhangsan, KeyGroup.POOR).overdue
    on_day(D(2025, 10, 20))
    services.care_record_add(actor=org.office, student=org.zhangsan, date=D(2025, 10, 15), form=CareForm.AID,
                             content="核实低保证明，申请生活补助")
    i = item(report(org, D(2025, 10, 20), org.zhangsan), org.zhangsan, KeyGroup.POOR)
    assert i.done_this_term and not i.overdue


def test_outside_a_term_nothing_per_term_is_due(org):
    add_group(org.zhangsan, KeyGroup.POOR, D(2024, 3, 1), "低保")
    rep = report(org, D(2026, 2, 10), org.zhangsan)
    assert all(i.group != KeyGroup.POOR for i in rep.items)


def test_a_county_cadence_overrides_the_default(org):
    services.cadence_set(actor=org.county_official, county=org.county, group=KeyGroup.LEFT_BEHIND, every_weeks=2,
                         per_term=False, what="与监护人视频通话", forms=[CareForm.HOME_SCHOOL])
    i = item(report(org, D(2025, 9, 10)), org.lisi, KeyGroup.LEFT_BEHIND)
    assert i.due_on == D(2025, 9, 17) and i.rule == "每2周与监护人视频通话"


def test_a_high_risk_student_without_a_record_for_four_weeks_is_overdue(org, on_day):
    on_day(D(2025, 11, 3))
    services.risk_mark(actor=org.office, student=org.zhangsan, kind=RiskMark.Kind.WORK, reason="多次提到去广东打工",
                       marked_on=D(2025, 9, 15))
    services.care_record_add(actor=org.head_teacher, student=org.zhangsan, date=D(2025, 10, 13), form=CareForm.TALK,
                             content="谈心，了解打工想法")
    assert item(report(org, D(2025, 11, 10), org.zhangsan), org.zhangsan, "high_risk").due_on == D(2025, 11, 10)
    assert not item(report(org, D(2025, 11, 10), org.zhangsan), org.zhangsan, "high_risk").overdue
    assert item(report(org, D(2025, 11, 11), org.zhangsan), org.zhangsan, "high_risk").overdue


def test_an_ended_membership_has_nothing_due(org):
    add_group(org.zhangsan, KeyGroup.ORPHAN, D(2025, 3, 1), ended_on=D(2025, 9, 1))
    assert report(org, D(2025, 10, 1), org.zhangsan).items == []


def test_a_year_missing_from_the_calendar_is_a_warning_never_a_guess(org):
    add_group(org.zhangsan, KeyGroup.LEFT_BEHIND, D(2026, 12, 14))
    CalendarYear.objects.filter(year=2027).delete()
    rep = report(org, D(2026, 12, 20), org.zhangsan)
    i = item(rep, org.zhangsan, KeyGroup.LEFT_BEHIND)
    assert i.due_on is None and not i.overdue and "2027年的工作日历尚未录入" in i.calendar_error
    assert rep.warnings and "2027" in rep.warnings[0]
    assert rep.pressing() == [i]  # shown, so someone sees the warning


def test_the_report_takes_a_constant_number_of_queries(org, django_assert_max_num_queries):
    from tests.care.conftest import add_student

    for n in range(12):
        s = add_student(org.school, org.c81, f"学生{n}", 20 + n)
        add_group(s, KeyGroup.LEFT_BEHIND, D(2025, 9, 1))
        add_group(s, KeyGroup.POOR, D(2025, 9, 1), "脱贫户")
    with django_assert_max_num_queries(10):
        rep = due.due_report(Student.objects.filter(school=org.school), D(2025, 10, 20))
    assert len(rep.items) == 25
