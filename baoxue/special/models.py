"""特殊教育: the placement of a disabled child and 送教上门 (plan §4).

残疾儿童：随班就读、特校就读或送教上门。送教上门：计划（送教教师、每周次数、每次课时）和送教记录
（日期、教师、课时、内容、监护人签字、照片）。

A placement decision is a row, never edited: the history is the rows, the latest is in force.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

from baoxue.org.models import DisabilityPlacement

SCHOOL_YEAR_RE = r"^[0-9]{4}-[0-9]{4}$"


class SpecialSettings(models.Model):
    """The county's 送教上门 targets: at least two visits a week, at least 30 class hours a school
    year (the plans seen). A change is a new row; the newest is in force."""

    county = models.ForeignKey("org.County", verbose_name="区县", on_delete=models.CASCADE, related_name="+")
    visits_per_week = models.PositiveSmallIntegerField("每周至少送教（次）", default=2)
    hours_per_year = models.PositiveSmallIntegerField("每学年至少送教（课时）", default=30)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")

    class Meta:
        verbose_name = verbose_name_plural = "送教上门规则"
        ordering = ["county_id", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(visits_per_week__gte=1, visits_per_week__lte=7, hours_per_year__gte=1),
                                   name="special_settings_sane"),
        ]

    def __str__(self) -> str:
        return f"每周至少 {self.visits_per_week} 次，每学年至少 {self.hours_per_year} 课时"


class PlacementDecision(models.Model):
    """安置决定: 随班就读, 特校就读 or 送教上门, with its date and basis (e.g. 县残疾人教育专家委员会
    评估意见) and, optionally, the paper as an upload."""

    student = models.ForeignKey("org.Student", verbose_name="学生", on_delete=models.PROTECT, related_name="+")
    county = models.ForeignKey("org.County", on_delete=models.PROTECT, related_name="+")
    school = models.ForeignKey("org.School", on_delete=models.PROTECT, related_name="+")
    decided_on = models.DateField("决定日期")
    placement = models.CharField("安置方式", max_length=20, choices=DisabilityPlacement.choices)
    basis = models.CharField("依据", max_length=300)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="登记人", null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "安置决定"
        ordering = ["student_id", "-decided_on", "-id"]
        indexes = [models.Index(fields=["student", "decided_on"])]
        constraints = [models.CheckConstraint(condition=~Q(basis=""), name="placement_basis_not_empty")]

    def __str__(self) -> str:
        return f"{self.get_placement_display()}（{self.decided_on}）"


class HomeTeachingPlan(models.Model):
    """送教上门计划 of one school year: who teaches, how many visits a week, how many class hours a
    visit, from when to when. One per student and school year; changes are audited."""

    student = models.ForeignKey("org.Student", verbose_name="学生", on_delete=models.PROTECT, related_name="+")
    county = models.ForeignKey("org.County", on_delete=models.PROTECT, related_name="+")
    school = models.ForeignKey("org.School", on_delete=models.PROTECT, related_name="+")
    school_year = models.CharField("学年", max_length=9, help_text="例如 2025-2026")
    teachers = models.ManyToManyField(settings.AUTH_USER_MODEL, verbose_name="送教教师（账号）", blank=True,
                                      related_name="+")
    teacher_names = models.CharField("其他送教人员", max_length=200, blank=True,
                                     help_text="没有账号的教师、康复人员等，姓名用顿号隔开")
    visits_per_week = models.PositiveSmallIntegerField("每周送教（次）", default=2)
    hours_per_visit = models.DecimalField("每次课时", max_digits=3, decimal_places=1, default=2)
    hours_per_year = models.PositiveSmallIntegerField("本学年目标课时", null=True, blank=True,
                                                      help_text="不填则按县里的规定；高于县定时以计划为准")
    start_on = models.DateField("开始日期")
    end_on = models.DateField("结束日期")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "送教上门计划"
        ordering = ["student_id", "-start_on"]
        constraints = [
            models.UniqueConstraint(fields=["student", "school_year"], name="home_plan_one_per_year"),
            models.CheckConstraint(condition=Q(end_on__gte=models.F("start_on")), name="home_plan_end_after_start"),
            models.CheckConstraint(condition=Q(school_year__regex=SCHOOL_YEAR_RE), name="home_plan_school_year_format"),
            models.CheckConstraint(condition=Q(visits_per_week__gte=1, visits_per_week__lte=7, hours_per_visit__gt=0),
                                   name="home_plan_sane"),
        ]

    def __str__(self) -> str:
        return f"{self.school_year} 学年送教上门计划"


class HomeTeachingVisit(models.Model):
    """One 送教上门 visit: date, teachers, class hours, content; the guardian's signature and
    photos are `SpecialFile` rows."""

    plan = models.ForeignKey(HomeTeachingPlan, on_delete=models.PROTECT, related_name="visits")
    student = models.ForeignKey("org.Student", on_delete=models.PROTECT, related_name="+")
    county = models.ForeignKey("org.County", on_delete=models.PROTECT, related_name="+")
    school = models.ForeignKey("org.School", on_delete=models.PROTECT, related_name="+")
    date = models.DateField("送教日期")
    teachers = models.ManyToManyField(settings.AUTH_USER_MODEL, verbose_name="送教教师（账号）", blank=True,
                                      related_name="+")
    teacher_names = models.CharField("其他送教人员", max_length=200, blank=True)
    hours = models.DecimalField("课时", max_digits=3, decimal_places=1)
    content = models.CharField("送教内容", max_length=500)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "送教上门记录"
        ordering = ["plan_id", "-date", "-id"]
        indexes = [models.Index(fields=["plan", "date"])]
        constraints = [
            models.CheckConstraint(condition=Q(hours__gt=0, hours__lte=8), name="home_visit_hours_sane"),
            models.CheckConstraint(condition=~Q(content=""), name="home_visit_content_not_empty"),
        ]

    def __str__(self) -> str:
        return f"送教上门 {self.date}"


class SpecialFile(models.Model):
    """An uploaded paper or photo (PDF, JPG or PNG by content), stored under a name that says
    nothing about the child, served only through a permission-checked, audited view."""

    class Kind(models.TextChoices):
        BASIS = "basis", "安置依据（评估意见等）"
        SIGNATURE = "signature", "监护人签字"
        PHOTO = "photo", "送教照片"

    kind = models.CharField("类别", max_length=20, choices=Kind.choices)
    student = models.ForeignKey("org.Student", on_delete=models.PROTECT, related_name="+")
    county = models.ForeignKey("org.County", on_delete=models.PROTECT, related_name="+")
    school = models.ForeignKey("org.School", on_delete=models.PROTECT, related_name="+")
    decision = models.ForeignKey(PlacementDecision, null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="files")
    visit = models.ForeignKey(HomeTeachingVisit, null=True, blank=True, on_delete=models.PROTECT, related_name="files")
    file = models.FileField("文件", upload_to="special/%Y/")
    original_name = models.CharField("原文件名", max_length=200)
    file_type = models.CharField("类型", max_length=10)  # pdf, jpg, png: as read from the content
    size = models.PositiveIntegerField("大小")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "特殊教育材料"
        ordering = ["id"]
        constraints = [
            # A basis belongs to a decision; a signature or a photo to a visit.
            models.CheckConstraint(
                name="special_file_owner_matches_kind",
                condition=(Q(kind="basis", decision__isnull=False, visit__isnull=True)
                           | Q(kind__in=["signature", "photo"], decision__isnull=True, visit__isnull=False)),
            ),
        ]

    def __str__(self) -> str:
        return self.get_kind_display()
