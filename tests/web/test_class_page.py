import pytest
from django.urls import reverse


def url(cls):
    return reverse("class_detail", args=[cls.pk])


@pytest.mark.parametrize("role", ["admin", "county_official", "leader", "office", "registrar", "head_teacher_1"])
def test_it_lists_the_class(login, org, role):
    r = login(getattr(org, role)).get(url(org.class_1))
    assert r.status_code == 200
    assert "张三" in r.content.decode()


@pytest.mark.parametrize("role", ["head_teacher_1", "township_official", "mentor", "outsider"])
def test_it_is_not_found_outside_scope(login, org, role):
    assert login(getattr(org, role)).get(url(org.class_2)).status_code == 404


def test_it_masks_id_numbers(login, org):
    html = login(org.head_teacher_1).get(url(org.class_1)).content.decode()
    assert org.student_1.id_number not in html
    assert org.student_1.id_number[:2] + "*" * 14 + org.student_1.id_number[-2:] in html
