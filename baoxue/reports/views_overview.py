"""Pages of the county's and the township's view (`reports.overview`): the overview by school,
today's roll calls of every school, the list behind each number, and a township's residents.

Outsiders get 404: the county sees its county, a township its residents, nobody else either."""

import datetime

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache

from baoxue.cases import selectors as case_selectors
from baoxue.cases.models import PersuasionAttempt
from baoxue.legal.selectors import legal_steps_for_user
from baoxue.org import selectors as org_selectors
from baoxue.org.models import Role, Term, Township
from baoxue.reports import overview

TREND_WEEKS_WITHOUT_TERM = 16


def county_schools(user):
    """The schools of the counties the user oversees (all of them for an admin); None when the
    user oversees no county."""
    if org_selectors.is_admin(user):
        return org_selectors.schools_for_user(user).select_related("township").order_by("township__name", "code")
    counties = [m.county_id for m in org_selectors.memberships(user) if m.role == Role.COUNTY]
    if not counties:
        return None
    return (org_selectors.schools_for_user(user).filter(county_id__in=counties).select_related("township")
            .order_by("township__name", "code"))


def _county_schools_or_404(user):
    schools = county_schools(user)
    if schools is None:
        raise Http404("没有找到该页面")
    return schools


def term_start(schools, today: datetime.date) -> datetime.date:
    """The start of the term the schools are in (the earliest start among terms begun by today and
    not yet over; else the last begun); 16 weeks back when no term is known."""
    terms = Term.objects.filter(school__in=schools, start__lte=today)
    start = (terms.filter(end__gte=today).order_by("start").values_list("start", flat=True).first()
             or terms.order_by("-start").values_list("start", flat=True).first())
    return start or today - datetime.timedelta(weeks=TREND_WEEKS_WITHOUT_TERM)


def county_context(user, schools, today: datetime.date) -> dict:
    data = overview.county_overview(schools, today=today)
    start = term_start(schools, today)
    points = overview.weekly_trend(case_selectors.cases_for_user(user).filter(school__in=schools), start=start,
                                   end=today)
    return {**data, "trend": overview.trend_svg(points), "trend_points": points, "trend_start": start,
            "many_townships": len(data["townships"]) > 1}


@never_cache
@login_required
def county(request):
    schools = _county_schools_or_404(request.user)
    today = timezone.localdate()
    return render(request, "reports/overview_county.html", county_context(request.user, schools, today))


@never_cache
@login_required
def roll_calls(request):
    """Today's roll calls, school by school, each a link to the school's roll-call status."""
    schools = _county_schools_or_404(request.user)
    data = overview.county_overview(schools)
    return render(request, "reports/overview_roll_calls.html", data)


@never_cache
@login_required
def cases(request):
    """The cases behind one number: ?what=short&school=CODE (or &township=ID), within the
    user's cases; an unknown list, school or township is a 404."""
    user = request.user
    what = request.GET.get("what", "")
    if what not in overview.CASE_LISTS or not case_selectors.can_see_ledgers(user):
        raise Http404("没有找到该页面")
    scope = case_selectors.cases_for_user(user)
    where = ""
    code = request.GET.get("school", "")
    if code:
        school = org_selectors.get_school_for_user(user, code)
        scope, where = scope.filter(school=school), school.name
    elif request.GET.get("township"):  # the schools located in a township (the county's rows)
        township = _township_or_404(user, request.GET["township"])
        scope, where = scope.filter(school__township=township), f"{township.name}的学校"
    elif request.GET.get("residents"):  # the township's residents, wherever they study
        township = _township_or_404(user, request.GET["residents"])
        scope, where = scope.filter(student__residence_township=township), f"{township.name}常住学生"
    rows = overview.cases_behind(scope, what)
    return render(request, "reports/overview_cases.html", {
        "rows": rows, "title": overview.CASE_LISTS[what], "where": where, "what": what, "today": timezone.localdate(),
    })


def _township_or_404(user, pk) -> Township:
    """A township the user oversees: its own township official, or the county of the township
    (admins all)."""
    try:
        township = Township.objects.select_related("county").get(pk=int(pk))
    except (Township.DoesNotExist, ValueError, TypeError):
        raise Http404("没有找到该乡镇")
    if org_selectors.is_admin(user):
        return township
    for m in org_selectors.memberships(user):
        if m.role == Role.TOWNSHIP and m.township_id == township.pk:
            return township
        if m.role == Role.COUNTY and m.county_id == township.county_id:
            return township
    raise Http404("没有找到该乡镇")


def township_context(user, township: Township, today: datetime.date) -> dict:
    students = org_selectors.students_for_user(user).filter(residence_township=township)
    cases = case_selectors.cases_for_user(user).filter(student__residence_township=township)
    data = overview.township_overview(township, students=students, cases=cases, today=today)
    data["reports"] = list(case_selectors.reports_for_user(user).filter(case__in=cases.values("pk"))
                           .select_related("case__student__school_class__grade", "case__school", "township", "read_by")
                           .order_by("-sent_on", "-id")[:50])
    data["joint"] = list(PersuasionAttempt.objects.filter(case__in=cases.values("pk"), method=PersuasionAttempt.Method.JOINT)
                         .select_related("case__student__school_class__grade", "case__school")
                         .order_by("-date", "-id")[:50])
    data["legal_steps"] = list(legal_steps_for_user(user).filter(case__in=cases.values("pk"))
                               .select_related("case__student", "school").order_by("-date", "-id")[:50])
    data["today"] = today
    return data


@never_cache
@login_required
def township(request, pk):
    township = _township_or_404(request.user, pk)
    data = township_context(request.user, township, timezone.localdate())
    return render(request, "reports/overview_township.html", {"t": data, **data})
