"""Reads of cases: the JSON contract of `baoxue cases`, role-scoped lists and the ledgers."""

import datetime

from django.db.models import Q, QuerySet

from baoxue.cases.models import Case, Report, Task
from baoxue.org.models import Role
from baoxue.org.selectors import is_admin, memberships, students_for_user


def _iso(day: datetime.date | None) -> str | None:
    return day.isoformat() if day else None


def case_json(case: Case) -> dict:
    """One case as in `baoxue cases --format json` (a contract: keep these keys)."""
    return {
        "registry_no": case.student.registry_no,
        "name": case.student.name,
        "school": case.school.code,
        "stage": case.stage,
        "state": "open" if case.is_open else "closed",
        "outcome": case.outcome or None,
        "first_absent_on": _iso(case.first_absent_on),
        "last_absent_on": _iso(case.last_absent_on),
        "unexcused_days": case.unexcused_days,
        "suspected_on": _iso(case.suspected_on),
        "persuasion_due": _iso(case.persuasion_due),
        "dropout_on": _iso(case.dropout_on),
        "attempts": len(case.attempts.all()),
        "closed_on": _iso(case.closed_on),
    }


def cases_for_user(user) -> QuerySet[Case]:
    """Cases of the students the user may see (the same scope as students)."""
    if is_admin(user):
        return Case.objects.all()
    return Case.objects.filter(student__in=students_for_user(user).values("pk"))


def tasks_for_user(user) -> QuerySet[Task]:
    return Task.objects.filter(Q(assignee=user) | Q(case__in=cases_for_user(user).values("pk")))


def reports_for_user(user) -> QuerySet[Report]:
    """The township sees reports about its residents, the bureau its county's."""
    if is_admin(user):
        return Report.objects.all()
    q = Q(pk__in=[])
    for m in memberships(user):
        if m.role == Role.TOWNSHIP:
            q |= Q(recipient=Report.Recipient.TOWNSHIP, township_id=m.township_id)
        elif m.role == Role.COUNTY:
            q |= Q(recipient=Report.Recipient.COUNTY, county_id=m.county_id)
    return Report.objects.filter(q)
