"""Delivering the outbox: `send_due` (the scheduler, and `baoxue notify send`).

How a row is never lost and never posted twice once accepted:

1. claim: a conditional UPDATE (waiting and due, or sending past its lease) → sending, with this
   run's token and the time, committed before anything is posted;
2. post, with the key as `Idempotency-Key` (and "id" in a plain webhook's JSON);
3. the answer, in its own transaction: accepted (HTTP 2xx and, for the robots, errcode 0) → sent;
   else back to waiting, attempts + 1, the next try 10 s later, doubling up to an hour; once
   NOTIFY_GIVE_UP_HOURS have passed since the row was written, failed (given up, shown on
   /notify/ with its last error).

A process killed between 1 and 3 leaves the row in sending; after LEASE another run takes it
again (at least once: the receiver may see the key twice, never a row marked sent again). One
`send` at a time (baoxue.lib.joblock) on top of the conditional claim.

Posts use the standard library (urllib), no new dependency. A digest channel gets all its due
rows of one school as one post, marked together.
"""

import base64
import datetime
import hashlib
import hmac
import http.client
import json
import logging
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from baoxue.lib.joblock import exclusive
from baoxue.notify.models import Channel, Message
from baoxue.notify.services import site_link

logger = logging.getLogger(__name__)

TIMEOUT_SECONDS = 10
LEASE = datetime.timedelta(minutes=2)
FIRST_RETRY_SECONDS = 10
MAX_RETRY_SECONDS = 3600
# The robots accept 20 messages a minute each (企业微信, 钉钉): more waits a minute, uncounted.
ROBOT_PER_MINUTE = 20
# 企业微信 markdown content: at most 4096 bytes.
WECOM_MAX_BYTES = 4096
BATCH = 50
State = Message.State


def backoff(attempts: int) -> datetime.timedelta:
    """The wait after the n-th failed attempt: 10 s, 20 s, 40 s … at most an hour."""
    return datetime.timedelta(seconds=min(FIRST_RETRY_SECONDS * 2 ** max(attempts - 1, 0), MAX_RETRY_SECONDS))


def due_q(now: datetime.datetime, lease: datetime.timedelta = LEASE, *, active: bool = True) -> Q:
    """Rows a run may take: waiting and due, or left sending by a run that died; never those of a
    channel switched off (they wait until it is on again). `active=False` leaves out the join
    with the channel: the claim's UPDATE tests the row's own columns only, which PostgreSQL
    re-checks on a row another run changed meanwhile."""
    q = Q(state=State.WAITING, next_try_at__lte=now) | Q(state=State.SENDING, claimed_at__lt=now - lease)
    return Q(channel__active=True) & q if active else q


# ---------------------------------------------------------------- formats

def _fit_bytes(text: str, limit: int) -> str:
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    return data[:limit - 3].decode("utf-8", "ignore") + "…"


def markdown(title: str, text: str, link: str) -> str:
    """The robots' markdown: the title (it starts with 保学, which also satisfies a 钉钉 robot whose
    security setting is the keyword 保学), the text, the link."""
    lines = [f"### {title if title.startswith('保学') else '保学 · ' + title}", text.strip()]
    if link:
        lines.append(f"[在保学中打开]({link})")
    return "\n\n".join(lines)


def payload(channel: Channel, *, key: str, title: str, text: str, link: str, school_code: str, kind: str,
            items: list | None = None) -> dict:
    """The JSON a channel's kind expects: the robots' documented markdown message, or ours."""
    if channel.kind == Channel.Kind.WECOM:
        return {"msgtype": "markdown", "markdown": {"content": _fit_bytes(markdown(title, text, link), WECOM_MAX_BYTES)}}
    if channel.kind == Channel.Kind.DINGTALK:
        heading = title if title.startswith("保学") else f"保学 · {title}"
        return {"msgtype": "markdown", "markdown": {"title": heading[:100], "text": markdown(title, text, link)}}
    body = {"id": key, "title": title, "text": text, "link": link, "school": school_code, "kind": kind}
    if items is not None:
        body["items"] = items
    return body


def signed_url(channel: Channel, now_ms: int | None = None) -> str:
    """钉钉 加签: timestamp (ms) + "\\n" + secret, HMAC-SHA256 with the secret, base64, URL-encoded,
    appended as &timestamp=…&sign=…. Other kinds (and 钉钉 without a secret): the URL as set."""
    if channel.kind != Channel.Kind.DINGTALK or not channel.secret:
        return channel.url
    timestamp = str(now_ms if now_ms is not None else round(time.time() * 1000))
    digest = hmac.new(channel.secret.encode("utf-8"), f"{timestamp}\n{channel.secret}".encode("utf-8"),
                      hashlib.sha256).digest()
    sign = urllib.parse.quote_plus(base64.b64encode(digest))
    return f"{channel.url}{'&' if '?' in channel.url else '?'}timestamp={timestamp}&sign={sign}"


def post(channel: Channel, body: dict, key: str) -> str:
    """Post one message. Returns "" when the receiver accepted it, else what went wrong (Chinese,
    short, without the channel's address)."""
    request = urllib.request.Request(
        signed_url(channel), data=json.dumps(body, ensure_ascii=False).encode("utf-8"), method="POST",
        headers={"Content-Type": "application/json; charset=utf-8", "Idempotency-Key": key,
                 "User-Agent": "baoxue-notify/1"})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
            status, raw = response.status, response.read(65536)
    except urllib.error.HTTPError as e:
        return f"HTTP {e.code}：{_snippet(e.read(500))}".rstrip("：")
    except (socket.timeout, TimeoutError):
        return f"超时（{TIMEOUT_SECONDS} 秒内没有应答）"
    except urllib.error.URLError as e:
        reason = e.reason
        if isinstance(reason, (socket.timeout, TimeoutError)):
            return f"超时（{TIMEOUT_SECONDS} 秒内没有应答）"
        return f"连接失败：{reason}"
    except (OSError, ValueError, http.client.HTTPException) as e:
        return f"发送失败：{type(e).__name__} {e}".strip()
    if not 200 <= status < 300:
        return f"HTTP {status}：{_snippet(raw)}"
    if channel.kind in (Channel.Kind.WECOM, Channel.Kind.DINGTALK):
        try:
            answer = json.loads(raw.decode("utf-8"))
            code = answer.get("errcode")
        except (ValueError, AttributeError):
            return f"应答不是机器人的 JSON：{_snippet(raw)}"
        if code != 0:
            return f"{channel.get_kind_display()}返回 errcode {code}：{str(answer.get('errmsg', ''))[:200]}"
    return ""


def _snippet(raw: bytes) -> str:
    return raw.decode("utf-8", "replace").strip().replace("\n", " ")[:200]


# ---------------------------------------------------------------- one unit: a row, or a digest

def _claim(ids, now: datetime.datetime, lease: datetime.timedelta) -> tuple[str, list[Message]]:
    """Take the rows still due among `ids` for this run (committed at once)."""
    token = uuid.uuid4().hex
    with transaction.atomic():
        n = Message.objects.filter(pk__in=ids).filter(due_q(now, lease, active=False)).update(
            state=State.SENDING, claimed_at=now, claim=token)
    if not n:
        return token, []
    return token, list(Message.objects.filter(pk__in=ids, claim=token, state=State.SENDING)
                       .select_related("channel", "school", "county").order_by("pk"))


def _digest_body(rows: list[Message], now: datetime.datetime) -> tuple[str, str, str, list]:
    """Title, text, key and items of a morning digest: a line per item with its link."""
    first = rows[0]
    place = first.school.name if first.school_id else first.county.name
    day = timezone.localtime(now).date()
    title = f"保学每日提醒 · {place} · {day.month}月{day.day}日"
    lines = [f"- {m.title}" + (f" [打开]({m.link})" if m.link else "") for m in rows]
    limit = WECOM_MAX_BYTES - 400
    text, shown = "", 0
    for line in lines:
        if len((text + line + "\n").encode("utf-8")) > limit:
            break
        text += line + "\n"
        shown += 1
    if shown < len(lines):
        text += f"- ……另有 {len(lines) - shown} 条，请登录保学查看\n"
    text = f"共 {len(rows)} 条：\n" + text
    key = "digest:" + hashlib.sha1("\n".join(sorted(m.key for m in rows)).encode()).hexdigest()[:20]
    items = [{"id": m.key, "title": m.title, "link": m.link} for m in rows]
    return title, text.rstrip("\n"), key, items


def _deliver(rows: list[Message], token: str, clock, give_up: datetime.timedelta) -> tuple[int, int, int]:
    """Post the claimed rows (one message, or a digest of several) and record the answer.
    Returns (sent, failed, given up)."""
    now = clock()
    channel = rows[0].channel
    school_code = rows[0].school.code if rows[0].school_id else ""
    if channel.digest and len(rows) > 1:
        title, text, key, items = _digest_body(rows, now)
        body = payload(channel, key=key, title=title, text=text, link=site_link("/"), school_code=school_code,
                       kind="digest", items=items)
    else:
        m = rows[0]
        key = m.key
        body = payload(channel, key=key, title=m.title, text=m.text, link=m.link, school_code=school_code,
                       kind=m.event)
    try:
        error = post(channel, body, key)
    except Exception as e:  # whatever happens, the row gets its answer recorded
        logger.exception("通知发送出错")
        error = f"发送出错：{type(e).__name__}"
    ids = [m.pk for m in rows]
    now = clock()
    if not error:
        # The claim token stays on a sent row: the post it went out in (rate limit, diagnosis).
        with transaction.atomic():
            Message.objects.filter(pk__in=ids, claim=token).update(
                state=State.SENT, sent_at=now, attempts=F("attempts") + 1, last_error="")
        return len(rows), 0, 0
    logger.warning("通知发送失败（渠道 %s）：%s", channel.pk, error)
    gave_up = 0
    with transaction.atomic():
        for m in rows:
            attempts = m.attempts + 1
            done = now - m.created_at >= give_up
            gave_up += done
            Message.objects.filter(pk=m.pk, claim=token).update(
                state=State.FAILED if done else State.WAITING, attempts=attempts, last_error=error[:500],
                next_try_at=now if done else now + backoff(attempts), claim="")
    return 0, len(rows), gave_up


def _over_rate(channel: Channel, now: datetime.datetime, posted: dict) -> bool:
    """A robot already got its 20 messages in the last minute. A sent row keeps the token of the
    run's post it went out in, so a digest of ten rows counts as one post."""
    if channel.kind not in (Channel.Kind.WECOM, Channel.Kind.DINGTALK):
        return False
    if channel.pk not in posted:
        posted[channel.pk] = (Message.objects.filter(channel=channel, state=State.SENT,
                                                     sent_at__gt=now - datetime.timedelta(minutes=1))
                              .values("claim").distinct().count())
    return posted[channel.pk] >= ROBOT_PER_MINUTE


def send_due(now: datetime.datetime | None = None, limit: int = 500, *, lease: datetime.timedelta = LEASE) -> dict:
    """Deliver what is due, at most `limit` rows. Returns {"sent", "failed", "waiting"}: posted and
    accepted in this run, failed in this run (of which "given_up" were given up), and still
    waiting in the outbox afterwards; "busy" when another run holds the lock (it does the work).
    `now` fixes the clock (tests); by default each step reads the time."""
    clock = (lambda: now) if now is not None else timezone.now
    give_up = datetime.timedelta(hours=settings.NOTIFY_GIVE_UP_HOURS)
    totals = {"sent": 0, "failed": 0, "given_up": 0, "waiting": 0, "busy": False}
    with exclusive("notify-send") as mine:
        if not mine:
            totals["busy"] = True
        else:
            _run(clock, limit, lease, give_up, totals)
    totals["waiting"] = Message.objects.filter(state__in=[State.WAITING, State.SENDING]).count()
    return totals


def _units(due: list[Message], now, lease) -> list[tuple[Channel, list[int]]]:
    """What to post: each row of an ordinary channel alone; a digest channel's due rows of one
    school together."""
    units, seen = [], set()
    for m in due:
        if not m.channel.digest:
            units.append((m.channel, [m.pk]))
        elif (m.channel_id, m.school_id) not in seen:
            seen.add((m.channel_id, m.school_id))
            ids = list(Message.objects.filter(due_q(now, lease), channel_id=m.channel_id, school_id=m.school_id)
                       .values_list("pk", flat=True))
            units.append((m.channel, ids))
    return units


def _run(clock, limit, lease, give_up, totals) -> None:
    budget, posted = limit, {}
    while budget > 0:
        due = list(Message.objects.filter(due_q(clock(), lease)).select_related("channel")
                   .order_by("next_try_at", "pk")[:min(budget, BATCH)])
        if not due:
            return
        progressed = False
        for channel, ids in _units(due, clock(), lease):
            now = clock()
            if _over_rate(channel, now, posted):
                # Not a failure: the robot's minute is full. Again in a minute, not counted as a try.
                Message.objects.filter(pk__in=ids).filter(due_q(now, lease, active=False)).update(
                    state=State.WAITING, next_try_at=now + datetime.timedelta(minutes=1), claim="")
                progressed = True
                continue
            token, rows = _claim(ids, now, lease)
            if not rows:
                continue
            progressed = True
            sent, failed, gave_up = _deliver(rows, token, clock, give_up)
            totals["sent"] += sent
            totals["failed"] += failed
            totals["given_up"] += gave_up
            posted[channel.pk] = posted.get(channel.pk, 0) + 1
            budget -= len(rows)
            if budget <= 0:
                return
        if not progressed:
            return
