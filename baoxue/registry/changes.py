"""学籍异动: every change of a student's registry status is a `RegistryChange` row, and the
student's 学籍状态 follows it (plan §2: 按照“人籍一致”原则，及时办理学生学籍的各项异动业务).

The rules, each with one home here:

- `TRANSITIONS`: which 学籍状态 a change may start from and which one it leads to.
- "转出 (省内/跨省, receiving school, 10 working days to complete)": `TRANSFER_WORKING_DAYS`;
  the deadline counts working days on the national calendar (`baoxue.calendar.workdays`).
- "A transfer out is refused while the student is suspended" (休学期间不能办理转学).
- "Expulsion and withdrawal do not exist in the compulsory stage" (义务教育阶段学校不得开除、
  勒令退学学生): there is no such type, and asking for one is refused with that rule.
- "复学 is applied for in 国网 first, then in 省网 with a screenshot of the 国网 success
  attached" (省网办理复学时需上传国网复学成功截图): `registry_change_mark_done`.

Reads (who sees which changes) are at the bottom: `changes_for_user`, `get_change_for_user`.
"""

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

from baoxue.audit.models import Action
from baoxue.audit.services import audit_record
from baoxue.calendar import workdays
from baoxue.org import selectors as org_selectors
from baoxue.org.models import RegistryStatus, Student
from baoxue.registry.models import HOLDING_STATES, Application, ChangeType, RegistryChange

S = RegistryStatus

# 转学 (both ways) is to be completed within 10 working days, by both schools.
TRANSFER_WORKING_DAYS = 10
TRANSFERS = (ChangeType.TRANSFER_IN, ChangeType.TRANSFER_OUT)
# 留级/跳级 change the class (done on the student page), not the 学籍状态 or its date.
CLASS_ONLY = (ChangeType.REPEAT, ChangeType.SKIP)

# The one table of 学籍状态 transitions: change type → (statuses it may start from, new status).
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    # A transfer in is recorded for a student newly entered here (who starts as 在校) or for
    # one who comes back after leaving.
    ChangeType.TRANSFER_IN: (frozenset({S.IN_SCHOOL, S.TRANSFERRED_OUT, S.OTHER_LEFT}), S.IN_SCHOOL),
    ChangeType.TRANSFER_OUT: (frozenset({S.IN_SCHOOL}), S.TRANSFERRED_OUT),
    ChangeType.SUSPEND: (frozenset({S.IN_SCHOOL}), S.SUSPENDED),
    # 延缓入学 ends the same way: the child, assessed fit by the county's expert committee, starts school.
    ChangeType.RESUME: (frozenset({S.SUSPENDED, S.DROPPED_OUT, S.DEFERRED}), S.IN_SCHOOL),
    # From 辍学 too: the 13510 flow sets 辍学 itself (case_to_dropout), and the registry clerk
    # then records the 异动 to track its processing in 国网 and 省网. 辍学 keeps the 学籍.
    ChangeType.DROPOUT: (frozenset({S.IN_SCHOOL, S.SUSPENDED, S.DROPPED_OUT}), S.DROPPED_OUT),
    ChangeType.DEATH: (frozenset({S.IN_SCHOOL, S.SUSPENDED, S.DROPPED_OUT, S.DEFERRED}), S.DECEASED),
    ChangeType.ABROAD: (frozenset({S.IN_SCHOOL, S.SUSPENDED, S.DROPPED_OUT, S.DEFERRED}), S.OTHER_LEFT),
    ChangeType.OTHER_LEAVE: (frozenset({S.IN_SCHOOL, S.SUSPENDED, S.DROPPED_OUT, S.DEFERRED}), S.OTHER_LEFT),
    ChangeType.REPEAT: (frozenset({S.IN_SCHOOL}), S.IN_SCHOOL),
    ChangeType.SKIP: (frozenset({S.IN_SCHOOL}), S.IN_SCHOOL),
    ChangeType.DEFER: (frozenset({S.IN_SCHOOL}), S.DEFERRED),
    # 休学期满未复学: recorded by the daily job; the student is on the roll call again, and the
    # 复学 is this record's processing in 国网 and 省网.
    ChangeType.EXPIRE: (frozenset({S.SUSPENDED}), S.IN_SCHOOL),
}
# Only an application (`baoxue.registry.suspensions`) records these: 未按以上程序操作的不予审批.
BY_APPLICATION = (ChangeType.SUSPEND, ChangeType.DEFER, ChangeType.EXPIRE)
# 复学 follows the 国网-first rule; so does the processing of a 休学期满.
RESUMPTIONS = (ChangeType.RESUME, ChangeType.EXPIRE)

# Departures: the student leaves the roll call. Recorded while a 13510 case is open, the case
# stays open (学籍异动办理中) until the change is completed in 国网, then closes with this outcome.
DEPARTURE_OUTCOMES = {
    ChangeType.TRANSFER_OUT: "transferred", ChangeType.SUSPEND: "suspended", ChangeType.DEATH: "deceased",
    ChangeType.ABROAD: "abroad", ChangeType.OTHER_LEAVE: "left", ChangeType.DEFER: "left",
}

SUSPENDED_NO_TRANSFER = "休学期间不能办理转学"
NO_EXPULSION = "义务教育阶段学校不得开除或勒令退学学生：学籍异动中没有“开除”“退学”"
WHERE_TO_APPLY = {
    ChangeType.SUSPEND: ("休学须按程序报教体局审批：请在“学籍异动 → 休学申请”为该学生填写休学申请，材料齐全后随每月20日"
                         "（遇周末或节假日顺延）的批次报教体局，批准并在国网办理后由系统登记休学（未按程序操作的不予审批）"),
    ChangeType.DEFER: ("延缓入学须经县残联评估：请在“学籍异动 → 休学申请”为该学生登记报县残联、专家委员会评估和决定，"
                       "由系统登记延缓入学"),
    ChangeType.EXPIRE: "休学期满由系统在期满后自动登记，不能手工登记",
}
WHERE_TO_RESUME = "该学生的休学记录在“学籍异动 → 休学申请”中：请在休学记录页办理复学（须监护人复学申请和医院复课证明）"
RESUME_NATIONAL_FIRST = "省网办理复学时需上传国网复学成功截图：请先在国网办结复学并上传成功截图"

SYSTEMS = {"national": "国网", "provincial": "省网"}


def status_label(value: str) -> str:
    try:
        return RegistryStatus(value).label
    except ValueError:
        return value


def transfer_due(date: datetime.date) -> datetime.date:
    """办结期限 of a transfer: 10 working days after the change's date (the day itself not
    counted). Raises `CalendarMissing` for a year without calendar: never a guess."""
    return workdays.add_working_days(date, TRANSFER_WORKING_DAYS)


def _check_transition(student: Student, change_type: str) -> str:
    """The new status, or a ValidationError saying why this change cannot start here."""
    if change_type not in TRANSITIONS:
        if change_type in ("expel", "expulsion", "withdraw", "withdrawal", "开除", "退学", "勒令退学"):
            raise ValidationError({"change_type": NO_EXPULSION})
        raise ValidationError({"change_type": f"没有这种学籍异动类型：“{change_type}”"})
    allowed, new_status = TRANSITIONS[change_type]
    if student.status not in allowed:
        if change_type == ChangeType.TRANSFER_OUT and student.status == S.SUSPENDED:
            raise ValidationError({"change_type": SUSPENDED_NO_TRANSFER})
        label = ChangeType(change_type).label
        starts = "、".join(s.label for s in RegistryStatus if s in allowed)
        raise ValidationError({"change_type": f"学籍状态为“{status_label(student.status)}”的学生不能办理{label}"
                                              f"（{label}只适用于学籍状态为{starts}的学生）"})
    return new_status


@transaction.atomic
def registry_change_record(*, actor, student: Student, change_type: str, date: datetime.date, reason: str,
                           scope: str = "", other_school: str = "", documents=None,
                           application=None) -> RegistryChange:
    """Record one 学籍异动; the student's 学籍状态 and its date follow it.

    No expulsion or withdrawal: 义务教育阶段学校不得开除、勒令退学学生 (compulsory-stage schools
    may not expel or withdraw students), so `ChangeType` has no such type and none is accepted.
    A transfer out is refused while the student is suspended (休学期间不能办理转学). A 复学 of a
    dropout whose case is in the 辍学学生劝返台账 also closes that case (case_resume).

    休学, 延缓入学 and 休学期满 come only from an application (`application`, passed by
    `baoxue.registry.suspensions`); a 复学 of a student whose suspension is held there goes
    through that application too.
    """
    if change_type in BY_APPLICATION and application is None:
        raise ValidationError({"change_type": WHERE_TO_APPLY[change_type]})
    if application is not None:
        ready = "effective" if change_type in RESUMPTIONS else "approved"
        if (not isinstance(application, Application) or application.student_id != student.pk
                or application.state != ready):
            raise ValidationError({"change_type": WHERE_TO_APPLY.get(change_type, WHERE_TO_RESUME)})
    # Lock the student: two clerks recording a change at once would both read the old status.
    student = Student.objects.select_for_update().select_related("school").get(pk=student.pk)
    new_status = _check_transition(student, change_type)
    if change_type == ChangeType.RESUME and application is None and _held_by_application(student):
        raise ValidationError({"change_type": WHERE_TO_RESUME})

    errors: dict[str, str] = {}
    reason = (reason or "").strip()
    other_school = (other_school or "").strip()
    if not reason:
        errors["reason"] = "请填写异动原因"
    if date > timezone.localdate() and change_type != ChangeType.EXPIRE:
        errors["date"] = "异动日期不能晚于今天"
    elif student.status_since and date < student.status_since and change_type not in CLASS_ONLY:
        errors["date"] = (f"异动日期早于当前学籍状态（{status_label(student.status)}）的起始日期"
                          f" {student.status_since.isoformat()}")
    if change_type in TRANSFERS:
        if change_type == ChangeType.TRANSFER_OUT and scope not in RegistryChange.Scope.values:
            errors["scope"] = "转出须注明省内或跨省"
        elif scope and scope not in RegistryChange.Scope.values:
            errors["scope"] = "转学范围只能是省内或跨省"
        if change_type == ChangeType.TRANSFER_OUT and not other_school:
            errors["other_school"] = "转出须填写转入学校"
    else:
        # Only a transfer has a scope and another school.
        scope, other_school = "", ""
    dropout_case = _open_dropout_case(student) if change_type == ChangeType.RESUME else None
    if dropout_case is not None and dropout_case.dropout_on and date < dropout_case.dropout_on:
        errors["date"] = f"复学日期不能早于辍学日期 {dropout_case.dropout_on.isoformat()}"
    if errors:
        raise ValidationError(errors)

    due_on = None
    if change_type in TRANSFERS:
        try:
            due_on = transfer_due(date)
        except workdays.CalendarMissing as e:
            raise ValidationError({"date": str(e)})

    change = RegistryChange(
        county_id=student.county_id, school_id=student.school_id, student=student, change_type=change_type,
        date=date, reason=reason[:300], scope=scope, other_school=other_school[:100], due_on=due_on,
        handled_by=actor if getattr(actor, "is_authenticated", False) else None,
        status_before=student.status, status_after=new_status,
    )
    if documents:
        change.documents = documents
    change.save()
    audit_record(actor=actor, action=Action.CREATE, obj=change, changes={
        k: [None, v] for k, v in {
            "change_type": change.get_change_type_display(), "date": date, "reason": change.reason,
            "scope": change.get_scope_display() if scope else "", "other_school": other_school, "due_on": due_on,
            "documents": change.documents.name if change.documents else "",
            "status": f"{status_label(change.status_before)} → {status_label(new_status)}",
        }.items() if v not in ("", None)
    })

    if change_type in CLASS_ONLY:
        return change
    if dropout_case is not None:
        # 劝返复学: the case leaves the 辍学学生劝返台账 (销账); case_resume sets the status and
        # writes the student's audit row itself.
        from baoxue.cases.services import case_resume

        case_resume(actor=actor, case=dropout_case, on=date, note=f"学籍异动复学：{change.reason}"[:200])
        student.refresh_from_db(fields=["status", "status_since"])
    old = {"status": student.status, "status_since": student.status_since}
    student.status, student.status_since = new_status, date
    new = {"status": student.status, "status_since": student.status_since}
    changed = {k: [old[k], new[k]] for k in old if old[k] != new[k]}
    if changed:
        student.save(update_fields=["status", "status_since", "updated_at"])
        audit_record(actor=actor, action=Action.UPDATE, obj=student, changes=changed,
                     note=f"学籍异动：{change.get_change_type_display()}（异动记录 {change.pk}）")
    if change_type in DEPARTURE_OUTCOMES:
        _departure_during_case(actor=actor, change=change)
    return change


def _departure_during_case(*, actor, change: RegistryChange) -> None:
    """A transfer recorded is not a transfer done: an open 13510 case is not closed as a
    return; it waits, marked 学籍异动办理中, for the change to be completed."""
    from baoxue.cases.models import Case
    from baoxue.cases.services import case_change_pending

    case = Case.objects.filter(student_id=change.student_id, is_open=True).select_related("school", "student").first()
    if case is None:
        return
    change.case = case
    change.save(update_fields=["case"])
    case_change_pending(actor=actor, case=case, change=change.get_change_type_display(), since=change.date,
                        due_on=change.due_on)


def _held_by_application(student: Student) -> bool:
    """The student's suspension (or deferral) is in effect, or ended, under an application."""
    return (Application.objects.filter(student=student, state__in=HOLDING_STATES)
            .exclude(kind=Application.Kind.EXTEND).exists())


def _open_dropout_case(student: Student):
    """The student's open case in the 辍学学生劝返台账, if any."""
    from baoxue.cases.models import Case, Stage

    return Case.objects.filter(student=student, is_open=True, stage=Stage.DROPOUT).first()


@transaction.atomic
def registry_change_mark_done(*, actor, change: RegistryChange, system: str, done_on: datetime.date,
                              screenshot=None) -> RegistryChange:
    """The change was processed in 国网 (system="national") or 省网 (system="provincial").

    复学: 省网办理复学时需上传国网复学成功截图 — the 省网 step is refused until the 国网 one is
    done, and the 国网 step of a 复学 needs its success screenshot.
    """
    if system not in SYSTEMS:
        raise ValidationError(f"没有这个系统：“{system}”（只有国网 national、省网 provincial）")
    change = RegistryChange.objects.select_for_update().get(pk=change.pk)
    name = SYSTEMS[system]
    done_field, shot_field = f"{system}_done_on", f"{system}_screenshot"
    already = getattr(change, done_field)
    if already:
        raise ValidationError(f"{name}已于 {already.isoformat()} 办结，不能重复登记")
    errors: dict[str, str] = {}
    if done_on > timezone.localdate():
        errors["done_on"] = "办结日期不能晚于今天"
    elif done_on < change.date:
        errors["done_on"] = f"办结日期不能早于异动日期 {change.date.isoformat()}"
    if change.change_type in RESUMPTIONS:
        if system == "national" and not screenshot:
            errors["screenshot"] = "国网办理复学须上传复学成功截图（省网办理时要用）"
        if system == "provincial" and not change.national_done_on:
            raise ValidationError(RESUME_NATIONAL_FIRST)
        if system == "provincial" and change.national_done_on and done_on < change.national_done_on:
            errors["done_on"] = f"省网复学不能早于国网办结日期 {change.national_done_on.isoformat()}"
    if errors:
        raise ValidationError(errors)

    if change.cancelled_on:
        raise ValidationError(f"该异动已于 {change.cancelled_on.isoformat()} 撤销")
    setattr(change, done_field, done_on)
    fields = [done_field]
    if screenshot:
        getattr(change, shot_field).save(screenshot.name, screenshot, save=False)
        fields.append(shot_field)
    change.save(update_fields=fields)
    audit_record(actor=actor, action=Action.UPDATE, obj=change,
                 changes={done_field: [None, done_on],
                          **({shot_field: [None, getattr(change, shot_field).name]} if screenshot else {})},
                 note=f"{name}办结：{change.get_change_type_display()}")
    if system == "national" and change.change_type in DEPARTURE_OUTCOMES and change.case_id:
        from baoxue.cases.models import Case
        from baoxue.cases.services import case_change_completed

        case = Case.objects.select_related("student").get(pk=change.case_id)
        if case.is_open:
            case_change_completed(actor=actor, case=case, outcome=DEPARTURE_OUTCOMES[change.change_type], on=done_on,
                                  note=f"学籍异动（{change.get_change_type_display()}）国网办结，销账")
    return change


@transaction.atomic
def registry_change_cancel(*, actor, change: RegistryChange, reason: str) -> RegistryChange:
    """A change recorded by mistake, or one that did not happen (the receiving school never
    confirmed the transfer): the student's 学籍状态 goes back, and a 13510 case that waited for
    it counts the days again."""
    change = RegistryChange.objects.select_for_update().select_related("student").get(pk=change.pk)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "请填写撤销原因"})
    if change.cancelled_on:
        raise ValidationError(f"该异动已于 {change.cancelled_on.isoformat()} 撤销")
    if change.national_done_on:
        raise ValidationError("国网已办结的异动不能撤销：请办理相反的异动（如转入、复学）")
    if change.change_type in BY_APPLICATION or Application.objects.filter(Q(change=change) | Q(end_change=change)).exists():
        raise ValidationError("这条异动来自休学申请：请在“学籍异动 → 休学申请”的休学记录页处理")
    student = Student.objects.select_for_update().get(pk=change.student_id)
    if change.change_type not in CLASS_ONLY:
        if student.status != change.status_after or student.status_since != change.date:
            raise ValidationError("学生的学籍状态在这条异动之后已有变化，不能撤销这条异动")
        old = (student.status, student.status_since)
        student.status = change.status_before
        student.save(update_fields=["status", "updated_at"])
        audit_record(actor=actor, action=Action.UPDATE, obj=student,
                     changes={"status": [old[0], student.status]},
                     note=f"撤销学籍异动：{change.get_change_type_display()}（异动记录 {change.pk}）")
    change.cancelled_on = timezone.localdate()
    change.cancel_reason = reason[:200]
    change.save(update_fields=["cancelled_on", "cancel_reason"])
    audit_record(actor=actor, action=Action.UPDATE, obj=change, changes={"cancelled_on": [None, change.cancelled_on]},
                 note=f"撤销：{reason}"[:300])
    if change.case_id:
        from baoxue.cases.models import Case
        from baoxue.cases.services import case_change_cleared

        case = Case.objects.select_related("school", "student").get(pk=change.case_id)
        if case.is_open and case.change_pending:
            case_change_cleared(actor=actor, case=case,
                                note=f"学籍异动（{change.get_change_type_display()}）已撤销：按考勤继续计算")
    return change


# ---------------------------------------------------------------- reads

def change_schools(user):
    """Schools whose register the user reads: those whose students they all see (office,
    registry clerk, leaders of the school; the county bureau; admins)."""
    return [s for s in org_selectors.schools_for_user(user).select_related("county").order_by("code")
            if org_selectors.sees_whole_school(user, s)]


def changes_for_user(user) -> QuerySet[RegistryChange]:
    if not user.is_authenticated:
        return RegistryChange.objects.none()
    if org_selectors.is_admin(user):
        return RegistryChange.objects.all()
    return RegistryChange.objects.filter(school__in=[s.pk for s in change_schools(user)])


def get_change_for_user(user, pk) -> RegistryChange:
    """One change, or 404 for anyone outside its school (never a 403)."""
    try:
        return changes_for_user(user).select_related(
            "student__school_class__grade", "school", "handled_by").get(pk=pk)
    except (RegistryChange.DoesNotExist, ValueError):
        raise Http404("没有找到该学籍异动记录")


def can_record_change(user, student: Student) -> bool:
    """学籍异动 is kept by the school's registry clerk and office (and admins)."""
    return org_selectors.can_edit_student(user, student)


def processing_state(change: RegistryChange) -> str:
    if change.national_done_on and change.provincial_done_on:
        return "done"
    if change.national_done_on or change.provincial_done_on:
        return "partly"
    return "pending"


PROCESSING_FILTERS = {
    "national_pending": ("国网未办结", Q(national_done_on__isnull=True)),
    "provincial_pending": ("省网未办结", Q(provincial_done_on__isnull=True)),
    "done": ("国网、省网均已办结", Q(national_done_on__isnull=False, provincial_done_on__isnull=False)),
}


def overdue_q(today: datetime.date) -> Q:
    """Transfers past their 10-working-day deadline and not yet done in both systems."""
    return Q(due_on__lt=today) & (Q(national_done_on__isnull=True) | Q(provincial_done_on__isnull=True))


__all__ = [
    "TRANSITIONS", "TRANSFER_WORKING_DAYS", "registry_change_record", "registry_change_mark_done",
    "registry_change_cancel",
    "changes_for_user", "get_change_for_user", "can_record_change", "transfer_due",
]
