"""Dates kept as text in a report's snapshot ("2026-04-08"), shown as a person reads them."""

import datetime

from django import template

register = template.Library()


@register.filter
def isocn(value):
    """"2026-04-08" → 2026年4月8日 (anything else as it is)."""
    try:
        day = datetime.date.fromisoformat(value)
    except (TypeError, ValueError):
        return value or ""
    return f"{day.year}年{day.month}月{day.day}日"
