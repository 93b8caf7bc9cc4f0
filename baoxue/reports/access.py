"""Who sees and does what with monthly reports and 巩固率.

- A school's leaders (学校领导), office (控辍保学办公室) and registrar see its reports; the bureau
  (县教体局) sees those of its county's schools; admins see all. Anyone else gets a 404.
- The office reviews (with remarks) and refreshes the figures; the principal (role leader)
  signs; the office or the principal submits after signing; the bureau sends a submitted report
  back with a reason.
- 巩固率 inputs are entered by the school's office, registrar or leaders.
"""

from django.db.models import Q, QuerySet
from django.http import Http404

from baoxue.org.models import County, Role, School
from baoxue.org.selectors import is_admin, memberships

SCHOOL_REPORT_ROLES = (Role.LEADER, Role.OFFICE, Role.REGISTRAR)


def report_schools_for_user(user) -> QuerySet[School]:
    if not user.is_authenticated:
        return School.objects.none()
    if is_admin(user):
        return School.objects.all()
    q = Q(pk__in=[])
    for m in memberships(user):
        if m.role == Role.COUNTY:
            q |= Q(county_id=m.county_id)
        elif m.role in SCHOOL_REPORT_ROLES:
            q |= Q(pk=m.school_id)
    return School.objects.filter(q)


def get_report_school_for_user(user, code: str) -> School:
    try:
        return report_schools_for_user(user).select_related("county", "township").get(code=code)
    except School.DoesNotExist:
        raise Http404("没有找到该学校")


def own_schools(user) -> list[School]:
    """The schools where the user holds a school role that sees reports (not the county's)."""
    return sorted({m.school for m in memberships(user) if m.role in SCHOOL_REPORT_ROLES and m.school_id},
                  key=lambda s: s.code)


def bureau_counties(user) -> list[County]:
    """Counties whose schools' reports the user oversees: the bureau's, or every one for admins."""
    if not user.is_authenticated:
        return []
    if is_admin(user):
        return list(County.objects.order_by("code"))
    return sorted({m.county for m in memberships(user) if m.role == Role.COUNTY}, key=lambda c: c.code)


def has_school_role(user, school: School, *roles) -> bool:
    return any(m.role in roles and m.school_id == school.pk for m in memberships(user))


def is_bureau_of(user, school: School) -> bool:
    return any(m.role == Role.COUNTY and m.county_id == school.county_id for m in memberships(user))


def allowed_actions(user, report, school: School) -> set[str]:
    """The steps `user` may take on `report` (None: the month has no report yet)."""
    office = has_school_role(user, school, Role.OFFICE)
    leader = has_school_role(user, school, Role.LEADER)
    if report is None:
        return {"draft"} if office or leader or is_admin(user) else set()
    state = report.state
    acts = set()
    if state in ("draft", "reviewed") and (office or leader or is_admin(user)):
        acts.add("refresh")
    if state in ("draft", "reviewed") and office:
        acts.add("review")
    if state == "reviewed" and leader:
        acts.add("sign")
    if state == "signed" and (office or leader):
        acts.add("submit")
    if state == "submitted" and is_bureau_of(user, school):
        acts.add("return")
    return acts


def can_edit_retention(user, school: School) -> bool:
    return is_admin(user) or has_school_role(user, school, *SCHOOL_REPORT_ROLES)
