from django import template

register = template.Library()


@register.simple_tag
def special_nav(user) -> bool:
    """Whether the left navigation shows 残疾儿童 (the list page exists for the user)."""
    from baoxue.special import selectors

    return selectors.sees_list(user)
