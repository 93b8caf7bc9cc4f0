"""`baoxue notify …` (a contract): add-channel with its options and Chinese errors that name the
fix, send printing 已发送/失败/等待, list-channels and remove-channel; adding and removing a
channel are audit rows that never hold the robot's key or the signing secret."""

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from baoxue.audit.models import AuditEntry
from baoxue.notify import services
from baoxue.notify.models import Channel, Message

WECOM = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"


def run(*args) -> str:
    out = StringIO()
    call_command("notify", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_add_channel_for_a_school_and_its_audit_row_without_the_key(county, school):
    out = run("add-channel", "--county", county.code, "--kind", "wecom", "--url", WECOM, "--school", school.code,
              "--audience", "office,registrar", "--label", "政教处群")
    ch = Channel.objects.get()
    assert (ch.kind, ch.url, ch.school, ch.audiences, ch.digest, ch.active) == (
        "wecom", WECOM, school, ["office", "registrar"], False, True)
    assert f"已添加通知渠道 #{ch.pk}：企业微信群机器人 https://qyapi.weixin.qq.com/…" in out
    assert "693a91f6" not in out
    entry = AuditEntry.objects.get(object_type="channel")
    assert entry.action == "create" and entry.actor_label == "命令行" and entry.school_id == school.pk
    assert "693a91f6" not in json.dumps(entry.changes, ensure_ascii=False) + entry.object_repr + entry.note


def test_dingtalk_with_its_secret_a_township_and_a_digest(county, townships):
    run("add-channel", "--county", county.code, "--kind", "dingtalk", "--secret", "SECabc",
        "--url", "https://oapi.dingtalk.com/robot/send?access_token=tok", "--township", "留固镇", "--digest")
    ch = Channel.objects.get()
    assert (ch.kind, ch.secret, ch.township, ch.digest) == ("dingtalk", "SECabc", townships["留固镇"], True)
    entry = AuditEntry.objects.get(object_type="channel")
    assert "SECabc" not in json.dumps(entry.changes, ensure_ascii=False)


def test_a_head_teachers_class_channel(county, people):
    run("add-channel", "--county", county.code, "--kind", "webhook", "--url", "http://10.0.0.5:8080/in",
        "--class-id", str(people["c71"].pk))
    ch = Channel.objects.get()
    assert ch.school_class == people["c71"] and ch.school == people["c71"].school


@pytest.mark.parametrize("args, words", [
    (["--kind", "wecom", "--url", "ftp://qyapi.weixin.qq.com/x"], "须以 http:// 或 https:// 开头"),
    (["--kind", "wecom", "--url", "qyapi.weixin.qq.com/cgi-bin/webhook/send?key=1"], "须以 http:// 或 https:// 开头"),
    (["--kind", "feishu", "--url", WECOM], "只能是 wecom（企业微信）、dingtalk（钉钉）或 webhook"),
    (["--kind", "wecom", "--url", WECOM, "--secret", "SEC1"], "只有钉钉机器人使用加签密钥"),
    (["--kind", "wecom", "--url", WECOM, "--school", "4109999999"], "没有学校标识码为 4109999999 的学校"),
    (["--kind", "wecom", "--url", WECOM, "--township", "不存在镇"], "没有名为“不存在镇”的乡镇"),
    (["--kind", "wecom", "--url", WECOM, "--class-id", "999999"], "没有编号为 999999 的班级"),
    (["--kind", "wecom", "--url", WECOM, "--audience", "teachers"], "接收对象“teachers”不认识"),
    (["--kind", "wecom", "--url", WECOM, "--school", "4109990001", "--township", "城关镇"], "只能属于一所学校或一个乡镇"),
])
def test_add_channel_refuses_with_the_fix(county, school, townships, people, args, words):
    with pytest.raises(CommandError, match=words):
        run("add-channel", "--county", county.code, *args)
    assert Channel.objects.count() == 0


def test_an_unknown_county_and_a_school_of_another_county(county, school):
    with pytest.raises(CommandError, match="没有行政区划代码为 999999 的区县"):
        run("add-channel", "--county", "999999", "--kind", "wecom", "--url", WECOM)
    from baoxue.org.models import County

    other = County.objects.create(code="410998", name="邻县")
    with pytest.raises(CommandError, match="不属于 邻县"):
        run("add-channel", "--county", other.code, "--kind", "wecom", "--url", WECOM, "--school", school.code)


def test_the_same_channel_twice_is_refused(county):
    run("add-channel", "--county", county.code, "--kind", "wecom", "--url", WECOM)
    with pytest.raises(CommandError, match="已有同一地址、同一范围的渠道"):
        run("add-channel", "--county", county.code, "--kind", "wecom", "--url", WECOM)


def test_list_and_remove(county, school):
    run("add-channel", "--county", county.code, "--kind", "wecom", "--url", WECOM, "--school", school.code)
    ch = Channel.objects.get()
    services.enqueue(county_id=county.pk, school_id=school.pk, audience="office", key="x:1", title="t", text="", link="")
    listed = run("list-channels")
    assert f"#{ch.pk}\t企业微信群机器人\thttps://qyapi.weixin.qq.com/…\t{school.name}" in listed
    assert "693a91f6" not in listed
    out = run("remove-channel", "--id", str(ch.pk))
    assert "已删除通知渠道" in out and "未发送的 1 条一并删除" in out
    assert not Channel.objects.exists() and not Message.objects.exists()
    assert AuditEntry.objects.filter(object_type="channel", action="delete").count() == 1
    with pytest.raises(CommandError, match="没有编号为"):
        run("remove-channel", "--id", str(ch.pk))


def test_send_prints_sent_failed_waiting(county, school, receiver):
    services.channel_add(actor=None, county=county, kind="webhook", url=f"{receiver.url}/ok")
    services.channel_add(actor=None, county=county, kind="webhook", url=f"{receiver.url}/down")
    receiver.fail((500, "down"))
    services.enqueue(county_id=county.pk, school_id=school.pk, audience="office", key="x:1", title="t", text="", link="")
    out = run("send")
    assert out.strip() == "已发送 1，失败 1，等待 1"
    totals = json.loads(run("send", "--json"))
    assert (totals["sent"], totals["failed"], totals["waiting"]) == (0, 0, 1)  # the retry is 10 s away


def test_collect_prints_what_it_wrote(county, school):
    out = run("collect", "--date", "2025-10-13")
    assert out.startswith("2025-10-13：劝返不足 0，逾期 0，未点名 0，休学提醒 0")
    with pytest.raises(CommandError, match="请写成 2025-09-01"):
        run("collect", "--date", "13/10/2025")


def test_test_channel_posts_at_once(county, school, receiver):
    services.channel_add(actor=None, county=county, kind="wecom", url=f"{receiver.url}/send?key=k", school=school)
    ch = Channel.objects.get()
    assert "测试消息已发送" in run("test-channel", "--id", str(ch.pk))
    assert receiver.bodies()[0]["markdown"]["content"].startswith("### 保学 · 测试消息")
    receiver.fail((200, {"errcode": 93000, "errmsg": "invalid webhook url"}))
    with pytest.raises(CommandError, match="errcode 93000"):
        run("test-channel", "--id", str(ch.pk))
    assert Message.objects.count() == 0
