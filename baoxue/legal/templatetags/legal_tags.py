"""The exit condition and legal steps block of the 13510 case page, and the navigation link."""

from django import template

from baoxue.legal import selectors

register = template.Library()


@register.inclusion_tag("legal/_block.html", takes_context=True)
def legal_block(context, case):
    """Full block for those who see the case's legal page; others who see the case learn only
    that the student meets the exit condition."""
    from baoxue.legal.views import case_context

    user = context["request"].user
    if selectors.sees_case(user, case):
        return {"full": True, **case_context(user, case)}
    ec = case_context(user, case)["ec"] if case.stage == "dropout" else None
    return {"full": False, "case": case, "ec": ec}


@register.inclusion_tag("legal/_nav.html", takes_context=True)
def legal_nav(context):
    request = context["request"]
    return {"show": selectors.can_see_legal(request.user),
            "on": request.path.startswith("/legal/")}
