"""Each step of key-group work and one-on-one care is one function here: keyword-only, atomic,
and it writes its audit row. Rows keep their identity: a mark, a mentorship or a cadence is
changed or ended in place, never closed and recreated."""

import datetime

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from baoxue.audit.models import Action
from baoxue.audit.services import audit_record
from baoxue.care.due import DEFAULT_CADENCES, cadences_for
from baoxue.care.models import CareCadence, CareForm, CareRecord, RiskMark
from baoxue.org.models import SCHOOL_ROLES, Membership, Mentorship, Role, SchoolClass, Student


def _user(actor):
    return actor if getattr(actor, "is_authenticated", False) else None


def _not_future(day: datetime.date, field: str, label: str) -> None:
    if day > timezone.localdate():
        raise ValidationError({field: f"{label}不能晚于今天"})


# ---------------------------------------------------------------- high-risk mark and plan

@transaction.atomic
def risk_mark(*, actor, student: Student, kind: str, reason: str, marked_on: datetime.date) -> RiskMark:
    """The office marks a student high-risk (学习困难, 外出打工倾向, 多次缺勤, 个案返校, or by hand
    with a reason)."""
    reason = (reason or "").strip()
    if kind not in RiskMark.Kind.values:
        raise ValidationError({"kind": "请选择原因类别"})
    if not reason:
        raise ValidationError({"reason": "请写明具体原因"})
    _not_future(marked_on, "marked_on", "列入日期")
    if RiskMark.objects.filter(student=student, ended_on__isnull=True).exists():
        raise ValidationError({"kind": "该学生已列为高风险学生"})
    mark = RiskMark.objects.create(county_id=student.county_id, school_id=student.school_id, student=student,
                                   kind=kind, reason=reason[:300], marked_on=marked_on, marked_by=_user(actor))
    audit_record(actor=actor, action=Action.CREATE, obj=mark,
                 changes={"kind": [None, mark.get_kind_display()], "reason": [None, mark.reason],
                          "marked_on": [None, marked_on.isoformat()]}, note="列为高风险学生")
    return mark


@transaction.atomic
def risk_mark_end(*, actor, mark: RiskMark, ended_on: datetime.date, note: str = "") -> RiskMark:
    """The danger has passed: the mark ends and stays in the history."""
    mark = RiskMark.objects.select_for_update().get(pk=mark.pk)
    if mark.ended_on:
        raise ValidationError({"ended_on": f"已于 {mark.ended_on} 解除"})
    if ended_on < mark.marked_on:
        raise ValidationError({"ended_on": "解除日期不能早于列入日期"})
    _not_future(ended_on, "ended_on", "解除日期")
    mark.ended_on, mark.end_note = ended_on, (note or "").strip()[:200]
    mark.save(update_fields=["ended_on", "end_note"])
    audit_record(actor=actor, action=Action.UPDATE, obj=mark, changes={"ended_on": [None, ended_on.isoformat()]},
                 note=f"解除高风险：{mark.end_note}" if mark.end_note else "解除高风险")
    return mark


@transaction.atomic
def care_plan_set(*, actor, mark: RiskMark, plan: str) -> RiskMark:
    mark = RiskMark.objects.select_for_update().get(pk=mark.pk)
    if mark.ended_on:
        raise ValidationError({"plan": "高风险已解除，帮扶计划不再修改"})
    old, mark.plan = mark.plan, (plan or "").strip()
    if old == mark.plan:
        return mark
    mark.save(update_fields=["plan"])
    audit_record(actor=actor, action=Action.UPDATE, obj=mark, changes={"plan": [old, mark.plan]}, note="帮扶计划")
    return mark


# ---------------------------------------------------------------- mentors

def school_staff(school):
    """Accounts that may be a mentor at the school: anyone with a school role there, or a head
    teacher of one of its classes."""
    return (get_user_model().objects.filter(is_active=True)
            .filter(Q(memberships__school=school, memberships__role__in=[r.value for r in SCHOOL_ROLES])
                    | Q(pk__in=SchoolClass.objects.filter(school=school).values("head_teacher")))
            .distinct().order_by("first_name", "username"))


@transaction.atomic
def mentorship_assign(*, actor, student: Student, mentor, started_on: datetime.date) -> Mentorship:
    """一对一帮扶: a mentor from the school's staff. A mentor who is not yet 帮扶教师 at the school
    becomes one (their membership is what lets them open their mentees)."""
    if not school_staff(student.school).filter(pk=mentor.pk).exists():
        raise ValidationError({"mentor": "帮扶教师须是本校教职工"})
    _not_future(started_on, "started_on", "开始日期")
    if Mentorship.objects.filter(student=student, mentor=mentor, ended_on__isnull=True).exists():
        raise ValidationError({"mentor": "该教师已是这名学生的帮扶教师"})
    try:
        with transaction.atomic():
            ms = Mentorship.objects.create(mentor=mentor, student=student, school_id=student.school_id,
                                           started_on=started_on)
    except IntegrityError:
        raise ValidationError({"mentor": "该教师已是这名学生的帮扶教师"})
    audit_record(actor=actor, action=Action.CREATE, obj=ms,
                 changes={"mentor": [None, str(mentor)], "started_on": [None, started_on.isoformat()]},
                 note="指定帮扶教师")
    if not Membership.objects.filter(user=mentor, role=Role.MENTOR, school_id=student.school_id).exists():
        m = Membership.objects.create(user=mentor, role=Role.MENTOR, county_id=student.county_id,
                                      school_id=student.school_id)
        audit_record(actor=actor, action=Action.CREATE, obj=m, scope_from=student.school,
                     changes={"role": [None, m.get_role_display()]}, note=f"指定为 {student.name} 的帮扶教师")
    return ms


@transaction.atomic
def mentorship_end(*, actor, mentorship: Mentorship, ended_on: datetime.date, note: str = "") -> Mentorship:
    ms = Mentorship.objects.select_for_update().get(pk=mentorship.pk)
    if ms.ended_on:
        raise ValidationError({"ended_on": f"已于 {ms.ended_on} 结束"})
    if ended_on < ms.started_on:
        raise ValidationError({"ended_on": "结束日期不能早于开始日期"})
    _not_future(ended_on, "ended_on", "结束日期")
    ms.ended_on = ended_on
    ms.save(update_fields=["ended_on"])
    audit_record(actor=actor, action=Action.UPDATE, obj=ms, changes={"ended_on": [None, ended_on.isoformat()]},
                 note=f"结束帮扶关系：{note}".rstrip("：") if note else "结束帮扶关系")
    return ms


# ---------------------------------------------------------------- records

@transaction.atomic
def care_record_add(*, actor, student: Student, date: datetime.date, form: str, content: str,
                    next_step: str = "", referral_outcome: str = "") -> CareRecord:
    content = (content or "").strip()
    errors = {}
    if form not in CareForm.values:
        errors["form"] = "请选择帮扶形式"
    if not content:
        errors["content"] = "请填写帮扶内容"
    if date > timezone.localdate():
        errors["date"] = "日期不能晚于今天"
    if referral_outcome.strip() and form != CareForm.REFERRAL:
        errors["referral_outcome"] = "只有心理咨询转介填写转介结果"
    if errors:
        raise ValidationError(errors)
    record = CareRecord.objects.create(
        county_id=student.county_id, school_id=student.school_id, student=student, date=date, form=form,
        content=content, next_step=(next_step or "").strip()[:300], referral_outcome=referral_outcome.strip()[:300],
        recorded_by=_user(actor))
    audit_record(actor=actor, action=Action.CREATE, obj=record,
                 changes={"date": [None, date.isoformat()], "form": [None, record.get_form_display()],
                          "content": [None, content[:200]]}, note="帮扶记录")
    return record


@transaction.atomic
def referral_outcome_set(*, actor, record: CareRecord, outcome: str) -> CareRecord:
    """The outcome of a 心理咨询转介, known some time after the referral."""
    record = CareRecord.objects.select_for_update().get(pk=record.pk)
    if record.form != CareForm.REFERRAL:
        raise ValidationError({"outcome": "只有心理咨询转介填写转介结果"})
    outcome = (outcome or "").strip()[:300]
    if not outcome:
        raise ValidationError({"outcome": "请填写转介结果"})
    old, record.referral_outcome = record.referral_outcome, outcome
    record.save(update_fields=["referral_outcome"])
    audit_record(actor=actor, action=Action.UPDATE, obj=record, changes={"referral_outcome": [old, outcome]},
                 note="心理咨询转介结果")
    return record


# ---------------------------------------------------------------- the county's cadence

@transaction.atomic
def cadence_set(*, actor, county, group: str, every_weeks: int | None, per_term: bool, what: str,
                forms: list[str]) -> CareCadence:
    """A county's cadence for one group: its row is created on the first change and updated in
    place after that (the audit rows are its history)."""
    if group not in DEFAULT_CADENCES:
        raise ValidationError({"group": "没有这个群体"})
    what = (what or "").strip()
    errors = {}
    if per_term:
        every_weeks = None
    elif not every_weeks or not (1 <= every_weeks <= 52):
        errors["every_weeks"] = "请填写 1–52 周，或选择“每学期一次”"
    if not what:
        errors["what"] = "请填写工作内容"
    bad = [f for f in forms if f not in CareForm.values]
    if bad:
        errors["forms"] = "帮扶形式不正确"
    if errors:
        raise ValidationError(errors)
    current = cadences_for([county.pk])[(county.pk, group)]
    before = {"every_weeks": current.every_weeks, "per_term": current.per_term, "what": current.what,
              "forms": list(current.forms)}
    row, _ = CareCadence.objects.select_for_update().get_or_create(
        county=county, group=group, defaults={"every_weeks": every_weeks, "per_term": per_term, "what": what,
                                              "forms": list(forms), "updated_by": _user(actor)})
    row.every_weeks, row.per_term, row.what, row.forms, row.updated_by = (
        every_weeks, per_term, what[:50], list(forms), _user(actor))
    row.save()
    after = {"every_weeks": row.every_weeks, "per_term": row.per_term, "what": row.what, "forms": row.forms}
    changes = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
    if changes:
        audit_record(actor=actor, action=Action.UPDATE, obj=row, changes=changes,
                     note=f"关爱频次：{row.get_group_display()}")
    return row
