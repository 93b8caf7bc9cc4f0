import pytest
from django.urls import reverse

from baoxue.audit.models import AuditEntry


def url(student):
    return reverse("student_detail", args=[student.pk])


@pytest.mark.parametrize("role", ["admin", "county_official", "leader", "office", "registrar", "head_teacher_2",
                                  "mentor", "township_official"])
def test_it_renders_for_those_who_see_the_student(login, org, role):
    r = login(getattr(org, role)).get(url(org.student_2))
    assert r.status_code == 200
    assert "李四" in r.content.decode()


@pytest.mark.parametrize("role", ["head_teacher_1", "outsider"])
def test_it_is_not_found_outside_scope(login, org, role):
    assert login(getattr(org, role)).get(url(org.student_2)).status_code == 404


def test_a_head_teacher_sees_a_masked_id_and_no_reveal_button(login, org):
    html = login(org.head_teacher_1).get(url(org.student_1)).content.decode()
    assert org.student_1.id_number not in html
    assert "显示完整证件号" not in html
    assert "13812345678" in html  # head teachers call home


def test_a_township_official_sees_masked_phones(login, org):
    html = login(org.township_official).get(url(org.student_2)).content.decode()
    assert "13987654321" not in html
    assert "139****4321" in html


def test_the_key_groups_and_mentors_are_shown(login, org):
    html = login(org.office).get(url(org.student_2)).content.decode()
    assert "留守儿童（双亲留守）" in html
    assert "周老师" in html


def test_reveal_shows_the_number_once_and_is_logged(login, org):
    client = login(org.registrar)
    html = client.get(url(org.student_1)).content.decode()
    assert "显示完整证件号" in html and org.student_1.id_number not in html
    r = client.post(reverse("student_reveal_id", args=[org.student_1.pk]))
    assert r.status_code == 200
    assert org.student_1.id_number in r.content.decode()
    entry = AuditEntry.objects.get(action="reveal")
    assert entry.actor == org.registrar and entry.student_id == org.student_1.pk
    assert org.student_1.id_number not in client.get(url(org.student_1)).content.decode()


def test_reveal_is_not_found_for_a_head_teacher(login, org):
    r = login(org.head_teacher_1).post(reverse("student_reveal_id", args=[org.student_1.pk]))
    assert r.status_code == 404
    assert not AuditEntry.objects.filter(action="reveal").exists()


def test_reveal_needs_a_post(login, org):
    assert login(org.registrar).get(reverse("student_reveal_id", args=[org.student_1.pk])).status_code == 405
