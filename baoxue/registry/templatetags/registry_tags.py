"""The home page's 休学 block: reminders before a suspension ends (and after it ended without
复学), and the applications waiting for this user."""

from django import template
from django.db.models import Count
from django.utils import timezone

from baoxue.registry import suspensions
from baoxue.registry.models import Application

register = template.Library()
St = Application.State


@register.inclusion_tag("registry/_home_suspensions.html")
def home_suspensions(user):
    qs = suspensions.applications_for_user(user)
    today = timezone.localdate()
    by_state = dict(qs.order_by().values_list("state").annotate(n=Count("id")))
    reminders = suspensions.reminders(qs, today)
    waiting = [(label, by_state.get(state, 0)) for state, label in (
        (St.RETURNED, "份已退回待修改"), (St.SUBMITTED, "份待教体局审批"), (St.APPROVED, "份已批准待国网办理"))]
    return {"reminders": reminders[:10], "more": max(0, len(reminders) - 10),
            "waiting": [(label, n) for label, n in waiting if n], "any": bool(reminders) or any(n for _, n in waiting)}
