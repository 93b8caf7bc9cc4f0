"""Who sees the exit condition and the legal steps, and who counts as meeting the exit condition.

Visible to the township of the student's residence, the school's office and leaders, the county
bureau (and admins); anyone else gets a 404. The township or the office records legal steps; the
office files the exit condition; the bureau or the office records the approval.
"""

import datetime

from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

from baoxue.cases.models import Case
from baoxue.legal.models import ExitCondition, LegalStep
from baoxue.org.models import Role, Student
from baoxue.org.selectors import is_admin, memberships

VIEW_ROLES = (Role.COUNTY, Role.TOWNSHIP, Role.OFFICE, Role.LEADER)


def _case_scope(user) -> Q | None:
    if not user.is_authenticated:
        return None
    if is_admin(user):
        return Q()
    q = Q(pk__in=[])
    for m in memberships(user):
        if m.role == Role.COUNTY:
            q |= Q(county_id=m.county_id)
        elif m.role == Role.TOWNSHIP:
            q |= Q(student__residence_township_id=m.township_id)
        elif m.role in (Role.OFFICE, Role.LEADER):
            q |= Q(school_id=m.school_id)
    return q


def legal_cases_for_user(user) -> QuerySet[Case]:
    scope = _case_scope(user)
    return Case.objects.none() if scope is None else Case.objects.filter(scope)


def can_see_legal(user) -> bool:
    """Whether the list page (and the navigation link) means anything to the user."""
    if not user.is_authenticated:
        return False
    return is_admin(user) or any(m.role in VIEW_ROLES for m in memberships(user))


def get_legal_case_for_user(user, pk) -> Case:
    """One case's legal page, or 404 for anyone outside (never 403)."""
    try:
        return (legal_cases_for_user(user)
                .select_related("student__school_class__grade", "student__residence_township", "school__county")
                .get(pk=pk))
    except (Case.DoesNotExist, ValueError):
        raise Http404("没有找到该个案")


def sees_case(user, case: Case) -> bool:
    return legal_cases_for_user(user).filter(pk=case.pk).exists()


def is_office(user, case: Case) -> bool:
    return is_admin(user) or any(m.role == Role.OFFICE and m.school_id == case.school_id for m in memberships(user))


def is_township(user, case: Case) -> bool:
    township = case.student.residence_township_id
    return township is not None and any(m.role == Role.TOWNSHIP and m.township_id == township
                                        for m in memberships(user))


def is_county(user, case: Case) -> bool:
    return is_admin(user) or any(m.role == Role.COUNTY and m.county_id == case.county_id for m in memberships(user))


def can_file(user, case: Case) -> bool:
    """The school's 控辍保学办公室 files (and withdraws) the exit condition."""
    return is_office(user, case)


def can_approve(user, case: Case) -> bool:
    """The county bureau records the county government's approval; the office may record the
    paper it received."""
    return is_county(user, case) or is_office(user, case)


def can_record_step(user, case: Case) -> bool:
    """The township of the student's residence takes the legal steps; the office may record them."""
    return is_township(user, case) or is_office(user, case)


def exit_conditions_for_user(user) -> QuerySet[ExitCondition]:
    return ExitCondition.objects.filter(case__in=legal_cases_for_user(user).values("pk"))


def legal_steps_for_user(user) -> QuerySet[LegalStep]:
    return LegalStep.objects.filter(case__in=legal_cases_for_user(user).values("pk"))


# ---------------------------------------------------------------- for reports

def _meets_on(on: datetime.date) -> Q:
    """Approved by `on`, and still out of school that day (a case closed by 复学 ends it)."""
    return (Q(exit_condition__state=ExitCondition.State.APPROVED, exit_condition__approved_on__lte=on)
            & (Q(is_open=True) | Q(closed_on__gt=on)))


def exit_condition_students(county=None, school=None, *, on: datetime.date | None = None) -> QuerySet[Student]:
    """Students who meet the exit condition of 义务教育有保障 on `on` (today by default): counted
    separately in every report, while their case stays in the dropout ledger."""
    on = on or timezone.localdate()
    cases = Case.objects.filter(_meets_on(on))
    if county is not None:
        cases = cases.filter(county_id=getattr(county, "pk", county))
    if school is not None:
        cases = cases.filter(school_id=getattr(school, "pk", school))
    return Student.objects.filter(pk__in=cases.values("student_id"))


def meets_exit_condition(student_ids, *, on: datetime.date | None = None) -> set[int]:
    """The flag for report rows: which of these students meet the exit condition on `on`."""
    on = on or timezone.localdate()
    return set(Case.objects.filter(_meets_on(on), student_id__in=list(student_ids))
               .values_list("student_id", flat=True))
