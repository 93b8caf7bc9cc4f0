"""The bureau drills down from a number on its overview to the student in three taps, on a
desk and on a phone; a township official sees its residents only."""

import pytest
from django.utils import timezone

from tests.e2e.test_browser import log_in
from tests.overview.test_county_overview import TODAY, case, county_scene, roll_call  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture(autouse=True)
def on_today(monkeypatch, db):
    from baoxue.calendar.services import calendar_seed

    calendar_seed(actor=None)
    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: TODAY)


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_the_county_goes_from_a_number_to_the_student(live_server, request, size, people, county_scene, school):
    page = request.getfixturevalue(size)
    log_in(page, live_server, "county")
    short_case = county_scene["cases"]["short"]
    # tap 1: the first school's 劝返不足 on the home page
    page.locator(f"table.overview a[href='/overview/cases/?what=short&school={school.code}']").click()
    page.wait_for_url("**/overview/cases/**")
    assert page.locator("h1").inner_text() == "劝返不足"
    assert page.get_by_text("李四").count() and not page.get_by_text("张三").count()
    # tap 2: the case
    page.locator(f"a[href='/cases/{short_case.pk}/']").first.click()
    page.wait_for_url(f"**/cases/{short_case.pk}/")
    # tap 3: the student
    page.locator(f"a[href='/students/{short_case.student_id}/']").first.click()
    page.wait_for_url(f"**/students/{short_case.student_id}/")
    assert "李四" in page.locator("h1").inner_text()
    if size == "phone":
        assert page.evaluate("document.documentElement.scrollWidth") <= 391


def test_the_roll_calls_not_taken_lead_to_the_school_status(live_server, desktop, people, county_scene, school):
    log_in(desktop, live_server, "county")
    desktop.goto(f"{live_server.url}/overview/roll-calls/")
    row = desktop.locator("tr", has_text=school.name)
    assert row.locator("td").nth(4).inner_text() == "1"  # 七(3)班 not called
    row.locator("a").last.click()
    desktop.wait_for_url(f"**/attendance/schools/{school.code}/roll-calls/**")


def test_a_township_official_sees_its_residents_on_a_phone(live_server, phone, people, county_scene):
    log_in(phone, live_server, "township")
    body = phone.locator("main").inner_text()
    assert "留固镇常住学生" in body and "李四" in body and "张三" not in body
    assert phone.evaluate("document.documentElement.scrollWidth") <= 391
