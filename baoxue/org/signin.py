"""Signing in: lockout after repeated failures, idle sessions, the password change page, and the
first sign-in of an account whose password someone else chose.

- Lockout (django-axes, settings `AXES_*` from LOGIN_FAILURE_LIMIT and LOGIN_LOCKOUT_MINUTES):
  the limit of wrong passwords for one username, from any address, locks that account; the limit
  from one address, whatever usernames it tries, locks that address. While locked the password is
  not even checked: the right one is refused too, and the login page says when to try again.
  Every failure, every lockout and every attempt refused by a lockout is an audit row.
- Sessions end SESSION_IDLE_MINUTES after the last request (`SessionIdleMiddleware`), or when the
  browser closes if "公用电脑" was ticked at sign-in.
- Every signed-in person can change their password (`PasswordChangeView`, audited). An account
  created by import-staff or by the administrator (or whose password the administrator set) is
  flagged `PasswordChangeRequired` and sent to that page until it has a password of its own.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import time

from axes.backends import AxesStandaloneBackend
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_cool_off, get_failure_limit
from axes.models import AccessAttempt
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import SESSION_KEY, get_user_model
from django.contrib.auth import password_validation
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.db import transaction
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import timezone

from baoxue.audit.models import Action
from baoxue.audit.services import audit_record
from baoxue.org.models import PasswordChangeRequired

# Session key: this sign-in must change its password before anything else.
MUST_CHANGE_PASSWORD = "_baoxue_must_change_password"
# Session key: when the session's end was last slid forward (epoch seconds).
LAST_SEEN = "_baoxue_seen"


# ---------------------------------------------------------------- lockout ----------------------

def client_address(request) -> str | None:
    """The address failures are counted against. REMOTE_ADDR, unless AXES_IPWARE_PROXY_COUNT
    says N reverse proxies stand in front: then the N-th address from the right of
    X-Forwarded-For, which our own proxy wrote (what a client writes itself sits further left)."""
    remote = request.META.get("REMOTE_ADDR") or None
    count = getattr(settings, "AXES_IPWARE_PROXY_COUNT", 0) or 0
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if count <= 0 or not forwarded:
        return remote
    hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
    if not hops:
        return remote
    candidate = hops[-count] if len(hops) >= count else hops[0]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote


class SigninBackend(AxesStandaloneBackend):
    """Refuses a sign-in from a locked account or address before any password is checked.

    Only a sign-in through a page (with a request) is counted; `authenticate()` without a
    request (the test client's `login()`, a management command) has no address to count and
    passes on to the ModelBackend."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def _lock_end(rows: list[tuple[datetime.datetime, int]], limit: int,
              cool_off: datetime.timedelta) -> datetime.datetime | None:
    """When a lockout counted over `rows` (last failure time, failures) ends: the failures of a
    row stop counting `cool_off` after its last one; the lockout ends once fewer than `limit`
    still count. None when not locked."""
    remaining = sum(failures for _, failures in rows)
    if remaining < limit:
        return None
    for at, failures in sorted(rows):
        remaining -= failures
        if remaining < limit:
            return at + cool_off
    return None


def lockout_state(request, credentials=None) -> dict:
    """{"username": (failures, end or None), "ip_address": (failures, end or None)} for this
    request's username and address, counting only failures within the cool-off period."""
    limit = get_failure_limit(request, credentials)
    cool_off = get_cool_off(request)
    threshold = timezone.now() - cool_off
    username = get_client_username(request, credentials)
    address = getattr(request, "axes_ip_address", None) or client_address(request)
    state = {}
    for key, value in (("username", username), ("ip_address", address)):
        if not value:
            state[key] = (0, None)
            continue
        rows = list(AccessAttempt.objects.filter(**{key: value}, attempt_time__gte=threshold)
                    .values_list("attempt_time", "failures_since_start"))
        state[key] = (sum(f for _, f in rows), _lock_end(rows, limit, cool_off))
    return state


def _clock(moment: datetime.datetime) -> str:
    """HH:MM, rounded up to the next minute (so that "after 10:45" is true at 10:45)."""
    local = timezone.localtime(moment)
    if local.second or local.microsecond:
        local = local.replace(second=0, microsecond=0) + datetime.timedelta(minutes=1)
    return f"{local:%H:%M}"


def _lock_until(state: dict) -> datetime.datetime | None:
    ends = [end for _, end in state.values() if end is not None]
    return max(ends) if ends else None


def _account_id(username: str) -> str:
    if not username:
        return ""
    pk = get_user_model().objects.filter(username=username).values_list("pk", flat=True).first()
    return str(pk) if pk else ""


class SigninHandler(AxesDatabaseHandler):
    """django-axes' database handler, writing each failure and lockout to the audit log."""

    def user_login_failed(self, sender, credentials: dict, request=None, **kwargs):
        # Set by SigninBackend before the password is checked when the account or address was
        # already locked: this attempt is refused, not counted.
        refused = bool(getattr(request, "axes_locked_out", False)) if request is not None else False
        super().user_login_failed(sender, credentials, request, **kwargs)
        if request is None:
            return
        username = (get_client_username(request, credentials) or "").strip()
        address = getattr(request, "axes_ip_address", None) or "未知地址"
        state = lockout_state(request, credentials)
        until = _lock_until(state)
        if refused:
            note = "账号或地址锁定期间尝试登录，已拒绝（未核对密码）"
            if until:
                note += f"，锁定至 {_clock(until)}"
        elif getattr(request, "axes_locked_out", False):
            limit = get_failure_limit(request, credentials)
            what = []
            if state["username"][1]:
                what.append("账号")
            if state["ip_address"][1]:
                what.append(f"地址 {address} ")
            note = f"连续登录失败{limit}次，{'和'.join(what) or '账号'}锁定至 {_clock(until) if until else '稍后'}"
        else:
            note = f"登录失败（第{max(state['username'][0], 1)}次）"
        audit_record(actor=None, actor_label=(username or "（未填用户名）")[:100], action=Action.LOGIN,
                     object_type="user", object_id=_account_id(username), object_repr=username[:200],
                     note=f"{note}；来自 {address}")

    def user_logged_in(self, sender, request, user, **kwargs):
        super().user_logged_in(sender, request, user, **kwargs)
        # The right password forgives this account's own earlier typos; failures from the same
        # address against other accounts still count (a signed-in attacker cannot wipe them).
        AccessAttempt.objects.filter(username=user.get_username()).delete()


def lockout_response(request, original_response=None, credentials=None):
    """The login page again, saying until when sign-in is refused (AXES_LOCKOUT_CALLABLE)."""
    until = _lock_until(lockout_state(request, credentials))
    if until is None:
        until = timezone.now() + get_cool_off(request)
    form = SigninForm(request, initial={"username": get_client_username(request, credentials) or ""})
    context = {
        "form": form,
        "next": request.POST.get("next", "") if request.method == "POST" else "",
        "lockout_message": f"登录失败次数过多，请在 {_clock(until)} 之后再试。",
    }
    return render(request, "registration/login.html", context, status=settings.AXES_HTTP_RESPONSE_CODE)


# ---------------------------------------------------------------- sign-in page -----------------

class SigninForm(AuthenticationForm):
    shared_computer = forms.BooleanField(
        label="公用电脑（关闭浏览器即退出登录）", required=False,
        help_text="在办公室、机房等多人使用的电脑上登录时勾选。")


class SigninView(auth_views.LoginView):
    form_class = SigninForm
    template_name = "registration/login.html"
    redirect_authenticated_user = True

    def form_valid(self, form):
        response = super().form_valid(form)
        if form.cleaned_data.get("shared_computer"):
            self.request.session.set_expiry(0)  # the session cookie dies with the browser
        return response


class SessionIdleMiddleware:
    """Slides a signed-in session's end forward as the person works, so that it ends
    SESSION_IDLE_MINUTES (settings.SESSION_COOKIE_AGE) after the last request rather than that
    long after signing in. To spare the database a write per request, the session is saved again
    at most once a minute: a session ends between 1 minute early and on time."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.every = max(1, min(60, settings.SESSION_COOKIE_AGE // 10))

    def __call__(self, request):
        response = self.get_response(request)
        session = getattr(request, "session", None)
        if session is None or getattr(settings, "SESSION_SAVE_EVERY_REQUEST", False):
            return response
        if session.modified or SESSION_KEY not in session:
            return response
        now = int(time.time())
        if now - session.get(LAST_SEEN, 0) >= self.every:
            session[LAST_SEEN] = now  # saved by SessionMiddleware with a new end, cookie resent
        return response


# ---------------------------------------------------------------- password change --------------

class MinimumLengthValidator(password_validation.MinimumLengthValidator):
    """Django's, saying it in Chinese (Django 5.2's zh-hans catalogue has no translation of this
    message since it became plural-aware, so it would show in English)."""

    def get_error_message(self):
        return f"密码太短：至少需要 {self.min_length} 个字符。"

    def get_help_text(self):
        return f"密码至少需要 {self.min_length} 个字符。"


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "registration/password_change_form.html"
    success_url = reverse_lazy("home")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["must_change"] = bool(self.request.session.get(MUST_CHANGE_PASSWORD))
        return context

    def form_valid(self, form):
        user = self.request.user
        with transaction.atomic():
            response = super().form_valid(form)
            PasswordChangeRequired.objects.filter(user=user).delete()
            audit_record(actor=user, action=Action.UPDATE, object_type="user", object_id=str(user.pk),
                         object_repr=user.get_username(), note="修改登录密码")
        self.request.session.pop(MUST_CHANGE_PASSWORD, None)
        messages.success(self.request, "密码已修改。下次登录请使用新密码。")
        return response


class PasswordChangeRequiredMiddleware:
    """Sends a sign-in flagged at login (an initial password chosen by someone else) to the
    password change page, whatever it asks for, until the password is changed."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session = getattr(request, "session", None)
        if session is not None and session.get(MUST_CHANGE_PASSWORD) and request.user.is_authenticated:
            allowed = (reverse("password_change"), reverse("logout"))
            if request.path not in allowed and not request.path.startswith(settings.STATIC_URL):
                return redirect("password_change")  # the page says why
        return self.get_response(request)


def require_password_change(user, reason: str) -> None:
    """Flag an account whose password someone else chose (import, administrator)."""
    PasswordChangeRequired.objects.update_or_create(user=user, defaults={"reason": reason[:100]})


def _flag_sign_in(sender, request, user, **kwargs) -> None:
    """At sign-in: remember in the session whether this account must change its password."""
    if request is None or not hasattr(request, "session"):
        return
    if PasswordChangeRequired.objects.filter(user=user).exists():
        request.session[MUST_CHANGE_PASSWORD] = True


def _admin_set_password(sender, instance, created, **kwargs) -> None:
    """The admin site logs every add and change (LogEntry): an account it created with a
    password, or whose password it set, must change it at the next sign-in."""
    if not created or instance.content_type_id is None:
        return
    User = get_user_model()
    if instance.content_type.model_class() is not User:
        return
    if instance.is_addition():
        reason = "管理员新建账号的初始密码"
    elif instance.is_change() and _changes_password(instance.change_message):
        reason = "管理员重设的密码"
    else:
        return
    user = User.objects.filter(pk=instance.object_id).first()
    if user is None or not user.has_usable_password() or str(user.pk) == str(instance.user_id):
        return
    require_password_change(user, reason)


def _changes_password(change_message: str) -> bool:
    try:
        items = json.loads(change_message or "[]")
    except ValueError:
        return False
    return any(isinstance(item, dict) and "password" in item.get("changed", {}).get("fields", [])
               for item in items if isinstance(items, list))


__all__ = [
    "MUST_CHANGE_PASSWORD", "PasswordChangeRequiredMiddleware", "PasswordChangeView",
    "SessionIdleMiddleware", "SigninBackend", "SigninForm", "SigninHandler", "SigninView", "client_address",
    "lockout_response", "require_password_change",
]
