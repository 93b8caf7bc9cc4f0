"""Daily attendance, recorded by exception.

A student with no record on a school day was at school — but only when there is evidence
that someone looked: the class's roll call was taken that day (`RollCall`), or an imported
file from a gate or face-recognition system covers that date for the school (`FileDay`).
A day with neither is unknown: it neither counts nor breaks a run, and never closes a case.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q


class Mark(models.TextChoices):
    TRUANT = "truant", "旷课"
    UNKNOWN = "unknown", "原因不明"
    SICK = "sick", "病假"
    PERSONAL = "personal", "事假"
    LATE = "late", "迟到"
    EARLY = "early", "早退"
    # Seen at school: only meaningful for a student not on the roll call (a dropout, a student
    # whose transfer is pending), whom no roll call can mark present by default.
    PRESENT = "present", "到校"


# 无正当原因未到校: 旷课, or 原因不明 until a reason is given.
UNEXCUSED = (Mark.TRUANT, Mark.UNKNOWN)
# Approved leave.
EXCUSED = (Mark.SICK, Mark.PERSONAL)
# Recorded, but the student was at school.
AT_SCHOOL = (Mark.LATE, Mark.EARLY, Mark.PRESENT)


class RollCall(models.Model):
    """A class's roll call of one day: the evidence that everyone not marked was at school."""

    county = models.ForeignKey("org.County", on_delete=models.PROTECT, related_name="+")
    school = models.ForeignKey("org.School", on_delete=models.PROTECT, related_name="+")
    school_class = models.ForeignKey("org.SchoolClass", verbose_name="班级", on_delete=models.PROTECT, related_name="roll_calls")
    date = models.DateField("日期")
    taken_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="点名人", null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="+")
    taken_at = models.DateTimeField("点名时间", auto_now_add=True)
    updated_at = models.DateTimeField("最后修改", auto_now=True)
    # Students of the class who were not on the list that day (no longer 在校: a dropout, a
    # pending transfer): nobody could mark them, so the roll call is no evidence that they were
    # at school. Empty (None) for roll calls from before it was kept.
    not_listed = models.JSONField("名单外的本班学生", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "点名"
        constraints = [models.UniqueConstraint(fields=["school_class", "date"], name="rollcall_once_per_day")]
        indexes = [models.Index(fields=["school", "date"])]

    def __str__(self) -> str:
        return f"{self.school_class} {self.date} 点名"


class AttendanceRecord(models.Model):
    """An exception on one school day: absent (with its kind), late or early leave."""

    class Source(models.TextChoices):
        ROLL_CALL = "roll_call", "班主任点名"
        IMPORT = "import", "考勤文件导入"
        CORRECTION = "correction", "更正"

    county = models.ForeignKey("org.County", on_delete=models.PROTECT, related_name="+")
    school = models.ForeignKey("org.School", on_delete=models.PROTECT, related_name="+")
    student = models.ForeignKey("org.Student", verbose_name="学生", on_delete=models.CASCADE, related_name="attendance")
    date = models.DateField("日期")
    mark = models.CharField("考勤", max_length=10, choices=Mark.choices)
    reason = models.CharField("原因", max_length=200, blank=True)
    source = models.CharField("来源", max_length=20, choices=Source.choices, default=Source.ROLL_CALL)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    recorded_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = verbose_name_plural = "考勤记录"
        constraints = [models.UniqueConstraint(fields=["student", "date"], name="attendance_one_per_day")]
        indexes = [models.Index(fields=["school", "date"])]

    def __str__(self) -> str:
        return f"{self.student} {self.date} {self.get_mark_display()}"

    @property
    def is_unexcused(self) -> bool:
        return self.mark in UNEXCUSED


class FileDay(models.Model):
    """What an imported attendance file looked at on one date: evidence for that day like a
    roll call. A file covers what it says it covers: by default only the classes it has at least
    one row for on that date (`school_class` set); a gate or face-recognition export of
    exceptions may cover the whole school (`school_class` empty)."""

    county = models.ForeignKey("org.County", on_delete=models.PROTECT, related_name="+")
    school = models.ForeignKey("org.School", on_delete=models.PROTECT, related_name="+")
    school_class = models.ForeignKey("org.SchoolClass", verbose_name="班级", null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="+")
    date = models.DateField("日期")
    filename = models.CharField("文件", max_length=200)
    imported_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "考勤文件覆盖日期"
        constraints = [
            models.UniqueConstraint(fields=["school", "date"], condition=Q(school_class__isnull=True),
                                    name="fileday_whole_school_once"),
            models.UniqueConstraint(fields=["school_class", "date"], condition=Q(school_class__isnull=False),
                                    name="fileday_class_once"),
        ]
        indexes = [models.Index(fields=["school", "date"])]


class LeaveRequest(models.Model):
    """请假: recorded and approved by the head teacher; covers its days as excused."""

    class Kind(models.TextChoices):
        SICK = "sick", "病假"
        PERSONAL = "personal", "事假"

    county = models.ForeignKey("org.County", on_delete=models.PROTECT, related_name="+")
    school = models.ForeignKey("org.School", on_delete=models.PROTECT, related_name="+")
    student = models.ForeignKey("org.Student", verbose_name="学生", on_delete=models.CASCADE, related_name="leave_requests")
    kind = models.CharField("类别", max_length=10, choices=Kind.choices)
    start = models.DateField("开始日期")
    end = models.DateField("结束日期")
    reason = models.CharField("事由", max_length=200)
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="批准人", null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    approved_at = models.DateTimeField("批准时间", null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "请假"
        constraints = [models.CheckConstraint(condition=Q(end__gte=models.F("start")), name="leave_end_after_start")]
        indexes = [models.Index(fields=["school", "start", "end"])]

    def __str__(self) -> str:
        return f"{self.student} {self.get_kind_display()} {self.start}–{self.end}"
