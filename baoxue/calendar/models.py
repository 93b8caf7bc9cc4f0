"""The working-day table and school closures.

工作日 follows the national calendar (Monday to Friday, minus public holidays, plus make-up
workdays 调休). It lives in the database, seeded from the `chinese-calendar` package for the
years it holds and edited by an administrator when the State Council publishes the next year's
schedule. A year without data is an explicit error, never a guess.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q


class CalendarYear(models.Model):
    """A year whose every day is in `CalendarDay`; only such years answer working-day questions."""

    year = models.PositiveSmallIntegerField("年份", primary_key=True)
    source = models.CharField("来源", max_length=50)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = verbose_name_plural = "工作日历年份"
        ordering = ["year"]

    def __str__(self) -> str:
        return f"{self.year}年（{self.source}）"


class CalendarDay(models.Model):
    date = models.DateField("日期", primary_key=True)
    is_working = models.BooleanField("工作日")
    # 国庆节 on a holiday, 调休上班 on a make-up workday, empty on ordinary days.
    note = models.CharField("说明", max_length=30, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "工作日历"
        ordering = ["date"]
        indexes = [models.Index(fields=["is_working", "date"])]

    def __str__(self) -> str:
        return f"{self.date} {'工作日' if self.is_working else '休息日'} {self.note}".strip()


class Closure(models.Model):
    """停课: a working day on which a county's or a school's classes do not take place."""

    county = models.ForeignKey("org.County", verbose_name="区县", null=True, blank=True, on_delete=models.CASCADE)
    school = models.ForeignKey("org.School", verbose_name="学校", null=True, blank=True, on_delete=models.CASCADE)
    date = models.DateField("日期")
    reason = models.CharField("原因", max_length=100, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "停课日"
        ordering = ["date"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(county__isnull=False, school__isnull=True) | Q(county__isnull=True, school__isnull=False)),
                name="closure_county_or_school",
            ),
            models.UniqueConstraint(fields=["school", "date"], condition=Q(school__isnull=False), name="closure_school_date"),
            models.UniqueConstraint(fields=["county", "date"], condition=Q(county__isnull=False), name="closure_county_date"),
        ]

    def __str__(self) -> str:
        return f"{self.date} 停课（{self.school or self.county}）{self.reason}"
