"""Rows for report tests, made directly with the dates the reports count by."""

import datetime

from baoxue.cases.models import Case, Stage
from baoxue.registry.models import RegistryChange
from tests.conftest import make_student

APRIL = datetime.date(2026, 4, 1)


def pupil(school, school_class, name: str, n: int):
    """A student with a valid ID number of its own for any n ≥ 0 (make_student takes 0–99)."""
    return make_student(school, school_class, name, n % 100, birth=datetime.date(2012, 1, 1) + datetime.timedelta(days=n // 100))


def add_case(student, rules, first_absent_on, *, stage=Stage.CONTACT_GUARDIAN, suspected_on=None, dropout_on=None,
             closed_on=None, outcome=""):
    return Case.objects.create(
        county=student.county, school=student.school, student=student, rules=rules, first_absent_on=first_absent_on,
        last_absent_on=closed_on or dropout_on or suspected_on or first_absent_on, stage=stage,
        suspected_on=suspected_on, dropout_on=dropout_on, is_open=closed_on is None, closed_on=closed_on,
        outcome=outcome)


def add_change(student, change_type, date, before, after, *, cancelled_on=None, other_school=""):
    """A 学籍异动 row, and the student's status as it leaves it (unless cancelled)."""
    change = RegistryChange.objects.create(
        county=student.county, school=student.school, student=student, change_type=change_type, date=date,
        reason="测试", status_before=before, status_after=after, cancelled_on=cancelled_on, other_school=other_school)
    if cancelled_on is None:
        student.status, student.status_since = after, date
        student.save(update_fields=["status", "status_since"])
    return change


def set_status(student, status, since):
    student.status, student.status_since = status, since
    student.save(update_fields=["status", "status_since"])
