"""Template helpers of the 13510 pages: the navigation links, the home page's counts, short dates."""

import datetime

from django import template
from django.utils import timezone

register = template.Library()


@register.simple_tag
def cases_nav(user):
    """Which 13510 links the left navigation shows: 13510 待办 for everyone with cases, the two
    ledgers for the office, leaders, registry clerk, township, county and admins."""
    from baoxue.cases import selectors

    if not user.is_authenticated:
        return {}
    return {"inbox": selectors.has_case_work(user), "ledgers": selectors.can_see_ledgers(user)}


@register.simple_tag
def inbox_counts(user):
    """For the home page: {% inbox_counts user as inbox %}."""
    from baoxue.cases import selectors

    return selectors.inbox_counts(user)


@register.filter
def cnshort(value):
    """9月25日 in the current year, 2025年9月25日 otherwise (a deadline is read at a glance)."""
    if not value:
        return ""
    if isinstance(value, datetime.datetime):
        value = timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    if value.year == timezone.localdate().year:
        return f"{value.month}月{value.day}日"
    return f"{value.year}年{value.month}月{value.day}日"


@register.filter
def people(participants):
    """[{"name": "王支书", "unit": "村委会"}] → 王支书（村委会）"""
    return "、".join(f"{p['name']}（{p['unit']}）" if p.get("unit") else p.get("name", "") for p in participants or [])


@register.filter
def isocn(value):
    """"2025-09-22" (as stored in the 一生一表) → 2025年9月22日; "2025-09-22T08:30+08:00" keeps the
    time, in local time (settings.TIME_ZONE) whatever offset it was stored with."""
    if not value:
        return ""
    try:
        if "T" in value:
            moment = datetime.datetime.fromisoformat(value)
            if timezone.is_aware(moment):
                moment = timezone.localtime(moment)
            return f"{moment.year}年{moment.month}月{moment.day}日 {moment:%H:%M}"
        day = datetime.date.fromisoformat(value)
    except (TypeError, ValueError):
        return value
    return f"{day.year}年{day.month}月{day.day}日"


@register.filter
def person(user):
    """A user's name as people call them (an account may be gone: then nothing)."""
    if not user:
        return ""
    return user.get_full_name() or user.get_username()


# How each flag of `selectors.case_flags` looks: bad (the rule is not met), warn (the office
# should look), or a plain tag.
FLAG_LEVELS = {"late_attempts": "warn", "due_unknown": "warn", "seen_at_school": "warn", "change_pending": "",
               "persuasion_short": "bad", "overdue": "bad"}


@register.filter
def flag_tags(case):
    """The case's flags (set by `with_clocks` or the case page) as [{code, text, level, title}]:
    学籍异动办理中（转出，9月22日起，10月22日前办结）, 辍学后到校：请办理复学？ …"""
    from baoxue.cases.selectors import FLAG_LABELS

    tags = []
    for code in getattr(case, "flags", None) or []:
        text, title = FLAG_LABELS[code], ""
        if code == "change_pending":
            parts = [case.change_pending]
            if case.change_since:
                parts.append(f"{cnshort(case.change_since)}起")
            if case.change_due_on:
                parts.append(f"{cnshort(case.change_due_on)}前办结")
            text = f"{text}（{'，'.join(parts)}）"
        elif code == "seen_at_school":
            title = f"{cnshort(case.seen_at_school_on)}到校"
        elif code == "late_attempts" and case.persuasion_due:
            title = f"截止日 {cnshort(case.persuasion_due)} 之后的劝返记录不计入劝返次数"
        tags.append({"code": code, "text": text, "level": FLAG_LEVELS.get(code, ""), "title": title})
    return tags


@register.inclusion_tag("cases/_student_cases.html")
def student_cases(user, student):
    """A student's 13510 cases on the student page, those the user may see, oldest first: a
    second run after a return shows which case it follows."""
    from baoxue.cases import selectors

    cases = list(selectors.cases_for_user(user).filter(student=student).order_by("first_absent_on", "pk"))
    for before, case in zip([None] + cases, cases):
        case.follows = before if case.head_start else None
    return {"cases": cases}
