import pytest
from django.urls import reverse

from baoxue.audit.models import AuditEntry
from baoxue.org.models import LeadershipGroup


def url(org):
    return reverse("school_detail", args=[org.school.code])


@pytest.mark.parametrize("role", ["admin", "county_official", "leader", "office", "registrar", "head_teacher_1"])
def test_it_renders_for_school_roles(login, org, role):
    assert login(getattr(org, role)).get(url(org)).status_code == 200


def test_it_is_not_found_for_outsiders(login, org):
    assert login(org.outsider).get(url(org)).status_code == 404


def test_it_lists_all_classes_to_the_office(login, org):
    html = login(org.office).get(url(org)).content.decode()
    assert "七年级(1)班" in html and "七年级(2)班" in html


def test_it_lists_only_their_own_class_to_a_head_teacher(login, org):
    html = login(org.head_teacher_1).get(url(org)).content.decode()
    assert "七年级(1)班" in html
    assert "七年级(2)班" not in html


def test_a_leader_sets_the_leadership_group(login, org):
    client = login(org.leader)
    r = client.post(reverse("leadership_edit", args=[org.school.code]), {
        "leaders": "赵建国 校长", "deputies": "钱卫东，副校长\n孙丽 副校长", "members": "周明 政教处主任",
        "office_location": "政教处", "office_director": "周明",
    })
    assert r.status_code == 302
    group = LeadershipGroup.objects.get(school=org.school, term=org.term)
    assert [(m.position, m.name, m.title) for m in group.members.order_by("id")] == [
        ("leader", "赵建国", "校长"), ("deputy", "钱卫东", "副校长"), ("deputy", "孙丽", "副校长"),
        ("member", "周明", "政教处主任"),
    ]
    assert AuditEntry.objects.filter(object_type="leadershipgroup", actor=org.leader).exists()
    html = client.get(url(org)).content.decode()
    assert "赵建国（校长）" in html and "办公室设在政教处" in html
    assert "组长 赵建国" in client.get(reverse("audit_list")).content.decode()


def test_a_leadership_group_needs_a_leader(login, org):
    r = login(org.office).post(reverse("leadership_edit", args=[org.school.code]),
                               {"leaders": "", "office_location": "政教处"})
    assert r.status_code == 200
    assert "请填写组长" in r.content.decode()


@pytest.mark.parametrize("role", ["head_teacher_1", "registrar", "county_official"])
def test_others_cannot_edit_the_leadership_group(login, org, role):
    assert login(getattr(org, role)).get(reverse("leadership_edit", args=[org.school.code])).status_code == 404
