"""The pages: the school's list (office, leaders, registry clerk, county; a head teacher's own
class; a plan's teachers), the child's page, the phone form, files served only to those allowed
and audited; everyone else gets a 404."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from baoxue.audit.models import AuditEntry
from baoxue.org.models import KeyGroup, KeyGroupMembership
from baoxue.special.models import HomeTeachingVisit, PlacementDecision
from tests.conftest import make_student
from tests.special.helpers import exe, home_teaching, jpg, visit

D = dt.date


@pytest.fixture
def plan(users, child, term):
    return home_teaching(users, child)


def as_(client, user):
    client.force_login(user)
    return client


@pytest.mark.parametrize("who", ["office", "leader", "registrar", "county", "admin", "t71", "teacher"])
def test_those_who_may_see_the_child_find_it_in_the_list_and_open_its_page(client, users, child, plan, who):
    c = as_(client, users[who])
    page = c.get(reverse("special_list"))
    assert page.status_code == 200 and "张三" in page.content.decode()
    assert c.get(reverse("special_student", args=[child.pk])).status_code == 200


def test_another_class_head_teacher_sees_the_list_without_the_child_and_no_page(client, users, child, plan):
    c = as_(client, users["t72"])
    page = c.get(reverse("special_list"))
    assert page.status_code == 200 and "张三" not in page.content.decode()
    assert c.get(reverse("special_student", args=[child.pk])).status_code == 404


@pytest.mark.parametrize("who", ["outsider", "township"])
def test_outsiders_get_404(client, users, child, plan, who):
    c = as_(client, users[who])
    assert c.get(reverse("special_list")).status_code == 404
    assert c.get(reverse("special_student", args=[child.pk])).status_code == 404
    assert c.get(reverse("special_visit_new", args=[plan.pk])).status_code == 404


def test_a_mentor_without_a_plan_gets_404(client, users, child):
    assert as_(client, users["teacher"]).get(reverse("special_list")).status_code == 404


def test_the_page_shows_the_computation_in_words_and_the_suspension_path(client, users, child, plan):
    visit(users, plan, D(2025, 9, 2))
    html = as_(client, users["office"]).get(reverse("special_student", args=[child.pk])).content.decode()
    assert "含在校日的周才计" in html and "每周至少送教 2 次" in html and "本学年至少 30 课时" in html
    assert f"{reverse('suspension_new')}?student={child.pk}&amp;kind=disability" in html
    assert "记录一次送教上门" in html


def test_the_student_page_links_a_disabled_child(client, users, child):
    html = as_(client, users["office"]).get(reverse("student_detail", args=[child.pk])).content.decode()
    assert reverse("special_student", args=[child.pk]) in html


def test_the_office_records_a_placement_and_a_head_teacher_may_not(client, users, child):
    url = reverse("special_placement", args=[child.pk])
    data = {"placement-decided_on": "2025-09-01", "placement-placement": "home_teaching",
            "placement-basis": "县残疾人教育专家委员会评估意见"}
    assert as_(client, users["t71"]).post(url, data).status_code == 404
    assert as_(client, users["office"]).post(url, data).status_code == 302
    assert PlacementDecision.objects.get().placement == "home_teaching"


def test_a_teacher_records_a_visit_on_the_phone_with_the_signature_photo(client, users, child, plan):
    c = as_(client, users["teacher"])
    url = reverse("special_visit_new", args=[plan.pk])
    form = c.get(url)
    assert form.status_code == 200 and 'enctype="multipart/form-data"' in form.content.decode()
    response = c.post(url, {"visit-date": "2025-09-02", "visit-hours": "2", "visit-content": "识字、康复训练",
                            "visit-teachers": [users["teacher"].pk], "visit-signature": jpg(),
                            "visit-photos": [jpg("a.jpg"), jpg("b.jpg")]})
    assert response.status_code == 302
    v = HomeTeachingVisit.objects.get()
    assert sorted(f.kind for f in v.files.all()) == ["photo", "photo", "signature"]


def test_a_renamed_program_is_refused_on_the_page(client, users, child, plan):
    c = as_(client, users["teacher"])
    response = c.post(reverse("special_visit_new", args=[plan.pk]), {
        "visit-date": "2025-09-02", "visit-hours": "2", "visit-content": "识字",
        "visit-teachers": [users["teacher"].pk], "visit-signature": exe("签字.jpg")})
    assert response.status_code == 400 and "按文件内容判断" in response.content.decode()
    assert not HomeTeachingVisit.objects.exists()


def test_a_head_teacher_reads_the_log_but_does_not_record(client, users, child, plan):
    assert as_(client, users["t71"]).get(reverse("special_visit_new", args=[plan.pk])).status_code == 404


def test_files_are_served_only_to_those_allowed_and_every_view_is_audited(client, users, child, plan):
    v = visit(users, plan, D(2025, 9, 2))
    f = v.files.get()
    url = reverse("special_file", args=[f.pk])
    for who in ("t72", "outsider", "township"):
        assert as_(client, users[who]).get(url).status_code == 404
    assert not AuditEntry.objects.filter(action="view").exists()
    response = as_(client, users["teacher"]).get(url)
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    assert response["Cache-Control"] == "no-store" and response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content).startswith(b"\xff\xd8\xff")
    row = AuditEntry.objects.get(action="view")
    assert (row.actor, row.object_type, row.student_id) == (users["teacher"], "specialfile", child.pk)


def test_the_county_sets_the_targets_and_a_school_may_not(client, users):
    url = reverse("special_settings")
    assert as_(client, users["office"]).get(url).status_code == 404
    c = as_(client, users["county"])
    assert c.post(url, {"visits_per_week": "3", "hours_per_year": "36"}).status_code == 302
    assert AuditEntry.objects.filter(object_type="specialsettings").exists()


def disabled_children(users, people, school, county, n, start):
    for i in range(n):
        s = make_student(school, people["c71"], f"学生{start + i}", 20 + start + i)
        KeyGroupMembership.objects.create(student=s, county=county, school=school, group=KeyGroup.DISABLED,
                                          started_on=D(2025, 9, 1))
        plan = home_teaching(users, s)
        visit(users, plan, D(2025, 9, 2))
        visit(users, plan, D(2025, 9, 4), signed=False)


def test_the_list_reads_in_a_constant_number_of_queries(client, users, people, school, county, term,
                                                         django_assert_max_num_queries):
    c = as_(client, users["office"])
    url = reverse("special_list")
    disabled_children(users, people, school, county, 2, 0)
    c.get(url)
    with CaptureQueriesContext(connection) as few:
        assert c.get(url).status_code == 200
    disabled_children(users, people, school, county, 8, 2)
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = c.get(url)
    html = page.content.decode()
    assert html.count("1 次缺监护人签字") == 10 and "学生9" in html
