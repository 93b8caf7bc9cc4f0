"""Shared fixtures: a small county with one person per role (tests read like the plan)."""

import datetime

import pytest
from django.contrib.auth import get_user_model

from baoxue.lib.idcard import make_resident_id
from baoxue.org.models import County, Grade, Membership, Role, School, SchoolClass, Student, Township
from baoxue.lib.pinyin import initials


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Tests make a dozen accounts each: a fast hash keeps the suite quick (the real hasher is
    the settings' default, checked by the deploy-settings tests)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher",
                                 "django.contrib.auth.hashers.PBKDF2PasswordHasher"]


@pytest.fixture(autouse=True)
def var_dir(settings, tmp_path):
    """Files a test writes (demo files, uploads) go to its own folder, never over a developer's."""
    settings.VAR_DIR = tmp_path / "var"
    settings.MEDIA_ROOT = tmp_path / "var" / "media"
    return settings.VAR_DIR


@pytest.fixture
def county(db):
    return County.objects.create(code="410999", name="示范县")


@pytest.fixture
def townships(county):
    return {
        "城关镇": Township.objects.create(county=county, name="城关镇"),
        "留固镇": Township.objects.create(county=county, name="留固镇"),
    }


@pytest.fixture
def school(county, townships):
    return School.objects.create(code="4109990001", name="示范县第一初级中学", county=county,
                                 township=townships["城关镇"], stage="junior")


@pytest.fixture
def other_school(county, townships):
    return School.objects.create(code="4109990002", name="留固镇初级中学", county=county,
                                 township=townships["留固镇"], stage="junior")


def make_user(username: str, full_name: str = ""):
    return get_user_model().objects.create_user(username=username, password="pw-123456", first_name=full_name or username)


@pytest.fixture
def people(school, townships, county):
    """One account per role: 班主任 of 七(1)班 and 七(2)班, office, registrar, leader, township, county."""
    grade = Grade.objects.create(school=school, name="七年级", order=7)
    t71, t72 = make_user("t71", "李老师"), make_user("t72", "王老师")
    c71 = SchoolClass.objects.create(school=school, grade=grade, name="(1)班", head_teacher=t71)
    c72 = SchoolClass.objects.create(school=school, grade=grade, name="(2)班", head_teacher=t72)
    users = {"t71": t71, "t72": t72}
    for role, kwargs in {
        "office": {"school": school, "county": county}, "registrar": {"school": school, "county": county},
        "leader": {"school": school, "county": county},
        "township": {"township": townships["留固镇"], "county": county}, "county": {"county": county},
    }.items():
        users[role] = make_user(role)
        Membership.objects.create(user=users[role], role=role, **kwargs)
    for ht in (t71, t72):
        Membership.objects.create(user=ht, role=Role.HEAD_TEACHER, school=school, county=county)
    users["outsider"] = make_user("outsider")
    users["admin"] = get_user_model().objects.create_superuser("admin", password="pw-123456")
    return {"users": users, "c71": c71, "c72": c72, "grade": grade}


def make_student(school, school_class, name: str, seq: int, *, sex: str = "M", township=None,
                 birth: datetime.date = datetime.date(2012, 3, 5)) -> Student:
    number = make_resident_id("410999", birth, seq, sex)
    return Student.objects.create(
        county=school.county, school=school, school_class=school_class, name=name, name_initials=initials(name),
        sex=sex, birth_date=birth, id_number=number, registry_no="G" + number, residence_township=township,
    )


@pytest.fixture
def students(people, school, townships):
    """张三 in 七(1)班 living in 城关镇; 李四 in 七(2)班 living in 留固镇."""
    return {
        "zhangsan": make_student(school, people["c71"], "张三", 1, township=townships["城关镇"]),
        "lisi": make_student(school, people["c72"], "李四", 3, sex="M", township=townships["留固镇"]),
    }


@pytest.fixture
def term(school):
    from baoxue.org.models import Term

    return Term.objects.create(school=school, name="2025-2026-1", start=datetime.date(2025, 9, 1),
                               end=datetime.date(2026, 1, 23))


def approved_application(student, start: datetime.date = datetime.date(2025, 10, 13), *, outcome: str = ""):
    """A 休学 application as the bureau approved it (or a 残联 decision, with `outcome`), for
    tests of the register: 休学 and 延缓入学 come only from one."""
    from baoxue.registry.models import Application

    return Application.objects.create(
        county=student.county, school=student.school, student=student, state="approved", illness="白血病",
        kind="disability" if outcome else "suspend", outcome=outcome, start_on=start,
        ends_on=start.replace(year=start.year + 1) - datetime.timedelta(days=1), submitted_on=start)


def delete_everything() -> None:
    """Empty the database of everything the demo builds, rows that protect others first (a
    registry change its case and student; cases, with their records, and attendance the
    students, classes and accounts they refer to)."""
    from baoxue.attendance.models import AttendanceRecord, FileDay, LeaveRequest, RollCall
    from baoxue.audit.models import AuditEntry
    from baoxue.cases.models import Case, Evaluation, Rules
    from baoxue.org.models import (FamilyMember, KeyGroupMembership, LeadershipGroup, LeadershipMember, Mentorship,
                                   Term)
    from baoxue.registry.models import Application, ApplicationFile, RegistryChange, SuspensionRules
    from baoxue.notify.models import Channel, Message
    from baoxue.reports.models import MonthlyReport, RetentionInputs

    for model in (Message, Channel, MonthlyReport, RetentionInputs, ApplicationFile, Application, SuspensionRules, RegistryChange, Case, Rules, Evaluation, AttendanceRecord, LeaveRequest, RollCall, FileDay,
                  Mentorship, KeyGroupMembership, FamilyMember, Student, LeadershipMember, LeadershipGroup,
                  Membership, SchoolClass, Grade, Term, School, Township, County, AuditEntry):
        model.objects.all().delete()
    get_user_model().objects.all().delete()
