import pytest
from django.urls import reverse


@pytest.mark.parametrize("role", ["admin", "county_official", "township_official", "leader", "office",
                                  "registrar", "head_teacher_1", "mentor", "outsider"])
def test_it_renders_for_every_role(login, org, role):
    r = login(getattr(org, role)).get(reverse("home"))
    assert r.status_code == 200


def test_it_shows_the_county_its_schools(login, org):
    html = login(org.county_official).get(reverse("home")).content.decode()
    assert "全县总览" in html
    assert org.school.name in html
    assert "留守儿童" in html  # a key-group column with a member


def test_it_shows_a_township_its_residents_only(login, org):
    r = login(org.township_official).get(reverse("home"))
    html = r.content.decode()
    assert "留固镇常住学生" in html
    block = r.context["blocks"][0]
    # 李四 lives in 留固镇, 张三 does not
    assert [(s["school"], s["residents"]) for s in block["schools"]] == [(org.school, 1)]


def test_it_gives_a_head_teacher_a_button_per_class(login, org):
    html = login(org.head_teacher_1).get(reverse("home")).content.decode()
    assert reverse("class_detail", args=[org.class_1.pk]) in html
    assert reverse("class_detail", args=[org.class_2.pk]) not in html


def test_it_summarises_the_school_for_the_office(login, org):
    r = login(org.office).get(reverse("home"))
    summary = r.context["schools"][0]
    assert summary["students"] == 2
    assert summary["grades"] == [{"name": "七年级", "classes": 2, "students": 2}]
    assert reverse("import_upload", args=[org.school.code]) in r.content.decode()


def test_it_lists_a_mentors_mentees(login, org):
    html = login(org.mentor).get(reverse("home")).content.decode()
    assert "李四" in html
    assert "张三" not in html


def test_it_tells_a_user_without_roles_what_to_do(login, org):
    assert "联系系统管理员" in login(org.outsider).get(reverse("home")).content.decode()
