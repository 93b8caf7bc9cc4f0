"""Role-scoped reads: who sees which schools, classes and students.

Access lives here and nowhere else. Anything outside a user's scope is a 404 (never a 403,
which would confirm that a student exists).
"""

from django.db.models import Q, QuerySet
from django.http import Http404

from baoxue.lib.idcard import normalise_id
from baoxue.org.models import (
    Membership,
    Role,
    School,
    SchoolClass,
    Student,
)

# Roles that see every student of their school.
WHOLE_SCHOOL_ROLES = (Role.LEADER, Role.OFFICE, Role.REGISTRAR)
# Roles whose work needs full ID numbers (registry work, official reports); others reveal
# a number only by an explicit, audited action, and only if listed here.
ID_REVEAL_ROLES = (Role.ADMIN, Role.COUNTY, Role.LEADER, Role.OFFICE, Role.REGISTRAR)
# Roles that call guardians and so see phone numbers in full.
PHONE_ROLES = (Role.ADMIN, Role.LEADER, Role.OFFICE, Role.REGISTRAR, Role.HEAD_TEACHER, Role.MENTOR)


def memberships(user) -> list[Membership]:
    if not user.is_authenticated:
        return []
    cached = getattr(user, "_baoxue_memberships", None)
    if cached is None:
        cached = list(Membership.objects.filter(user=user).select_related("county", "township", "school"))
        user._baoxue_memberships = cached
    return cached


def roles_of(user) -> set[str]:
    cached = getattr(user, "_baoxue_roles", None)
    if cached is not None:
        return cached
    roles = {m.role for m in memberships(user)}
    if user.is_authenticated and user.is_superuser:
        roles.add(Role.ADMIN)
    if user.is_authenticated and user.head_of_classes.exists():
        roles.add(Role.HEAD_TEACHER)
    user._baoxue_roles = roles
    return roles


def is_admin(user) -> bool:
    return Role.ADMIN in roles_of(user)


def _student_scope(user) -> Q | None:
    """A filter on Student for everything the user may see; None means nothing."""
    if not user.is_authenticated:
        return None
    if is_admin(user):
        return Q()
    scope = Q(pk__in=[])
    for m in memberships(user):
        if m.role == Role.COUNTY:
            scope |= Q(county_id=m.county_id)
        elif m.role == Role.TOWNSHIP:
            # Township officials deal with dropout matters of the people living there.
            scope |= Q(residence_township_id=m.township_id)
        elif m.role in WHOLE_SCHOOL_ROLES:
            scope |= Q(school_id=m.school_id)
        elif m.role == Role.MENTOR:
            scope |= Q(mentorships__mentor=user, mentorships__ended_on__isnull=True, school_id=m.school_id)
    scope |= Q(school_class__head_teacher=user)
    return scope


def students_for_user(user) -> QuerySet[Student]:
    scope = _student_scope(user)
    if scope is None:
        return Student.objects.none()
    return Student.objects.filter(scope).distinct()


def get_student_for_user(user, pk) -> Student:
    try:
        return students_for_user(user).select_related(
            "school", "school_class__grade", "residence_township", "county"
        ).get(pk=pk)
    except (Student.DoesNotExist, ValueError):
        raise Http404("没有找到该学生")


def schools_for_user(user) -> QuerySet[School]:
    """Schools whose pages the user may open."""
    if not user.is_authenticated:
        return School.objects.none()
    if is_admin(user):
        return School.objects.all()
    q = Q(pk__in=[])
    for m in memberships(user):
        if m.role == Role.COUNTY:
            q |= Q(county_id=m.county_id)
        elif m.role == Role.TOWNSHIP:
            q |= Q(township_id=m.township_id)
        elif m.school_id:
            q |= Q(pk=m.school_id)
    q |= Q(classes__head_teacher=user)
    return School.objects.filter(q).distinct()


def get_school_for_user(user, code: str) -> School:
    try:
        return schools_for_user(user).select_related("county", "township").get(code=code)
    except School.DoesNotExist:
        raise Http404("没有找到该学校")


def sees_whole_school(user, school: School) -> bool:
    if is_admin(user):
        return True
    for m in memberships(user):
        if m.role == Role.COUNTY and m.county_id == school.county_id:
            return True
        if m.role in WHOLE_SCHOOL_ROLES and m.school_id == school.pk:
            return True
    return False


def classes_for_user(user) -> QuerySet[SchoolClass]:
    if not user.is_authenticated:
        return SchoolClass.objects.none()
    if is_admin(user):
        return SchoolClass.objects.all()
    q = Q(head_teacher=user)
    for m in memberships(user):
        if m.role == Role.COUNTY:
            q |= Q(school__county_id=m.county_id)
        elif m.role in WHOLE_SCHOOL_ROLES:
            q |= Q(school_id=m.school_id)
    return SchoolClass.objects.filter(q).distinct()


def get_class_for_user(user, pk) -> SchoolClass:
    try:
        return classes_for_user(user).select_related("school", "grade", "head_teacher").get(pk=pk)
    except (SchoolClass.DoesNotExist, ValueError):
        raise Http404("没有找到该班级")


def _role_covers(user, student: Student, roles) -> bool:
    if Role.ADMIN in roles and is_admin(user):
        return True
    for m in memberships(user):
        if m.role not in roles:
            continue
        if m.role == Role.COUNTY and m.county_id == student.county_id:
            return True
        if m.role in WHOLE_SCHOOL_ROLES and m.school_id == student.school_id:
            return True
        if m.role == Role.MENTOR and student.mentorships.filter(mentor=user, ended_on__isnull=True).exists():
            return True
    if Role.HEAD_TEACHER in roles and student.school_class_id:
        return student.school_class.head_teacher_id == user.pk
    return False


def can_reveal_id(user, student: Student) -> bool:
    return _role_covers(user, student, ID_REVEAL_ROLES)


def can_see_phone(user, student: Student) -> bool:
    return _role_covers(user, student, PHONE_ROLES)


def can_edit_student(user, student: Student) -> bool:
    """Registry data is kept by the school's office and registry clerk (and admins)."""
    return _role_covers(user, student, (Role.ADMIN, Role.OFFICE, Role.REGISTRAR))


def can_import_for_school(user, school: School) -> bool:
    if is_admin(user):
        return True
    return any(m.school_id == school.pk and m.role in (Role.OFFICE, Role.REGISTRAR) for m in memberships(user))


def can_edit_leadership_group(user, school: School) -> bool:
    """The school's leaders and office keep the 领导小组 list (and admins)."""
    if is_admin(user):
        return True
    return any(m.school_id == school.pk and m.role in (Role.LEADER, Role.OFFICE) for m in memberships(user))


def can_read_audit(user, school: School | None = None) -> bool:
    """Leaders and admins filter and export the audit trail (the bureau for its county)."""
    if is_admin(user):
        return True
    for m in memberships(user):
        if m.role == Role.COUNTY and (school is None or school.county_id == m.county_id):
            return True
        if m.role in (Role.LEADER, Role.OFFICE) and (school is None or school.pk == m.school_id):
            return True
    return False


def audit_scope(user) -> Q | None:
    """A filter on AuditEntry for what the user may read; None means nothing."""
    if is_admin(user):
        return Q()
    q = None
    for m in memberships(user):
        if m.role == Role.COUNTY:
            q = (q or Q(pk__in=[])) | Q(county_id=m.county_id)
        elif m.role in (Role.LEADER, Role.OFFICE):
            q = (q or Q(pk__in=[])) | Q(school_id=m.school_id)
    return q


def _reveal_scope(user) -> Q | None:
    """A filter on Student for those whose ID numbers the user may reveal (as can_reveal_id)."""
    if not user.is_authenticated:
        return None
    if is_admin(user):
        return Q()
    q = None
    for m in memberships(user):
        if m.role not in ID_REVEAL_ROLES:
            continue
        if m.role == Role.COUNTY:
            q = (q or Q(pk__in=[])) | Q(county_id=m.county_id)
        elif m.role in WHOLE_SCHOOL_ROLES:
            q = (q or Q(pk__in=[])) | Q(school_id=m.school_id)
    return q


def call_scope(user) -> Q | None:
    """A filter on Student for those the user calls home about: their own class and their mentees.

    Lists and exports show phone numbers in full only for these; a whole school's staff see them
    masked there and in full on a student's or a case's page, where a call is the purpose."""
    if not user.is_authenticated:
        return None
    return (Q(school_class__head_teacher=user)
            | Q(pk__in=Student.objects.filter(mentorships__mentor=user, mentorships__ended_on__isnull=True)
                .values("pk")))


def callable_student_ids(user) -> set[int]:
    """The students whose phones the user sees in full in a list or an export (a small set: a
    class or two and some mentees)."""
    scope = call_scope(user)
    if scope is None:
        return set()
    return set(Student.objects.filter(scope).values_list("pk", flat=True))


def search_students(user, query: str) -> QuerySet[Student]:
    """Search by name, pinyin initials, the ID number or the 全国学籍号, within scope.

    A complete ID number (or G-number) finds its student for everyone who sees the student, by
    exact match only. Partial numbers (the last digits of an ID, the start of a G-number, which
    is G + the ID) search only among the students whose numbers the user may reveal: for the
    others, answering a partial number would let a head teacher, a mentor or a township official
    complete a masked number one digit at a time.
    """
    qs = students_for_user(user)
    query = query.strip()
    if not query:
        return qs
    upper = normalise_id(query)
    reveal = _reveal_scope(user)
    partial = (lambda q: qs.filter(reveal & q)) if reveal is not None else (lambda q: qs.none())
    if upper[:1] == "L" and upper[1:].isdigit() and len(upper) > 4:
        # Temporary numbers, not made from the ID number.
        return qs.filter(registry_no__startswith=upper)
    if upper[:1] == "G" and upper[1:].rstrip("X").isdigit() and len(upper) > 4:
        return (qs.filter(registry_no=upper) | partial(Q(registry_no__startswith=upper))).distinct()
    digits = upper.rstrip("X")
    if digits.isdigit() and 3 <= len(upper) <= 18:
        exact = qs.filter(Q(id_number=upper) | Q(registry_no="G" + upper)) if len(upper) in (15, 18) else qs.none()
        return (exact | partial(Q(id_number__endswith=upper) | Q(registry_no__endswith=upper))).distinct()
    if query.isascii() and query.isalpha():
        return qs.filter(name_initials__startswith=query.lower())
    return qs.filter(Q(name__contains=query) | Q(former_name__contains=query))
