"""Under the content security policy (no inline script) the pages still do what their inline
scripts did, now from baoxue/static/baoxue/baoxue.js: the roll call counts absences as they are
marked, print buttons print, a delete asks first, the school filter submits itself. And the
browser reports no CSP violation."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from baoxue.org.models import FamilyMember
from tests.e2e.test_browser import log_in

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)
MONDAY = datetime.date(2025, 9, 29)


@pytest.fixture(autouse=True)
def working_days(db):
    from baoxue.calendar.services import calendar_seed

    calendar_seed(actor=None)


@pytest.fixture
def violations(desktop):
    """Console messages about the content security policy (there must be none)."""
    seen = []
    desktop.on("console", lambda m: seen.append(m.text) if "Content Security Policy" in m.text else None)
    return seen


def test_the_roll_call_counts_absences_as_they_are_marked(live_server, desktop, violations, people, students,
                                                          term, monkeypatch):
    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: MONDAY)
    log_in(desktop, live_server, "t71")
    response = desktop.goto(live_server.url + reverse("roll_call_today", args=[people["c71"].pk]))
    assert "script-src 'self'" in response.headers["content-security-policy"]
    count = desktop.locator("#rc-count")
    assert count.inner_text() == "缺勤 0 人"
    desktop.locator("fieldset.rc-row label.rc-truant").first.click()
    assert count.inner_text() == "缺勤 1 人"
    desktop.locator("fieldset.rc-row label.rc-late").first.click()
    assert count.inner_text() == "缺勤 0 人，迟到/早退 1 人"
    assert violations == []


def test_print_confirm_and_the_school_filter(live_server, desktop, violations, people, students, school, other_school):
    zs = students["zhangsan"]
    FamilyMember.objects.create(student=zs, school=school, name="张父", relation="父亲")
    log_in(desktop, live_server, "registrar")

    # 打印: the button calls window.print().
    desktop.goto(live_server.url + reverse("suspension_batch", args=[school.code, "2025-10-13"]))
    # (A function: an evaluated string whose value is a function would be called by Playwright.)
    desktop.evaluate("() => { window.printed = 0; window.print = function () { window.printed += 1; }; }")
    desktop.get_by_role("button", name="打印").click()
    assert desktop.evaluate("window.printed") == 1

    # 删除家庭成员: dismissed, nothing happens; accepted, the member is gone.
    desktop.goto(live_server.url + f"/students/{zs.pk}/")
    questions = []

    def answer(dialog, accept):
        questions.append(dialog.message)
        dialog.accept() if accept else dialog.dismiss()

    desktop.once("dialog", lambda d: answer(d, False))
    desktop.get_by_role("button", name="删除").first.click()
    desktop.wait_for_timeout(300)
    assert questions == ["删除家庭成员张父？"] and FamilyMember.objects.filter(name="张父").exists()
    desktop.once("dialog", lambda d: answer(d, True))
    with desktop.expect_navigation():
        desktop.get_by_role("button", name="删除").first.click()
    assert not FamilyMember.objects.filter(name="张父").exists()

    # 学校 filter of the 休学 list (bureau, two schools): choosing submits the form.
    desktop.context.clear_cookies()
    log_in(desktop, live_server, "county")
    desktop.goto(live_server.url + reverse("suspension_list"))
    with desktop.expect_navigation():
        desktop.select_option("select[name=school]", other_school.code)
    assert desktop.url.endswith(f"?school={other_school.code}")
    assert violations == []
