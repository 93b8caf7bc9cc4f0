"""Every change and every reveal of an ID number leaves an audit row in the same transaction."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from baoxue.audit.models import AuditEntry
from baoxue.org.models import FamilyMember, KeyGroupMembership, Membership, Student
from baoxue.org.services import (
    family_member_save,
    key_group_add,
    key_group_end,
    school_add,
    student_reveal_id,
    student_update,
)


def test_a_change_writes_old_and_new_values(people, students):
    office = people["users"]["office"]
    s = students["zhangsan"]
    s.address = "河南省示范县城关镇东街"
    s.school_class = people["c72"]
    student_update(actor=office, student=s)
    entry = AuditEntry.objects.get(action="update", student_id=s.pk)
    assert entry.actor == office
    assert entry.changes["address"] == ["", "河南省示范县城关镇东街"]
    assert entry.changes["school_class"] == ["七年级(1)班", "七年级(2)班"]
    assert entry.school_id == s.school_id and entry.county_id == s.county_id


def test_an_invalid_change_is_refused_and_leaves_no_row(people, students):
    s = students["zhangsan"]
    s.sex = "F"  # the ID number says male
    with pytest.raises(ValidationError) as e:
        student_update(actor=people["users"]["office"], student=s)
    assert "性别" in str(e.value)
    assert Student.objects.get(pk=s.pk).sex == "M"
    assert not AuditEntry.objects.filter(action="update").exists()


def test_an_id_reveal_is_audited(people, students):
    s = students["zhangsan"]
    assert student_reveal_id(actor=people["users"]["registrar"], student=s) == s.id_number
    entry = AuditEntry.objects.get(action="reveal")
    assert entry.actor == people["users"]["registrar"] and entry.student_id == s.pk


def test_key_groups_keep_their_history(people, students):
    office = people["users"]["office"]
    s = students["lisi"]
    m = key_group_add(actor=office, student=s, group="left_behind", subtype="双亲留守", started_on=datetime.date(2024, 9, 1))
    key_group_end(actor=office, membership=m, ended_on=datetime.date(2025, 7, 1), note="父母返乡")
    key_group_add(actor=office, student=s, group="left_behind", subtype="单亲留守", started_on=datetime.date(2025, 9, 1))
    assert KeyGroupMembership.objects.filter(student=s).count() == 2
    with pytest.raises(IntegrityError), transaction.atomic():  # one open membership per group
        KeyGroupMembership.objects.create(student=s, county=s.county, school=s.school, group="left_behind",
                                          started_on=datetime.date(2025, 10, 1))
    assert AuditEntry.objects.filter(object_type="keygroupmembership").count() == 3


def test_family_members_are_audited(people, students):
    m = family_member_save(actor=people["users"]["t71"], member=FamilyMember(
        student=students["zhangsan"], name="张建国", relation="父亲", phone="13900000000", is_guardian=True))
    m.phone = "13900000001"
    family_member_save(actor=people["users"]["t71"], member=m)
    assert AuditEntry.objects.get(object_type="familymember", action="update").changes == {"phone": ["13900000000", "13900000001"]}


def test_school_add_creates_county_and_township(db):
    school = school_add(actor=None, code="4109990009", name="新建中学", township="新镇", county_code="410999", county="示范县")
    assert school.county.code == "410999" and school.township.name == "新镇"
    with pytest.raises(ValidationError):
        school_add(actor=None, code="123", name="坏", township="新镇")


def test_the_database_refuses_a_membership_without_its_scope(people):
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.create(user=people["users"]["outsider"], role="office")
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.create(user=people["users"]["county"], role="county", county=people["c71"].school.county)
