"""The county's and the township's blocks on the home page, and the links behind numbers."""

from urllib.parse import urlencode

from django import template
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from baoxue.org import selectors as org_selectors
from baoxue.org.models import Role

register = template.Library()


@register.simple_tag
def case_link(n, what, school=None, township=None, residents=None):
    """A number that opens the cases behind it (`overview_cases`); a 0 stays plain text."""
    if not n:
        return mark_safe('<span class="muted">0</span>')
    # A template passes "" for a variable it does not have: only the given filters go in.
    query = {"what": what, "school": school, "township": township, "residents": residents}
    query = {k: v for k, v in query.items() if v not in (None, "")}
    return format_html('<a href="{}?{}">{}</a>', reverse("overview_cases"), urlencode(query), n)


@register.inclusion_tag("reports/_home_county.html")
def home_county(user):
    """The county overview on the bureau's home page (the full page is `overview_county`)."""
    from baoxue.reports.views_overview import county_context, county_schools

    schools = county_schools(user)
    if schools is None:
        return {"show": False}
    return {"show": True, **county_context(user, schools, timezone.localdate())}


@register.inclusion_tag("reports/_home_township.html")
def home_township(user):
    """A township official's residents at a glance, one block per township they serve."""
    from baoxue.reports.views_overview import township_context

    blocks = [township_context(user, m.township, timezone.localdate())
              for m in org_selectors.memberships(user) if m.role == Role.TOWNSHIP]
    return {"blocks": blocks}


@register.inclusion_tag("reports/_home_school.html")
def home_school_today(user, school):
    """Today at one school, for its office, principal and registry clerk: the roll calls in by the
    due time and the open 13510 work, every number a link to its list."""
    from baoxue.reports import overview

    data = overview.county_overview([school])
    return {"r": data["rows"][0], "due": data["due"], "calendar_error": data["calendar_error"], "code": school.code}
