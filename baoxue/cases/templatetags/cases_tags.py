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
    """"2025-09-22" (as stored in the 一生一表) → 2025年9月22日; "2025-09-22T08:30" keeps the time."""
    if not value:
        return ""
    try:
        if "T" in value:
            moment = datetime.datetime.fromisoformat(value)
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
