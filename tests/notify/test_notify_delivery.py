"""Delivery against a local receiver: the robots' documented JSON, 钉钉 signing, the plain
webhook; retries with backoff; a message accepted is never posted again; given up after
NOTIFY_GIVE_UP_HOURS and shown; a morning digest is one post per school."""

import base64
import datetime as dt
import hashlib
import hmac

import pytest

from baoxue.notify import delivery, services
from baoxue.notify.models import Message
from tests.notify.conftest import at

D = dt.date
S = dt.timedelta(seconds=1)
T0 = at(D(2025, 9, 22), 18, 0)


def add(county, receiver, kind="webhook", path="/hook", **kwargs):
    return services.channel_add(actor=None, county=county, kind=kind, url=f"{receiver.url}{path}", **kwargs)


def put(county, school, key="task:1", title="联系家长：张三（七年级(1)班）", now=T0, **kwargs):
    return services.enqueue(county_id=county.pk, school_id=school.pk, audience="head_teacher", key=key, title=title,
                            text="第1天：联系家长了解情况，截止 9月22日。", link="https://baoxue.example.cn/cases/1/",
                            now=now, **kwargs)


def test_wecom_gets_its_documented_markdown(county, school, receiver):
    add(county, receiver, kind="wecom", path="/cgi-bin/webhook/send?key=abc")
    put(county, school)
    assert delivery.send_due(now=T0) == {"sent": 1, "failed": 0, "given_up": 0, "waiting": 0, "busy": False}
    [req] = receiver.requests
    assert req["path"] == "/cgi-bin/webhook/send" and req["query"] == {"key": "abc"}
    assert req["headers"]["content-type"].startswith("application/json")
    assert req["headers"]["idempotency-key"] == "task:1"
    assert set(req["json"]) == {"msgtype", "markdown"} and req["json"]["msgtype"] == "markdown"
    content = req["json"]["markdown"]["content"]
    assert content.startswith("### 保学 · 联系家长：张三（七年级(1)班）")
    assert "第1天：联系家长了解情况" in content and "[在保学中打开](https://baoxue.example.cn/cases/1/)" in content
    m = Message.objects.get()
    assert (m.state, m.attempts, m.sent_at, m.last_error) == ("sent", 1, T0, "")


def test_dingtalk_gets_markdown_with_title_and_a_valid_signature(county, school, receiver):
    secret = "SEC0123456789abcdef"
    add(county, receiver, kind="dingtalk", path="/robot/send?access_token=tok", secret=secret)
    put(county, school)
    assert delivery.send_due(now=T0)["sent"] == 1
    [req] = receiver.requests
    body = req["json"]
    assert body["msgtype"] == "markdown" and set(body["markdown"]) == {"title", "text"}
    assert body["markdown"]["title"].startswith("保学")
    assert "张三" in body["markdown"]["text"]
    q = req["query"]
    assert q["access_token"] == "tok"
    expected = base64.b64encode(hmac.new(secret.encode(), f"{q['timestamp']}\n{secret}".encode(),
                                         hashlib.sha256).digest()).decode()
    assert q["sign"] == expected  # parse_qsl undid the URL encoding
    assert abs(int(q["timestamp"]) / 1000 - dt.datetime.now().timestamp()) < 60


def test_a_plain_webhook_gets_our_json_with_the_key_as_id(county, school, receiver):
    add(county, receiver)
    put(county, school)
    delivery.send_due(now=T0)
    assert receiver.bodies() == [{
        "id": "task:1", "title": "联系家长：张三（七年级(1)班）", "text": "第1天：联系家长了解情况，截止 9月22日。",
        "link": "https://baoxue.example.cn/cases/1/", "school": school.code, "kind": "task"}]


def test_a_receiver_that_fails_twice_gets_the_message_exactly_once(county, school, receiver):
    add(county, receiver, kind="wecom", path="/send?key=k")
    put(county, school)
    receiver.fail((500, "upstream down"), (200, {"errcode": 45009, "errmsg": "api freq out of limit"}))

    assert delivery.send_due(now=T0) == {"sent": 0, "failed": 1, "given_up": 0, "waiting": 1, "busy": False}
    m = Message.objects.get()
    assert (m.state, m.attempts, m.next_try_at) == ("waiting", 1, T0 + 10 * S)
    assert m.last_error.startswith("HTTP 500")
    assert delivery.send_due(now=T0 + 9 * S)["failed"] == 0  # not due yet: nothing posted
    assert len(receiver.requests) == 1

    assert delivery.send_due(now=T0 + 10 * S)["failed"] == 1
    m.refresh_from_db()
    assert (m.state, m.attempts, m.next_try_at) == ("waiting", 2, T0 + 30 * S)
    assert "errcode 45009" in m.last_error

    assert delivery.send_due(now=T0 + 30 * S)["sent"] == 1
    m.refresh_from_db()
    assert (m.state, m.attempts, m.last_error) == ("sent", 3, "")
    for later in (T0 + 31 * S, T0 + dt.timedelta(hours=3), T0 + dt.timedelta(days=5)):
        assert delivery.send_due(now=later)["sent"] == 0
    assert len(receiver.requests) == 3
    assert {r["headers"]["idempotency-key"] for r in receiver.requests} == {"task:1"}
    assert list(receiver.accepted) == ["task:1"]


def test_backoff_doubles_from_ten_seconds_up_to_an_hour():
    assert [delivery.backoff(n).total_seconds() for n in range(1, 12)] == [
        10, 20, 40, 80, 160, 320, 640, 1280, 2560, 3600, 3600]


def test_an_unreachable_receiver_is_a_failure_with_its_reason(county, school):
    services.channel_add(actor=None, county=county, kind="webhook", url="http://127.0.0.1:9/nothing")
    put(county, school)
    assert delivery.send_due(now=T0)["failed"] == 1
    m = Message.objects.get()
    assert m.state == "waiting" and m.last_error.startswith("连接失败")


def test_after_the_give_up_hours_it_fails_for_good_and_shows(county, school, receiver, client, people):
    add(county, receiver)
    put(county, school)
    Message.objects.update(created_at=T0)
    receiver.fail((503, "busy"), (503, "busy"))
    assert delivery.send_due(now=T0 + dt.timedelta(hours=47))["given_up"] == 0
    result = delivery.send_due(now=T0 + dt.timedelta(hours=48))
    assert (result["failed"], result["given_up"], result["waiting"]) == (1, 1, 0)
    m = Message.objects.get()
    assert m.state == "failed" and m.attempts == 2
    assert delivery.send_due(now=T0 + dt.timedelta(days=9))["sent"] == 0  # never tried again by itself

    client.force_login(people["users"]["county"])
    page = client.get("/notify/").content.decode()
    assert "已放弃" in page and "HTTP 503" in page and m.title in page
    client.post(f"/notify/messages/{m.pk}/retry/")
    m.refresh_from_db()
    assert m.state == "waiting"
    assert delivery.send_due()["sent"] == 1
    assert list(receiver.accepted) == ["task:1"]


def test_a_row_left_sending_is_taken_again_only_after_the_lease(county, school, receiver):
    add(county, receiver)
    put(county, school)
    Message.objects.update(state="sending", claimed_at=T0, claim="dead-run")
    assert delivery.send_due(now=T0 + dt.timedelta(seconds=119)) == {
        "sent": 0, "failed": 0, "given_up": 0, "waiting": 1, "busy": False}
    assert delivery.send_due(now=T0 + dt.timedelta(seconds=121))["sent"] == 1
    assert [r["json"]["id"] for r in receiver.requests] == ["task:1"]
    m = Message.objects.get()
    assert m.state == "sent" and m.claim != "dead-run"


def test_a_row_is_claimed_by_one_run_only(county, school, receiver):
    from baoxue.notify.delivery import _claim

    add(county, receiver)
    put(county, school)
    ids = list(Message.objects.values_list("pk", flat=True))
    _, mine = _claim(ids, T0, delivery.LEASE)
    _, theirs = _claim(ids, T0, delivery.LEASE)
    assert len(mine) == 1 and theirs == []
    assert Message.objects.get().state == "sending"


def test_a_digest_is_one_post_per_school_marked_together(county, school, other_school, receiver):
    add(county, receiver, kind="wecom", path="/send?key=d", digest=True)
    put(county, school, key="task:1", title="联系家长：张三（七年级(1)班）")
    put(county, school, key="task:2", title="家访跟进：李四（七年级(2)班）")
    put(county, other_school, key="task:3", title="联系家长：王五（八年级(1)班）")
    assert delivery.send_due(now=T0)["sent"] == 0  # held for the morning
    morning = at(D(2025, 9, 23), 7, 30)
    assert delivery.send_due(now=morning) == {"sent": 3, "failed": 0, "given_up": 0, "waiting": 0, "busy": False}
    assert len(receiver.requests) == 2
    contents = sorted(r["json"]["markdown"]["content"] for r in receiver.requests)
    first = next(c for c in contents if school.name in c)
    assert first.startswith(f"### 保学每日提醒 · {school.name} · 9月23日")
    assert "- 联系家长：张三（七年级(1)班） [打开](https://baoxue.example.cn/cases/1/)" in first
    assert "家访跟进：李四" in first and "王五" not in first
    assert receiver.requests[0]["headers"]["idempotency-key"].startswith("digest:")
    assert set(Message.objects.values_list("state", flat=True)) == {"sent"}
    assert delivery.send_due(now=morning + dt.timedelta(days=1))["sent"] == 0


def test_a_robot_gets_at_most_twenty_posts_a_minute(county, school, receiver):
    add(county, receiver, kind="wecom", path="/send?key=r")
    for i in range(23):
        put(county, school, key=f"task:{i}")
    result = delivery.send_due(now=T0)
    assert (result["sent"], result["failed"], result["waiting"]) == (20, 0, 3)
    assert Message.objects.filter(state="waiting", attempts=0, next_try_at=T0 + dt.timedelta(minutes=1)).count() == 3
    assert delivery.send_due(now=T0 + dt.timedelta(seconds=61))["sent"] == 3
    assert len(receiver.accepted) == 23


@pytest.mark.parametrize("answer, words", [
    ((200, {"errcode": 310000, "errmsg": "sign not match"}), "errcode 310000：sign not match"),
    ((200, "<html>gateway</html>"), "应答不是机器人的 JSON"),
    ((404, "not found"), "HTTP 404"),
])
def test_a_robot_refusal_is_a_failure_with_what_it_said(county, school, receiver, answer, words):
    add(county, receiver, kind="dingtalk", path="/robot/send?access_token=t")
    put(county, school)
    receiver.fail(answer)
    assert delivery.send_due(now=T0)["failed"] == 1
    assert words in Message.objects.get().last_error


def test_a_switched_off_channel_keeps_its_messages_until_it_is_on_again(county, school, receiver):
    ch = add(county, receiver)
    put(county, school)
    services.channel_set_active(actor=None, channel=ch, active=False)
    assert delivery.send_due(now=T0) == {"sent": 0, "failed": 0, "given_up": 0, "waiting": 1, "busy": False}
    assert receiver.requests == []
    services.channel_set_active(actor=None, channel=ch, active=True)
    assert delivery.send_due(now=T0)["sent"] == 1
