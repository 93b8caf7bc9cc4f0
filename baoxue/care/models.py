"""Key groups as work, and one-on-one care (plan §4, 一对一教育关爱帮扶).

Rows here are what people decided and did: the county's monitoring cadence per group
(`CareCadence`), the office's high-risk mark with its care plan (`RiskMark`) and the care given
(`CareRecord`). What is *due* is not stored: it follows from the cadence and the last record
(`baoxue.care.due`), so recording a contact is all it takes to satisfy it.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

from baoxue.org.models import KeyGroup

# The high-risk list is watched like a key group: its cadence is "a care record every N weeks".
HIGH_RISK = "high_risk"
CADENCE_GROUPS = [*KeyGroup.choices, (HIGH_RISK, "高风险学生（一对一帮扶）")]


class CareForm(models.TextChoices):
    """帮扶形式."""

    TALK = "talk", "谈心"
    COUNSELLING = "counselling", "心理疏导"
    TUTORING = "tutoring", "学业辅导"
    HOME_VISIT = "home_visit", "家访"
    AID = "aid", "资助"
    HOME_SCHOOL = "home_school", "家校联系"
    REFERRAL = "referral", "心理咨询转介"


class CareCadence(models.Model):
    """How often a county wants each key group's students looked after, and by what: "留守儿童
    每月与监护人联系一次", "家庭经济困难 每学期资助核查一次". A county without its own row for a group
    uses `baoxue.care.due.DEFAULT_CADENCES`."""

    county = models.ForeignKey("org.County", verbose_name="区县", on_delete=models.CASCADE, related_name="+")
    group = models.CharField("群体", max_length=20, choices=CADENCE_GROUPS)
    every_weeks = models.PositiveSmallIntegerField("每几周一次", null=True, blank=True)
    per_term = models.BooleanField("每学期一次", default=False)
    what = models.CharField("工作内容", max_length=50)
    # Which record forms count as doing it; empty = any care record.
    forms = models.JSONField("哪些记录算作完成", default=list, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")

    class Meta:
        verbose_name = verbose_name_plural = "关爱频次"
        ordering = ["county_id", "group"]
        constraints = [
            models.UniqueConstraint(fields=["county", "group"], name="care_cadence_one_per_group"),
            models.CheckConstraint(condition=Q(per_term=True, every_weeks__isnull=True)
                                   | Q(per_term=False, every_weeks__gte=1, every_weeks__lte=52),
                                   name="care_cadence_weeks_or_term"),
        ]

    def __str__(self) -> str:
        return f"{self.get_group_display()}：{self.interval_label}{self.what}"

    @property
    def interval_label(self) -> str:
        if self.per_term:
            return "每学期"
        return "每月" if self.every_weeks == 4 else f"每{self.every_weeks}周"


class RiskMark(models.Model):
    """高风险学生: marked by the office with a reason, ended when the danger has passed. The care
    plan belongs to the mark. A new mark after an ended one is a new row (the history stays)."""

    class Kind(models.TextChoices):
        LEARNING = "learning", "学习困难"
        WORK = "work", "外出打工倾向"
        ABSENCE = "absence", "多次缺勤"
        RETURNED = "returned", "个案返校"
        OTHER = "other", "其他"

    county = models.ForeignKey("org.County", on_delete=models.PROTECT, related_name="+")
    school = models.ForeignKey("org.School", on_delete=models.PROTECT, related_name="+")
    student = models.ForeignKey("org.Student", verbose_name="学生", on_delete=models.CASCADE, related_name="risk_marks")
    kind = models.CharField("原因类别", max_length=20, choices=Kind.choices)
    reason = models.CharField("具体原因", max_length=300)
    marked_on = models.DateField("列入日期")
    marked_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="列入人", null=True, blank=True,
                                  on_delete=models.SET_NULL, related_name="+")
    plan = models.TextField("帮扶计划", blank=True)
    ended_on = models.DateField("解除日期", null=True, blank=True)
    end_note = models.CharField("解除说明", max_length=200, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "高风险学生"
        ordering = ["-marked_on", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["student"], condition=Q(ended_on__isnull=True), name="risk_mark_one_open"),
            models.CheckConstraint(condition=Q(ended_on__isnull=True) | Q(ended_on__gte=models.F("marked_on")),
                                   name="risk_mark_end_after_start"),
            models.CheckConstraint(condition=~Q(reason=""), name="risk_mark_has_reason"),
        ]
        indexes = [models.Index(fields=["school", "ended_on"])]

    def __str__(self) -> str:
        return f"{self.student} {self.get_kind_display()}"


class CareRecord(models.Model):
    """One piece of care given: date, form, content, next step. A 心理咨询转介 carries its outcome
    (filled in when known); a 家校联系 outside any 13510 case is a record too."""

    county = models.ForeignKey("org.County", on_delete=models.PROTECT, related_name="+")
    school = models.ForeignKey("org.School", on_delete=models.PROTECT, related_name="+")
    student = models.ForeignKey("org.Student", verbose_name="学生", on_delete=models.CASCADE, related_name="care_records")
    date = models.DateField("日期")
    form = models.CharField("形式", max_length=20, choices=CareForm.choices)
    content = models.TextField("内容")
    next_step = models.CharField("下一步", max_length=300, blank=True)
    referral_outcome = models.CharField("转介结果", max_length=300, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="记录人", null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    recorded_at = models.DateTimeField("记录时间", auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "帮扶记录"
        ordering = ["-date", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(form="referral") | Q(referral_outcome=""),
                                   name="care_record_outcome_only_for_referral"),
            models.CheckConstraint(condition=~Q(content=""), name="care_record_has_content"),
        ]
        indexes = [models.Index(fields=["student", "date"]), models.Index(fields=["school", "date"])]

    def __str__(self) -> str:
        return f"{self.student} {self.date} {self.get_form_display()}"
