"""A small county for the web pages: one school with 七年级(1)班 and (2)班, a student in each,
and one account per role, named by role."""

import datetime
from types import SimpleNamespace

import pytest
from django.contrib.auth import get_user_model

from baoxue.lib.idcard import make_resident_id
from baoxue.lib.pinyin import initials
from baoxue.org.models import (
    County,
    Grade,
    KeyGroup,
    KeyGroupMembership,
    Membership,
    Mentorship,
    Role,
    School,
    SchoolClass,
    Student,
    Term,
    Township,
)

PASSWORD = "pw-123456"


def _user(username: str, full_name: str, **extra):
    return get_user_model().objects.create_user(username=username, password=PASSWORD, first_name=full_name, **extra)


def _student(school, school_class, name, seq, sex, township, phone):
    number = make_resident_id("410999", datetime.date(2012, 3, 5), seq, sex)
    return Student.objects.create(
        county=school.county, school=school, school_class=school_class, name=name, name_initials=initials(name),
        sex=sex, birth_date=datetime.date(2012, 3, 5), id_number=number, registry_no="G" + number,
        residence_township=township, address=f"示范县{township.name}东村", residence_village="东村", phone=phone,
    )


@pytest.fixture
def org(db):
    county = County.objects.create(code="410999", name="示范县")
    chengguan = Township.objects.create(county=county, name="城关镇")
    liugu = Township.objects.create(county=county, name="留固镇")
    school = School.objects.create(code="4109990001", name="示范县第一初级中学", county=county, township=chengguan)
    term = Term.objects.create(school=school, name="2025-2026-1", start=datetime.date(2025, 9, 1),
                               end=datetime.date(2026, 1, 23))
    grade = Grade.objects.create(school=school, name="七年级", order=7)

    head_teacher_1 = _user("t71", "李老师")
    head_teacher_2 = _user("t72", "王老师")
    class_1 = SchoolClass.objects.create(school=school, grade=grade, name="(1)班", head_teacher=head_teacher_1)
    class_2 = SchoolClass.objects.create(school=school, grade=grade, name="(2)班", head_teacher=head_teacher_2)

    users = {"head_teacher_1": head_teacher_1, "head_teacher_2": head_teacher_2}
    scopes = {
        "leader": (Role.LEADER, {"county": county, "school": school}),
        "office": (Role.OFFICE, {"county": county, "school": school}),
        "registrar": (Role.REGISTRAR, {"county": county, "school": school}),
        "mentor": (Role.MENTOR, {"county": county, "school": school}),
        "township_official": (Role.TOWNSHIP, {"county": county, "township": liugu}),
        "county_official": (Role.COUNTY, {"county": county}),
    }
    names = {"leader": "赵校长", "office": "钱主任", "registrar": "孙老师", "mentor": "周老师",
             "township_official": "吴干事", "county_official": "郑科长"}
    for key, (role, scope) in scopes.items():
        users[key] = _user(key, names[key])
        Membership.objects.create(user=users[key], role=role, **scope)
    for ht in (head_teacher_1, head_teacher_2):
        Membership.objects.create(user=ht, role=Role.HEAD_TEACHER, county=county, school=school)
    users["outsider"] = _user("outsider", "路人")
    users["admin"] = get_user_model().objects.create_superuser("admin", password=PASSWORD, first_name="管理员")

    # 张三 in (1)班 lives in 城关镇; 李四 in (2)班 lives in 留固镇.
    student_1 = _student(school, class_1, "张三", 1, "M", chengguan, "13812345678")
    student_2 = _student(school, class_2, "李四", 3, "M", liugu, "13987654321")
    KeyGroupMembership.objects.create(student=student_2, county=county, school=school, group=KeyGroup.LEFT_BEHIND,
                                      subtype="双亲留守", started_on=datetime.date(2025, 9, 1))
    Mentorship.objects.create(mentor=users["mentor"], student=student_2, school=school,
                              started_on=datetime.date(2025, 9, 1))
    return SimpleNamespace(county=county, chengguan=chengguan, liugu=liugu, school=school, term=term, grade=grade,
                           class_1=class_1, class_2=class_2, student_1=student_1, student_2=student_2, **users)


@pytest.fixture
def login(client):
    """login(user) → the test client signed in as that user."""
    def _login(user):
        client.force_login(user)
        return client
    return _login


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    # Ten accounts per test: the production hasher would make the suite take minutes.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
