"""`baoxue notify …`: notification channels, the daily scans and delivery.

- add-channel --county CODE --kind wecom|dingtalk|webhook --url URL [--school CODE] [--secret S]
  [--township NAME] [--class-id N] [--audience office,head_teacher,…] [--digest] [--label 名称]
- remove-channel --id N, list-channels [--county CODE], test-channel --id N
- send [--json]: deliver what is due; prints 已发送 N，失败 N，等待 N
- collect [--date YYYY-MM-DD] [--json]: the daily scans (劝返不足/逾期, 未点名, 休学到期)
"""

import datetime
import json

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from baoxue.notify import collect as scans
from baoxue.notify import delivery, services
from baoxue.notify.models import Channel
from baoxue.org.models import County, School, SchoolClass, Township

CLI = "命令行"


def _county(code: str) -> County:
    county = County.objects.filter(code=(code or "").strip()).first()
    if county is None:
        raise CommandError(f"没有行政区划代码为 {code} 的区县：--county 写 6 位代码（如 410999）")
    return county


def _channel(pk: int) -> Channel:
    channel = Channel.objects.select_related("county", "school", "township", "school_class__grade").filter(pk=pk).first()
    if channel is None:
        raise CommandError(f"没有编号为 {pk} 的通知渠道：用 baoxue notify list-channels 查看编号")
    return channel


def _messages(e: ValidationError) -> str:
    return "；".join(e.messages)


class Command(BaseCommand):
    help = ("消息通知：add-channel 添加渠道（企业微信/钉钉群机器人、Webhook），remove-channel 删除，list-channels 查看，"
            "test-channel 发一条测试消息，send 发送到期的通知，collect 运行每日提醒扫描")

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        p = sub.add_parser("add-channel", help="添加通知渠道")
        p.add_argument("--county", required=True, help="区县 6 位行政区划代码")
        p.add_argument("--kind", required=True, help="wecom（企业微信群机器人）、dingtalk（钉钉群机器人）或 webhook")
        p.add_argument("--url", required=True, help="机器人或 Webhook 地址（http:// 或 https://）")
        p.add_argument("--school", help="学校标识码：只接收这所学校的通知")
        p.add_argument("--township", help="乡镇名称：接收报告该乡镇的辍学报告")
        p.add_argument("--class-id", type=int, dest="class_id", help="班级编号：班主任自己的班级群")
        p.add_argument("--secret", default="", help="钉钉机器人“加签”的密钥（SEC 开头）")
        p.add_argument("--audience", default="",
                       help="接收哪些通知，逗号分隔：head_teacher, office, registrar, township, county；不写为范围内全部")
        p.add_argument("--digest", action="store_true", help="每日早间汇总成一条（NOTIFY_DIGEST_AT，默认 07:30）")
        p.add_argument("--label", default="", help="渠道名称，如“七年级班主任群”")
        p = sub.add_parser("remove-channel", help="删除通知渠道（及其发送记录）")
        p.add_argument("--id", type=int, required=True, dest="pk")
        p = sub.add_parser("list-channels", help="查看通知渠道（地址只显示主机名）")
        p.add_argument("--county", default="")
        p = sub.add_parser("test-channel", help="立即发一条测试消息到渠道")
        p.add_argument("--id", type=int, required=True, dest="pk")
        p = sub.add_parser("send", help="发送到期的通知")
        p.add_argument("--json", action="store_true", dest="as_json")
        p.add_argument("--limit", type=int, default=500)
        p = sub.add_parser("collect", help="每日提醒扫描：劝返不足/逾期、未点名、休学到期（可重复运行）")
        p.add_argument("--date", default="")
        p.add_argument("--json", action="store_true", dest="as_json")

    def handle(self, *args, action, **o):
        getattr(self, "do_" + action.replace("-", "_"))(**o)

    def do_add_channel(self, *, county, kind, url, school, township, class_id, secret, audience, digest, label, **_):
        c = _county(county)
        s = t = k = None
        if school:
            s = School.objects.filter(code=school.strip()).first()
            if s is None:
                raise CommandError(f"没有学校标识码为 {school} 的学校：--school 写 10 位学校标识码")
        if township:
            t = Township.objects.filter(county=c, name=township.strip()).first()
            if t is None:
                names = "、".join(Township.objects.filter(county=c).values_list("name", flat=True)[:30])
                raise CommandError(f"{c.name}没有名为“{township}”的乡镇：--township 写乡镇全称（{names or '尚未录入乡镇'}）")
        if class_id is not None:
            k = SchoolClass.objects.select_related("school", "grade").filter(pk=class_id).first()
            if k is None:
                raise CommandError(f"没有编号为 {class_id} 的班级：班级编号见班级页面地址 /classes/编号/")
        try:
            channel = services.channel_add(actor=None, actor_label=CLI, county=c, kind=(kind or "").strip().lower(),
                                           url=url, school=s, township=t, school_class=k, secret=secret,
                                           audiences=audience, digest=digest, label=label)
        except ValidationError as e:
            raise CommandError(f"无法添加通知渠道：{_messages(e)}")
        self.stdout.write(f"已添加通知渠道 #{channel.pk}：{channel.get_kind_display()} {services.mask_url(channel.url)}，"
                          f"范围 {channel.scope_label}，接收 {channel.audience_label}"
                          f"{'，每日早间汇总' if channel.digest else ''}")

    def do_remove_channel(self, *, pk, **_):
        channel = _channel(pk)
        label = f"#{channel.pk} {channel.get_kind_display()} {services.mask_url(channel.url)}"
        waiting = services.channel_remove(actor=None, actor_label=CLI, channel=channel)
        self.stdout.write(f"已删除通知渠道 {label}" + (f"（未发送的 {waiting} 条一并删除）" if waiting else ""))

    def do_list_channels(self, *, county, **_):
        qs = Channel.objects.select_related("county", "school", "township", "school_class__grade").order_by("county__code", "pk")
        if county:
            qs = qs.filter(county=_county(county))
        rows = list(qs)
        if not rows:
            self.stdout.write("还没有通知渠道。添加：baoxue notify add-channel --county 代码 --kind wecom --url 地址")
            return
        for c in rows:
            self.stdout.write(f"#{c.pk}\t{c.get_kind_display()}\t{services.mask_url(c.url)}\t{c.scope_label}\t"
                              f"接收 {c.audience_label}\t{'汇总' if c.digest else '即时'}\t{'启用' if c.active else '停用'}"
                              f"\t{c.label}".rstrip())

    def do_test_channel(self, *, pk, **_):
        channel = _channel(pk)
        key = f"test:{channel.pk}:{timezone.now():%Y%m%d%H%M%S}"
        body = delivery.payload(channel, key=key, title="测试消息", text="这是一条测试消息：渠道设置正确。",
                                link=services.site_link("/"), school_code=channel.school.code if channel.school_id else "",
                                kind="test")
        error = delivery.post(channel, body, key)
        if error:
            raise CommandError(f"测试消息发送失败：{error}。请检查地址、钉钉加签密钥和机器人的安全设置（关键词可设为“保学”）")
        self.stdout.write(f"测试消息已发送到 #{channel.pk} {services.mask_url(channel.url)}")

    def do_send(self, *, as_json, limit, **_):
        totals = delivery.send_due(limit=limit)
        if as_json:
            self.stdout.write(json.dumps(totals, ensure_ascii=False))
            return
        if totals["busy"]:
            self.stdout.write("已有发送在运行，本次跳过。")
        line = f"已发送 {totals['sent']}，失败 {totals['failed']}，等待 {totals['waiting']}"
        if totals["given_up"]:
            line += f"（其中 {totals['given_up']} 条多次失败已放弃，见 /notify/）"
        self.stdout.write(line)

    def do_collect(self, *, date, as_json, **_):
        try:
            day = datetime.date.fromisoformat(date) if date else timezone.localdate()
        except ValueError:
            raise CommandError(f"日期“{date}”格式不对：请写成 2025-09-01")
        totals = scans.collect(day)
        if as_json:
            self.stdout.write(json.dumps(totals, ensure_ascii=False))
            return
        for warning in totals["warnings"]:
            self.stderr.write(warning)
        self.stdout.write(f"{day}：劝返不足 {totals['short']}，逾期 {totals['overdue']}，未点名 {totals['rollcall']}，"
                          f"休学提醒 {totals['ending']}（新写入的通知条数）")
