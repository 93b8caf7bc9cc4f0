"""A student's attendance history: /attendance/students/<pk>/."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from baoxue.attendance.models import AttendanceRecord
from baoxue.attendance.services import leave_approve, roll_call_submit

MONDAY = datetime.date(2025, 9, 29)


@pytest.fixture(autouse=True)
def today(monkeypatch):
    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: MONDAY)


def test_it_lists_the_exceptions_and_leaves_of_the_term(login, org):
    roll_call_submit(actor=org.head_teacher_1, school_class=org.class_1, date=datetime.date(2025, 9, 26),
                     marks={org.student_1.pk: ("late", "堵车")})
    roll_call_submit(actor=org.head_teacher_1, school_class=org.class_1, date=MONDAY,
                     marks={org.student_1.pk: ("unknown", "")})
    leave_approve(actor=org.head_teacher_1, student=org.student_1, kind="personal", start=datetime.date(2025, 9, 24),
                  end=datetime.date(2025, 9, 24), reason="奔丧")
    client = login(org.head_teacher_1)
    html = client.get(reverse("attendance_history", args=[org.student_1.pk])).content.decode()
    assert "张三 考勤记录" in html and "2025-2026-1" in html
    assert "2025年9月29日（周一）" in html and "原因不明" in html
    assert "2025年9月26日（周五）" in html and "堵车" in html and "李老师" in html
    assert "奔丧" in html
    record = AttendanceRecord.objects.get(mark="unknown")
    assert reverse("attendance_excuse", args=[record.pk]) in html
    late = AttendanceRecord.objects.get(mark="late")
    assert reverse("attendance_excuse", args=[late.pk]) not in html


@pytest.mark.parametrize("role", ["leader", "registrar", "mentor", "county_official"])
def test_readers_see_it_without_the_buttons(login, org, role):
    r = login(getattr(org, role)).get(reverse("attendance_history", args=[org.student_2.pk]))
    assert r.status_code == 200
    if role != "leader":
        assert reverse("attendance_leave", args=[org.student_2.pk]) not in r.content.decode()


@pytest.mark.parametrize("role", ["head_teacher_1", "outsider"])
def test_it_is_not_found_outside_the_scope(login, org, role):
    assert login(getattr(org, role)).get(reverse("attendance_history", args=[org.student_2.pk])).status_code == 404
