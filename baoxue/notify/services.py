"""Writing notifications: channels (added, switched off, removed, each with its audit row) and
the outbox (`enqueue`, called inside the transaction of the event it announces).

What a message may say: names, class labels, what to do and a link into the system. Never a
full ID number, a phone number or the reason of an absence; `enqueue` masks any ID or phone
number that slipped into a text all the same, so a mistake in a text cannot leak one.
"""

import datetime
import re
import urllib.parse

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from baoxue.audit.models import Action
from baoxue.audit.services import audit_record
from baoxue.notify.models import Audience, Channel, Message

# An 18-character resident ID (17 digits and a digit or X) and a mainland mobile number,
# wherever they appear in a text (not inside a longer run of digits).
ID_NUMBER = re.compile(r"(?<![0-9])[0-9]{17}[0-9Xx](?![0-9A-Za-z])")
PHONE = re.compile(r"(?<![0-9])1[3-9][0-9]{9}(?![0-9])")


def redact(text: str) -> str:
    """Mask ID and phone numbers: a safety net under the texts, which never put them in."""
    text = ID_NUMBER.sub(lambda m: m.group(0)[:4] + "*" * 10 + m.group(0)[-4:], text)
    return PHONE.sub(lambda m: m.group(0)[:3] + "****" + m.group(0)[-4:], text)


def site_link(path: str) -> str:
    """An absolute link into the system (settings.SITE_URL + a path from `reverse`)."""
    return settings.SITE_URL.rstrip("/") + path


def mask_url(url: str) -> str:
    """A channel's address as pages and audit rows show it: the robot's key is a credential."""
    parts = urllib.parse.urlsplit(url or "")
    if not parts.netloc:
        return "…"
    return f"{parts.scheme}://{parts.hostname or parts.netloc}/…"


def next_digest_at(now: datetime.datetime) -> datetime.datetime:
    """The next morning digest time (settings.NOTIFY_DIGEST_AT, local time) after `now`."""
    at = datetime.time.fromisoformat(settings.NOTIFY_DIGEST_AT)
    local = timezone.localtime(now)
    day = local.date() if local.time() < at else local.date() + datetime.timedelta(days=1)
    return timezone.make_aware(datetime.datetime.combine(day, at))


# ---------------------------------------------------------------- the outbox

def active_channels(county_ids) -> dict[int, list[Channel]]:
    """The active channels of some counties, read once: {county_id: [Channel]}."""
    out: dict[int, list[Channel]] = {}
    for ch in Channel.objects.filter(county_id__in=list(county_ids), active=True).order_by("pk"):
        out.setdefault(ch.county_id, []).append(ch)
    return out


def matches(channel: Channel, *, school_id, audience: str, school_class_id=None, township_id=None) -> bool:
    """Whether an event of this scope and audience goes to the channel (its county is given).

    A class channel takes its class's messages, a school channel its school's, a township
    channel the messages addressed to that township (its dropout reports), a county channel
    everything in the county; in each, only the audiences it lists (none listed: all)."""
    wanted = channel.audiences
    if wanted and audience not in wanted:
        return False
    if channel.school_class_id:
        return school_class_id == channel.school_class_id
    if channel.school_id:
        return school_id == channel.school_id
    if channel.township_id:
        return township_id == channel.township_id
    return True


def enqueue(*, county_id: int, school_id: int | None, audience: str, key: str, title: str, text: str, link: str,
            school_class_id: int | None = None, township_id: int | None = None, channels=None,
            now: datetime.datetime | None = None) -> int:
    """Write one outbox row per matching active channel, in the caller's transaction. The same
    key again is a no-op for a channel that has it (unique channel+key). Digest channels hold the
    row until the next morning digest. `channels`: the county's active channels when the caller
    has read them already (`active_channels`). Returns the number of rows written."""
    item = dict(county_id=county_id, school_id=school_id, audience=audience, key=key, title=title, text=text,
                link=link, school_class_id=school_class_id, township_id=township_id)
    return enqueue_many([item], channels=None if channels is None else {county_id: channels}, now=now)


def enqueue_many(items: list[dict], *, channels: dict | None = None, now: datetime.datetime | None = None) -> int:
    """`enqueue` for a list of events (dicts of its arguments) in a constant number of queries:
    the channels (unless given, {county_id: [Channel]}), the keys already written, one insert."""
    if not items:
        return 0
    for item in items:
        if item["audience"] not in Audience.values:
            raise ValueError(f"unknown audience {item['audience']!r}")
    if channels is None:
        channels = active_channels({item["county_id"] for item in items})
    pairs, seen = [], set()
    for item in items:
        for c in channels.get(item["county_id"], ()):
            if (c.active and c.county_id == item["county_id"] and (c.pk, item["key"]) not in seen
                    and matches(c, school_id=item["school_id"], audience=item["audience"],
                                school_class_id=item.get("school_class_id"), township_id=item.get("township_id"))):
                seen.add((c.pk, item["key"]))
                pairs.append((c, item))
    if not pairs:
        return 0
    have = set(Message.objects.filter(channel_id__in={c.pk for c, _ in pairs}, key__in={i["key"] for _, i in pairs})
               .values_list("channel_id", "key"))
    now = now or timezone.now()
    rows = [Message(county_id=i["county_id"], school_id=i["school_id"], channel=c, key=i["key"], audience=i["audience"],
                    title=redact(i["title"])[:200], text=redact(i["text"]), link=i["link"][:500],
                    next_try_at=next_digest_at(now) if c.digest else now)
            for c, i in pairs if (c.pk, i["key"]) not in have]
    # ignore_conflicts: a concurrent writer of the same key wins and this one is a no-op.
    Message.objects.bulk_create(rows, ignore_conflicts=True, batch_size=500)
    return len(rows)


# ---------------------------------------------------------------- channels

KIND_HINTS = {
    Channel.Kind.WECOM: "企业微信群机器人的地址形如 https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…",
    Channel.Kind.DINGTALK: "钉钉群机器人的地址形如 https://oapi.dingtalk.com/robot/send?access_token=…",
    Channel.Kind.WEBHOOK: "Webhook 地址须以 http:// 或 https:// 开头",
}


def parse_audiences(text) -> list[str]:
    """"office,township" (or a list) → validated Audience values, in their order."""
    items = text if isinstance(text, (list, tuple)) else (text or "").replace("，", ",").split(",")
    items = [i.strip() for i in items if i and i.strip()]
    bad = [i for i in items if i not in Audience.values]
    if bad:
        choices = "、".join(f"{a.value}（{a.label}）" for a in Audience)
        raise ValidationError(f"接收对象“{'、'.join(bad)}”不认识：可选 {choices}，多个用逗号分隔")
    return [a for a in Audience.values if a in items]


def check_url(url: str, kind: str) -> str:
    url = (url or "").strip()
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError(f"地址“{mask_url(url) if parts.hostname else url[:40]}”不对：须以 http:// 或 https:// 开头"
                              f"并包含主机名。{KIND_HINTS.get(kind, '')}")
    return url


@transaction.atomic
def channel_add(*, actor, county, kind: str, url: str, school=None, township=None, school_class=None,
                secret: str = "", audiences=(), digest: bool = False, label: str = "",
                actor_label: str = "") -> Channel:
    """A county or school sets up where its notifications go. The audit row names the host and
    the scope, never the full address or the secret (they are the robot's credentials)."""
    if kind not in Channel.Kind.values:
        raise ValidationError(f"类型“{kind}”不认识：只能是 wecom（企业微信）、dingtalk（钉钉）或 webhook")
    url = check_url(url, kind)
    secret = (secret or "").strip()
    if secret and kind != Channel.Kind.DINGTALK:
        raise ValidationError("只有钉钉机器人使用加签密钥：企业微信和 Webhook 渠道请去掉 --secret")
    if school is not None and township is not None:
        raise ValidationError("一个渠道只能属于一所学校或一个乡镇：请只写 --school 或 --township 之一")
    if school_class is not None:
        if school is not None and school_class.school_id != school.pk:
            raise ValidationError(f"班级 {school_class} 不属于 {school}：请检查 --class-id 和 --school")
        school = school_class.school
    for unit, what in ((school, "学校"), (township, "乡镇")):
        if unit is not None and unit.county_id != county.pk:
            raise ValidationError(f"{what}“{unit}”不属于 {county}：请检查 --county")
    wanted = parse_audiences(audiences)
    if Channel.objects.filter(county=county, url=url, school=school, township=township,
                              school_class=school_class).exists():
        raise ValidationError("已有同一地址、同一范围的渠道：无需重复添加（notify list-channels 查看）")
    channel = Channel.objects.create(
        county=county, school=school, township=township, school_class=school_class, kind=kind, url=url,
        secret=secret, audience=",".join(wanted), digest=digest, label=(label or "").strip()[:100],
        created_by=actor if getattr(actor, "is_authenticated", False) else None)
    audit_record(actor=actor, actor_label=actor_label, action=Action.CREATE, obj=channel,
                 object_repr=f"通知渠道 {channel.get_kind_display()} {mask_url(url)}",
                 changes={"kind": [None, kind], "host": [None, mask_url(url)], "scope": [None, channel.scope_label],
                          "audience": [None, channel.audience_label], "digest": [None, digest],
                          "secret": [None, "已设置" if secret else ""]},
                 note="添加通知渠道")
    return channel


@transaction.atomic
def channel_set_active(*, actor, channel: Channel, active: bool, actor_label: str = "") -> Channel:
    """Switch a channel off (its waiting messages stay and go once it is on again) or on."""
    channel = Channel.objects.select_for_update().get(pk=channel.pk)
    if channel.active != active:
        channel.active = active
        channel.save(update_fields=["active"])
        audit_record(actor=actor, actor_label=actor_label, action=Action.UPDATE, obj=channel,
                     object_repr=f"通知渠道 {channel.get_kind_display()} {mask_url(channel.url)}",
                     changes={"active": [not active, active]}, note="启用通知渠道" if active else "停用通知渠道")
    return channel


@transaction.atomic
def channel_remove(*, actor, channel: Channel, actor_label: str = "") -> int:
    """Remove a channel and its delivery records. Returns how many waiting messages went with it."""
    waiting = channel.messages.filter(state__in=[Message.State.WAITING, Message.State.SENDING]).count()
    audit_record(actor=actor, actor_label=actor_label, action=Action.DELETE, obj=channel,
                 object_repr=f"通知渠道 {channel.get_kind_display()} {mask_url(channel.url)}",
                 changes={"scope": [channel.scope_label, None], "host": [mask_url(channel.url), None]},
                 note=f"删除通知渠道（未发送的 {waiting} 条一并删除）")
    channel.delete()
    return waiting


@transaction.atomic
def message_retry(*, actor, message: Message, now: datetime.datetime | None = None) -> Message:
    """Send again at the next `send`: a given-up or waiting message goes to the front of the queue
    (one more try; a failure then waits or gives up as before)."""
    now = now or timezone.now()
    message = Message.objects.select_for_update().get(pk=message.pk)
    if message.state not in (Message.State.FAILED, Message.State.WAITING):
        raise ValidationError(f"该通知当前为“{message.get_state_display()}”，无需重试")
    old = message.state
    message.state = Message.State.WAITING
    message.next_try_at = now
    message.save(update_fields=["state", "next_try_at"])
    audit_record(actor=actor, action=Action.UPDATE, obj=message, object_repr=f"通知 {message.title}"[:200],
                 changes={"state": [old, Message.State.WAITING]}, note="手动重试发送通知")
    return message
