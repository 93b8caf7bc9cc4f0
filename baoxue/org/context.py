"""Template context: the signed-in user's roles, for the navigation."""

from baoxue.org.models import Role
from baoxue.org.selectors import memberships, roles_of


def roles(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    mine = roles_of(user)
    return {
        "my_roles": mine,
        "my_memberships": memberships(user),
        "is_admin": Role.ADMIN in mine,
    }
