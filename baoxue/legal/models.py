"""The exit condition of 义务教育有保障 and the township's four legal steps (plan §4), as rows.

对经部门联合劝返3次以上或经法院判决监护人已履行法定义务仍拒不入学的，经县级人民政府（乡村振兴
工作领导小组）审批，可认定为符合“义务教育有保障”退出条件；此前乡镇可依法采取批评教育、下达
《责令送被监护人接受义务教育通知书》、行政处罚、提起诉讼或申请强制执行等措施。

An `ExitCondition` is one per dropout case, changed in place (filed, approved, refused, withdrawn,
filed again); its history is the audit log. A `LegalStep` is one dated measure with its document.
Papers are `LegalPaper` rows stored under neutral names and served only through a checked view.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q


class LegalPaper(models.Model):
    """An uploaded document (scan or photo), its type read from the content."""

    class Kind(models.TextChoices):
        JUDGMENT = "judgment", "法院判决书"
        APPROVAL = "approval", "审批文件"
        STEP = "step", "法律措施文书"

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="legal_papers")
    county = models.ForeignKey("org.County", on_delete=models.PROTECT, related_name="+")
    school = models.ForeignKey("org.School", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField("材料", max_length=20, choices=Kind.choices)
    file = models.FileField(upload_to="legal/%Y/%m/")
    file_type = models.CharField("类型", max_length=5)
    original_name = models.CharField("原文件名", max_length=200)
    size = models.PositiveIntegerField("大小")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "依法控辍材料"

    def __str__(self) -> str:
        return f"{self.get_kind_display()}：{self.original_name}"


class ExitCondition(models.Model):
    """A dropout who still refuses, filed by the school's office for recognition as meeting the
    exit condition; the county government's (or the rural revitalisation group's) approval makes
    it count. The case stays in the dropout ledger for follow-up."""

    class Ground(models.TextChoices):
        JOINT = "joint", "经部门联合劝返3次以上"
        JUDGMENT = "judgment", "经法院判决监护人已履行法定义务"

    class State(models.TextChoices):
        FILED = "filed", "已申报，待审批"
        APPROVED = "approved", "已批准，符合退出条件"
        REFUSED = "refused", "未获批准"
        WITHDRAWN = "withdrawn", "已撤回"

    class Approver(models.TextChoices):
        COUNTY_GOVERNMENT = "county_government", "县人民政府"
        REVITALISATION = "revitalisation", "县乡村振兴工作领导小组"

    case = models.OneToOneField("cases.Case", on_delete=models.CASCADE, related_name="exit_condition")
    county = models.ForeignKey("org.County", on_delete=models.PROTECT, related_name="+")
    school = models.ForeignKey("org.School", verbose_name="学校", on_delete=models.PROTECT, related_name="+")
    state = models.CharField("状态", max_length=20, choices=State.choices, default=State.FILED)
    ground = models.CharField("依据", max_length=20, choices=Ground.choices)
    joint_attempts = models.PositiveSmallIntegerField("联合劝返次数", default=0)
    court = models.CharField("判决法院", max_length=100, blank=True)
    judgment_on = models.DateField("判决日期", null=True, blank=True)
    judgment_no = models.CharField("判决书案号", max_length=100, blank=True)
    judgment = models.ForeignKey(LegalPaper, verbose_name="判决书", null=True, blank=True, on_delete=models.RESTRICT,
                                 related_name="+")
    note = models.CharField("说明", max_length=300, blank=True)
    filed_on = models.DateField("申报日期")
    filed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    approver = models.CharField("审批机关", max_length=30, choices=Approver.choices, blank=True)
    approved_on = models.DateField("审批日期", null=True, blank=True)
    approval_no = models.CharField("审批文号", max_length=100, blank=True)
    approval_paper = models.ForeignKey(LegalPaper, verbose_name="审批文件", null=True, blank=True,
                                       on_delete=models.RESTRICT, related_name="+")
    approval_recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                             on_delete=models.SET_NULL, related_name="+")
    ended_on = models.DateField("撤回或不予批准日期", null=True, blank=True)
    ended_reason = models.CharField("撤回或不予批准原因", max_length=300, blank=True)
    ended_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = verbose_name_plural = "义务教育有保障退出条件"
        ordering = ["-filed_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ground="judgment", judgment__isnull=False, judgment_on__isnull=False)
                & ~Q(court="") & ~Q(judgment_no="") | Q(ground="joint", joint_attempts__gte=3),
                name="exit_condition_has_ground"),
            models.CheckConstraint(
                condition=~Q(state="approved") | Q(approved_on__isnull=False) & ~Q(approver="") & ~Q(approval_no=""),
                name="exit_condition_approval_complete"),
            models.CheckConstraint(
                condition=~Q(state__in=["refused", "withdrawn"]) | Q(ended_on__isnull=False) & ~Q(ended_reason=""),
                name="exit_condition_end_has_reason"),
        ]
        indexes = [models.Index(fields=["county", "state"])]

    def __str__(self) -> str:
        return f"{self.case.student} 退出条件（{self.get_state_display()}）"


class LegalStep(models.Model):
    """One of the township's legal steps for a guardian who refuses to send the child."""

    class Kind(models.TextChoices):
        EDUCATION = "education", "批评教育"
        ORDER = "order", "责令送被监护人接受义务教育通知书"
        PENALTY = "penalty", "行政处罚"
        LAWSUIT = "lawsuit", "提起诉讼或申请强制执行"

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="legal_steps")
    county = models.ForeignKey("org.County", on_delete=models.PROTECT, related_name="+")
    school = models.ForeignKey("org.School", verbose_name="学校", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField("措施", max_length=20, choices=Kind.choices)
    date = models.DateField("日期")
    issued_by = models.CharField("实施单位", max_length=100)
    doc_no = models.CharField("文书编号", max_length=100, blank=True)
    paper = models.ForeignKey(LegalPaper, verbose_name="文书", null=True, blank=True, on_delete=models.RESTRICT,
                              related_name="+")
    note = models.CharField("情况说明", max_length=300, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "乡镇依法控辍措施"
        ordering = ["date", "id"]
        indexes = [models.Index(fields=["county", "kind"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.date}"
