import io

import openpyxl
import pytest
from django.urls import reverse

from baoxue.audit.services import audit_record

LIST = reverse("audit_list")


@pytest.fixture
def entries(org):
    audit_record(actor=org.registrar, action="update", obj=org.student_1,
                 changes={"id_number": ["", org.student_1.id_number], "address": ["甲", "乙"]})
    audit_record(actor=org.office, action="reveal", obj=org.student_2, note="查看完整身份证件号")


@pytest.mark.parametrize("role", ["admin", "county_official", "leader", "office"])
def test_it_renders_for_leaders_and_the_bureau(login, org, entries, role):
    r = login(getattr(org, role)).get(LIST + "?action=update")
    assert r.status_code == 200
    assert r.context["page"].paginator.count == 1
    everything = login(getattr(org, role)).get(LIST + "?action=reveal").context["page"].paginator.count
    assert everything == 1


def test_a_sign_in_is_in_the_trail(client, org):
    from baoxue.audit.models import AuditEntry

    assert client.login(username="office", password="pw-123456")
    assert AuditEntry.objects.filter(action="login", actor=org.office).count() == 1


@pytest.mark.parametrize("role", ["head_teacher_1", "registrar", "mentor", "township_official", "outsider"])
def test_it_is_not_found_for_others(login, org, entries, role):
    assert login(getattr(org, role)).get(LIST).status_code == 404
    assert login(getattr(org, role)).get(reverse("audit_export")).status_code == 404


def test_it_filters_by_action_actor_and_student(login, org, entries):
    client = login(org.leader)
    assert client.get(LIST, {"action": "reveal"}).context["page"].paginator.count == 1
    assert client.get(LIST, {"actor": org.registrar.pk}).context["page"].paginator.count == 1
    assert client.get(LIST, {"student": "张三"}).context["page"].paginator.count == 1
    assert client.get(LIST, {"student_id": org.student_2.pk}).context["page"].paginator.count == 1
    assert client.get(LIST, {"date_from": "2000-01-01", "date_to": "2000-01-02"}).context["page"].paginator.count == 0


def test_it_masks_id_numbers_in_the_changes(login, org, entries):
    html = login(org.leader).get(LIST).content.decode()
    assert org.student_1.id_number not in html
    assert "身份证件号" in html and "现住址" in html


def test_it_exports_what_is_filtered(login, org, entries):
    r = login(org.leader).get(reverse("audit_export"), {"action": "update"})
    ws = openpyxl.load_workbook(io.BytesIO(r.content)).active
    rows = list(ws.iter_rows(values_only=True))
    assert len(rows) == 2 and rows[1][2] == "修改"
    assert org.student_1.id_number not in rows[1][5]


def test_there_is_no_way_to_delete(login, org, entries):
    assert login(org.admin).post(LIST).status_code in (200, 405)
