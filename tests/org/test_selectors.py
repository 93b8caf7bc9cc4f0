"""Who sees whom: a head teacher their classes, a township its residents, outsiders nothing (404)."""

import pytest
from django.http import Http404

from baoxue.org.models import County, Membership, School, Township
from baoxue.org.selectors import (
    can_reveal_id,
    can_see_phone,
    get_student_for_user,
    schools_for_user,
    search_students,
    students_for_user,
)
from tests.conftest import make_student, make_user


def names(qs):
    return sorted(s.name for s in qs)


def test_a_head_teacher_sees_only_their_class(people, students):
    t71 = people["users"]["t71"]
    assert names(students_for_user(t71)) == ["张三"]
    with pytest.raises(Http404):
        get_student_for_user(t71, students["lisi"].pk)
    assert get_student_for_user(t71, students["zhangsan"].pk).name == "张三"


def test_search_never_crosses_the_scope(people, students):
    t71 = people["users"]["t71"]
    lisi = students["lisi"]
    for query in ("李四", "ls", lisi.id_number[-4:], lisi.registry_no, lisi.id_number[-6:]):
        assert names(search_students(t71, query)) == [], query
    assert names(search_students(people["users"]["office"], "ls")) == ["李四"]


def test_search_by_name_initials_id_digits_and_registry_no(people, students):
    office = people["users"]["office"]
    zs = students["zhangsan"]
    assert names(search_students(office, "张")) == ["张三"]
    assert names(search_students(office, "ZS")) == ["张三"]
    assert names(search_students(office, zs.id_number[-4:])) == ["张三"]
    assert names(search_students(office, zs.registry_no)) == ["张三"]


def test_a_township_official_sees_only_residents(people, students):
    assert names(students_for_user(people["users"]["township"])) == ["李四"]


def test_the_bureau_sees_its_county_only(people, students):
    assert names(students_for_user(people["users"]["county"])) == ["张三", "李四"]
    other = County.objects.create(code="410998", name="邻县")
    town = Township.objects.create(county=other, name="邻镇")
    far = School.objects.create(code="4109980001", name="邻县一中", county=other, township=town)
    make_student(far, None, "外县生", 40)
    assert "外县生" not in names(students_for_user(people["users"]["county"]))
    assert far not in schools_for_user(people["users"]["county"])


def test_outsiders_see_nothing(people, students):
    assert names(students_for_user(people["users"]["outsider"])) == []
    with pytest.raises(Http404):
        get_student_for_user(people["users"]["outsider"], students["zhangsan"].pk)


def test_who_may_unmask(people, students):
    zs = students["zhangsan"]
    u = people["users"]
    assert can_reveal_id(u["registrar"], zs) and can_reveal_id(u["office"], zs) and can_reveal_id(u["admin"], zs)
    assert not can_reveal_id(u["t71"], zs) and not can_reveal_id(u["township"], zs)
    assert can_see_phone(u["t71"], zs) and not can_see_phone(u["t72"], zs)


def test_a_mentor_sees_their_mentees(people, students, school):
    import datetime

    from baoxue.org.models import Mentorship

    mentor = make_user("mentor")
    Membership.objects.create(user=mentor, role="mentor", school=school, county=school.county)
    Mentorship.objects.create(mentor=mentor, student=students["lisi"], school=school, started_on=datetime.date(2025, 9, 1))
    assert names(students_for_user(mentor)) == ["李四"]
