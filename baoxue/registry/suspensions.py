"""休学 by the plan's procedure, 续休, 复学, and 延缓入学 or 休学 of a disabled child (plan §2, §4).

休学业务，办理时间每月20日为各校到教体局报批休学时间(遇周末或节假日顺延)。提供材料一是学生或
家长申请；二是县级以上医院诊断证明(需住院或休息时间在每期三分之一课时以上)；三是药费清单及票据
(不低于1000元)；四是学校加盖公章、班主任及校长签字同意的休学申请表两份(学校和教体局存档备查)。
系统操作流程是在国网上传局加章审批表，医生诊断及票据证明，休学原因栏要注明学生因何病休学。休学
期限为一年，期满复学要求首先在国网申请办理，省网办理复学时需上传国网复学成功截图。
未按以上程序操作的不予审批。

The rules, each with one home here:

- "The papers" and what is missing: `missing()`; "more than one third of the term": `rest_share()`;
  "bills of at least 1,000 yuan": `bills_total()`; the thresholds are the county's
  `SuspensionRules` (`current_rules()`).
- "The 20th of each month, or the next working day": `baoxue.calendar.workdays.submission_day`;
  a complete application joins the next batch (`application_submit`).
- "未按以上程序操作的不予审批": a 休学 学籍异动 comes only from here (`application_effect`);
  `registry_change_record` refuses one without an application.
- "休学期限为一年": `ends_on`; the reminder `remind_days` before it (`reminders()`); the end
  without 复学 puts the student back on the roll call (`suspensions_daily`).
- "期满复学要求首先在国网申请办理": `resumption_record` records the 复学 异动, whose 国网 and 省网
  steps follow the register's rule (省网 needs the 国网 screenshot).
- 续休: new proof, at most `max_months` in all, applied for `extend_lead_working_days` before the end.
- 县残联: referral, the expert committee's assessment, its decision (延缓入学 or 休学) with a
  review date (`disability_assess`, `disability_decide`).

Every step is one function here and writes its audit row.
"""

import datetime
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

from baoxue.audit.models import Action
from baoxue.audit.services import audit_record
from baoxue.calendar import workdays
from baoxue.lib.dates import add_months
from baoxue.lib.uploads import UploadRefused, check_paper
from baoxue.org import selectors as org_selectors
from baoxue.org.models import RegistryStatus, SchoolClass, Student, Term
from baoxue.registry import changes as register
from baoxue.registry.models import (
    HOLDING_STATES, Application, ApplicationFile, BillItem, ChangeType, HospitalLevel, Material, SuspensionRules,
)

A = Application
K = Application.Kind
St = Application.State
LIVE = (St.DRAFT, St.RETURNED, St.SUBMITTED, St.APPROVED)
EDITABLE = (St.DRAFT, St.RETURNED)
# In effect (or ended without 复学): the student's suspension is this application.
HOLDING = HOLDING_STATES
# What the head teacher, the school and the bureau see in the papers of each kind.
MATERIALS = {
    K.SUSPEND: (Material.APPLICATION, Material.DIAGNOSIS, Material.REST, Material.BILLS, Material.FORM_SCHOOL,
                Material.FORM_BUREAU),
    K.EXTEND: (Material.APPLICATION, Material.DIAGNOSIS, Material.FORM_SCHOOL, Material.FORM_BUREAU),
    K.DISABILITY: (Material.APPLICATION, Material.REFERRAL, Material.ASSESSMENT),
}
RESUME_MATERIALS = (Material.RESUME_APPLICATION, Material.FITNESS)
NATIONAL_STEPS = {
    "form": ("national_form_on", "上传教体局加章审批表"),
    "proof": ("national_proof_on", "上传医生诊断证明及药费票据"),
    "reason": ("national_reason_on", "休学原因栏注明因何病休学"),
}


def current_rules(county_id: int) -> SuspensionRules:
    """The county's thresholds in force: the plan's one third, 1,000 yuan and one year (an
    unsaved default) until the county sets its own."""
    return (SuspensionRules.objects.filter(county_id=county_id).order_by("-id").first()
            or SuspensionRules(county_id=county_id))


@transaction.atomic
def rules_set(*, actor, county, **values) -> SuspensionRules:
    old = current_rules(county.pk)
    fields = ("rest_share_denominator", "min_bills", "term_months", "max_months", "remind_days",
              "extend_lead_working_days")
    new = SuspensionRules(county=county, created_by=actor if getattr(actor, "is_authenticated", False) else None,
                          **{f: values.get(f, getattr(old, f)) for f in fields})
    if new.max_months < new.term_months:
        raise ValidationError({"max_months": "休学含续休的最长期限不能短于一次休学的期限"})
    new.full_clean(exclude=["county", "created_by"])
    new.save()
    audit_record(actor=actor, action=Action.CREATE, obj=new,
                 changes={f: [getattr(old, f), getattr(new, f)] for f in fields if getattr(old, f) != getattr(new, f)},
                 note="修改休学规则")
    return new


def suspension_end(start: datetime.date, months: int) -> datetime.date:
    """休学期限为一年: the last day of a suspension of `months` from `start`."""
    return add_months(start, months) - datetime.timedelta(days=1)


def latest_end(suspension: Application, rules: SuspensionRules) -> datetime.date:
    """The last day a suspension may reach with every extension (usually two years in all)."""
    return suspension_end(suspension.start_on, rules.max_months)


# ---------------------------------------------------------------- the rules of the papers

@dataclass
class RestShare:
    """住院或休息时间在每期三分之一课时以上, counted in school days of the term."""

    term: Term | None
    term_days: int
    rest_days: int
    denominator: int
    problem: str = ""

    @property
    def ok(self) -> bool:
        return not self.problem and self.term_days > 0 and self.rest_days * self.denominator > self.term_days

    @property
    def needed(self) -> int:
        """The fewest rest days that are more than 1/denominator of the term."""
        return self.term_days // self.denominator + 1

    @property
    def text(self) -> str:
        if self.problem:
            return self.problem
        verdict = "超过" if self.ok else "未超过"
        return (f"{self.term.name} 学期在校日 {self.term_days} 天，住院或休息期间在本学期内的在校日 {self.rest_days} 天，"
                f"{verdict}学期的 1/{self.denominator}（须至少 {self.needed} 天）")


def rest_share(app: Application, rules: SuspensionRules) -> RestShare:
    """The rest's school days inside the term against the term's school days (closures and
    make-up workdays as the calendar says). The term is the one of the school that the rest
    covers most. Raises `CalendarMissing` for a year without calendar."""
    den = rules.rest_share_denominator
    if not (app.rest_from and app.rest_to):
        return RestShare(None, 0, 0, den, "未填写住院或休息起止日期")
    if app.rest_to < app.rest_from:
        return RestShare(None, 0, 0, den, "住院或休息的结束日期早于开始日期")
    terms = list(Term.objects.filter(school_id=app.school_id, start__lte=app.rest_to, end__gte=app.rest_from)
                 .order_by("start"))
    if not terms:
        return RestShare(None, 0, 0, den, f"{app.rest_from} 至 {app.rest_to} 不在本校任何学期内：请先在校历中录入学期")
    best = None
    for term in terms:
        term_days = len(workdays.school_days(app.school, term.start, term.end))
        rest_days = len(workdays.school_days(app.school, max(app.rest_from, term.start), min(app.rest_to, term.end)))
        share = RestShare(term, term_days, rest_days, den)
        if best is None or rest_days * max(best.term_days, 1) > best.rest_days * max(term_days, 1):
            best = share
    return best


def bills_total(app: Application) -> Decimal:
    # Summed in Python: SQLite's SUM of decimals is a float.
    return sum((b.amount for b in app.bills.all()), Decimal("0.00")).quantize(Decimal("0.01"))


def current_files(app: Application) -> dict[str, ApplicationFile]:
    return {f.material: f for f in app.files.filter(replaced_at__isnull=True)}


def missing(app: Application, rules: SuspensionRules | None = None, *, today: datetime.date | None = None) -> list[str]:
    """What keeps the application from being submitted, each in words that say what to do."""
    rules = rules or current_rules(app.county_id)
    today = today or timezone.localdate()
    files = current_files(app)
    gaps: list[str] = []
    if not app.illness.strip():
        gaps.append("未填写病名（国网“休学原因”栏须注明因何病休学）")
    for m in MATERIALS[app.kind]:
        if m in (Material.REFERRAL, Material.ASSESSMENT):
            continue  # The 残联 path has its own steps.
        if m not in files:
            gaps.append(f"未上传：{Material(m).label}")
    if app.kind in (K.SUSPEND, K.EXTEND):
        if not app.hospital.strip():
            gaps.append("未填写诊断医院")
        if not app.hospital_level:
            gaps.append("未填写诊断医院级别")
        elif app.hospital_level == HospitalLevel.BELOW:
            gaps.append("诊断证明须由县级以上医院出具（当前为县级以下）")
        if not app.diagnosed_on:
            gaps.append("未填写诊断日期")
    if app.kind == K.SUSPEND:
        if not app.start_on:
            gaps.append("未填写休学开始日期")
        try:
            share = rest_share(app, rules)
        except workdays.CalendarMissing as e:
            share = RestShare(None, 0, 0, rules.rest_share_denominator, f"无法核算病休时间：{e}")
        if share.problem:
            gaps.append(share.problem)
        elif not share.ok:
            gaps.append(f"住院或休息时间不足：{share.text}")
        total = bills_total(app)
        if not app.bills.exists():
            gaps.append("未填写药费明细")
        elif total < rules.min_bills:
            gaps.append(f"药费合计 {total:,.2f} 元，不足 {rules.min_bills:,.0f} 元")
    if app.kind == K.EXTEND:
        gaps.extend(_extension_gaps(app, rules, today))
    return gaps


def _extension_gaps(app: Application, rules: SuspensionRules, today: datetime.date) -> list[str]:
    base = app.extends
    gaps = []
    if base.state != St.EFFECTIVE:
        return [f"原休学状态为“{base.get_state_display()}”，不能续休"]
    limit = latest_end(base, rules)
    if not app.ends_on:
        gaps.append("未填写续休至哪天")
    elif app.ends_on <= base.ends_on:
        gaps.append(f"续休期满日期须晚于原期满日期 {base.ends_on}")
    elif app.ends_on > limit:
        gaps.append(f"休学含续休最长 {rules.max_months} 个月：续休最晚至 {limit}")
    try:
        left = workdays.working_days_left(today, base.ends_on)
    except workdays.CalendarMissing as e:
        return gaps + [f"无法核算距期满的工作日：{e}"]
    if left < rules.extend_lead_working_days:
        gaps.append(f"续休须在期满（{base.ends_on}）前 {rules.extend_lead_working_days} 个工作日申请，"
                    f"现仅剩 {left} 个工作日：请办理复学，或期满后按未复学处理")
    return gaps


# ---------------------------------------------------------------- reads

def applications_for_user(user) -> QuerySet[Application]:
    """Applications of the students the user may act for: the whole school's for its office,
    registry clerk and leaders, the county's for the bureau, a class's for its head teacher."""
    if not user.is_authenticated:
        return Application.objects.none()
    if org_selectors.is_admin(user):
        return Application.objects.all()
    schools = [s.pk for s in register.change_schools(user)]
    return Application.objects.filter(Q(school_id__in=schools) | Q(student__school_class__head_teacher=user))


def get_application_for_user(user, pk) -> Application:
    """One application, or 404 for anyone who may not see it (never a 403)."""
    try:
        return applications_for_user(user).select_related(
            "student__school_class__grade", "school__county", "extends", "change", "end_change").get(pk=pk)
    except (Application.DoesNotExist, ValueError):
        raise Http404("没有找到该申请")


def can_apply(user, student: Student) -> bool:
    """The head teacher of the student's class, the registry clerk and the office."""
    if org_selectors.can_edit_student(user, student):
        return True
    return bool(student.school_class_id and student.school_class.head_teacher_id == user.pk)


def can_process(user, app: Application) -> bool:
    """Paper decisions, the 国网 steps, 复学 and the 残联 path: the registry clerk and the office."""
    return org_selectors.can_edit_student(user, app.student)


def can_decide(user, app: Application) -> bool:
    """The county bureau decides in the system."""
    if org_selectors.is_admin(user):
        return True
    return any(m.role == "county" and m.county_id == app.county_id for m in org_selectors.memberships(user))


def holding_application(student: Student) -> Application | None:
    """The student's suspension (or deferral) in effect or ended without 复学, if any."""
    return (Application.objects.filter(student=student, state__in=HOLDING)
            .exclude(kind=K.EXTEND).order_by("-id").first())


def reminders(applications: QuerySet[Application], today: datetime.date) -> list[dict]:
    """Suspensions that end within the county's `remind_days` (and 残联 reviews that are due),
    and those that ended without 复学: what the registry clerk and the head teacher are told."""
    rows = []
    rules_by_county: dict[int, SuspensionRules] = {}
    # A suspension that another change ended (死亡, 出国 …) reminds nobody.
    held = Q(state=St.EFFECTIVE, student__status__in=[RegistryStatus.SUSPENDED, RegistryStatus.DEFERRED])
    qs = (applications.filter(held | Q(state=St.EXPIRED, end_change__isnull=False))
          .exclude(kind=K.EXTEND).select_related("student__school_class__grade", "school"))
    for app in qs:
        rules = rules_by_county.setdefault(app.county_id, current_rules(app.county_id))
        if app.state == St.EXPIRED:
            rows.append({"app": app, "kind": "expired", "on": app.ends_on,
                         "text": f"休学期满（{app.ends_on}）未复学：已回到班级考勤，请办理复学或按13510跟进"})
            continue
        if app.review_on and app.review_on - datetime.timedelta(days=rules.remind_days) <= today:
            rows.append({"app": app, "kind": "review", "on": app.review_on,
                         "text": f"县残联复评日期 {app.review_on}：请联系县残联安排复评"})
        if app.ends_on and app.ends_on - datetime.timedelta(days=rules.remind_days) <= today:
            rows.append({"app": app, "kind": "ending", "on": app.ends_on,
                         "text": f"{app.get_outcome_display() or '休学'}将于 {app.ends_on} 期满："
                                 f"请联系家长办理复学，或在期满前 {rules.extend_lead_working_days} 个工作日申请续休"})
    rows.sort(key=lambda r: r["on"])
    return rows


# ---------------------------------------------------------------- steps

def _actor_user(actor):
    return actor if getattr(actor, "is_authenticated", False) else None


def _locked(app: Application) -> Application:
    # of=("self",): PostgreSQL refuses FOR UPDATE on the nullable side of an outer join (class, extends).
    return Application.objects.select_for_update(of=("self",)).select_related("student__school_class", "school", "extends").get(pk=app.pk)


def _require_state(app: Application, *states) -> None:
    if app.state not in states:
        raise ValidationError(f"该申请当前为“{app.get_state_display()}”，不能进行这一步")


@transaction.atomic
def application_start(*, actor, student: Student, kind: str = K.SUSPEND, illness: str = "",
                      extends: Application | None = None) -> Application:
    """A head teacher or the registry clerk starts an application for one student."""
    student = Student.objects.select_for_update().select_related("school").get(pk=student.pk)
    if kind not in K.values:
        raise ValidationError({"kind": f"没有这种申请：“{kind}”"})
    if kind == K.EXTEND:
        if extends is None or extends.student_id != student.pk or extends.state != St.EFFECTIVE \
                or student.status != RegistryStatus.SUSPENDED:
            raise ValidationError("续休只适用于休学中的学生：请从该生的休学记录页申请续休")
    elif student.status != RegistryStatus.IN_SCHOOL:
        raise ValidationError(f"学籍状态为“{register.status_label(student.status)}”的学生不能申请休学或延缓入学"
                              f"（只适用于在校学生）")
    live = Application.objects.filter(student=student, state__in=LIVE).first()
    if live is not None:
        raise ValidationError(f"该学生已有一份{live.get_kind_display()}申请（{live.get_state_display()}）：请在原申请上继续")
    app = Application(county_id=student.county_id, school_id=student.school_id, student=student, kind=kind,
                      extends=extends, illness=(illness or "").strip()[:100], created_by=_actor_user(actor))
    if kind == K.EXTEND:
        app.illness = app.illness or extends.illness
        app.start_on = extends.ends_on + datetime.timedelta(days=1)
    try:
        with transaction.atomic():
            app.save()
    except IntegrityError:
        raise ValidationError("该学生已有一份申请在办理中：请在原申请上继续")
    audit_record(actor=actor, action=Action.CREATE, obj=app, scope_from=student,
                 changes={"kind": [None, app.get_kind_display()], "illness": [None, app.illness]})
    return app


EDIT_FIELDS = ("illness", "detail", "start_on", "ends_on", "hospital", "hospital_level", "diagnosed_on",
               "rest_from", "rest_to", "referred_on")


@transaction.atomic
def application_update(*, actor, app: Application, **data) -> Application:
    """The data of a draft (or of one sent back): illness, diagnosis, rest dates, start."""
    app = _locked(app)
    _require_state(app, *EDITABLE)
    rules = current_rules(app.county_id)
    old = {f: getattr(app, f) for f in EDIT_FIELDS}
    for f, v in data.items():
        if f not in EDIT_FIELDS:
            raise ValueError(f)
        setattr(app, f, v.strip() if isinstance(v, str) else v)
    errors = {}
    today = timezone.localdate()
    if app.hospital_level and app.hospital_level not in HospitalLevel.values:
        errors["hospital_level"] = "医院级别不在可选范围内"
    if app.diagnosed_on and app.diagnosed_on > today:
        errors["diagnosed_on"] = "诊断日期不能晚于今天"
    if app.rest_from and app.rest_to and app.rest_to < app.rest_from:
        errors["rest_to"] = "结束日期不能早于开始日期"
    if app.kind == K.EXTEND:
        app.start_on = app.extends.ends_on + datetime.timedelta(days=1)
    elif app.start_on and app.kind == K.SUSPEND:
        app.ends_on = suspension_end(app.start_on, rules.term_months)
        if app.student.status_since and app.start_on < app.student.status_since:
            errors["start_on"] = f"休学开始日期不能早于当前学籍状态的起始日期 {app.student.status_since}"
    if errors:
        raise ValidationError(errors)
    app.save()
    changed = {f: [old[f], getattr(app, f)] for f in EDIT_FIELDS if old[f] != getattr(app, f)}
    if changed:
        audit_record(actor=actor, action=Action.UPDATE, obj=app, scope_from=app.student, changes=changed)
    return app


@transaction.atomic
def application_file_add(*, actor, app: Application, material: str, upload) -> ApplicationFile:
    """One paper uploaded (PDF, JPG or PNG by content; at most APPLICATION_FILE_MAX_MB). A new
    upload of the same paper keeps the old one, marked replaced."""
    app = _locked(app)
    if material not in Material.values:
        raise ValidationError({"material": f"没有这种材料：“{material}”"})
    allowed = {
        **{m: EDITABLE for m in MATERIALS[app.kind]},
        Material.APPROVAL: (St.SUBMITTED, St.APPROVED),
        Material.RESUME_APPLICATION: HOLDING, Material.FITNESS: HOLDING,
    }
    if app.kind == K.DISABILITY:
        allowed.update({m: EDITABLE + (St.APPROVED,) for m in MATERIALS[K.DISABILITY]})
    if material not in allowed:
        raise ValidationError({"material": f"{app.get_kind_display()}申请不需要“{Material(material).label}”"})
    if app.state not in allowed[material]:
        raise ValidationError({"material": f"申请当前为“{app.get_state_display()}”，不能再上传“{Material(material).label}”"})
    try:
        kind = check_paper(upload, max_mb=settings.APPLICATION_FILE_MAX_MB)
    except UploadRefused as e:
        raise ValidationError({"upload": str(e)})
    now = timezone.now()
    old = app.files.filter(material=material, replaced_at__isnull=True).first()
    if old is not None:
        old.replaced_at = now
        old.save(update_fields=["replaced_at"])
    f = ApplicationFile(application=app, county_id=app.county_id, school_id=app.school_id, material=material,
                        original_name=upload.name[-200:], file_type=kind, size=upload.size,
                        uploaded_by=_actor_user(actor))
    # The stored name says nothing about the child: the original name is kept in the row.
    f.file.save(f"{app.pk}-{material}-{now:%Y%m%d%H%M%S%f}.{kind}", upload, save=False)
    f.save()
    audit_record(actor=actor, action=Action.CREATE, obj=f, object_repr=f"{app}：{f.get_material_display()}",
                 scope_from=app.student, changes={"material": [None, f.get_material_display()],
                                                  "file": [old.original_name if old else None, f.original_name]})
    return f


def parse_amount(text) -> Decimal:
    try:
        value = Decimal(str(text).replace(",", "").replace("，", "").replace("元", "").strip())
    except InvalidOperation:
        raise ValidationError(f"金额“{text}”不是数字：请写成 1280.50")
    # Checked after rounding to fen: 0.004 would store 0.00, 9999999.999 would store 10000000.00.
    if value.is_finite() and 0 < value < Decimal("10000000"):
        value = value.quantize(Decimal("0.01"))
    if not value.is_finite() or value <= 0 or value >= Decimal("10000000"):
        raise ValidationError(f"金额“{text}”须大于 0 且小于 1000 万")
    return value


@transaction.atomic
def application_bills_set(*, actor, app: Application, items: list[tuple[str, object]]) -> Decimal:
    """The itemised medical bills, as a whole list (the form sends every line)."""
    app = _locked(app)
    _require_state(app, *EDITABLE)
    rows, errors = [], []
    for n, (item, amount) in enumerate(items, 1):
        item = (item or "").strip()
        if not item and str(amount or "").strip() == "":
            continue
        if not item:
            errors.append(f"第 {n} 行：请填写项目（如“住院费”）")
            continue
        try:
            rows.append(BillItem(application=app, item=item[:100], amount=parse_amount(amount)))
        except ValidationError as e:
            errors.append(f"第 {n} 行（{item}）：{e.messages[0]}")
    if errors:
        raise ValidationError({"bills": errors})
    old = [f"{b.item} {b.amount}" for b in app.bills.all()]
    app.bills.all().delete()
    BillItem.objects.bulk_create(rows)
    total = sum((r.amount for r in rows), Decimal("0"))
    audit_record(actor=actor, action=Action.UPDATE, obj=app, scope_from=app.student,
                 changes={"bills": [old, [f"{r.item} {r.amount}" for r in rows]]}, note=f"药费明细，合计 {total} 元")
    return total


@transaction.atomic
def application_submit(*, actor, app: Application, today: datetime.date | None = None) -> Application:
    """A complete application joins the next monthly batch to the bureau. An incomplete one is
    refused with every missing paper or number named."""
    today = today or timezone.localdate()
    app = _locked(app)
    _require_state(app, *EDITABLE)
    if app.kind == K.DISABILITY:
        raise ValidationError("残疾儿童延缓入学或休学经县残联评估决定，不随每月批次报批")
    gaps = missing(app, today=today)
    if gaps:
        raise ValidationError({"__all__": gaps})
    try:
        batch = workdays.next_submission_day(today)
    except workdays.CalendarMissing as e:
        raise ValidationError(str(e))
    old_state = app.state
    app.state, app.submitted_on, app.batch_day = St.SUBMITTED, today, batch
    app.submitted_by, app.returned_reason = _actor_user(actor), ""
    app.save()
    audit_record(actor=actor, action=Action.UPDATE, obj=app, scope_from=app.student,
                 changes={"state": [St(old_state).label, app.get_state_display()], "batch_day": [None, batch]},
                 note=f"材料齐全，随 {batch} 批次报教体局")
    return app


@transaction.atomic
def application_withdraw(*, actor, app: Application, reason: str) -> Application:
    app = _locked(app)
    _require_state(app, *LIVE)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "请填写撤回原因"})
    old = app.state
    app.state = St.WITHDRAWN
    app.save(update_fields=["state"])
    audit_record(actor=actor, action=Action.UPDATE, obj=app, scope_from=app.student,
                 changes={"state": [St(old).label, app.get_state_display()]}, note=f"撤回：{reason}"[:300])
    return app


@transaction.atomic
def application_decide(*, actor, app: Application, approve: bool, comment: str = "",
                       decided_on: datetime.date | None = None, on_paper: bool = False, approval=None) -> Application:
    """The bureau approves or rejects, in the system; or the school records the bureau's paper
    decision and uploads the sealed approval. A rejected application goes back with the reason."""
    app = _locked(app)
    _require_state(app, St.SUBMITTED)
    decided_on = decided_on or timezone.localdate()
    comment = (comment or "").strip()
    if decided_on > timezone.localdate():
        raise ValidationError({"decided_on": "审批日期不能晚于今天"})
    if decided_on < app.submitted_on:
        raise ValidationError({"decided_on": f"审批日期不能早于提交日期 {app.submitted_on}"})
    if not approve and not comment:
        raise ValidationError({"comment": "退回须写明原因，学校据此修改"})
    if on_paper and approve and approval is None and Material.APPROVAL not in current_files(app):
        raise ValidationError({"approval": "纸质审批须上传教体局盖章的审批表"})
    if on_paper and approval is not None:
        application_file_add(actor=actor, app=app, material=Material.APPROVAL, upload=approval)
    old = app.state
    app.decided_on, app.decided_by, app.decided_on_paper = decided_on, _actor_user(actor), on_paper
    app.decision_comment = comment[:300]
    if approve:
        app.state = St.APPROVED
    else:
        app.state, app.returned_reason = St.RETURNED, comment[:300]
    app.save()
    audit_record(actor=actor, action=Action.UPDATE, obj=app, scope_from=app.student,
                 changes={"state": [St(old).label, app.get_state_display()], "decision_comment": [None, comment]},
                 note=("学校登记纸质审批：" if on_paper else "教体局审批：") + ("批准" if approve else "退回"))
    return app


@transaction.atomic
def application_national_step(*, actor, app: Application, step: str, done_on: datetime.date) -> Application:
    """One 国网 step after approval, marked done with its date. When all are done the
    suspension takes effect (on its start date)."""
    app = _locked(app)
    _require_state(app, St.APPROVED)
    if app.kind == K.DISABILITY:
        raise ValidationError("残联决定的延缓入学或休学在学籍异动页登记国网办理")
    if step not in NATIONAL_STEPS:
        raise ValidationError({"step": f"没有这一步：“{step}”"})
    field, label = NATIONAL_STEPS[step]
    if step == "form" and Material.APPROVAL not in current_files(app) and not app.decided_by_id:
        raise ValidationError({"step": "请先上传教体局加章审批表"})
    if done_on > timezone.localdate():
        raise ValidationError({"done_on": "办理日期不能晚于今天"})
    if app.decided_on and done_on < app.decided_on:
        raise ValidationError({"done_on": f"国网办理不能早于审批日期 {app.decided_on}"})
    if getattr(app, field):
        raise ValidationError({"step": f"“{label}”已于 {getattr(app, field)} 登记"})
    setattr(app, field, done_on)
    app.save(update_fields=[field])
    audit_record(actor=actor, action=Action.UPDATE, obj=app, scope_from=app.student,
                 changes={field: [None, done_on]}, note=f"国网：{label}")
    if national_done(app) and app.start_on <= timezone.localdate():
        application_effect(actor=actor, app=app)
    return app


def national_done(app: Application) -> datetime.date | None:
    """The day the last 国网 step was done, or None while one is open."""
    days = [getattr(app, f) for f, _ in NATIONAL_STEPS.values()]
    return max(days) if all(days) else None


@transaction.atomic
def application_effect(*, actor, app: Application) -> Application:
    """The approved application takes effect: a 休学 (or 延缓入学) 学籍异动 from the start date, the
    student off the roll call, and an open 13510 case closed as 休学 only now. A 续休 moves the
    suspension's end."""
    app = _locked(app)
    _require_state(app, St.APPROVED)
    today = timezone.localdate()
    if app.kind == K.EXTEND:
        return _extension_effect(actor=actor, app=app)
    done = national_done(app) if app.kind == K.SUSPEND else app.decided_on
    if done is None:
        raise ValidationError("国网各步骤尚未全部办理")
    if app.start_on > today:
        raise ValidationError(f"休学开始日期 {app.start_on} 未到，届时由每日任务自动生效")
    change_type = ChangeType.DEFER if app.outcome == A.Outcome.DEFER else ChangeType.SUSPEND
    reason = (f"因病休学：{app.illness}" if app.kind == K.SUSPEND
              else f"县残联评估：{app.get_outcome_display()}（{app.assessment}）")
    change = register.registry_change_record(actor=actor, student=app.student, change_type=change_type,
                                             date=app.start_on, reason=reason[:300], application=app)
    if app.kind == K.SUSPEND:
        register.registry_change_mark_done(actor=actor, change=change, system="national", done_on=max(done, app.start_on))
    app.state, app.change = St.EFFECTIVE, change
    app.save(update_fields=["state", "change"])
    audit_record(actor=actor, action=Action.UPDATE, obj=app, scope_from=app.student,
                 changes={"state": [St.APPROVED.label, app.get_state_display()], "change": [None, change.pk]},
                 note=f"{change.get_change_type_display()}生效：{app.start_on} 至 {app.ends_on}")
    return app


def _extension_effect(*, actor, app: Application) -> Application:
    if national_done(app) is None:
        raise ValidationError("国网各步骤尚未全部办理")
    base = Application.objects.select_for_update().get(pk=app.extends_id)
    if base.state != St.EFFECTIVE:
        raise ValidationError(f"原休学为“{base.get_state_display()}”，续休不能生效")
    old_end = base.ends_on
    base.ends_on = app.ends_on
    base.save(update_fields=["ends_on"])
    app.state = St.EFFECTIVE
    app.save(update_fields=["state"])
    audit_record(actor=actor, action=Action.UPDATE, obj=base, scope_from=base.student,
                 changes={"ends_on": [old_end, base.ends_on]}, note=f"续休生效（续休申请 {app.pk}）")
    audit_record(actor=actor, action=Action.UPDATE, obj=app, scope_from=app.student,
                 changes={"state": [St.APPROVED.label, app.get_state_display()]}, note=f"续休至 {app.ends_on}")
    return app


@transaction.atomic
def resumption_record(*, actor, app: Application, on: datetime.date, school_class: SchoolClass,
                      note: str = "") -> Application:
    """复学: with the guardian's application and a fitness certificate uploaded, the student is
    在校 again in the chosen class and back on its roll call. The 复学 异动 is then done in 国网
    first (with its success screenshot), then in 省网 (`registry_change_mark_done`)."""
    app = _locked(app)
    _require_state(app, *HOLDING)
    if app.kind == K.EXTEND:
        raise ValidationError("请在原休学记录上办理复学")
    files = current_files(app)
    gaps = [f"未上传：{Material(m).label}" for m in RESUME_MATERIALS if m not in files]
    if school_class is None or school_class.school_id != app.school_id:
        gaps.append("请选择复学后就读的班级（本校）")
    if on > timezone.localdate():
        gaps.append("复学日期不能晚于今天")
    if app.state == St.EXPIRED and app.end_change and on < app.end_change.date:
        gaps.append(f"复学日期不能早于休学期满后回到考勤的日期 {app.end_change.date}")
    if gaps:
        raise ValidationError({"__all__": gaps})
    student = Student.objects.select_for_update().get(pk=app.student_id)
    if app.state == St.EFFECTIVE:
        change = register.registry_change_record(
            actor=actor, student=student, change_type=ChangeType.RESUME, date=on, application=app,
            reason=(f"休学复学：{note}" if note else f"休学复学（{app.illness or app.get_outcome_display()}）")[:300])
    else:
        # 休学期满 already put the student back on the roll call: the 复学 is that record's
        # processing in 国网 and 省网.
        change = app.end_change
    student.refresh_from_db()
    if student.school_class_id != school_class.pk:
        old = student.school_class_id
        student.school_class = school_class
        student.save(update_fields=["school_class", "updated_at"])
        audit_record(actor=actor, action=Action.UPDATE, obj=student, changes={"school_class": [old, school_class.pk]},
                     note=f"复学编入 {school_class}")
    old_state = app.state
    app.state, app.end_change, app.ended_on = St.RESUMED, change, on
    app.save(update_fields=["state", "end_change", "ended_on"])
    audit_record(actor=actor, action=Action.UPDATE, obj=app, scope_from=student,
                 changes={"state": [St(old_state).label, app.get_state_display()], "ended_on": [None, on]},
                 note=f"复学，编入 {school_class}；请先在国网办理复学并上传成功截图，再办理省网")
    return app


# ---------------------------------------------------------------- 县残联 (disabled child)

@transaction.atomic
def disability_assess(*, actor, app: Application, referred_on: datetime.date, assessed_on: datetime.date,
                      assessment: str) -> Application:
    """县残联 referral and the expert committee's assessment, with dates (the upload is a
    material of the application)."""
    app = _locked(app)
    _require_state(app, *EDITABLE)
    if app.kind != K.DISABILITY:
        raise ValidationError("只有残疾儿童延缓入学或休学经县残联评估")
    errors = {}
    if assessed_on < referred_on:
        errors["assessed_on"] = "评估日期不能早于报县残联日期"
    if assessed_on > timezone.localdate():
        errors["assessed_on"] = "评估日期不能晚于今天"
    if not (assessment or "").strip():
        errors["assessment"] = "请填写专家委员会的评估结论"
    if Material.ASSESSMENT not in current_files(app):
        errors["upload"] = "请上传专家委员会评估意见"
    if errors:
        raise ValidationError(errors)
    old = (app.referred_on, app.assessed_on, app.assessment)
    app.referred_on, app.assessed_on, app.assessment = referred_on, assessed_on, assessment.strip()[:300]
    app.save(update_fields=["referred_on", "assessed_on", "assessment"])
    audit_record(actor=actor, action=Action.UPDATE, obj=app, scope_from=app.student,
                 changes={"referred_on": [old[0], referred_on], "assessed_on": [old[1], assessed_on],
                          "assessment": [old[2], app.assessment]}, note="县残联评估")
    return app


@transaction.atomic
def disability_decide(*, actor, app: Application, outcome: str, start_on: datetime.date, ends_on: datetime.date,
                      review_on: datetime.date) -> Application:
    """The decision after the assessment: 延缓入学 or 休学, its term and review date. It takes
    effect at once (a 延缓入学 or 休学 学籍异动); the review date reminds like an expiry."""
    app = _locked(app)
    _require_state(app, *EDITABLE)
    if app.kind != K.DISABILITY:
        raise ValidationError("只有残疾儿童延缓入学或休学经县残联评估")
    errors = {}
    if not app.assessed_on:
        errors["outcome"] = "请先登记县残联专家委员会的评估"
    if outcome not in A.Outcome.values:
        errors["outcome"] = "请选择延缓入学或休学"
    if ends_on < start_on:
        errors["ends_on"] = "期满日期不能早于开始日期"
    if not (start_on <= review_on <= ends_on):
        errors["review_on"] = "复评日期须在期限之内"
    if app.assessed_on and start_on < app.assessed_on:
        errors["start_on"] = "开始日期不能早于评估日期"
    if start_on > timezone.localdate():
        errors["start_on"] = "开始日期不能晚于今天"
    if errors:
        raise ValidationError(errors)
    app.outcome, app.start_on, app.ends_on, app.review_on = outcome, start_on, ends_on, review_on
    app.state, app.decided_on, app.decided_by = St.APPROVED, timezone.localdate(), _actor_user(actor)
    app.save()
    audit_record(actor=actor, action=Action.UPDATE, obj=app, scope_from=app.student,
                 changes={"outcome": [None, app.get_outcome_display()], "start_on": [None, start_on],
                          "ends_on": [None, ends_on], "review_on": [None, review_on]}, note="县残联决定")
    return application_effect(actor=actor, app=app)


# ---------------------------------------------------------------- the daily job

SYSTEM = "系统（休学期满检查）"


def suspensions_daily(today: datetime.date | None = None) -> dict:
    """Run by the daily job: approved suspensions whose start has come take effect, and
    suspensions past their end without 复学 put the student back on the class's roll call from
    the next school day (休学期满未复学); 13510 takes it from there."""
    today = today or timezone.localdate()
    totals = {"effective": 0, "expired": 0, "warnings": []}
    ready = Application.objects.filter(state=St.APPROVED, kind__in=[K.SUSPEND, K.EXTEND], start_on__lte=today)
    for app in ready.select_related("student"):
        if national_done(app):
            try:
                application_effect(actor=None, app=app)
                totals["effective"] += 1
            except ValidationError as e:
                totals["warnings"].append(f"{app.student.name}：{'；'.join(e.messages)}")
    ended = (Application.objects.filter(state=St.EFFECTIVE, ends_on__lt=today)
             .exclude(kind=K.EXTEND).exclude(outcome=A.Outcome.DEFER).select_related("student", "school"))
    for app in ended:
        try:
            suspension_expire(app=app, today=today)
            totals["expired"] += 1
        except (ValidationError, workdays.CalendarMissing) as e:
            totals["warnings"].append(f"{app.student.name} 休学期满未能处理：{'；'.join(getattr(e, 'messages', [str(e)]))}")
    return totals


@transaction.atomic
def suspension_expire(*, app: Application, today: datetime.date) -> Application:
    """休学期满未复学: the student is 在校 again from the next school day after the end (a 休学期满
    学籍异动, whose 国网 and 省网 processing is the 复学 still to do), on the class's roll call
    with a banner, and the office sees it among the reminders."""
    app = _locked(app)
    _require_state(app, St.EFFECTIVE)
    if app.ends_on >= today:
        raise ValidationError("休学尚未期满")
    student = Student.objects.select_for_update().get(pk=app.student_id)
    if student.status != RegistryStatus.SUSPENDED:
        # Another change (死亡, 出国 …) ended it: nothing to bring back.
        app.state, app.ended_on = St.ENDED, today
        app.save(update_fields=["state", "ended_on"])
        audit_record(actor=None, actor_label=SYSTEM, action=Action.UPDATE, obj=app, scope_from=student,
                     changes={"state": [St.EFFECTIVE.label, app.get_state_display()], "ended_on": [None, today]},
                     note=f"休学期满时学籍状态已为“{register.status_label(student.status)}”")
        return app
    back_on = _next_school_day(app, app.ends_on)
    change = register.registry_change_record(
        actor=None, student=student, change_type=ChangeType.EXPIRE, date=back_on, application=app,
        reason=f"休学期满（{app.ends_on}）未办理复学：自 {back_on} 起回到班级考勤，待办理国网、省网复学")
    app.state, app.end_change, app.ended_on = St.EXPIRED, change, app.ends_on
    app.save(update_fields=["state", "end_change", "ended_on"])
    audit_record(actor=None, actor_label=SYSTEM, action=Action.UPDATE, obj=app, scope_from=student,
                 changes={"state": [St.EFFECTIVE.label, app.get_state_display()]},
                 note=f"休学期满未复学：{student.name} 自 {back_on} 起回到班级考勤（政教处、学籍管理员、班主任已提醒）")
    return app


def _next_school_day(app: Application, after: datetime.date) -> datetime.date:
    """The school's first school day after `after`; the next working day when no term is entered."""
    # Year by year: the first school day needs only its own year's calendar, not next year's
    # (published in November) because a term runs into January.
    start, limit = after + datetime.timedelta(days=1), after + datetime.timedelta(days=200)
    while start <= limit:
        days = workdays.school_days(app.school, start, min(limit, datetime.date(start.year, 12, 31)))
        if days:
            return days[0]
        start = datetime.date(start.year + 1, 1, 1)
    return workdays.next_working_day(after)


def roll_notes(student_ids) -> dict[int, str]:
    """Banners for the roll call: students back from a suspension that ended without 复学."""
    rows = (Application.objects.filter(student_id__in=list(student_ids), state=St.EXPIRED)
            .values_list("student_id", "ends_on"))
    return {sid: f"休学期满未复学（{ends}期满）" for sid, ends in rows}
