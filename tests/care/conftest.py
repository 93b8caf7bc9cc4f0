"""A small county for care: one school with 七年级(1)班 and 八年级(1)班, a person per role, a
mentor (周老师) with one mentee (李四, left behind) and a second teacher who mentors nobody."""

import datetime
from types import SimpleNamespace

import pytest
from django.contrib.auth import get_user_model

from baoxue.lib.idcard import make_resident_id
from baoxue.lib.pinyin import initials
from baoxue.org.models import (
    County, Grade, KeyGroup, KeyGroupMembership, Membership, Mentorship, Role, School, SchoolClass, Student, Term,
    Township,
)


def make_user(username, full_name):
    return get_user_model().objects.create_user(username=username, password="pw-123456", first_name=full_name)


def add_student(school, school_class, name, seq, sex="M"):
    number = make_resident_id("410999", datetime.date(2012, 3, 5), seq, sex)
    return Student.objects.create(county=school.county, school=school, school_class=school_class, name=name,
                                  name_initials=initials(name), sex=sex, birth_date=datetime.date(2012, 3, 5),
                                  id_number=number, registry_no="G" + number)


def add_group(student, group, started_on, subtype="", ended_on=None):
    return KeyGroupMembership.objects.create(student=student, county=student.county, school=student.school,
                                             group=group, subtype=subtype, started_on=started_on, ended_on=ended_on)


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def org(db):
    county = County.objects.create(code="410999", name="示范县")
    chengguan = Township.objects.create(county=county, name="城关镇")
    school = School.objects.create(code="4109990001", name="示范县第一初级中学", county=county, township=chengguan)
    other = School.objects.create(code="4109990002", name="留固镇初级中学", county=county, township=chengguan)
    term = Term.objects.create(school=school, name="2025-2026-1", start=datetime.date(2025, 9, 1),
                               end=datetime.date(2026, 1, 23))
    g7 = Grade.objects.create(school=school, name="七年级", order=7)
    g8 = Grade.objects.create(school=school, name="八年级", order=8)
    head_teacher = make_user("t71", "李老师")
    c71 = SchoolClass.objects.create(school=school, grade=g7, name="(1)班", head_teacher=head_teacher)
    c81 = SchoolClass.objects.create(school=school, grade=g8, name="(1)班")
    users = {"head_teacher": head_teacher}
    for key, role, name, scope in [
        ("office", Role.OFFICE, "钱主任", {"school": school}), ("leader", Role.LEADER, "赵校长", {"school": school}),
        ("mentor", Role.MENTOR, "周老师", {"school": school}), ("teacher2", Role.MENTOR, "吴老师", {"school": school}),
        ("township", Role.TOWNSHIP, "吴干事", {"township": chengguan}), ("county_official", Role.COUNTY, "郑科长", {}),
        ("other_office", Role.OFFICE, "孙主任", {"school": other}),
    ]:
        users[key] = make_user(key, name)
        Membership.objects.create(user=users[key], role=role, county=county, **scope)
    Membership.objects.create(user=head_teacher, role=Role.HEAD_TEACHER, county=county, school=school)
    users["outsider"] = make_user("outsider", "路人")
    zhangsan = add_student(school, c71, "张三", 1)
    lisi = add_student(school, c71, "李四", 3)
    wangwu = add_student(school, c81, "王五", 5)
    add_group(lisi, KeyGroup.LEFT_BEHIND, datetime.date(2025, 9, 3), "双亲留守")
    Mentorship.objects.create(mentor=users["mentor"], student=lisi, school=school, started_on=datetime.date(2025, 9, 3))
    return SimpleNamespace(county=county, school=school, other=other, term=term, g7=g7, g8=g8, c71=c71, c81=c81,
                           zhangsan=zhangsan, lisi=lisi, wangwu=wangwu, **users)


@pytest.fixture
def on_day(monkeypatch):
    """on_day(date): "today" is that date for the services and pages."""
    from django.utils import timezone

    def _set(day):
        monkeypatch.setattr(timezone, "localdate", lambda *a, **k: day)
    return _set
