"""The 13510 mechanism (plan §3) as stored rows.

对无正当原因1日未到校学生，要及时联系家长了解情况；对无正当原因3日未到校学生，要开展家访或
与监护人联系跟进；对无正当原因5日未到校学生，启动疑似辍学排查整改工作，纳入疑似辍学学生台账，
落实专人动员劝返，10个工作日内连续劝返不少于3次。对失踪失联和劝返不成功的，纳入辍学学生劝返台账，
建立“一生一表”档案，并报告乡镇政府和教育主管部门。

One `Case` is one run of consecutive unexcused school days. Its tasks, contacts, visits,
persuasion attempts and reports are rows; ledger rows are never deleted, only closed (销账).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q


class Rules(models.Model):
    """The 13510 settings of a county (local rules differ). A change is a new row; each case
    keeps the version it was opened under."""

    county = models.ForeignKey("org.County", verbose_name="区县", on_delete=models.CASCADE, related_name="rules_versions")
    contact_day = models.PositiveSmallIntegerField("联系家长（第几天）", default=1)
    visit_day = models.PositiveSmallIntegerField("家访跟进（第几天）", default=3)
    suspect_day = models.PositiveSmallIntegerField("疑似辍学（第几天）", default=5)
    persuasion_working_days = models.PositiveSmallIntegerField("劝返期限（工作日）", default=10)
    min_attempts = models.PositiveSmallIntegerField("最少劝返次数", default=3)
    # 返校后观察: a student whose suspected-dropout (or dropout) case closed with a return is
    # watched for the rest of that term and this many more; a new unexcused absence meanwhile
    # starts at the home-visit step.
    observation_terms = models.PositiveSmallIntegerField("返校后观察（销账学期之后再观察几个学期）", default=1)
    # Repeated absence (a flag, not a ledger row): this many unexcused days within the window.
    repeat_absent_days = models.PositiveSmallIntegerField("反复缺勤：缺勤天数", default=8)
    repeat_window_days = models.PositiveSmallIntegerField("反复缺勤：在多少个在校日内", default=20)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = verbose_name_plural = "13510 规则"
        ordering = ["county_id", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(contact_day__gte=1, visit_day__gt=models.F("contact_day"), suspect_day__gt=models.F("visit_day"),
                            persuasion_working_days__gte=1, min_attempts__gte=1),
                name="rules_days_in_order",
            ),
        ]

    def __str__(self) -> str:
        return (f"{self.contact_day}/{self.visit_day}/{self.suspect_day}天，"
                f"{self.persuasion_working_days}个工作日内劝返不少于{self.min_attempts}次")


class Stage(models.TextChoices):
    """The furthest a run reached."""

    CONTACT_GUARDIAN = "contact_guardian", "联系家长"
    HOME_VISIT = "home_visit", "家访跟进"
    SUSPECTED_DROPOUT = "suspected_dropout", "疑似辍学"
    DROPOUT = "dropout", "辍学"


STAGE_ORDER = [Stage.CONTACT_GUARDIAN, Stage.HOME_VISIT, Stage.SUSPECTED_DROPOUT, Stage.DROPOUT]


class Outcome(models.TextChoices):
    RETURNED = "returned", "已返校"
    EXCUSED = "excused", "请假（正当原因）"
    RESUMED = "resumed", "复学"
    CORRECTED = "corrected", "考勤更正撤销"
    TRANSFERRED = "transferred", "转学"
    SUSPENDED = "suspended", "休学"
    DECEASED = "deceased", "死亡"
    ABROAD = "abroad", "出国"
    LEFT = "left", "其他离校"
    OTHER = "other", "其他"


# Outcomes the daily job gives from attendance alone. A case the job closed with one of these
# (no person named as closing it) is the job's to reopen when a correction shows the run went
# on; every other closure is a person's decision and stays.
ATTENDANCE_OUTCOMES = (Outcome.RETURNED, Outcome.EXCUSED, Outcome.CORRECTED)
CLOSED_BY_JOB = Q(is_open=False, outcome__in=ATTENDANCE_OUTCOMES, closed_by__isnull=True)


def closed_by_job(case) -> bool:
    return not case.is_open and case.outcome in ATTENDANCE_OUTCOMES and case.closed_by_id is None


class DropoutCause(models.TextChoices):
    MISSING = "missing", "失踪失联"
    NOT_RETURNED = "not_returned", "劝返期满未返校"
    NOT_ENROLLED = "not_enrolled", "小学毕业未升学"


class Case(models.Model):
    county = models.ForeignKey("org.County", on_delete=models.PROTECT, related_name="+")
    school = models.ForeignKey("org.School", verbose_name="学校", on_delete=models.PROTECT, related_name="cases")
    student = models.ForeignKey("org.Student", verbose_name="学生", on_delete=models.PROTECT, related_name="cases")
    rules = models.ForeignKey(Rules, verbose_name="适用规则", on_delete=models.PROTECT, related_name="+")
    first_absent_on = models.DateField("首次缺勤日")
    last_absent_on = models.DateField("最近缺勤日")
    unexcused_days = models.PositiveSmallIntegerField("连续缺勤天数", default=0)
    stage = models.CharField("阶段", max_length=20, choices=Stage.choices, default=Stage.CONTACT_GUARDIAN)
    suspected_on = models.DateField("纳入疑似辍学台账日", null=True, blank=True)
    suspected_reason = models.CharField("疑似原因", max_length=200, blank=True)
    persuasion_due = models.DateField("劝返截止日", null=True, blank=True)
    dropout_on = models.DateField("辍学日期", null=True, blank=True)
    dropout_cause = models.CharField("纳入辍学台账原因", max_length=20, choices=DropoutCause.choices, blank=True)
    dropout_reason = models.CharField("辍学原因", max_length=200, blank=True)
    whereabouts = models.CharField("去向", max_length=100, blank=True)
    support = models.TextField("帮扶措施", blank=True)
    # A dropout seen at school again (an attendance record that says so): the office decides
    # on 复学; the case stays in the ledger until it does.
    seen_at_school_on = models.DateField("辍学后到校日", null=True, blank=True)
    # 学籍异动办理中: a departure (转出, 休学, 死亡, 出国 …) recorded while the case is open. The
    # student is not expected at school from `change_since` (through `change_due_on`, when the
    # change has a deadline): those days do not count. The case closes only when the change is
    # completed; an overdue or cancelled change brings it back.
    change_pending = models.CharField("学籍异动办理中", max_length=20, blank=True)
    change_since = models.DateField("异动日期", null=True, blank=True)
    change_due_on = models.DateField("异动办结期限", null=True, blank=True)
    # 观察期内再次缺勤: the run starts at the home-visit step; these days are added to the count
    # when the steps are decided (0 for a first run).
    head_start = models.PositiveSmallIntegerField("观察期内提前的天数", default=0)
    is_open = models.BooleanField("未销账", default=True)
    outcome = models.CharField("结果", max_length=20, choices=Outcome.choices, blank=True)
    closed_on = models.DateField("销账日期", null=True, blank=True)
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    close_note = models.CharField("销账说明", max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "13510 个案"
        ordering = ["-first_absent_on", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["student"], condition=Q(is_open=True), name="case_one_open_per_student"),
            models.CheckConstraint(condition=Q(is_open=True, closed_on__isnull=True, outcome="")
                                   | Q(is_open=False, closed_on__isnull=False), name="case_closed_has_date"),
            models.CheckConstraint(condition=Q(last_absent_on__gte=models.F("first_absent_on")), name="case_run_in_order"),
        ]
        indexes = [models.Index(fields=["school", "is_open"]), models.Index(fields=["county", "stage"])]

    def __str__(self) -> str:
        return f"{self.student} {self.first_absent_on} 起连续缺勤"


class Task(models.Model):
    """A step of 13510 for the head teacher: 第1天联系家长, 第3天家访或与监护人联系跟进."""

    class Kind(models.TextChoices):
        CONTACT_GUARDIAN = "contact_guardian", "联系家长了解情况"
        HOME_VISIT = "home_visit", "家访或与监护人联系跟进"

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="tasks")
    county = models.ForeignKey("org.County", on_delete=models.PROTECT, related_name="+")
    school = models.ForeignKey("org.School", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField("任务", max_length=20, choices=Kind.choices)
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="负责人", null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="tasks")
    opened_on = models.DateField("触发日")
    due_on = models.DateField("截止日")
    done_on = models.DateField("完成日", null=True, blank=True)
    closed_on = models.DateField("关闭日", null=True, blank=True)
    # A correction shortened the run below this step's day: the task is no longer due. Kept
    # (with whatever was recorded), and brought back if the run grows again.
    cancelled_on = models.DateField("撤销日", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "13510 待办"
        ordering = ["due_on", "id"]
        constraints = [models.UniqueConstraint(fields=["case", "kind"], name="task_once_per_case")]
        indexes = [models.Index(fields=["assignee", "done_on", "closed_on"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}（截止 {self.due_on}）"

    @property
    def is_open(self) -> bool:
        return self.done_on is None and self.closed_on is None and self.cancelled_on is None


class ContactRecord(models.Model):
    """联系家长 record: time, method, who was reached, reason given, result."""

    class Method(models.TextChoices):
        PHONE = "phone", "电话"
        WECHAT = "wechat", "微信"
        HOME_VISIT = "home_visit", "家访"
        AT_SCHOOL = "at_school", "到校面谈"

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="contacts")
    at = models.DateTimeField("联系时间")
    method = models.CharField("方式", max_length=20, choices=Method.choices)
    reached = models.CharField("联系到的人", max_length=50)
    reason_given = models.CharField("了解到的原因", max_length=200, blank=True)
    result = models.CharField("结果", max_length=200, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "联系家长记录"
        ordering = ["at"]


class HomeVisit(models.Model):
    """家访 record: date, visitors, who was met, findings, attachments."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="home_visits")
    date = models.DateField("家访日期")
    visitors = models.CharField("家访人员", max_length=200)
    met = models.CharField("见到的人", max_length=100)
    findings = models.TextField("情况")
    attachment = models.FileField("附件", upload_to="cases/visits/%Y/%m/", blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "家访记录"
        ordering = ["date", "id"]


class Persuader(models.Model):
    """劝返责任人 assigned by the office: a staff account, or a named outside person."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="persuaders")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="persuasions")
    name = models.CharField("姓名", max_length=50)
    unit = models.CharField("单位", max_length=50, default="学校")
    phone = models.CharField("电话", max_length=30, blank=True)
    assigned_on = models.DateField("指派日期")
    assigned_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = verbose_name_plural = "劝返责任人"

    def __str__(self) -> str:
        return f"{self.name}（{self.unit}）"


class PersuasionAttempt(models.Model):
    """劝返记录: a full date, method, participants with units, reason heard, result, next step."""

    class Method(models.TextChoices):
        PHONE = "phone", "电话"
        HOME_VISIT = "home_visit", "家访"
        AT_SCHOOL = "at_school", "到校面谈"
        JOINT = "joint", "联合劝返"

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="attempts")
    number = models.PositiveSmallIntegerField("第几次")
    date = models.DateField("日期")
    method = models.CharField("方式", max_length=20, choices=Method.choices)
    # [{"name": "王支书", "unit": "村委会"}, …]; a 联合劝返 has at least one outside participant.
    participants = models.JSONField("参与人员", default=list)
    reason_heard = models.CharField("了解到的原因", max_length=200, blank=True)
    result = models.CharField("结果", max_length=200)
    next_step = models.CharField("下一步", max_length=200, blank=True)
    attachment = models.FileField("附件", upload_to="cases/attempts/%Y/%m/", blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "劝返记录"
        ordering = ["number"]
        constraints = [models.UniqueConstraint(fields=["case", "number"], name="attempt_number_unique")]


class DropoutForm(models.Model):
    """一生一表 (义务教育阶段辍学学生登记表): filled from the record when the case reaches the
    dropout ledger, then editable."""

    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="form")
    data = models.JSONField("内容", default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = verbose_name_plural = "一生一表"


class Report(models.Model):
    """A dropout reported to the township government of the student's residence or to the
    county education bureau; it shows in their inbox until read."""

    class Recipient(models.TextChoices):
        TOWNSHIP = "township", "乡镇政府"
        COUNTY = "county", "县教体局"

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="reports")
    county = models.ForeignKey("org.County", on_delete=models.PROTECT, related_name="+")
    township = models.ForeignKey("org.Township", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    recipient = models.CharField("报告对象", max_length=10, choices=Recipient.choices)
    sent_on = models.DateField("报告日期")
    read_at = models.DateTimeField("查阅时间", null=True, blank=True)
    read_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = verbose_name_plural = "辍学报告"
        constraints = [models.UniqueConstraint(fields=["case", "recipient"], name="report_once_per_recipient")]


class Evaluation(models.Model):
    """A school day the daily job has evaluated for a school; `escalate --through` resumes
    after the last one, and a second run of the same day changes nothing."""

    county = models.ForeignKey("org.County", on_delete=models.PROTECT, related_name="+")
    school = models.ForeignKey("org.School", on_delete=models.CASCADE, related_name="+")
    date = models.DateField()
    evaluated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["school", "date"], name="evaluation_once")]
