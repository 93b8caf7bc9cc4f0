"""休学申请 pages: a head teacher starts and fills the application, the page says exactly what is
missing, the bureau decides, the registry clerk does the 国网 steps; outsiders and other classes'
head teachers get 404 on the application and its files; every view of a paper is logged."""

import datetime as dt
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from baoxue.audit.models import AuditEntry
from baoxue.org.models import RegistryStatus
from baoxue.registry import suspensions
from baoxue.registry.models import Application, ApplicationFile, Material, RegistryChange

D = dt.date
PDF = b"%PDF-1.4\n% scanned paper\n"


@pytest.fixture(autouse=True)
def _media(media):
    return media


def pdf(name="诊断证明.pdf", body=PDF):
    return SimpleUploadedFile(name, body, content_type="application/pdf")


def act(client, app, action, data):
    return client.post(reverse("suspension_act", args=[app.pk, action]), data)


@pytest.fixture
def app(org):
    return suspensions.application_start(actor=org.head_teacher_1, student=org.student_1, illness="肺结核")


def complete(org, app):
    """Everything the plan asks for, on the 2025-2026-1 term (rest of most of the term)."""
    suspensions.application_update(actor=org.registrar, app=app, hospital="示范县人民医院", hospital_level="county",
                                   diagnosed_on=D(2025, 9, 20), rest_from=D(2025, 9, 22), rest_to=D(2026, 1, 23),
                                   start_on=D(2025, 10, 13))
    for m in suspensions.MATERIALS[app.kind]:
        suspensions.application_file_add(actor=org.registrar, app=app, material=m, upload=pdf(f"{m}.pdf"))
    suspensions.application_bills_set(actor=org.registrar, app=app, items=[("住院费", "1000.00")])
    return app


def test_the_head_teacher_starts_an_application_from_the_student_page(login, org):
    client = login(org.head_teacher_1)
    page = client.get(reverse("student_detail", args=[org.student_1.pk])).content.decode()
    assert f"{reverse('suspension_new')}?student={org.student_1.pk}" in page
    response = client.post(reverse("suspension_new") + f"?student={org.student_1.pk}",
                           {"student": org.student_1.pk, "kind": "suspend", "illness": "肺结核"})
    app = Application.objects.get(student=org.student_1)
    assert response.status_code == 302 and response["Location"] == reverse("suspension_detail", args=[app.pk])
    assert app.created_by == org.head_teacher_1 and app.state == "draft"


def test_the_page_says_exactly_what_is_missing_and_refuses_to_submit(login, org, app):
    client = login(org.head_teacher_1)
    page = client.get(reverse("suspension_detail", args=[app.pk])).content.decode()
    for text in ("未上传：县级以上医院诊断证明", "未填写诊断医院", "未填写药费明细", "未上传：休学申请表（学校存档，盖章签字）",
                 "未填写住院或休息起止日期"):
        assert text in page
    response = act(client, app, "submit", {})
    assert response.status_code == 400
    assert "未上传：学生或家长书面申请" in response.content.decode()
    app.refresh_from_db()
    assert app.state == "draft" and app.batch_day is None


def test_the_page_shows_the_one_third_computation(login, org, app):
    client = login(org.head_teacher_1)
    act(client, app, "data", {"data-illness": "肺结核", "data-rest_from": "2025-09-22", "data-rest_to": "2025-10-31",
                              "data-start_on": "2025-10-13"})
    page = client.get(reverse("suspension_detail", args=[app.pk])).content.decode()
    term_days = len(suspensions.workdays.school_days(org.school, D(2025, 9, 1), D(2026, 1, 23)))
    rest_days = len(suspensions.workdays.school_days(org.school, D(2025, 9, 22), D(2025, 10, 31)))
    assert f"学期在校日 {term_days} 天" in page and f"在校日 {rest_days} 天" in page
    assert "未超过学期的 1/3" in page


def test_bills_are_entered_line_by_line_and_a_bad_amount_names_its_row(login, org, app):
    client = login(org.head_teacher_1)
    response = client.post(reverse("suspension_act", args=[app.pk, "bills"]),
                           {"item": ["住院费", "药费"], "amount": ["800", "一百"]})
    assert response.status_code == 400 and "第 2 行（药费）" in response.content.decode()
    assert not app.bills.exists()
    client.post(reverse("suspension_act", args=[app.pk, "bills"]), {"item": ["住院费", "药费", ""],
                                                                   "amount": ["800", "199.99", ""]})
    assert str(suspensions.bills_total(app)) == "999.99"
    page = client.get(reverse("suspension_detail", args=[app.pk])).content.decode()
    assert "药费合计 999.99 元，不足 1,000 元" in page


def test_an_upload_is_checked_by_its_content(login, org, app):
    client = login(org.head_teacher_1)
    exe = SimpleUploadedFile("诊断证明.pdf", b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 64)
    response = client.post(reverse("suspension_act", args=[app.pk, "upload"]),
                           {"up-material": "diagnosis", "up-upload": exe})
    assert response.status_code == 400 and "不是 PDF、JPG 或 PNG 文件" in response.content.decode()
    assert not ApplicationFile.objects.exists()
    client.post(reverse("suspension_act", args=[app.pk, "upload"]), {"up-material": "diagnosis", "up-upload": pdf()})
    assert ApplicationFile.objects.get().original_name == "诊断证明.pdf"


def test_a_file_too_large_is_refused(login, org, app, settings):
    settings.APPLICATION_FILE_MAX_MB = 1
    client = login(org.head_teacher_1)
    big = pdf(body=PDF + b"0" * (1024 * 1024))
    response = client.post(reverse("suspension_act", args=[app.pk, "upload"]), {"up-material": "diagnosis", "up-upload": big})
    assert response.status_code == 400 and "超过 1 MB" in response.content.decode()


def test_another_class_head_teacher_and_outsiders_get_404_on_the_application_and_its_files(login, org, app):
    f = suspensions.application_file_add(actor=org.head_teacher_1, app=app, material="diagnosis", upload=pdf())
    for user in (org.head_teacher_2, org.outsider, org.mentor, org.township_official):
        client = login(user)
        assert client.get(reverse("suspension_detail", args=[app.pk])).status_code == 404
        assert client.get(reverse("suspension_file", args=[f.pk])).status_code == 404
        assert client.get(reverse("suspension_form_docx", args=[app.pk])).status_code == 404
        assert act(client, app, "submit", {}).status_code == 404
    assert not AuditEntry.objects.filter(action="view").exists()


def test_a_paper_is_served_to_those_who_see_it_and_every_view_is_logged(login, org, app):
    f = suspensions.application_file_add(actor=org.head_teacher_1, app=app, material="diagnosis", upload=pdf())
    for user in (org.head_teacher_1, org.registrar, org.county_official):
        response = login(user).get(reverse("suspension_file", args=[f.pk]))
        assert response.status_code == 200 and b"".join(response.streaming_content) == PDF
        assert response["Content-Type"] == "application/pdf" and response["X-Content-Type-Options"] == "nosniff"
    assert AuditEntry.objects.filter(action="view", object_type="applicationfile").count() == 3


def test_the_bureau_approves_and_the_clerk_does_the_national_steps(login, org, app):
    complete(org, app)
    suspensions.application_submit(actor=org.head_teacher_1, app=app, today=D(2025, 10, 9))
    app.refresh_from_db()
    assert app.batch_day == D(2025, 10, 20)
    # The head teacher cannot decide; the bureau can.
    assert act(login(org.head_teacher_1), app, "decide", {"decide-decision": "approve", "decide-decided_on": "2025-10-20"}
               ).status_code == 404
    response = act(login(org.county_official), app, "decide",
                   {"decide-decision": "approve", "decide-comment": "同意", "decide-decided_on": "2025-10-20"})
    assert response.status_code == 302
    app.refresh_from_db()
    assert app.state == "approved"
    client = login(org.registrar)
    for step in ("form", "proof", "reason"):
        response = client.post(reverse("suspension_act", args=[app.pk, "step"]),
                               {"step": step, f"step_{step}-step": step, f"step_{step}-done_on": "2025-10-22"})
        assert response.status_code == 302, response.content.decode()[:2000]
    app.refresh_from_db()
    org.student_1.refresh_from_db()
    assert app.state == "effective" and org.student_1.status == RegistryStatus.SUSPENDED
    assert org.student_1.status_since == D(2025, 10, 13)
    change = RegistryChange.objects.get(student=org.student_1)
    assert change.change_type == "suspend" and change.national_done_on == D(2025, 10, 22)


def test_a_rejection_goes_back_with_its_reason_and_the_same_application_is_sent_again(login, org, app):
    complete(org, app)
    suspensions.application_submit(actor=org.head_teacher_1, app=app, today=D(2025, 10, 9))
    response = act(login(org.county_official), app, "decide", {"decide-decision": "reject", "decide-decided_on": "2025-10-20"})
    assert response.status_code == 400 and "退回须写明原因" in response.content.decode()
    act(login(org.county_official), app, "decide",
        {"decide-decision": "reject", "decide-comment": "诊断证明须加盖医院公章", "decide-decided_on": "2025-10-20"})
    page = login(org.head_teacher_1).get(reverse("suspension_detail", args=[app.pk])).content.decode()
    assert "已退回" in page and "诊断证明须加盖医院公章" in page
    suspensions.application_file_add(actor=org.head_teacher_1, app=app, material="diagnosis", upload=pdf("盖章.pdf"))
    again = suspensions.application_submit(actor=org.head_teacher_1, app=app, today=D(2025, 10, 21))
    assert again.pk == app.pk and again.batch_day == D(2025, 11, 20)
    assert Application.objects.filter(student=org.student_1).count() == 1


def test_the_change_form_refuses_a_suspension_and_says_where_to_apply(login, org):
    client = login(org.registrar)
    response = client.post(reverse("registry_change_new") + f"?student={org.student_1.pk}",
                           {"student": org.student_1.pk, "change_type": "suspend", "date": "2025-10-13", "reason": "病"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "休学申请" in page and "未按程序操作的不予审批" in page
    assert not RegistryChange.objects.exists()
    org.student_1.refresh_from_db()
    assert org.student_1.status == RegistryStatus.IN_SCHOOL


def test_the_form_prints_and_downloads_as_a4_word(login, org, app):
    complete(org, app)
    client = login(org.head_teacher_1)
    page = client.get(reverse("suspension_form_print", args=[app.pk])).content.decode()
    assert "示范县第一初级中学学生休学申请表" in page and "肺结核" in page and "校长（签字）" in page
    response = client.get(reverse("suspension_form_docx", args=[app.pk]))
    from docx import Document

    doc = Document(io.BytesIO(response.content))
    section = doc.sections[0]
    assert round(section.page_width.mm) == 210 and round(section.page_height.mm) == 297
    text = "\n".join(c.text for t in doc.tables for row in t.rows for c in row.cells)
    assert "肺结核" in text and "1,000.00 元" in text and "县教体局审批意见" in text


def test_the_list_shows_the_next_submission_day_and_the_batch_prints(login, org, app):
    complete(org, app)
    suspensions.application_submit(actor=org.head_teacher_1, app=app, today=D(2025, 10, 9))
    client = login(org.office)
    page = client.get(reverse("suspension_list")).content.decode()
    assert "下一个报批日" in page and "张三" in page
    batch = client.get(reverse("suspension_batch", args=[org.school.code, "2025-10-20"])).content.decode()
    assert "休学报批清单" in batch and "张三" in batch and "1000.00" in batch
    assert login(org.head_teacher_1).get(reverse("suspension_batch", args=[org.school.code, "2025-10-20"])).status_code == 404


def test_the_county_sets_the_thresholds(login, org):
    client = login(org.county_official)
    response = client.post(reverse("suspension_rules"), {
        "rest_share_denominator": 4, "min_bills": "800", "term_months": 12, "max_months": 24, "remind_days": 30,
        "extend_lead_working_days": 15})
    assert response.status_code == 302
    assert suspensions.current_rules(org.county.pk).min_bills == 800
    assert login(org.registrar).get(reverse("suspension_rules")).status_code == 404


def test_the_detail_page_reads_in_a_constant_number_of_queries(login, org, app, django_assert_max_num_queries):
    complete(org, app)
    client = login(org.registrar)
    with django_assert_max_num_queries(60):
        assert client.get(reverse("suspension_detail", args=[app.pk])).status_code == 200
    for n in range(8):
        suspensions.application_file_add(actor=org.registrar, app=app, material=Material.DIAGNOSIS, upload=pdf(f"{n}.pdf"))
    suspensions.application_bills_set(actor=org.registrar, app=app, items=[(f"项目{n}", "200") for n in range(12)])
    with django_assert_max_num_queries(60):
        assert client.get(reverse("suspension_detail", args=[app.pk])).status_code == 200
