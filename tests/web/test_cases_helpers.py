"""Cases for the 13510 pages, built the way the school builds them: a roll call each school
day of September 2025 and the daily job after it (no test in this file)."""

import datetime as dt

import pytest

from baoxue.attendance.services import roll_call_submit
from baoxue.cases.escalation import escalate
from baoxue.cases.models import Case
from baoxue.cases.services import case_mark_missing

D = dt.date
# Monday 1 to Friday 5 September 2025: day 5 is Friday, the persuasion deadline 19 September.
FIRST_WEEK = [D(2025, 9, 1), D(2025, 9, 2), D(2025, 9, 3), D(2025, 9, 4), D(2025, 9, 5)]


def absent(school, student, days) -> Case:
    """The head teacher marks `student` 旷课 on each day; the daily job runs after each roll call."""
    cls = student.school_class
    for day in days:
        roll_call_submit(actor=cls.head_teacher, school_class=cls, date=day, marks={student.pk: ("truant", "")})
        escalate(day=day, schools=[school])
    return Case.objects.filter(student=student).latest("id")


@pytest.fixture
def suspected(org) -> Case:
    """张三 ((1)班, 李老师) absent the whole first week: in the 疑似辍学学生台账 since 9月5日."""
    return absent(org.school, org.student_1, FIRST_WEEK)


@pytest.fixture
def dropout(org) -> Case:
    """李四 ((2)班, lives in 留固镇) absent the first week, then marked 失踪失联 on 9月8日."""
    case = absent(org.school, org.student_2, FIRST_WEEK)
    case_mark_missing(actor=org.office, case=case, on=D(2025, 9, 8), note="电话停机，家中无人")
    case.refresh_from_db()
    return case
