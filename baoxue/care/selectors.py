"""Who sees whose care: one place.

- The office, the leaders and the registry clerk of a school see all its students' care; the
  county bureau its county's; admins everything.
- A head teacher sees the care of the students of their class; a mentor only their own mentees.
- Township officials see a student's dropout matters, not their care: a 404 here.
Anyone else gets a 404 (never a 403, which would say the student exists).
"""

from django.db.models import Q, QuerySet
from django.http import Http404

from baoxue.org import selectors as org_selectors
from baoxue.org.models import Role, School, Student

# Roles that mark students high-risk and assign mentors (plan: 控辍保学办公室, 学校领导).
MANAGE_ROLES = (Role.OFFICE, Role.LEADER)


def _care_scope(user) -> Q | None:
    if not user.is_authenticated:
        return None
    if org_selectors.is_admin(user):
        return Q()
    scope = Q(school_class__head_teacher=user)
    for m in org_selectors.memberships(user):
        if m.role == Role.COUNTY:
            scope |= Q(county_id=m.county_id)
        elif m.role in org_selectors.WHOLE_SCHOOL_ROLES:
            scope |= Q(school_id=m.school_id)
    scope |= Q(pk__in=Student.objects.filter(mentorships__mentor=user, mentorships__ended_on__isnull=True).values("pk"))
    return scope


def care_students_for_user(user) -> QuerySet[Student]:
    scope = _care_scope(user)
    if scope is None:
        return Student.objects.none()
    return Student.objects.filter(scope)


def get_care_student_for_user(user, pk) -> Student:
    try:
        return care_students_for_user(user).select_related(
            "school", "school_class__grade", "school_class__head_teacher", "county").get(pk=pk)
    except (Student.DoesNotExist, ValueError, TypeError):
        raise Http404("没有找到该学生")


def can_manage(user, school: School) -> bool:
    """Mark high-risk, assign or end a mentor: the school's office and leaders (and admins)."""
    if org_selectors.is_admin(user):
        return True
    return any(m.role in MANAGE_ROLES and m.school_id == school.pk for m in org_selectors.memberships(user))


def can_record(user, student: Student) -> bool:
    """Write care records and the plan: the student's mentor, head teacher, or the school's office
    and leaders. The county reads only."""
    if can_manage(user, student.school):
        return True
    if student.school_class_id and student.school_class.head_teacher_id == user.pk:
        return True
    return student.mentorships.filter(mentor=user, ended_on__isnull=True).exists()


def get_overview_school_for_user(user, code: str) -> School:
    """A school whose key-group page and high-risk list the user reads as a whole."""
    school = org_selectors.get_school_for_user(user, code)
    if not org_selectors.sees_whole_school(user, school):
        raise Http404("没有找到该页面")
    return school


def overview_schools(user) -> list[School]:
    return [s for s in org_selectors.schools_for_user(user).order_by("code")
            if org_selectors.sees_whole_school(user, s)]
