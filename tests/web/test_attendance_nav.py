"""每日考勤 in the navigation, and the head teacher's 今日点名 buttons for the home page."""

import datetime

import pytest
from django.template import Context, Template
from django.urls import reverse

from baoxue.attendance.services import roll_call_submit
from baoxue.org.models import SchoolClass


def nav(client):
    html = client.get(reverse("home")).content.decode()
    nav = html.split('<nav class="sidenav"')[1].split("</nav>")[0]
    return nav


def test_a_head_teacher_goes_to_the_roll_call(login, org):
    assert f'href="{reverse("roll_call_today", args=[org.class_1.pk])}"' in nav(login(org.head_teacher_1))


@pytest.mark.parametrize("role", ["office", "leader"])
def test_the_office_goes_to_the_status(login, org, role):
    assert f'href="{reverse("roll_call_status", args=[org.school.code])}"' in nav(login(getattr(org, role)))


@pytest.mark.parametrize("role", ["registrar", "mentor", "township_official", "outsider"])
def test_others_see_no_link(login, org, role):
    assert "每日考勤" not in nav(login(getattr(org, role)))


def test_the_home_buttons_show_taken_and_not_taken(org, monkeypatch):
    monday = datetime.date(2025, 9, 29)
    monkeypatch.setattr("django.utils.timezone.localdate", lambda *a, **k: monday)
    roll_call_submit(actor=org.head_teacher_1, school_class=org.class_1, date=monday,
                     marks={org.student_1.pk: ("sick", "发烧")})
    html = Template("{% load attendance_nav %}{% home_roll_calls classes day %}").render(Context({
        "classes": SchoolClass.objects.filter(pk__in=[org.class_1.pk, org.class_2.pk]).select_related("grade", "school"),
        "day": monday,
    }))
    assert "七年级(1)班 今日点名" in html and "已点名" in html and "缺勤 1 人" in html
    assert "七年级(2)班 今日点名" in html and "未点名" in html
    assert reverse("roll_call_today", args=[org.class_2.pk]) in html
    holiday = Template("{% load attendance_nav %}{% home_roll_calls classes day %}").render(Context({
        "classes": SchoolClass.objects.filter(pk=org.class_1.pk), "day": datetime.date(2025, 10, 3)}))
    assert "今天不是在校日" in holiday
