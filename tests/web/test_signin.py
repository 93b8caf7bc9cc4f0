"""Signing in: lockout after repeated failures (per account, per address), every failure and
lockout in the audit log, sessions that end when idle or at browser close."""

import datetime

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from baoxue.audit.models import Action, AuditEntry
from baoxue.org.signin import LAST_SEEN, _clock, _lock_end, client_address

from tests.web.conftest import PASSWORD

HOME = reverse("home")
LOGIN = reverse("login")


def attempt(client, username, password, address="10.0.0.1"):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=address)


def signed_in(client) -> bool:
    return client.get(HOME).status_code == 200


def fail(client, username, times, address="10.0.0.1"):
    return [attempt(client, username, f"wrong-{i}", address) for i in range(times)]


def age_attempts(minutes):
    """The failures happened `minutes` earlier than recorded (the clock moved on)."""
    for a in AccessAttempt.objects.all():
        AccessAttempt.objects.filter(pk=a.pk).update(attempt_time=a.attempt_time - datetime.timedelta(minutes=minutes))


def test_the_defaults_are_five_failures_and_fifteen_minutes(settings):
    assert settings.AXES_FAILURE_LIMIT == 5
    assert settings.AXES_COOLOFF_TIME == datetime.timedelta(minutes=15)
    assert settings.SESSION_COOKIE_AGE == 2 * 3600


def test_four_failures_say_the_password_is_wrong(client, org):
    for r in fail(client, "t71", 4):
        assert r.status_code == 200
        assert "用户名或密码不正确" in r.content.decode()
    assert attempt(client, "t71", PASSWORD).status_code == 302
    assert signed_in(client)


def test_the_fifth_failure_locks_the_account_and_says_until_when(client, org):
    responses = fail(client, "t71", 5)
    locked = responses[-1]
    until = timezone.now() + datetime.timedelta(minutes=15)
    assert locked.status_code == 429
    text = locked.content.decode()
    assert "登录失败次数过多，请在" in text and "之后再试" in text
    assert _clock(until) in text or _clock(until - datetime.timedelta(minutes=1)) in text
    assert 'name="username"' in text  # the login page, not a bare error


def test_the_right_password_is_refused_while_locked_and_works_after(client, org):
    fail(client, "t71", 5)
    r = attempt(client, "t71", PASSWORD)
    assert r.status_code == 429 and "登录失败次数过多" in r.content.decode()
    assert not signed_in(client)

    age_attempts(14)  # one minute left
    assert attempt(client, "t71", PASSWORD).status_code == 429
    assert not signed_in(client)

    age_attempts(2)  # the 15 minutes are over
    r = attempt(client, "t71", PASSWORD)
    assert r.status_code == 302 and r["Location"] == HOME
    assert signed_in(client)


def test_the_account_stays_locked_from_another_address(client, org):
    fail(client, "t71", 3, address="10.0.0.1")
    fail(client, "t71", 2, address="10.0.0.2")  # the attacker moved: still the 5th failure of the account
    r = attempt(client, "t71", PASSWORD, address="172.16.5.5")
    assert r.status_code == 429
    assert not signed_in(client)
    # Other accounts sign in from those addresses (neither reached the limit).
    assert attempt(client, "t72", PASSWORD, address="10.0.0.2").status_code == 302


def test_an_address_is_locked_whatever_usernames_it_tries(client, org):
    for name in ("t71", "t72", "leader", "office", "nobody"):
        attempt(client, name, "wrong-password", address="10.9.9.9")
    r = attempt(client, "registrar", PASSWORD, address="10.9.9.9")
    assert r.status_code == 429
    assert not signed_in(client)
    # The accounts themselves are not locked: from another address the right password works.
    assert attempt(client, "t71", PASSWORD, address="10.8.8.8").status_code == 302


def test_a_right_password_forgives_the_accounts_own_typos_only(client, org):
    fail(client, "t71", 4, address="10.0.0.1")
    assert attempt(client, "t71", PASSWORD, address="10.0.0.1").status_code == 302
    client.post(reverse("logout"))
    # t71's typos are forgiven: four more are allowed before a lockout.
    for r in fail(client, "t71", 4, address="10.0.0.1"):
        assert r.status_code == 200
    # A signed-in attacker cannot wipe the address's failures against other accounts.
    client.post(LOGIN, {"username": "t71", "password": PASSWORD}, REMOTE_ADDR="10.5.5.5")
    client.post(reverse("logout"))
    fail(client, "t72", 4, address="10.7.7.7")
    assert attempt(client, "outsider", PASSWORD, address="10.7.7.7").status_code == 302
    client.post(reverse("logout"))
    assert attempt(client, "t72", "wrong-again", address="10.7.7.7").status_code == 429


def test_every_failure_and_the_lockout_are_in_the_audit_log(client, org):
    fail(client, "t71", 5)
    attempt(client, "t71", PASSWORD)
    rows = list(AuditEntry.objects.filter(action=Action.LOGIN).order_by("id"))
    assert [r.actor_id for r in rows] == [None] * 6
    assert {r.actor_label for r in rows} == {"t71"}
    assert {r.object_id for r in rows} == {str(org.head_teacher_1.pk)}
    notes = [r.note for r in rows]
    for i in range(4):
        assert notes[i].startswith(f"登录失败（第{i + 1}次）"), notes[i]
        assert "10.0.0.1" in notes[i]
    assert notes[4].startswith("连续登录失败5次，账号") and "锁定至" in notes[4]
    assert "锁定期间尝试登录，已拒绝" in notes[5]


def test_a_failure_for_an_unknown_username_is_audited_too(client, db):
    attempt(client, "no-such-user", "whatever-password")
    row = AuditEntry.objects.get(action=Action.LOGIN)
    assert row.actor is None and row.actor_label == "no-such-user" and row.object_id == ""
    assert row.note.startswith("登录失败（第1次）")


def test_an_address_lockout_is_named_in_the_log(client, org):
    for name in ("a1", "a2", "a3", "a4", "a5"):
        attempt(client, name, "wrong-password", address="10.9.9.9")
    last = AuditEntry.objects.filter(action=Action.LOGIN).order_by("-id").first()
    assert "连续登录失败5次，地址 10.9.9.9 锁定至" in last.note


def test_the_address_is_remote_addr_unless_proxies_are_declared(settings):
    rf = RequestFactory()
    spoofed = rf.get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.7")
    settings.AXES_IPWARE_PROXY_COUNT = 0
    assert client_address(spoofed) == "127.0.0.1"  # the header is the client's word: ignored
    settings.AXES_IPWARE_PROXY_COUNT = 1
    assert client_address(spoofed) == "203.0.113.7"  # what our proxy saw, not what the client wrote
    assert client_address(rf.get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.7")) == "203.0.113.7"
    assert client_address(rf.get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="junk")) == "127.0.0.1"


def test_behind_a_proxy_the_lockout_follows_the_forwarded_address(client, org, settings):
    settings.AXES_IPWARE_PROXY_COUNT = 1
    for i, name in enumerate(("a1", "a2", "a3", "a4", "a5")):
        # The attacker writes a different X-Forwarded-For each time; nginx appends what it saw.
        client.post(LOGIN, {"username": name, "password": "wrong-password"}, REMOTE_ADDR="127.0.0.1",
                    HTTP_X_FORWARDED_FOR=f"1.1.1.{i}, 203.0.113.7")
    r = client.post(LOGIN, {"username": "t71", "password": PASSWORD}, REMOTE_ADDR="127.0.0.1",
                    HTTP_X_FORWARDED_FOR="203.0.113.7")
    assert r.status_code == 429
    # Another client behind the same proxy is not locked.
    r = client.post(LOGIN, {"username": "t71", "password": PASSWORD}, REMOTE_ADDR="127.0.0.1",
                    HTTP_X_FORWARDED_FOR="198.51.100.1")
    assert r.status_code == 302


def test_lock_end_counts_each_rows_last_failure():
    t0 = timezone.now()
    q = datetime.timedelta(minutes=15)
    assert _lock_end([(t0, 4)], 5, q) is None
    assert _lock_end([(t0, 5)], 5, q) == t0 + q
    # 3 from one address, then 2 from another: the first three stop counting first.
    later = t0 + datetime.timedelta(minutes=5)
    assert _lock_end([(later, 2), (t0, 3)], 5, q) == t0 + q
    assert _lock_end([(later, 3), (t0, 3)], 5, q) == t0 + q  # 3 left after the first ones lapse
    assert _lock_end([(later, 5), (t0, 1)], 5, q) == later + q


# ---------------------------------------------------------------- sessions ---------------------

def session_row(client):
    return Session.objects.get(pk=client.cookies["sessionid"].value)


def test_the_session_lasts_two_idle_hours(client, org):
    r = attempt(client, "t71", PASSWORD)
    cookie = r.cookies["sessionid"]
    assert int(cookie["max-age"]) == 2 * 3600
    left = session_row(client).expire_date - timezone.now()
    assert datetime.timedelta(minutes=119) < left <= datetime.timedelta(hours=2)


def test_working_slides_the_end_forward(client, org):
    attempt(client, "t71", PASSWORD)
    key = client.cookies["sessionid"].value
    store = SessionStore(session_key=key)
    store[LAST_SEEN] = 0  # last slid long ago
    store.save()
    Session.objects.filter(pk=key).update(expire_date=timezone.now() + datetime.timedelta(minutes=5))
    r = client.get(HOME)
    assert r.status_code == 200
    assert session_row(client).expire_date - timezone.now() > datetime.timedelta(minutes=119)
    assert int(r.cookies["sessionid"]["max-age"]) == 2 * 3600


def test_an_idle_session_expires(client, org):
    attempt(client, "t71", PASSWORD)
    assert signed_in(client)
    # Two hours without a request: the session's end has passed.
    Session.objects.filter(pk=client.cookies["sessionid"].value).update(
        expire_date=timezone.now() - datetime.timedelta(seconds=1))
    r = client.get(HOME)
    assert r.status_code == 302 and r["Location"].startswith(LOGIN)


def test_the_idle_time_is_a_setting(client, org, settings):
    settings.SESSION_COOKIE_AGE = 30 * 60
    r = attempt(client, "t71", PASSWORD)
    assert int(r.cookies["sessionid"]["max-age"]) == 30 * 60


def test_a_shared_computer_session_ends_with_the_browser(client, org):
    r = client.post(LOGIN, {"username": "t71", "password": PASSWORD, "shared_computer": "on"})
    assert r.status_code == 302
    cookie = r.cookies["sessionid"]
    assert cookie["max-age"] == "" and cookie["expires"] == ""  # a session cookie: gone at browser close
    assert SessionStore(session_key=cookie.value).get_expire_at_browser_close()
    # The idle limit still holds on the server.
    left = session_row(client).expire_date - timezone.now()
    assert left <= datetime.timedelta(hours=2)
    assert signed_in(client)


def test_the_login_page_offers_the_shared_computer_option(client, db):
    text = client.get(LOGIN).content.decode()
    assert "公用电脑" in text and 'name="shared_computer"' in text


def test_test_clients_still_sign_in(client, org):
    assert client.login(username="t71", password=PASSWORD)
    assert signed_in(client)
    client.logout()
    client.force_login(org.head_teacher_2)
    assert signed_in(client)
    assert SESSION_KEY in client.session


@pytest.mark.parametrize("enabled", [False])
def test_lockout_can_be_switched_off(client, org, settings, enabled):
    settings.AXES_ENABLED = enabled
    fail(client, "t71", 6)
    assert attempt(client, "t71", PASSWORD).status_code == 302
