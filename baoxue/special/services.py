"""Writes of special education, one function per step: keyword-only, atomic, each with its
audit row. Uploads are checked by their content (`check_paper`) and stored under neutral names."""

import datetime
import re
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from baoxue.audit.models import Action
from baoxue.audit.services import audit_record
from baoxue.lib.uploads import UploadRefused, check_paper
from baoxue.org import services as org_services
from baoxue.org.models import DisabilityPlacement, KeyGroup, Membership, SchoolClass, Student
from baoxue.special import selectors
from baoxue.special.models import (
    SCHOOL_YEAR_RE, HomeTeachingPlan, HomeTeachingVisit, PlacementDecision, SpecialFile, SpecialSettings,
)

MAX_PHOTOS = 9
MAX_HOURS = Decimal("8")
PLAN_FIELDS = ["school_year", "start_on", "end_on", "visits_per_week", "hours_per_visit", "hours_per_year",
               "teacher_names"]


def _user(actor):
    return actor if getattr(actor, "is_authenticated", False) else None


def _names(users) -> list[str]:
    return sorted(u.get_full_name() or u.get_username() for u in users)


# ---------------------------------------------------------------- county settings

@transaction.atomic
def settings_set(*, actor, county, visits_per_week: int, hours_per_year: int) -> SpecialSettings:
    old = selectors.current_settings(county.pk)
    new = SpecialSettings(county=county, created_by=_user(actor), visits_per_week=visits_per_week,
                          hours_per_year=hours_per_year)
    if not 1 <= visits_per_week <= 7:
        raise ValidationError({"visits_per_week": "每周送教次数须在 1 到 7 之间"})
    if hours_per_year < 1:
        raise ValidationError({"hours_per_year": "每学年课时至少为 1"})
    new.save()
    fields = ("visits_per_week", "hours_per_year")
    audit_record(actor=actor, action=Action.CREATE, obj=new, note="修改送教上门规则",
                 changes={f: [getattr(old, f), getattr(new, f)] for f in fields if getattr(old, f) != getattr(new, f)})
    return new


# ---------------------------------------------------------------- uploads

def _file_add(*, actor, kind: str, student: Student, upload, decision=None, visit=None) -> SpecialFile:
    try:
        file_type = check_paper(upload, max_mb=settings.APPLICATION_FILE_MAX_MB)
    except UploadRefused as e:
        raise ValidationError({"upload": str(e)})
    owner = decision or visit
    f = SpecialFile(kind=kind, student=student, county_id=student.county_id, school_id=student.school_id,
                    decision=decision, visit=visit, original_name=upload.name[-200:], file_type=file_type,
                    size=upload.size, uploaded_by=_user(actor))
    # The stored name says nothing about the child: the original name is kept in the row.
    f.file.save(f"{kind}-{owner.pk}-{timezone.now():%Y%m%d%H%M%S%f}.{file_type}", upload, save=False)
    f.save()
    audit_record(actor=actor, action=Action.CREATE, obj=f, object_repr=f"{student.name}：{f.get_kind_display()}",
                 scope_from=student, changes={"file": [None, f.original_name]}, note=f"上传{f.get_kind_display()}")
    return f


# ---------------------------------------------------------------- placement

@transaction.atomic
def placement_decide(*, actor, student: Student, decided_on: datetime.date, placement: str, basis: str,
                     upload=None, today: datetime.date | None = None) -> PlacementDecision:
    """A placement decision (随班就读, 特校就读 or 送教上门) with its date and basis. It joins the
    history; when it is the latest, it is in force and the student's 残疾 key-group membership
    carries it."""
    today = today or timezone.localdate()
    basis = (basis or "").strip()
    errors = {}
    if placement not in DisabilityPlacement.values:
        errors["placement"] = "请选择安置方式：随班就读、特校就读或送教上门"
    if not basis:
        errors["basis"] = "请填写决定的依据，如：县残疾人教育专家委员会评估意见"
    if decided_on > today:
        errors["decided_on"] = "决定日期不能晚于今天"
    if errors:
        raise ValidationError(errors)
    student = Student.objects.select_for_update().get(pk=student.pk)
    before = selectors.placement_in_force(student)
    decision = PlacementDecision.objects.create(
        student=student, county_id=student.county_id, school_id=student.school_id, decided_on=decided_on,
        placement=placement, basis=basis[:300], decided_by=_user(actor))
    in_force = selectors.placement_in_force(student)
    audit_record(actor=actor, action=Action.CREATE, obj=decision, scope_from=student,
                 changes={"placement": [before.get_placement_display() if before else None,
                                        decision.get_placement_display()],
                          "decided_on": [None, decided_on], "basis": [None, decision.basis]},
                 note="安置决定" + ("" if in_force.pk == decision.pk else f"（补录；现行仍为 {in_force}）"))
    if upload is not None:
        _file_add(actor=actor, kind=SpecialFile.Kind.BASIS, student=student, upload=upload, decision=decision)
    if in_force.pk == decision.pk:
        _sync_membership(actor=actor, student=student, decision=decision, today=today)
    return decision


def _sync_membership(*, actor, student: Student, decision: PlacementDecision, today: datetime.date) -> None:
    """The 残疾 membership's `placement` follows the decision in force.

    org has no service that changes a membership in place (memberships keep their history by
    ending), so a changed placement ends the open membership and opens the next with the same
    category and level from the decision's date, both through org's services and audited there.
    A child without a current 残疾 membership is added to the group from the decision's date."""
    membership = selectors.disabled_membership(student, today)
    if membership is not None and membership.placement == decision.placement:
        return
    if membership is None:
        org_services.key_group_add(actor=actor, student=student, group=KeyGroup.DISABLED,
                                   started_on=decision.decided_on, placement=decision.placement,
                                   note="安置决定")
        return
    switch_on = max(decision.decided_on, membership.started_on)
    org_services.key_group_end(actor=actor, membership=membership, ended_on=switch_on,
                               note=f"安置方式改为{decision.get_placement_display()}")
    org_services.key_group_add(actor=actor, student=student, group=KeyGroup.DISABLED, started_on=switch_on,
                               subtype=membership.subtype, disability_level=membership.disability_level,
                               placement=decision.placement, note=membership.note)


# ---------------------------------------------------------------- the plan

def _staff_of(school_id: int, users) -> list[str]:
    """Names of the users who are not staff of the school (a role there or a class's head teacher)."""
    ids = {u.pk for u in users}
    staff = set(Membership.objects.filter(user_id__in=ids, school_id=school_id).values_list("user_id", flat=True))
    staff |= set(SchoolClass.objects.filter(head_teacher_id__in=ids, school_id=school_id)
                 .values_list("head_teacher_id", flat=True))
    return [u.get_full_name() or u.get_username() for u in users if u.pk not in staff]


def _decimal(value, field: str) -> Decimal:
    try:
        return Decimal(str(value)).quantize(Decimal("0.1"))
    except (InvalidOperation, ValueError):
        raise ValidationError({field: f"“{value}”不是数字"})


@transaction.atomic
def plan_save(*, actor, student: Student, school_year: str, start_on: datetime.date, end_on: datetime.date,
              visits_per_week: int, hours_per_visit, teachers=(), teacher_names: str = "",
              hours_per_year: int | None = None) -> HomeTeachingPlan:
    """The 送教上门 plan of a school year, created or changed (one per student and year). Only a
    child whose placement in force is 送教上门 has one."""
    teachers = list(teachers)
    teacher_names = (teacher_names or "").strip()
    hours_per_visit = _decimal(hours_per_visit, "hours_per_visit")
    errors: dict[str, str] = {}
    in_force = selectors.placement_in_force(student)
    if in_force is None or in_force.placement != DisabilityPlacement.HOME_TEACHING:
        errors["__all__"] = ("现行安置方式为" + (in_force.get_placement_display() if in_force else "未登记")
                             + "：先登记送教上门的安置决定，再制定送教计划")
    if not re.match(SCHOOL_YEAR_RE, school_year or "") or int(school_year[5:]) != int(school_year[:4]) + 1:
        errors["school_year"] = "学年写成 2025-2026"
    elif not (datetime.date(int(school_year[:4]), 7, 1) <= start_on and end_on <= datetime.date(int(school_year[5:]), 8, 31)):
        errors["start_on"] = f"起止日期须在 {school_year} 学年之内"
    if end_on < start_on:
        errors["end_on"] = "结束日期不能早于开始日期"
    if not 1 <= visits_per_week <= 7:
        errors["visits_per_week"] = "每周送教次数须在 1 到 7 之间"
    if not Decimal("0") < hours_per_visit <= MAX_HOURS:
        errors["hours_per_visit"] = "每次课时须大于 0、不超过 8"
    if hours_per_year is not None and hours_per_year < 1:
        errors["hours_per_year"] = "目标课时至少为 1"
    if not teachers and not teacher_names:
        errors["teachers"] = "请选择或填写送教教师"
    outside = _staff_of(student.school_id, teachers)
    if outside:
        errors["teachers"] = "不是本校教职工：" + "、".join(outside)
    if errors:
        raise ValidationError(errors)
    plan = HomeTeachingPlan.objects.select_for_update().filter(student=student, school_year=school_year).first()
    values = dict(school_year=school_year, start_on=start_on, end_on=end_on, visits_per_week=visits_per_week,
                  hours_per_visit=hours_per_visit, hours_per_year=hours_per_year, teacher_names=teacher_names[:200])
    if plan is None:
        plan = HomeTeachingPlan.objects.create(student=student, county_id=student.county_id, school_id=student.school_id,
                                               created_by=_user(actor), **values)
        plan.teachers.set(teachers)
        audit_record(actor=actor, action=Action.CREATE, obj=plan, scope_from=student, note="制定送教上门计划",
                     changes={**{f: [None, v] for f, v in values.items() if v not in ("", None)},
                              "teachers": [None, _names(teachers)]})
        return plan
    before = {f: getattr(plan, f) for f in PLAN_FIELDS}
    old_teachers = _names(plan.teachers.all())
    for f, v in values.items():
        setattr(plan, f, v)
    plan.save()
    plan.teachers.set(teachers)
    changes = {f: [before[f], values[f]] for f in PLAN_FIELDS if before[f] != values[f]}
    if old_teachers != _names(teachers):
        changes["teachers"] = [old_teachers, _names(teachers)]
    if changes:
        audit_record(actor=actor, action=Action.UPDATE, obj=plan, scope_from=student, changes=changes,
                     note="修改送教上门计划")
    return plan


# ---------------------------------------------------------------- visits

@transaction.atomic
def visit_record(*, actor, plan: HomeTeachingPlan, date: datetime.date, hours, content: str, teachers=(),
                 teacher_names: str = "", signature=None, photos=(), today: datetime.date | None = None
                 ) -> HomeTeachingVisit:
    """One 送教上门 visit, with the guardian's signature and photos when given (they can be added
    later; a visit without the signature is flagged)."""
    today = today or timezone.localdate()
    teachers, photos = list(teachers), list(photos)
    hours = _decimal(hours, "hours")
    content = (content or "").strip()
    teacher_names = (teacher_names or "").strip()
    errors: dict[str, str] = {}
    if date > today:
        errors["date"] = "送教日期不能晚于今天"
    elif not plan.start_on <= date <= plan.end_on:
        errors["date"] = f"送教日期须在计划期内（{plan.start_on} 至 {plan.end_on}）"
    if not Decimal("0") < hours <= MAX_HOURS:
        errors["hours"] = "课时须大于 0、不超过 8"
    if not content:
        errors["content"] = "请填写送教内容"
    if not teachers and not teacher_names:
        errors["teachers"] = "请选择或填写送教教师"
    outside = _staff_of(plan.school_id, teachers)
    if outside:
        errors["teachers"] = "不是本校教职工：" + "、".join(outside)
    if len(photos) > MAX_PHOTOS:
        errors["photos"] = f"一次最多上传 {MAX_PHOTOS} 张照片"
    if errors:
        raise ValidationError(errors)
    student = plan.student
    visit = HomeTeachingVisit.objects.create(plan=plan, student=student, county_id=plan.county_id, school_id=plan.school_id,
                                             date=date, hours=hours, content=content[:500],
                                             teacher_names=teacher_names[:200], recorded_by=_user(actor))
    visit.teachers.set(teachers)
    audit_record(actor=actor, action=Action.CREATE, obj=visit, scope_from=student, note="送教上门记录",
                 changes={"date": [None, date], "hours": [None, hours], "content": [None, visit.content],
                          "teachers": [None, _names(teachers) + ([teacher_names] if teacher_names else [])]})
    if signature is not None:
        _file_add(actor=actor, kind=SpecialFile.Kind.SIGNATURE, student=student, upload=signature, visit=visit)
    for photo in photos:
        _file_add(actor=actor, kind=SpecialFile.Kind.PHOTO, student=student, upload=photo, visit=visit)
    return visit


@transaction.atomic
def visit_file_add(*, actor, visit: HomeTeachingVisit, kind: str, upload) -> SpecialFile:
    """The guardian's signature or a photo added to a recorded visit."""
    if kind not in (SpecialFile.Kind.SIGNATURE, SpecialFile.Kind.PHOTO):
        raise ValidationError({"kind": "只能补传监护人签字或送教照片"})
    if kind == SpecialFile.Kind.PHOTO and visit.files.filter(kind=kind).count() >= 3 * MAX_PHOTOS:
        raise ValidationError({"upload": "这次送教的照片已经很多了"})
    return _file_add(actor=actor, kind=kind, student=visit.student, upload=upload, visit=visit)
