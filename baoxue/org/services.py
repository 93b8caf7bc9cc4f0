"""Writes for organisation and people. One function per step, keyword-only, atomic, each with
its audit row; called by the web views, the CLI, the import and the demo alike."""

import datetime

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction

from baoxue.audit.models import Action
from baoxue.audit.services import audit_record, diff, field_values
from baoxue.lib import idcard
from baoxue.lib.pinyin import initials
from baoxue.org.models import (
    County,
    FamilyMember,
    IdType,
    KeyGroupMembership,
    LeadershipGroup,
    LeadershipMember,
    Membership,
    Role,
    School,
    Stage,
    Student,
    Term,
    Township,
)

User = get_user_model()

STUDENT_FIELDS = [
    "name", "former_name", "sex", "birth_date", "ethnicity", "id_type", "id_number", "registry_no",
    "aux_registry_no", "school_class", "enrolled_on", "status", "status_since", "hukou_address",
    "address", "residence_township", "residence_village", "phone", "boarding", "distance_km", "commute",
]
FAMILY_FIELDS = [
    "name", "relation", "phone", "is_guardian", "works_away", "works_away_place", "id_type",
    "id_number", "address", "employer",
]
KEY_GROUP_FIELDS = ["group", "subtype", "disability_level", "placement", "started_on", "ended_on", "note"]


def student_problems(student: Student) -> list[tuple[str, str]]:
    """Data rules for a student record, as (field, message) pairs; empty when valid.

    A 居民身份证 must pass the GB 11643 check digit and agree with the birth date and sex."""
    problems: list[tuple[str, str]] = []
    if not student.name.strip():
        problems.append(("name", "姓名不能为空"))
    if student.id_type == IdType.RESIDENT and student.id_number:
        try:
            idcard.check_resident_id(student.id_number, birth_date=student.birth_date, sex=student.sex)
        except idcard.IdNumberError as e:
            problems.append(("id_number", str(e)))
    if student.registry_no and not (student.registry_no[:1] in ("G", "L") and len(student.registry_no) >= 10):
        problems.append(("registry_no", "全国学籍号应以 G 或 L 开头（G + 身份证件号，或 L + 临时编号）"))
    if student.school_class_id and student.school_class.school_id != student.school_id:
        problems.append(("school_class", "班级不属于该学生的学校"))
    return problems


def _validate_student(student: Student) -> None:
    problems = student_problems(student)
    if problems:
        raise ValidationError({field: msg for field, msg in problems})


def _prepare_student(student: Student) -> None:
    student.id_number = idcard.normalise_id(student.id_number)
    student.registry_no = idcard.normalise_id(student.registry_no)
    student.name = student.name.strip()
    student.name_initials = initials(student.name)
    student.county_id = student.school.county_id


@transaction.atomic
def student_create(*, actor, student: Student, note: str = "") -> Student:
    _prepare_student(student)
    _validate_student(student)
    student.save()
    audit_record(actor=actor, action=Action.CREATE, obj=student,
                 changes={k: [None, v] for k, v in field_values(student, STUDENT_FIELDS).items() if v not in ("", None)},
                 note=note)
    return student


@transaction.atomic
def student_update(*, actor, student: Student, note: str = "") -> Student:
    """Save changes made to `student` in memory; the audit row holds old and new values."""
    before = field_values(Student.objects.get(pk=student.pk), STUDENT_FIELDS)
    _prepare_student(student)
    _validate_student(student)
    changes = diff(before, field_values(student, STUDENT_FIELDS))
    if not changes:
        return student
    student.save()
    audit_record(actor=actor, action=Action.UPDATE, obj=student, changes=changes, note=note)
    return student


@transaction.atomic
def student_reveal_id(*, actor, student: Student) -> str:
    """Show a full ID number: allowed only for roles that need it, and always logged."""
    audit_record(actor=actor, action=Action.REVEAL, obj=student, note="查看完整身份证件号")
    return student.id_number


@transaction.atomic
def family_member_save(*, actor, member: FamilyMember) -> FamilyMember:
    member.school_id = member.student.school_id
    member.id_number = idcard.normalise_id(member.id_number)
    if member.id_type == IdType.RESIDENT and member.id_number:
        try:
            idcard.parse_resident_id(member.id_number)
        except idcard.IdNumberError as e:
            raise ValidationError({"id_number": str(e)})
    if member.pk:
        before = field_values(FamilyMember.objects.get(pk=member.pk), FAMILY_FIELDS)
        changes = diff(before, field_values(member, FAMILY_FIELDS))
        member.save()
        if changes:
            audit_record(actor=actor, action=Action.UPDATE, obj=member, changes=changes)
    else:
        member.save()
        audit_record(actor=actor, action=Action.CREATE, obj=member,
                     changes={k: [None, v] for k, v in field_values(member, FAMILY_FIELDS).items() if v not in ("", None)})
    return member


@transaction.atomic
def family_member_delete(*, actor, member: FamilyMember) -> None:
    audit_record(actor=actor, action=Action.DELETE, obj=member,
                 changes={k: [v, None] for k, v in field_values(member, FAMILY_FIELDS).items() if v not in ("", None)})
    member.delete()


@transaction.atomic
def key_group_add(*, actor, student: Student, group: str, started_on: datetime.date, subtype: str = "",
                  disability_level: str = "", placement: str = "", note: str = "") -> KeyGroupMembership:
    if KeyGroupMembership.objects.filter(student=student, group=group, ended_on__isnull=True).exists():
        raise ValidationError({"group": "该学生已在这个重点群体中：请先结束现有记录"})
    membership = KeyGroupMembership.objects.create(
        student=student, county_id=student.county_id, school_id=student.school_id, group=group,
        subtype=subtype, disability_level=disability_level, placement=placement,
        started_on=started_on, note=note,
    )
    audit_record(actor=actor, action=Action.CREATE, obj=membership,
                 changes={k: [None, v] for k, v in field_values(membership, KEY_GROUP_FIELDS).items() if v not in ("", None)})
    return membership


@transaction.atomic
def key_group_end(*, actor, membership: KeyGroupMembership, ended_on: datetime.date, note: str = "") -> KeyGroupMembership:
    """End a membership; it stays in the history."""
    if ended_on < membership.started_on:
        raise ValidationError({"ended_on": "结束日期不能早于开始日期"})
    old = membership.ended_on
    membership.ended_on = ended_on
    if note:
        membership.note = note
    membership.save(update_fields=["ended_on", "note"])
    audit_record(actor=actor, action=Action.UPDATE, obj=membership, changes={"ended_on": [old, ended_on]}, note=note)
    return membership


@transaction.atomic
def school_add(*, actor, code: str, name: str, township: str, county_code: str | None = None,
               county: str | None = None, stage: str = Stage.JUNIOR) -> School:
    """Create a school, and its township and county when new (`baoxue school add`)."""
    if not (len(code) == 10 and code.isdigit()):
        raise ValidationError({"code": f"学校标识码应为10位数字，收到“{code}”"})
    if School.objects.filter(code=code).exists():
        raise ValidationError({"code": f"学校标识码 {code} 已存在"})
    if county_code:
        if not (len(county_code) == 6 and county_code.isdigit()):
            raise ValidationError({"county_code": f"行政区划代码应为6位数字，收到“{county_code}”"})
        county_obj, created = County.objects.get_or_create(code=county_code, defaults={"name": county or county_code})
        if created:
            audit_record(actor=actor, action=Action.CREATE, obj=county_obj)
    else:
        counties = list(County.objects.all()[:2])
        if len(counties) != 1:
            raise ValidationError({"county_code": "系统中有多个或没有区县：请用 --county-code 和 --county 指定"})
        county_obj = counties[0]
    township_obj, created = Township.objects.get_or_create(county=county_obj, name=township.strip())
    if created:
        audit_record(actor=actor, action=Action.CREATE, obj=township_obj, scope_from=None)
    school = School.objects.create(code=code, name=name.strip(), county=county_obj, township=township_obj, stage=stage)
    audit_record(actor=actor, action=Action.CREATE, obj=school,
                 changes={"code": [None, code], "name": [None, school.name], "township": [None, township_obj.name]})
    return school


@transaction.atomic
def term_add(*, actor, school: School, name: str, start: datetime.date, end: datetime.date) -> Term:
    if end < start:
        raise ValidationError({"end": "学期结束日期不能早于开学日期"})
    term = Term.objects.create(school=school, name=name, start=start, end=end)
    audit_record(actor=actor, action=Action.CREATE, obj=term, scope_from=school,
                 changes={"name": [None, name], "start": [None, start], "end": [None, end]})
    return term


@transaction.atomic
def membership_add(*, actor, user, role: str, county: County | None = None, township: Township | None = None,
                   school: School | None = None) -> Membership:
    """Give `user` a role; giving a role they already have changes nothing."""
    if school is not None:
        county = school.county
    if township is not None:
        county = township.county
    existing = Membership.objects.filter(user=user, role=role, county=county, township=township, school=school).first()
    if existing is not None:
        return existing
    membership = Membership.objects.create(user=user, role=role, county=county, township=township, school=school)
    audit_record(actor=actor, action=Action.CREATE, obj=membership, scope_from=school,
                 object_repr=f"{user.get_username()} {membership}")
    return membership


@transaction.atomic
def leadership_group_set(*, actor, school: School, term: Term, office_director: str,
                         members: list[tuple[str, str, str]], office_location: str = "政教处") -> LeadershipGroup:
    """Record a term's 控辍保学工作领导小组: members are (position, name, title) triples."""
    group, _ = LeadershipGroup.objects.update_or_create(
        school=school, term=term, defaults={"office_director": office_director, "office_location": office_location},
    )
    before = [f"{m.get_position_display()} {m.name}" for m in group.members.all()]
    group.members.all().delete()
    LeadershipMember.objects.bulk_create(
        [LeadershipMember(group=group, position=p, name=n, title=t) for p, n, t in members]
    )
    after = [f"{m.get_position_display()} {m.name}" for m in group.members.all()]
    audit_record(actor=actor, action=Action.UPDATE, obj=group, scope_from=school,
                 changes={"members": [before, after], "office_director": [None, office_director]})
    return group


def staff_user_create(*, actor, username: str, full_name: str, password: str) -> "User":
    """An account with an initial password chosen for the person: checked against the password
    validators, and to be changed at the first sign-in."""
    from django.contrib.auth.password_validation import validate_password

    from baoxue.org.signin import require_password_change

    validate_password(password, user=User(username=username, first_name=full_name))
    user = User.objects.create_user(username=username, password=password, first_name=full_name)
    require_password_change(user, "管理员设置的初始密码")
    audit_record(actor=actor, action=Action.CREATE, object_type="user", object_id=str(user.pk),
                 object_repr=f"{username} {full_name}")
    return user


__all__ = [
    "Role", "student_create", "student_update", "student_reveal_id", "family_member_save",
    "family_member_delete", "key_group_add", "key_group_end", "school_add", "term_add",
    "membership_add", "leadership_group_set", "staff_user_create", "student_problems",
]
