"""人籍一致 (plan §1, §2): the on-site check, registry reconciliation, primary graduates not
continued, the 学籍异动 register and the term review.

学校政教处依据学籍及在校生名册对实际在校学生进行现场核查，做到“底数清、情况明”……按照“人籍一致”
原则，及时办理学生学籍的各项异动业务，并在每学期开学后两月内全面梳理本校学生学籍异动情况。

Every discrepancy is a work item that stays open until someone closes it (销账) with a reason.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q


class OnsiteCheck(models.Model):
    """现场核查 opened by the office at term start; head teachers confirm their classes."""

    county = models.ForeignKey("org.County", on_delete=models.PROTECT, related_name="+")
    school = models.ForeignKey("org.School", verbose_name="学校", on_delete=models.PROTECT, related_name="onsite_checks")
    term = models.ForeignKey("org.Term", verbose_name="学期", on_delete=models.PROTECT, related_name="+")
    date = models.DateField("核查日期")
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    opened_at = models.DateTimeField(auto_now_add=True)
    closed_on = models.DateField("结束日期", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "现场核查"
        ordering = ["-date", "-id"]
        constraints = [models.UniqueConstraint(fields=["school"], condition=Q(closed_on__isnull=True),
                                               name="onsite_one_open_per_school")]

    def __str__(self) -> str:
        return f"{self.school} {self.date} 现场核查"


class OnsiteResult(models.TextChoices):
    PRESENT = "present", "在校"
    ABSENT = "absent", "未到校"
    NOT_IN_CLASS = "not_in_class", "不在本班"
    ADDED = "added", "在校但不在名单上"


class OnsiteEntry(models.Model):
    """One person's result in a check: a listed student confirmed by the head teacher, or a
    student present in class but missing from the list (then name and ID are typed in)."""

    check_run = models.ForeignKey(OnsiteCheck, on_delete=models.CASCADE, related_name="entries")
    county = models.ForeignKey("org.County", on_delete=models.PROTECT, related_name="+")
    school = models.ForeignKey("org.School", on_delete=models.PROTECT, related_name="+")
    school_class = models.ForeignKey("org.SchoolClass", verbose_name="班级", on_delete=models.PROTECT, related_name="+")
    student = models.ForeignKey("org.Student", verbose_name="学生", null=True, blank=True, on_delete=models.PROTECT,
                                related_name="onsite_entries")
    result = models.CharField("核查结果", max_length=20, choices=OnsiteResult.choices)
    reason = models.CharField("原因/去向", max_length=200, blank=True)
    valid_reason = models.BooleanField("有正当原因", default=False)
    # For ADDED entries (present, not on the list).
    name = models.CharField("姓名", max_length=50, blank=True)
    id_number = models.CharField("身份证件号", max_length=30, blank=True)
    confirmed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    confirmed_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = verbose_name_plural = "现场核查结果"
        constraints = [
            models.UniqueConstraint(fields=["check_run", "student"], condition=Q(student__isnull=False),
                                    name="onsite_entry_once_per_student"),
            models.CheckConstraint(condition=Q(student__isnull=False) | (Q(result="added") & ~Q(name="")),
                                   name="onsite_entry_has_person"),
        ]


class Category(models.TextChoices):
    """The six categories of the reconciliation (keys of `baoxue reconcile --format json`)."""

    CONSISTENT = "consistent", "一致"
    REGISTERED_NOT_PRESENT = "registered_not_present", "在籍不在校（名在人不在）"
    PRESENT_NOT_REGISTERED = "present_not_registered", "在校无籍（人在籍不在）"
    MISMATCHED = "mismatched", "信息不一致"
    DUPLICATES = "duplicates", "名册内重复"
    INVALID = "invalid", "数据有误"


class RosterUpload(models.Model):
    """A registry-system roster export uploaded for reconciliation, with its result counts."""

    county = models.ForeignKey("org.County", on_delete=models.PROTECT, related_name="+")
    school = models.ForeignKey("org.School", verbose_name="学校", on_delete=models.PROTECT, related_name="roster_uploads")
    filename = models.CharField("文件", max_length=200)
    rows = models.PositiveIntegerField("数据行", default=0)
    counts = models.JSONField("各类人数", default=dict)
    new_items = models.PositiveIntegerField("新发现", default=0)
    resolved_items = models.PositiveIntegerField("已解决", default=0)
    still_open_items = models.PositiveIntegerField("仍未解决", default=0)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "学籍名册比对"
        ordering = ["-uploaded_at", "-id"]


class ItemStatus(models.TextChoices):
    OPEN = "open", "待处理"
    RESOLVED = "resolved", "新名册中已一致"
    CLOSED = "closed", "已销账"


class Discrepancy(models.Model):
    """A work item of the reconciliation: stays open until the registry agrees (a newer upload
    no longer shows it) or someone closes it with a reason."""

    county = models.ForeignKey("org.County", on_delete=models.PROTECT, related_name="+")
    school = models.ForeignKey("org.School", verbose_name="学校", on_delete=models.PROTECT, related_name="discrepancies")
    category = models.CharField("类别", max_length=30, choices=Category.choices)
    # What identifies the person across uploads: 全国学籍号, else ID number, else the row's name.
    key = models.CharField("标识", max_length=60)
    student = models.ForeignKey("org.Student", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    name = models.CharField("姓名", max_length=50, blank=True)
    registry_no = models.CharField("全国学籍号", max_length=30, blank=True)
    row = models.PositiveIntegerField("名册行号", null=True, blank=True)
    detail = models.JSONField("详情", default=dict, blank=True)  # {"fields": [...]} or {"reason": "..."}
    first_upload = models.ForeignKey(RosterUpload, on_delete=models.PROTECT, related_name="+")
    last_upload = models.ForeignKey(RosterUpload, on_delete=models.PROTECT, related_name="+")
    status = models.CharField("状态", max_length=10, choices=ItemStatus.choices, default=ItemStatus.OPEN)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="负责人", null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")
    note = models.CharField("处理说明", max_length=300, blank=True)
    closed_on = models.DateField("销账日期", null=True, blank=True)
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "人籍不一致待办"
        ordering = ["category", "id"]
        constraints = [
            models.UniqueConstraint(fields=["school", "category", "key"], condition=Q(status="open"),
                                    name="discrepancy_one_open"),
            models.CheckConstraint(condition=Q(status="open", closed_on__isnull=True) | (~Q(status="open") & Q(closed_on__isnull=False)),
                                   name="discrepancy_closed_has_date"),
        ]
        indexes = [models.Index(fields=["school", "status"])]


class GraduateUpload(models.Model):
    """A feeder primary schools' graduate list, matched against every junior school."""

    county = models.ForeignKey("org.County", on_delete=models.PROTECT, related_name="+")
    filename = models.CharField("文件", max_length=200)
    graduation_year = models.PositiveSmallIntegerField("毕业年份")
    rows = models.PositiveIntegerField("数据行", default=0)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "小学毕业生名单"
        ordering = ["-uploaded_at"]


class GraduateResult(models.TextChoices):
    """Investigation results for a graduate whose registry did not continue."""

    ENROLLED_HERE = "enrolled_here", "已在本县初中就读（已匹配）"
    ELSEWHERE = "elsewhere", "在外地就读"
    OTHER_SCHOOL_COUNTY = "other_school_county", "在本县其他学校就读"
    DROPPED_OUT = "dropped_out", "辍学（已启动劝返）"
    ABROAD = "abroad", "出国（境）"
    DECEASED = "deceased", "死亡"
    DEFERRED = "deferred", "延缓入学"
    OTHER = "other", "其他"


class Graduate(models.Model):
    """小学毕业学籍未接续核查: one graduate of a feeder primary school. Matched ones are recorded
    as found; each one not found is a work item until its investigation result is recorded and
    it is closed (逐一销账)."""

    county = models.ForeignKey("org.County", on_delete=models.PROTECT, related_name="+")
    upload = models.ForeignKey(GraduateUpload, on_delete=models.CASCADE, related_name="graduates")
    row = models.PositiveIntegerField("行号")
    name = models.CharField("姓名", max_length=50)
    id_number = models.CharField("身份证件号", max_length=30, blank=True)
    birth_date = models.DateField("出生日期", null=True, blank=True)
    sex = models.CharField("性别", max_length=1, blank=True)
    primary_school = models.CharField("毕业小学", max_length=100)
    township = models.ForeignKey("org.Township", verbose_name="乡镇", null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="+")
    village = models.CharField("村（社区）", max_length=50, blank=True)
    matched_student = models.ForeignKey("org.Student", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    matched_by = models.CharField("匹配方式", max_length=20, blank=True)  # "id" or "name_birth"
    result = models.CharField("核查结果", max_length=30, choices=GraduateResult.choices, blank=True)
    result_school = models.CharField("就读学校", max_length=100, blank=True)
    result_place = models.CharField("就读地", max_length=100, blank=True)
    proof = models.FileField("证明材料", upload_to="registry/graduates/%Y/", blank=True)
    note = models.CharField("说明", max_length=300, blank=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    closed_on = models.DateField("销账日期", null=True, blank=True)
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = verbose_name_plural = "小学毕业生核查"
        ordering = ["upload", "row"]
        constraints = [
            models.CheckConstraint(condition=Q(closed_on__isnull=True) | ~Q(result=""), name="graduate_closed_has_result"),
        ]
        indexes = [models.Index(fields=["county", "closed_on"])]

    @property
    def is_open(self) -> bool:
        return self.matched_student_id is None and self.closed_on is None


class ChangeType(models.TextChoices):
    """学籍异动 types. Compulsory-stage schools may not expel or withdraw students: no such type."""

    TRANSFER_IN = "transfer_in", "转入"
    TRANSFER_OUT = "transfer_out", "转出"
    SUSPEND = "suspend", "休学"
    RESUME = "resume", "复学"
    DROPOUT = "dropout", "辍学"
    DEATH = "death", "死亡"
    ABROAD = "abroad", "出国"
    OTHER_LEAVE = "other_leave", "其他离校"
    REPEAT = "repeat", "留级"
    SKIP = "skip", "跳级"
    DEFER = "defer", "延缓入学"
    EXPIRE = "expire", "休学期满"


class RegistryChange(models.Model):
    """One 学籍异动 record. The student's 学籍状态 follows it; its processing in 国网 and 省网
    is tracked with dates and uploaded screenshots."""

    class Scope(models.TextChoices):
        IN_PROVINCE = "in_province", "省内"
        CROSS_PROVINCE = "cross_province", "跨省"

    county = models.ForeignKey("org.County", on_delete=models.PROTECT, related_name="+")
    school = models.ForeignKey("org.School", verbose_name="学校", on_delete=models.PROTECT, related_name="registry_changes")
    student = models.ForeignKey("org.Student", verbose_name="学生", on_delete=models.PROTECT, related_name="registry_changes")
    change_type = models.CharField("异动类型", max_length=20, choices=ChangeType.choices)
    date = models.DateField("异动日期")
    reason = models.CharField("原因", max_length=300)
    scope = models.CharField("转学范围", max_length=20, choices=Scope.choices, blank=True)
    other_school = models.CharField("对方学校", max_length=100, blank=True)
    due_on = models.DateField("办结期限", null=True, blank=True)
    documents = models.FileField("材料", upload_to="registry/changes/%Y/", blank=True)
    handled_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="经办人", null=True, on_delete=models.SET_NULL,
                                   related_name="+")
    status_before = models.CharField("原学籍状态", max_length=20)
    status_after = models.CharField("新学籍状态", max_length=20)
    national_done_on = models.DateField("国网办结日期", null=True, blank=True)
    national_screenshot = models.FileField("国网截图", upload_to="registry/screenshots/%Y/", blank=True)
    provincial_done_on = models.DateField("省网办结日期", null=True, blank=True)
    provincial_screenshot = models.FileField("省网截图", upload_to="registry/screenshots/%Y/", blank=True)
    # The 13510 case that was open when a departure was recorded: it stays open (学籍异动办理中)
    # until the change is completed in 国网, and comes back if the change is cancelled.
    case = models.ForeignKey("cases.Case", verbose_name="13510 个案", null=True, blank=True, on_delete=models.PROTECT,
                             related_name="+")
    cancelled_on = models.DateField("撤销日期", null=True, blank=True)
    cancel_reason = models.CharField("撤销原因", max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "学籍异动"
        ordering = ["-date", "-id"]
        indexes = [models.Index(fields=["school", "date"])]

    def __str__(self) -> str:
        return f"{self.student} {self.get_change_type_display()} {self.date}"


class TermReview(models.Model):
    """开学后两月内全面梳理本校学生学籍异动情况: signed off by the office director and the principal."""

    county = models.ForeignKey("org.County", on_delete=models.PROTECT, related_name="+")
    school = models.ForeignKey("org.School", on_delete=models.PROTECT, related_name="term_reviews")
    term = models.ForeignKey("org.Term", on_delete=models.PROTECT, related_name="+")
    due_on = models.DateField("截止日期")
    summary = models.JSONField("梳理结果", default=dict)
    office_signed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    office_signed_at = models.DateTimeField("办公室主任签字", null=True, blank=True)
    principal_signed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    principal_signed_at = models.DateTimeField("校长签字", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "学期学籍梳理"
        constraints = [models.UniqueConstraint(fields=["school", "term"], name="term_review_once")]


# ---------------------------------------------------------------- 休学, 续休, 复学, 延缓入学 (plan §2, §4)

class SuspensionRules(models.Model):
    """The county's thresholds for 休学 (plan §2: 住院或休息时间在每期三分之一课时以上；药费不低于
    1000元；休学期限为一年). A change is a new row; the newest is in force."""

    county = models.ForeignKey("org.County", verbose_name="区县", on_delete=models.CASCADE, related_name="+")
    rest_share_denominator = models.PositiveSmallIntegerField(
        "病休须超过学期在校日的几分之一", default=3, help_text="3 即“三分之一以上”")
    min_bills = models.DecimalField("医药费不低于（元）", max_digits=9, decimal_places=2, default=1000)
    term_months = models.PositiveSmallIntegerField("休学期限（月）", default=12)
    max_months = models.PositiveSmallIntegerField("休学含续休最长（月）", default=24)
    remind_days = models.PositiveSmallIntegerField("期满前几天提醒", default=30)
    extend_lead_working_days = models.PositiveSmallIntegerField("续休须在期满前几个工作日申请", default=15)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")

    class Meta:
        verbose_name = verbose_name_plural = "休学规则"
        ordering = ["county_id", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(rest_share_denominator__gte=1, min_bills__gte=0, term_months__gte=1,
                            max_months__gte=models.F("term_months")),
                name="suspension_rules_sane"),
        ]


class HospitalLevel(models.TextChoices):
    COUNTY = "county", "县级医院"
    CITY = "city", "市级医院"
    PROVINCE = "province", "省级及以上医院"
    BELOW = "below", "乡镇卫生院、诊所等（县级以下）"


class Application(models.Model):
    """One 休学 application and, once in effect, the suspension it became, to its end: one
    identity from the head teacher's draft through the bureau's decision, the 国网 steps, the
    reminders before the end, to 复学 or 期满未复学. A 续休 is its own application pointing to the
    suspension it extends; a 残联 referral (disabled child) is one too, decided by the county
    disability federation's expert committee instead of the monthly batch."""

    class Kind(models.TextChoices):
        SUSPEND = "suspend", "因病休学"
        EXTEND = "extend", "续休"
        DISABILITY = "disability", "残疾儿童延缓入学或休学（县残联评估）"

    class State(models.TextChoices):
        DRAFT = "draft", "填写中"
        RETURNED = "returned", "已退回，待修改"
        SUBMITTED = "submitted", "待教体局审批"
        APPROVED = "approved", "已批准，待国网办理"
        EFFECTIVE = "effective", "已生效"
        RESUMED = "resumed", "已复学"
        EXPIRED = "expired", "休学期满未复学"
        ENDED = "ended", "已结束（学籍另有异动）"
        WITHDRAWN = "withdrawn", "已撤回"

    class Outcome(models.TextChoices):
        """A 残联 decision."""
        DEFER = "defer", "延缓入学"
        SUSPEND = "suspend", "休学"

    county = models.ForeignKey("org.County", on_delete=models.PROTECT, related_name="+")
    school = models.ForeignKey("org.School", verbose_name="学校", on_delete=models.PROTECT, related_name="+")
    student = models.ForeignKey("org.Student", verbose_name="学生", on_delete=models.PROTECT,
                                related_name="suspension_applications")
    kind = models.CharField("类别", max_length=20, choices=Kind.choices, default=Kind.SUSPEND)
    extends = models.ForeignKey("self", verbose_name="续休的休学", null=True, blank=True, on_delete=models.PROTECT,
                                related_name="extensions")
    state = models.CharField("状态", max_length=20, choices=State.choices, default=State.DRAFT)
    illness = models.CharField("病名", max_length=100, blank=True, help_text="国网“休学原因”栏须注明因何病休学")
    detail = models.CharField("情况说明", max_length=500, blank=True)
    start_on = models.DateField("休学开始日期", null=True, blank=True)
    ends_on = models.DateField("休学期满日期", null=True, blank=True, help_text="休学的最后一天")
    # Diagnosis from a hospital at county level or above.
    hospital = models.CharField("诊断医院", max_length=100, blank=True)
    hospital_level = models.CharField("医院级别", max_length=20, choices=HospitalLevel.choices, blank=True)
    diagnosed_on = models.DateField("诊断日期", null=True, blank=True)
    # Hospitalisation or rest: more than one third of the term's school days.
    rest_from = models.DateField("住院或休息自", null=True, blank=True)
    rest_to = models.DateField("至", null=True, blank=True)
    # Submission to the bureau in the monthly batch (每月20日，遇周末或节假日顺延).
    submitted_on = models.DateField("提交日期", null=True, blank=True)
    batch_day = models.DateField("报批日", null=True, blank=True)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    # The bureau's decision, in the system or recorded by the school from the sealed paper.
    decided_on = models.DateField("审批日期", null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    decided_on_paper = models.BooleanField("纸质审批（学校登记）", default=False)
    decision_comment = models.CharField("审批意见", max_length=300, blank=True)
    returned_reason = models.CharField("退回原因", max_length=300, blank=True)
    # 残联 (disabled child): referral, the expert committee's assessment, its decision.
    referred_on = models.DateField("报县残联日期", null=True, blank=True)
    assessed_on = models.DateField("专家委员会评估日期", null=True, blank=True)
    assessment = models.CharField("评估结论", max_length=300, blank=True)
    outcome = models.CharField("残联决定", max_length=10, choices=Outcome.choices, blank=True)
    review_on = models.DateField("复评日期", null=True, blank=True)
    # 国网 steps after approval, each marked done with its date.
    national_form_on = models.DateField("国网：已上传局加章审批表", null=True, blank=True)
    national_proof_on = models.DateField("国网：已上传诊断证明及票据", null=True, blank=True)
    national_reason_on = models.DateField("国网：休学原因栏已注明病名", null=True, blank=True)
    # The 学籍异动 that put it in effect, and the one that ended it (复学, or 休学期满).
    change = models.ForeignKey(RegistryChange, verbose_name="休学异动", null=True, blank=True,
                               on_delete=models.PROTECT, related_name="+")
    end_change = models.ForeignKey(RegistryChange, verbose_name="复学异动", null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    ended_on = models.DateField("结束日期", null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "休学申请"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["school", "state"]), models.Index(fields=["county", "batch_day"])]
        constraints = [
            # One application at a time per student: a second would be a second identity.
            models.UniqueConstraint(
                fields=["student"], name="application_one_live_per_student",
                condition=Q(state__in=["draft", "returned", "submitted", "approved"])),
            models.CheckConstraint(condition=Q(kind="extend", extends__isnull=False) | ~Q(kind="extend"),
                                   name="application_extension_has_suspension"),
            models.CheckConstraint(
                condition=~Q(state__in=["effective", "resumed", "expired", "ended"]) | Q(change__isnull=False)
                | Q(kind="extend"), name="application_effective_has_change"),
            models.CheckConstraint(condition=~Q(state__in=["submitted", "approved", "effective", "resumed", "expired"])
                                   | Q(submitted_on__isnull=False) | Q(kind="disability"),
                                   name="application_submitted_has_date"),
        ]

    def __str__(self) -> str:
        return f"{self.student} {self.get_kind_display()}申请"


# A suspension (or deferral) is held by its application while in effect, and after it ended
# without 复学 until the 复学 is recorded there.
HOLDING_STATES = (Application.State.EFFECTIVE, Application.State.EXPIRED)


class Material(models.TextChoices):
    """The papers of an application, each an upload (PDF, JPG or PNG)."""

    APPLICATION = "application", "学生或家长书面申请"
    DIAGNOSIS = "diagnosis", "县级以上医院诊断证明"
    REST = "rest", "住院或休息证明"
    BILLS = "bills", "药费清单及票据"
    FORM_SCHOOL = "form_school", "休学申请表（学校存档，盖章签字）"
    FORM_BUREAU = "form_bureau", "休学申请表（教体局存档，盖章签字）"
    APPROVAL = "approval", "教体局盖章审批表"
    RESUME_APPLICATION = "resume_application", "复学申请（监护人）"
    FITNESS = "fitness", "医院复课证明"
    REFERRAL = "referral", "报县残联材料"
    ASSESSMENT = "assessment", "县残疾人教育专家委员会评估意见"


class ApplicationFile(models.Model):
    """One uploaded paper. A re-upload adds a row; the older one is kept, marked replaced."""

    application = models.ForeignKey(Application, on_delete=models.PROTECT, related_name="files")
    county = models.ForeignKey("org.County", on_delete=models.PROTECT, related_name="+")
    school = models.ForeignKey("org.School", on_delete=models.PROTECT, related_name="+")
    material = models.CharField("材料", max_length=30, choices=Material.choices)
    file = models.FileField("文件", upload_to="registry/applications/%Y/")
    original_name = models.CharField("原文件名", max_length=200)
    file_type = models.CharField("类型", max_length=10)  # pdf, jpg, png: as read from the content
    size = models.PositiveIntegerField("大小")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)
    replaced_at = models.DateTimeField("被替换", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "休学申请材料"
        ordering = ["application_id", "material", "-id"]
        constraints = [models.UniqueConstraint(fields=["application", "material"], condition=Q(replaced_at__isnull=True),
                                               name="application_file_one_current")]


class BillItem(models.Model):
    """One line of the itemised medical bills."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="bills")
    item = models.CharField("项目", max_length=100)
    amount = models.DecimalField("金额（元）", max_digits=9, decimal_places=2)

    class Meta:
        verbose_name = verbose_name_plural = "药费明细"
        ordering = ["application_id", "id"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="bill_amount_positive")]
