"""Attendance in the shared layout: where the 每日考勤 link points, and the head teacher's
"今日点名" buttons for the home page. Kept here so that templates stay free of queries."""

import datetime

from django import template
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone

from baoxue.attendance.forms import ABSENT_MARKS
from baoxue.attendance.models import AttendanceRecord, RollCall
from baoxue.calendar import workdays
from baoxue.org import selectors
from baoxue.org.models import Role

register = template.Library()

# Who sees the roll-call status of their school in the navigation.
STATUS_ROLES = (Role.OFFICE, Role.LEADER)


@register.simple_tag
def attendance_nav_link(user) -> str:
    """每日考勤: a head teacher's first class's roll call; for the office and leaders their
    school's roll-call status; for admins and the bureau, when they have one school, that one.
    Empty for everyone else (the link is not shown)."""
    if not user.is_authenticated:
        return ""
    first = (selectors.classes_for_user(user).filter(head_teacher=user)
             .order_by("school__code", "grade__order", "grade__name", "name").first())
    if first is not None:
        return reverse("roll_call_today", args=[first.pk])
    for m in selectors.memberships(user):
        if m.role in STATUS_ROLES and m.school_id:
            return reverse("roll_call_status", args=[m.school.code])
    roles = selectors.roles_of(user)
    if Role.ADMIN in roles or Role.COUNTY in roles:
        schools = list(selectors.schools_for_user(user).order_by("code")[:2])
        if len(schools) == 1:
            return reverse("roll_call_status", args=[schools[0].code])
    return ""


@register.inclusion_tag("attendance/_home_classes.html")
def home_roll_calls(classes, day: datetime.date | None = None):
    """One big 今日点名 button per class, with whether the day's roll call was taken."""
    day = day or timezone.localdate()
    classes = list(classes)
    calls = {rc.school_class_id: rc for rc in RollCall.objects.filter(school_class__in=classes, date=day)}
    absent = dict(AttendanceRecord.objects.filter(student__school_class__in=classes, date=day, mark__in=ABSENT_MARKS)
                  .values_list("student__school_class_id").annotate(n=Count("pk")))
    school_days: dict[int, bool | None] = {}
    items = []
    for c in classes:
        if c.school_id not in school_days:
            try:
                school_days[c.school_id] = workdays.is_school_day(c.school, day)
            except workdays.CalendarMissing:
                school_days[c.school_id] = None
        items.append({"c": c, "roll_call": calls.get(c.pk), "absent": absent.get(c.pk, 0),
                      "school_day": school_days[c.school_id]})
    return {"items": items, "day": day}
