import datetime

import pytest
from django.urls import reverse

from baoxue.audit.models import AuditEntry
from baoxue.lib.idcard import make_resident_id
from baoxue.org.models import FamilyMember, KeyGroupMembership


def url(student):
    return reverse("student_edit", args=[student.pk])


def form_data(student, **changes):
    data = {
        "name": student.name, "former_name": "", "sex": student.sex, "birth_date": student.birth_date.isoformat(),
        "ethnicity": "汉族", "id_type": student.id_type, "id_number": "", "registry_no": "", "aux_registry_no": "",
        "school_class": student.school_class_id, "enrolled_on": "2025-09", "status": student.status,
        "status_since": "", "hukou_address": "", "address": student.address,
        "residence_township": student.residence_township_id, "residence_village": student.residence_village,
        "phone": student.phone, "distance_km": "", "commute": "",
    }
    data.update(changes)
    return data


@pytest.mark.parametrize("role", ["admin", "office", "registrar"])
def test_it_opens_for_those_who_keep_the_registry(login, org, role):
    assert login(getattr(org, role)).get(url(org.student_1)).status_code == 200


@pytest.mark.parametrize("role", ["head_teacher_1", "head_teacher_2", "leader", "county_official", "mentor", "outsider"])
def test_it_is_not_found_for_others(login, org, role):
    assert login(getattr(org, role)).get(url(org.student_1)).status_code == 404


def test_the_form_does_not_show_the_full_id_number(login, org):
    html = login(org.registrar).get(url(org.student_1)).content.decode()
    assert org.student_1.id_number not in html


def test_saving_writes_an_audit_row_with_old_and_new_values(login, org):
    r = login(org.registrar).post(url(org.student_1), form_data(org.student_1, address="示范县城关镇西村", school_class=org.class_2.pk))
    assert r.status_code == 302
    org.student_1.refresh_from_db()
    assert org.student_1.address == "示范县城关镇西村"
    assert org.student_1.school_class == org.class_2
    assert org.student_1.id_number  # left empty in the form: kept
    entry = AuditEntry.objects.get(action="update", object_type="student")
    assert entry.actor == org.registrar
    assert entry.changes["address"] == ["示范县城关镇东村", "示范县城关镇西村"]
    assert entry.changes["school_class"] == ["七年级(1)班", "七年级(2)班"]


def test_a_bad_id_number_is_explained_on_its_field(login, org):
    bad = org.student_1.id_number[:17] + ("0" if org.student_1.id_number[17] != "0" else "1")
    r = login(org.registrar).post(url(org.student_1), form_data(org.student_1, id_number=bad))
    assert r.status_code == 200
    assert "校验位错误" in r.content.decode()
    assert r.context["form"].errors["id_number"]
    assert not AuditEntry.objects.filter(action="update").exists()


def test_a_new_id_number_must_agree_with_sex(login, org):
    female = make_resident_id("410999", datetime.date(2012, 3, 5), 7, "F")
    r = login(org.registrar).post(url(org.student_1), form_data(org.student_1, id_number=female))
    assert "与性别" in r.content.decode()


def test_family_members_are_added_edited_and_deleted(login, org):
    client = login(org.office)
    r = client.post(reverse("family_add", args=[org.student_1.pk]),
                    {"name": "张大山", "relation": "父亲", "phone": "13700000000", "is_guardian": "on",
                     "id_type": "resident", "id_number": ""})
    assert r.status_code == 302
    member = FamilyMember.objects.get(student=org.student_1)
    assert member.is_guardian and member.school == org.school
    r = client.post(reverse("family_edit", args=[org.student_1.pk, member.pk]),
                    {"name": "张大山", "relation": "父亲", "phone": "13700000001", "works_away": "on",
                     "works_away_place": "广东东莞", "id_type": "resident", "id_number": ""})
    assert r.status_code == 302
    member.refresh_from_db()
    assert member.works_away and member.phone == "13700000001"
    r = client.post(reverse("family_delete", args=[org.student_1.pk, member.pk]))
    assert r.status_code == 302
    assert not FamilyMember.objects.exists()
    assert list(AuditEntry.objects.filter(object_type="familymember").order_by("id").values_list("action", flat=True)) == [
        "create", "update", "delete"]


def test_a_head_teacher_cannot_change_family_members(login, org):
    r = login(org.head_teacher_1).post(reverse("family_add", args=[org.student_1.pk]), {"name": "x", "relation": "父亲"})
    assert r.status_code == 404


def test_key_groups_are_added_and_ended_not_deleted(login, org):
    client = login(org.office)
    r = client.post(reverse("key_group_add", args=[org.student_1.pk]),
                    {"group": "poor", "subtype": "低保", "started_on": "2025-09-01"})
    assert r.status_code == 302
    kg = KeyGroupMembership.objects.get(student=org.student_1)
    assert kg.subtype == "低保"
    r = client.post(reverse("key_group_end", args=[org.student_1.pk, kg.pk]), {"ended_on": "2025-12-31", "note": "已脱贫"})
    assert r.status_code == 302
    kg.refresh_from_db()
    assert kg.ended_on == datetime.date(2025, 12, 31)
    html = client.get(reverse("student_detail", args=[org.student_1.pk])).content.decode()
    assert "2025年12月31日" in html  # kept in the history


def test_a_key_group_subtype_must_fit_the_group(login, org):
    r = login(org.office).post(reverse("key_group_add", args=[org.student_1.pk]),
                               {"group": "migrant", "subtype": "低保", "started_on": "2025-09-01"})
    assert r.status_code == 200
    assert "不是“随迁子女”的类别" in r.content.decode()


def test_a_student_is_in_a_key_group_only_once_at_a_time(login, org):
    r = login(org.office).post(reverse("key_group_add", args=[org.student_2.pk]),
                               {"group": "left_behind", "subtype": "单亲留守", "started_on": "2025-10-01"})
    assert r.status_code == 200
    assert "已在此重点群体中" in r.content.decode()


def test_ending_before_the_start_is_refused(login, org):
    kg = KeyGroupMembership.objects.get(student=org.student_2)
    r = login(org.office).post(reverse("key_group_end", args=[org.student_2.pk, kg.pk]), {"ended_on": "2025-01-01"})
    assert r.status_code == 200
    assert "结束日期不能早于开始日期" in r.content.decode()


def test_a_head_teacher_cannot_open_another_class_students_edit_page(login, org):
    client = login(org.head_teacher_1)
    assert client.get(url(org.student_2)).status_code == 404
    assert client.post(url(org.student_2), form_data(org.student_2, address="x")).status_code == 404
