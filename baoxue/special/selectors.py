"""Who sees which disabled child, and the reads of the pages. Access lives here: the school's
office, leaders and registry clerk (and the county bureau) see the school; a head teacher sees
own class; the teachers on a 送教上门 plan see their students; anyone else gets a 404."""

import datetime

from django.db.models import Q, QuerySet
from django.http import Http404

from baoxue.org import selectors as org_selectors
from baoxue.org.models import KeyGroup, KeyGroupMembership, Role, School, Student
from baoxue.special.models import HomeTeachingPlan, HomeTeachingVisit, PlacementDecision, SpecialFile, SpecialSettings


def _plan_students(user) -> QuerySet:
    return HomeTeachingPlan.objects.filter(teachers=user).values("student_id")


def _scope(user) -> Q | None:
    """A filter on Student for everything the user may see here; None means nothing."""
    if not user.is_authenticated:
        return None
    if org_selectors.is_admin(user):
        return Q()
    scope = Q(school_class__head_teacher=user) | Q(pk__in=_plan_students(user))
    for m in org_selectors.memberships(user):
        if m.role == Role.COUNTY:
            scope |= Q(county_id=m.county_id)
        elif m.role in org_selectors.WHOLE_SCHOOL_ROLES:
            scope |= Q(school_id=m.school_id)
    return scope


def students_for_user(user) -> QuerySet[Student]:
    scope = _scope(user)
    if scope is None:
        return Student.objects.none()
    return Student.objects.filter(scope)


def get_student_for_user(user, pk) -> Student:
    """One student for the special-education pages, or 404."""
    try:
        return students_for_user(user).select_related("school__county", "school_class__grade", "county").get(pk=pk)
    except (Student.DoesNotExist, ValueError, TypeError):
        raise Http404("没有找到该学生")


def get_plan_for_user(user, pk) -> HomeTeachingPlan:
    try:
        plan = HomeTeachingPlan.objects.select_related("student").get(pk=pk)
    except (HomeTeachingPlan.DoesNotExist, ValueError, TypeError):
        raise Http404("没有找到该计划")
    get_student_for_user(user, plan.student_id)
    return plan


def get_visit_for_user(user, pk) -> HomeTeachingVisit:
    try:
        visit = HomeTeachingVisit.objects.select_related("plan", "student").get(pk=pk)
    except (HomeTeachingVisit.DoesNotExist, ValueError, TypeError):
        raise Http404("没有找到该记录")
    get_student_for_user(user, visit.student_id)
    return visit


def get_file_for_user(user, pk) -> SpecialFile:
    try:
        f = SpecialFile.objects.get(pk=pk)
    except (SpecialFile.DoesNotExist, ValueError, TypeError):
        raise Http404("没有找到该文件")
    get_student_for_user(user, f.student_id)
    return f


def can_manage(user, student: Student) -> bool:
    """Placement decisions and plans: the school's office and registry clerk (and admins)."""
    return org_selectors.can_edit_student(user, student)


def can_record_visit(user, plan: HomeTeachingPlan) -> bool:
    """A visit is recorded by a teacher on the plan, or by the office for them."""
    if not user.is_authenticated:
        return False
    if plan.teachers.filter(pk=user.pk).exists():
        return True
    return can_manage(user, plan.student)


def sees_list(user) -> bool:
    """Whether the list page exists for the user at all (else 404)."""
    if not user.is_authenticated:
        return False
    roles = org_selectors.roles_of(user)  # cached on the user: the left navigation asks on every page
    if Role.ADMIN in roles or Role.HEAD_TEACHER in roles or any(
            m.role == Role.COUNTY or m.role in org_selectors.WHOLE_SCHOOL_ROLES for m in org_selectors.memberships(user)):
        return True
    return HomeTeachingPlan.objects.filter(teachers=user).exists()


def whole_schools(user) -> QuerySet[School]:
    """Schools whose disabled children the user sees as a whole."""
    if not user.is_authenticated:
        return School.objects.none()
    if org_selectors.is_admin(user):
        return School.objects.all()
    q = Q(pk__in=[])
    for m in org_selectors.memberships(user):
        if m.role == Role.COUNTY:
            q |= Q(county_id=m.county_id)
        elif m.role in org_selectors.WHOLE_SCHOOL_ROLES:
            q |= Q(pk=m.school_id)
    return School.objects.filter(q)


def current_settings(county_id: int) -> SpecialSettings:
    """The county's targets in force: two visits a week and 30 class hours a year (an unsaved
    default) until the county sets its own."""
    return (SpecialSettings.objects.filter(county_id=county_id).order_by("-id").first()
            or SpecialSettings(county_id=county_id))


def decisions_of(student: Student) -> list[PlacementDecision]:
    """The placement history, latest first: the first is in force."""
    return list(PlacementDecision.objects.filter(student=student).select_related("decided_by")
                .prefetch_related("files").order_by("-decided_on", "-id"))


def placement_in_force(student: Student) -> PlacementDecision | None:
    return PlacementDecision.objects.filter(student=student).order_by("-decided_on", "-id").first()


def disabled_membership(student: Student, today: datetime.date) -> KeyGroupMembership | None:
    return (KeyGroupMembership.objects.filter(student=student, group=KeyGroup.DISABLED)
            .filter(Q(ended_on__isnull=True) | Q(ended_on__gt=today)).order_by("-started_on").first())


def school_year_of(day: datetime.date) -> str:
    """学年 of a day: from August on it is this year's, before August last year's."""
    first = day.year if day.month >= 8 else day.year - 1
    return f"{first}-{first + 1}"


def plan_in_force(plans: list[HomeTeachingPlan], today: datetime.date) -> HomeTeachingPlan | None:
    """The plan covering today, else the one of this school year, else the latest."""
    for p in plans:
        if p.start_on <= today <= p.end_on:
            return p
    year = school_year_of(today)
    return next((p for p in plans if p.school_year == year), plans[0] if plans else None)


def disabled_students(user, *, school: School | None, today: datetime.date) -> QuerySet[Student]:
    """Students with a current 残疾 key-group membership that the list shows: the school's for
    those who see it whole, else the head teacher's class and the plan teacher's students."""
    current = Q(ended_on__isnull=True) | Q(ended_on__gt=today)
    ids = KeyGroupMembership.objects.filter(current, group=KeyGroup.DISABLED).values("student_id")
    qs = Student.objects.filter(pk__in=ids)
    if school is not None:
        return qs.filter(school=school)
    return qs.filter(Q(school_class__head_teacher=user) | Q(pk__in=_plan_students(user)))
