"""Notifications: where they go (`Channel`) and the outbox of deliveries (`Message`).

A message is written in the same transaction as the event that causes it (a 13510 task opened,
a case entering the 疑似辍学 ledger, a dropout report) or by the daily scans, and delivered
later by `baoxue notify send` or the scheduler: an event never waits for a chat server, and a
chat server that is down loses nothing. One row is one delivery of one event to one channel;
(channel, key) is unique, so writing the same event twice is a no-op and a row the receiver
accepted is never posted again.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q


class Audience(models.TextChoices):
    """Who a message is for. A channel lists the audiences it takes (none listed: all of them)."""

    HEAD_TEACHER = "head_teacher", "班主任"
    OFFICE = "office", "控辍保学办公室"
    REGISTRAR = "registrar", "学籍管理员"
    TOWNSHIP = "township", "乡镇政府"
    COUNTY = "county", "县教体局"


class Channel(models.Model):
    """A group robot (企业微信, 钉钉) or a plain JSON webhook a county or school has set up.

    Its scope is the narrowest of: a class (the head teacher's own group), a school, a township
    (the township's dropout reports), or the whole county. The URL and the signing secret are
    credentials: pages and audit rows show the host only."""

    class Kind(models.TextChoices):
        WECOM = "wecom", "企业微信群机器人"
        DINGTALK = "dingtalk", "钉钉群机器人"
        WEBHOOK = "webhook", "JSON Webhook"

    county = models.ForeignKey("org.County", verbose_name="区县", on_delete=models.CASCADE, related_name="+")
    school = models.ForeignKey("org.School", verbose_name="学校", null=True, blank=True, on_delete=models.CASCADE,
                               related_name="+")
    township = models.ForeignKey("org.Township", verbose_name="乡镇", null=True, blank=True, on_delete=models.CASCADE,
                                 related_name="+")
    school_class = models.ForeignKey("org.SchoolClass", verbose_name="班级", null=True, blank=True,
                                     on_delete=models.CASCADE, related_name="+")
    kind = models.CharField("类型", max_length=20, choices=Kind.choices)
    url = models.URLField("地址", max_length=500)
    secret = models.CharField("加签密钥", max_length=200, blank=True)
    # Comma-separated Audience values; empty: every message in the channel's scope.
    audience = models.CharField("接收", max_length=100, blank=True)
    digest = models.BooleanField("每日早间汇总", default=False)
    active = models.BooleanField("启用", default=True)
    label = models.CharField("名称", max_length=100, blank=True)
    created_at = models.DateTimeField("添加时间", auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")

    class Meta:
        verbose_name = verbose_name_plural = "通知渠道"
        ordering = ["county_id", "school_id", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(school__isnull=True) | Q(township__isnull=True),
                                   name="channel_school_or_township"),
            models.CheckConstraint(condition=Q(school_class__isnull=True) | Q(school__isnull=False),
                                   name="channel_class_has_school"),
        ]

    def __str__(self) -> str:
        return self.label or f"{self.get_kind_display()} #{self.pk}"

    @property
    def audiences(self) -> list[str]:
        return [a for a in (x.strip() for x in self.audience.split(",")) if a]

    @property
    def audience_label(self) -> str:
        return "、".join(Audience(a).label for a in self.audiences if a in Audience.values) or "全部"

    @property
    def scope_label(self) -> str:
        if self.school_class_id:
            return f"{self.school} {self.school_class}"
        if self.school_id:
            return str(self.school)
        if self.township_id:
            return str(self.township)
        return f"{self.county}（全县）"


class Message(models.Model):
    """One delivery of one event to one channel: the outbox row.

    waiting → sending (claimed by one `send` run, committed before the post) → sent, or back to
    waiting with the next try later (10 s, doubling up to an hour), or failed once
    NOTIFY_GIVE_UP_HOURS have passed since it was written. A row left in sending by a killed
    process is taken again after a lease: delivery is at least once, and the key travels with
    the post (header Idempotency-Key, and "id" in a plain webhook) so a receiver can drop a
    repeat."""

    class State(models.TextChoices):
        WAITING = "waiting", "等待发送"
        SENDING = "sending", "发送中"
        SENT = "sent", "已发送"
        FAILED = "failed", "已放弃"

    # Big table: the county and school keys, like the other per-student tables.
    county = models.ForeignKey("org.County", on_delete=models.CASCADE, related_name="+")
    school = models.ForeignKey("org.School", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    channel = models.ForeignKey(Channel, verbose_name="渠道", on_delete=models.CASCADE, related_name="messages")
    key = models.CharField("幂等键", max_length=120)
    audience = models.CharField("接收", max_length=20, choices=Audience.choices)
    title = models.CharField("标题", max_length=200)
    text = models.TextField("内容")
    link = models.CharField("链接", max_length=500, blank=True)
    state = models.CharField("状态", max_length=10, choices=State.choices, default=State.WAITING)
    attempts = models.PositiveIntegerField("已尝试次数", default=0)
    next_try_at = models.DateTimeField("下次发送时间")
    claimed_at = models.DateTimeField("开始发送时间", null=True, blank=True)
    # Which `send` run holds the row while it is sending: only that run may mark it.
    claim = models.CharField(max_length=32, blank=True)
    sent_at = models.DateTimeField("发送成功时间", null=True, blank=True)
    last_error = models.CharField("最近一次错误", max_length=500, blank=True)
    created_at = models.DateTimeField("写入时间", auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "通知发送记录"
        ordering = ["-id"]
        constraints = [models.UniqueConstraint(fields=["channel", "key"], name="message_once_per_channel")]
        indexes = [
            models.Index(fields=["state", "next_try_at"]),
            models.Index(fields=["county", "state"]),
        ]

    def __str__(self) -> str:
        return f"{self.title}（{self.get_state_display()}）"

    @property
    def event(self) -> str:
        """What happened, from the key: task, suspected, short, overdue, report, rollcall …"""
        return self.key.split(":", 1)[0]
