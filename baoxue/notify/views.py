"""/notify/: where a county's notifications go and which of them have not arrived.

For system administrators and the county bureau (anyone else gets a 404): the channels (the
address shown as its host only: the rest is the robot's key), the deliveries still waiting or
given up with their last error, and a 重试 button that sends one again at the next `send`.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from baoxue.notify import services
from baoxue.notify.models import Channel, Message
from baoxue.org.models import Role
from baoxue.org.selectors import is_admin, memberships, roles_of

# How many undelivered messages the page lists (newest first).
PROBLEMS_SHOWN = 100


def _county_ids(user) -> set[int] | None:
    """The counties whose notifications the user manages; None: all (a system administrator).
    Anyone else: 404, never 403."""
    if is_admin(user):
        return None
    if Role.COUNTY not in roles_of(user):
        raise Http404("没有找到该页面")
    return {m.county_id for m in memberships(user) if m.role == Role.COUNTY}


def _scoped(qs, county_ids):
    return qs if county_ids is None else qs.filter(county_id__in=county_ids)


@never_cache
@login_required
def index(request):
    county_ids = _county_ids(request.user)
    channels = list(_scoped(Channel.objects, county_ids)
                    .select_related("county", "school", "township", "school_class__grade")
                    .annotate(n_waiting=Count("messages", filter=Q(messages__state__in=[
                        Message.State.WAITING, Message.State.SENDING])))
                    .order_by("county__code", "school__code", "pk"))
    for c in channels:
        c.host = services.mask_url(c.url)
    problems = list(_scoped(Message.objects, county_ids)
                    .filter(state__in=[Message.State.WAITING, Message.State.SENDING, Message.State.FAILED])
                    .select_related("channel", "school").order_by("-pk")[:PROBLEMS_SHOWN])
    counts = dict(_scoped(Message.objects, county_ids).values_list("state").annotate(n=Count("pk")))
    return render(request, "notify/index.html", {
        "channels": channels, "problems": problems,
        "counts": {state: counts.get(state, 0) for state in Message.State.values},
        "State": Message.State, "give_up_hours": settings.NOTIFY_GIVE_UP_HOURS,
    })


@never_cache
@login_required
@require_POST
def retry(request, pk):
    county_ids = _county_ids(request.user)
    message = _scoped(Message.objects, county_ids).filter(pk=pk).first()
    if message is None:
        raise Http404("没有找到该通知")
    try:
        services.message_retry(actor=request.user, message=message)
    except ValidationError as e:
        messages.error(request, "；".join(e.messages))
    else:
        messages.success(request, f"已安排重新发送：{message.title}（下一次发送时发出）")
    return redirect("notify_index")


@never_cache
@login_required
@require_POST
def channel_toggle(request, pk):
    county_ids = _county_ids(request.user)
    channel = _scoped(Channel.objects, county_ids).filter(pk=pk).first()
    if channel is None:
        raise Http404("没有找到该渠道")
    channel = services.channel_set_active(actor=request.user, channel=channel, active=not channel.active)
    messages.success(request, f"已{'启用' if channel.active else '停用'}渠道：{channel}")
    return redirect("notify_index")
