"""A disabled child, 张三 of 七(1)班, and a 送教教师 of the school (周老师), on the real calendar:
the autumn term 2025 (from 2025-09-01) and a spring term 2026 that starts before the Spring
Festival (2026-02-09), so that the holiday week 2026-02-16 to 02-22 lies inside a term."""

import datetime as dt

import pytest

from baoxue.org.models import KeyGroup, KeyGroupMembership, Membership, Role, Term
from tests.conftest import make_user

D = dt.date


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def users(people, school, county):
    u = people["users"]
    u["teacher"] = make_user("songjiao", "周老师")
    Membership.objects.create(user=u["teacher"], role=Role.MENTOR, school=school, county=county)
    return u


@pytest.fixture
def spring(school):
    return Term.objects.create(school=school, name="2025-2026-2", start=D(2026, 2, 9), end=D(2026, 7, 3))


@pytest.fixture
def child(students, school, county):
    s = students["zhangsan"]
    KeyGroupMembership.objects.create(student=s, county=county, school=school, group=KeyGroup.DISABLED,
                                      subtype="智力残疾", disability_level="二", started_on=D(2025, 9, 1))
    return s
