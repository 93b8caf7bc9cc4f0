"""学校一月一报告 and the inputs of 巩固率.

- `MonthlyReport`: one per school and month. Drafted by itself on the first working day after
  the month ends (`baoxue.reports.monthly.draft_due`), reviewed by the office (控辍保学办公室) with
  remarks, signed by the principal (学校领导), submitted to the bureau, which may send it back.
  `figures` is the snapshot of `monthly_figures`: taken at drafting, refreshed until signed,
  frozen at signing.
- `RetentionInputs`: the hand-entered inputs of a school's 巩固率 for one graduation year, where
  the system lacks the history (a school's first years in the system). A value left empty is
  the system's (or missing).
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Func, IntegerField
from django.db.models.lookups import Exact


class DayOfMonth(Func):
    """The day of a date, in SQL every database runs by itself (SQLite's strftime, not a function
    Django registers on its own connections): usable in a check constraint."""

    arity = 1
    output_field = IntegerField()

    def as_sql(self, compiler, connection, **extra):
        return super().as_sql(compiler, connection, template="EXTRACT(DAY FROM %(expressions)s)", **extra)

    def as_sqlite(self, compiler, connection, **extra):
        return super().as_sql(compiler, connection, template="CAST(strftime('%%%%d', %(expressions)s) AS INTEGER)",
                              **extra)


class MonthlyReport(models.Model):
    class State(models.TextChoices):
        DRAFT = "draft", "草稿（待审核）"
        REVIEWED = "reviewed", "已审核（待校长签字）"
        SIGNED = "signed", "校长已签字（待提交）"
        SUBMITTED = "submitted", "已提交教体局"

    county = models.ForeignKey("org.County", verbose_name="区县", on_delete=models.PROTECT, related_name="+")
    school = models.ForeignKey("org.School", verbose_name="学校", on_delete=models.PROTECT, related_name="monthly_reports")
    month = models.DateField("月份", help_text="该月1日")
    state = models.CharField("状态", max_length=20, choices=State.choices, default=State.DRAFT)
    figures = models.JSONField("报告数据", default=dict)
    figures_at = models.DateTimeField("数据生成时间", null=True, blank=True)
    remarks = models.TextField("情况说明", blank=True)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    reviewed_at = models.DateTimeField("审核时间", null=True, blank=True)
    signed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="+")
    signed_at = models.DateTimeField("校长签字时间", null=True, blank=True)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    submitted_at = models.DateTimeField("提交时间", null=True, blank=True)
    # The bureau's last sending back (the row goes back to draft and keeps its history in the audit).
    returned_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    returned_at = models.DateTimeField("退回时间", null=True, blank=True)
    returned_reason = models.CharField("退回原因", max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "学校月报告"
        ordering = ["-month", "school__code"]
        constraints = [
            models.UniqueConstraint(fields=["school", "month"], name="monthly_report_once"),
            models.CheckConstraint(condition=Exact(DayOfMonth(F("month")), 1), name="monthly_report_first_of_month"),
        ]
        indexes = [models.Index(fields=["county", "month", "state"])]

    def __str__(self) -> str:
        return f"{self.school} {self.month.year}年{self.month.month}月报告"

    @property
    def month_key(self) -> str:
        return f"{self.month:%Y-%m}"

    @property
    def frozen(self) -> bool:
        return self.state in (self.State.SIGNED, self.State.SUBMITTED)


RETENTION_FIELDS = ("graduates", "intake", "transfers_in", "transfers_out")


class RetentionInputs(models.Model):
    county = models.ForeignKey("org.County", verbose_name="区县", on_delete=models.PROTECT, related_name="+")
    school = models.ForeignKey("org.School", verbose_name="学校", on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField("毕业年份")
    graduates = models.PositiveIntegerField("本届毕业生数", null=True, blank=True)
    intake = models.PositiveIntegerField("入学人数", null=True, blank=True)
    transfers_in = models.PositiveIntegerField("转入人数", null=True, blank=True)
    transfers_out = models.PositiveIntegerField("转出人数", null=True, blank=True)
    # Who entered each value and when: {"intake": {"by": "钱主任", "by_id": 3, "at": "2026-07-01T…"}}.
    entered = models.JSONField("填写人", default=dict, blank=True)
    note = models.CharField("说明", max_length=300, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = verbose_name_plural = "巩固率手工填写数据"
        ordering = ["school_id", "-year"]
        constraints = [models.UniqueConstraint(fields=["school", "year"], name="retention_inputs_once")]

    def __str__(self) -> str:
        return f"{self.school} {self.year}届巩固率数据"
