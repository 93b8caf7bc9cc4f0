"""Reads of the calendar: the years entered, and the warnings an administrator must act on."""

import datetime

from django.db.models import Q
from django.utils import timezone

from baoxue.calendar import signals
from baoxue.calendar.models import CalendarYear, Closure
from baoxue.calendar.workdays import known_years
from baoxue.org.models import Role, School, Term
from baoxue.org.selectors import is_admin, memberships


def calendar_warnings(today: datetime.date | None = None) -> list[str]:
    """What is missing for deadlines to be computed: a year no calendar covers while a term
    reaches into it (or the year ends within two months), and cases waiting for a deadline."""
    today = today or timezone.localdate()
    known = known_years()
    needed: dict[int, str] = {}
    for end in Term.objects.filter(end__gte=today).values_list("end", flat=True):
        for year in range(today.year, end.year + 1):
            needed.setdefault(year, f"学期持续到 {end}")
    if (datetime.date(today.year, 12, 31) - today).days <= 61:
        needed.setdefault(today.year + 1, "本年即将结束")
    warnings = [
        f"{year}年的工作日历尚未录入（{why}）：请录入国务院公布的{year}年放假安排，否则跨入{year}年的截止日期无法计算。"
        for year, why in sorted(needed.items()) if year not in known
    ]
    # The apps above add theirs (the 13510 job: cases waiting for a deadline).
    return warnings + signals.more_warnings(today)


def can_edit_calendar(user) -> bool:
    """The national calendar is entered by system admins and the county bureau."""
    return is_admin(user) or any(m.role == Role.COUNTY for m in memberships(user))


def closure_schools(user):
    """Schools whose closures and terms the user may set: the office and leaders of a school,
    the bureau for its county."""
    if is_admin(user):
        return School.objects.all()
    q = Q(pk__in=[])
    for m in memberships(user):
        if m.role == Role.COUNTY:
            q |= Q(county_id=m.county_id)
        elif m.role in (Role.OFFICE, Role.LEADER):
            q |= Q(pk=m.school_id)
    return School.objects.filter(q)


def closures_for(schools, since: datetime.date):
    county_ids = {s.county_id for s in schools}
    return (Closure.objects.filter(Q(school__in=schools) | Q(county_id__in=county_ids), date__gte=since)
            .select_related("school", "county").order_by("date"))


def years():
    return CalendarYear.objects.order_by("-year")
