"""一生一表: the print-friendly page, the Word file and the office's edits."""

import io

import docx
import pytest
from django.urls import reverse

from baoxue.audit.models import AuditEntry
from baoxue.cases.models import ContactRecord, DropoutForm
from tests.web.test_cases_helpers import dropout, suspected  # noqa: F401 (fixtures)


def url(case, name):
    return reverse(name, args=[case.pk])


def text_of(document) -> str:
    cells = [c.text for t in document.tables for row in t.rows for c in row.cells]
    return "\n".join([p.text for p in document.paragraphs] + cells)


def test_the_print_page_has_the_form_and_sign_off_lines(login, org, dropout):
    html = login(org.office).get(url(dropout, "case_form")).content.decode()
    assert "义务教育阶段辍学学生登记表" in html and "李四" in html
    assert "班主任（签字）" in html and "学校（盖章）" in html
    assert org.student_2.id_number not in html  # masked until revealed on purpose


def test_revealing_the_id_for_printing_is_logged(login, org, dropout):
    client = login(org.registrar)
    html = client.post(url(dropout, "case_form")).content.decode()
    assert org.student_2.id_number in html
    assert AuditEntry.objects.filter(action="reveal", actor=org.registrar, student_id=org.student_2.pk).exists()
    assert login(org.township_official).post(url(dropout, "case_form")).status_code == 404


def test_the_docx_downloads_and_opens(login, org, dropout):
    r = login(org.office).get(url(dropout, "case_form_docx"))
    assert r.status_code == 200 and "attachment" in r["Content-Disposition"]
    text = text_of(docx.Document(io.BytesIO(r.content)))
    assert "义务教育阶段辍学学生登记表" in text and "李四" in text and org.student_2.id_number in text
    assert "失踪失联" in text
    assert AuditEntry.objects.filter(action="export", object_type="dropoutform").exists()


def test_the_township_gets_the_docx_with_a_masked_id(login, org, dropout):
    r = login(org.township_official).get(url(dropout, "case_form_docx"))
    text = text_of(docx.Document(io.BytesIO(r.content)))
    assert "李四" in text and org.student_2.id_number not in text


@pytest.mark.parametrize("role", ["head_teacher_1", "outsider"])
def test_the_form_is_not_found_outside_scope(login, org, dropout, role):
    client = login(getattr(org, role))
    for name in ("case_form", "case_form_docx", "case_form_edit"):
        assert client.get(url(dropout, name)).status_code == 404


def test_a_case_without_a_form_has_none(login, org, suspected):
    assert login(org.office).get(url(suspected, "case_form")).status_code == 404


def test_the_office_edits_the_free_text(login, org, dropout):
    client = login(org.office)
    r = client.post(url(dropout, "case_form_edit"), {"dropout_reason": "厌学", "whereabouts": "随父外出打工（广东东莞）",
                                                     "support": "结对帮扶，减免住宿费", "remarks": ""})
    assert r.status_code == 302
    data = DropoutForm.objects.get(case=dropout).data
    assert (data["whereabouts"], data["support"]) == ("随父外出打工（广东东莞）", "结对帮扶，减免住宿费")
    assert "随父外出打工（广东东莞）" in client.get(url(dropout, "case_form")).content.decode()
    row = client.get(reverse("cases_ledger_dropout")).content.decode()
    assert "李四" in row
    assert login(org.head_teacher_2).get(url(dropout, "case_form_edit")).status_code == 404


def test_attempts_after_the_dropout_appear_on_the_form(login, org, dropout):
    import datetime as dt

    from baoxue.cases.services import attempt_add

    attempt_add(actor=org.office, case=dropout, date=dt.date(2025, 10, 9), method="joint",
                participants=[{"name": "王支书", "unit": "村委会"}], result="家长同意下周一送回")
    html = login(org.office).get(url(dropout, "case_form")).content.decode()
    assert "王支书（村委会）" in html and "家长同意下周一送回" in html
    text = text_of(docx.Document(io.BytesIO(login(org.office).get(url(dropout, "case_form_docx")).content)))
    assert "家长同意下周一送回" in text


def test_contact_times_are_local_on_the_print_page_and_the_docx(login, org, dropout, settings):
    import datetime as dt

    settings.TIME_ZONE = "Asia/Shanghai"
    client = login(org.office)
    r = client.post(url(dropout, "case_contact_add"), {"at": "2025-09-22T23:30", "method": "phone", "reached": "母亲",
                                                       "reason_given": "", "result": "答应明天送回"})
    assert r.status_code == 302
    assert ContactRecord.objects.get(case=dropout).at == dt.datetime(2025, 9, 22, 15, 30, tzinfo=dt.timezone.utc)
    html = client.get(url(dropout, "case_form")).content.decode()
    assert "<td>2025年9月22日 23:30</td>" in html and "15:30" not in html
    text = text_of(docx.Document(io.BytesIO(client.get(url(dropout, "case_form_docx")).content)))
    assert "2025-09-22 23:30 电话 联系 母亲" in text and "15:30" not in text
