"""The office's 今日点名情况: /attendance/schools/<code>/roll-calls/?date=."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from baoxue.attendance.models import FileDay
from baoxue.attendance.services import roll_call_submit
from baoxue.attendance.views import ROLL_CALL_DUE

MONDAY = datetime.date(2025, 9, 29)


@pytest.fixture
def clock(monkeypatch):
    """clock(day, time): the site believes it is that moment."""
    def _set(day: datetime.date, time: datetime.time = datetime.time(10, 0)):
        moment = timezone.make_aware(datetime.datetime.combine(day, time))
        real = timezone.localtime
        monkeypatch.setattr(timezone, "localdate", lambda *a, **k: day)
        monkeypatch.setattr(timezone, "localtime", lambda value=None, timezone=None: real(value, timezone)
                            if value is not None else moment)
    _set(MONDAY)
    return _set


def url(org, day=None):
    return reverse("roll_call_status", args=[org.school.code]) + (f"?date={day}" if day else "")


@pytest.mark.parametrize("role", ["office", "leader", "admin", "county_official", "registrar"])
def test_it_opens_for_those_who_see_the_whole_school(login, org, clock, role):
    assert login(getattr(org, role)).get(url(org)).status_code == 200


@pytest.mark.parametrize("role", ["head_teacher_1", "mentor", "township_official", "outsider"])
def test_it_is_not_found_for_others(login, org, clock, role):
    assert login(getattr(org, role)).get(url(org)).status_code == 404


def test_after_the_due_time_it_lists_the_classes_not_taken(login, org, clock):
    roll_call_submit(actor=org.head_teacher_1, school_class=org.class_1, date=MONDAY,
                     marks={org.student_1.pk: ("truant", "")})
    html = login(org.office).get(url(org)).content.decode()
    assert "今日点名情况" in html and "2025年9月29日（周一）" in html
    first, second = html.split("七年级(1)班</a>")[1], html.split("七年级(2)班</a>")[1]
    assert "已点名" in first.split("</tr>")[0]
    assert '<strong class="rc-alert">未点名</strong>' in second.split("</tr>")[0]
    assert 'class="rc-missing"' in html
    # Counts at the top: 2 classes, 1 taken, 1 not, 1 unexcused absentee.
    assert "<strong>1</strong>已点名" in html and "<strong>1</strong>未点名" in html
    assert "<strong>1</strong>无正当原因" in html
    # The office can fill the missing one in.
    assert reverse("roll_call", args=[org.class_2.pk, MONDAY]) in html


def test_before_the_due_time_not_taken_is_not_yet_late(login, org, clock):
    clock(MONDAY, datetime.time(8, 0))
    assert datetime.time(8, 0) < ROLL_CALL_DUE
    html = login(org.office).get(url(org)).content.decode()
    assert 'class="rc-missing"' not in html
    assert "前完成点名" in html


def test_recent_days_without_a_roll_call_are_listed_as_missing(login, org, clock):
    for day in (datetime.date(2025, 9, 25), datetime.date(2025, 9, 26), datetime.date(2025, 9, 28)):
        roll_call_submit(actor=org.office, school_class=org.class_1, date=day, marks={})
        roll_call_submit(actor=org.office, school_class=org.class_2, date=day, marks={})
    FileDay.objects.create(county=org.county, school=org.school, date=datetime.date(2025, 9, 24), filename="门禁.xlsx")
    html = login(org.office).get(url(org)).content.decode()
    missing = html.split("<h2>缺点名")[1]
    assert "2025年9月29日（周一）" in missing  # today, after 09:30
    assert "2025年9月28日" not in missing and "2025年9月24日" not in missing  # taken / covered by a file
    assert reverse("roll_call", args=[org.class_2.pk, MONDAY]) in missing


def test_the_county_sees_the_status_without_links_to_take_it(login, org, clock):
    html = login(org.county_official).get(url(org)).content.decode()
    assert "七年级(2)班" in html
    assert reverse("roll_call", args=[org.class_2.pk, MONDAY]) not in html


def test_a_holiday_needs_no_roll_call(login, org, clock):
    html = login(org.office).get(url(org, "2025-10-03")).content.decode()
    assert "不是本校在校日" in html


def test_a_past_date_can_be_chosen(login, org, clock):
    roll_call_submit(actor=org.office, school_class=org.class_1, date=datetime.date(2025, 9, 26), marks={})
    html = login(org.office).get(url(org, "2025-09-26")).content.decode()
    assert "2025年9月26日（周五）" in html and "<strong>1</strong>已点名" in html
