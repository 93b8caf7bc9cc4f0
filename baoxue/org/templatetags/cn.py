"""Chinese formatting for templates: dates as a person reads them (2025年9月28日)."""

import datetime

from django import template
from django.utils import timezone

from baoxue.lib.idcard import mask_id, mask_phone
from baoxue.org.forms import mask_registry_no

register = template.Library()

WEEKDAYS = "一二三四五六日"


@register.filter
def cndate(value, arg: str = ""):
    """2025年9月28日; with arg "week": 2025年9月28日（周日）. Datetimes are shown in local time."""
    if not value:
        return ""
    if isinstance(value, datetime.datetime):
        value = timezone.localtime(value) if timezone.is_aware(value) else value
        value = value.date()
    if not isinstance(value, datetime.date):
        return value
    text = f"{value.year}年{value.month}月{value.day}日"
    if arg == "week":
        text += f"（周{WEEKDAYS[value.weekday()]}）"
    return text


@register.filter
def cndatetime(value):
    """2025年9月28日 14:05, in local time."""
    if not value:
        return ""
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    return f"{cndate(value)} {value:%H:%M}"


@register.filter
def cnmonth(value):
    """2023年9月, for 入学年月."""
    if not value:
        return ""
    return f"{value.year}年{value.month}月"


@register.filter
def masked_id(value):
    return mask_id(value or "")


@register.filter
def birth_year(value):
    """2008年: the birth date shown beside a masked ID number to those who cannot reveal it (the
    full date would give away 8 of the hidden digits)."""
    return f"{value.year}年" if value else ""


@register.filter
def masked_phone(value):
    return mask_phone(value or "")


@register.filter
def masked_registry_no(value):
    """A G-number is G + the ID number, so it is masked like one."""
    return mask_registry_no(value or "")


@register.simple_tag
def nav_links(user):
    """Where the left navigation's 学校/班级 and 导入学生 point for this user: straight to the
    school when there is one, else to the home page's list. Kept here so the base layout stays
    free of queries written in template language."""
    from baoxue.org import selectors

    if not user.is_authenticated:
        return {}
    schools = list(selectors.schools_for_user(user).order_by("code")[:2])
    importable = [s for s in schools if selectors.can_import_for_school(user, s)]
    return {
        "school": schools[0] if len(schools) == 1 else None,
        "import_school": importable[0] if len(schools) == 1 and importable else None,
        "audit": selectors.audit_scope(user) is not None,
    }


@register.filter
def mine_first(roles: str, my_roles) -> str:
    """' class="mine"' on a menu item that is the daily work of one of `roles` ("office,leader")
    when the user has one of them: on a phone those items come first in the menu bar."""
    from django.utils.safestring import mark_safe

    return mark_safe(' class="mine"') if set(roles.split(",")) & set(my_roles or ()) else ""


@register.filter
def person(user, default: str = "—"):
    """A staff member's name for a page: full name, else username, else `default` (no one)."""
    if user is None:
        return default
    return user.get_full_name() or user.get_username()
