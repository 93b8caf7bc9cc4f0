"""The legal pages: the office files, the bureau records the approval, the township records its
legal steps with their documents; the township, the school's office and leaders and the bureau
see them, everyone else gets a 404; papers are checked by content and every view is logged."""

import datetime as dt

import pytest
from django.urls import reverse

from baoxue.audit.models import AuditEntry
from baoxue.legal.models import ExitCondition, LegalPaper, LegalStep
from baoxue.legal.services import exit_condition_approve, exit_condition_file, legal_step_record
from baoxue.org.models import Membership, Role, Township
from tests.legal.conftest import fake_pdf, joint, pdf
from tests.web.conftest import _user

D = dt.date
EC = ExitCondition
pytestmark = pytest.mark.usefixtures("media")


def page(case):
    return reverse("legal_case", args=[case.pk])


def act(case, action):
    return reverse("legal_act", args=[case.pk, action])


def step_post(**extra):
    return {"step-kind": "order", "step-date": "2025-10-10", "step-issued_by": "留固镇人民政府",
            "step-doc_no": "留政责〔2025〕5号", "step-upload": pdf("通知书.pdf"), "step-note": "送达监护人", **extra}


@pytest.fixture
def other_township_official(org):
    chengguan_official = _user("chengguan", "城关干事")
    Membership.objects.create(user=chengguan_official, role=Role.TOWNSHIP, county=org.county, township=org.chengguan)
    return chengguan_official


def test_the_office_files_with_three_joint_attempts(login, org, dropout):
    joint(org, dropout, 2)
    client = login(org.office)
    r = client.post(act(dropout, "file"), {"file-ground": "joint", "file-on": "2025-10-09"})
    assert r.status_code == 400
    assert "联合劝返仅 2 次（须至少 3 次，每次有校外部门人员参加）" in r.content.decode()
    joint(org, dropout, 1)
    r = client.post(act(dropout, "file"), {"file-ground": "joint", "file-on": "2025-10-09"})
    assert r.status_code == 302 and ExitCondition.objects.get(case=dropout).state == EC.State.FILED


def test_the_office_files_on_a_judgment_checked_by_content(login, org, dropout):
    client = login(org.office)
    data = {"file-ground": "judgment", "file-on": "2025-10-09", "file-court": "示范县人民法院",
            "file-judgment_on": "2025-10-01", "file-judgment_no": "（2025）豫0999民初123号"}
    r = client.post(act(dropout, "file"), {**data, "file-upload": fake_pdf()})
    assert r.status_code == 400 and "按文件内容判断" in r.content.decode()
    r = client.post(act(dropout, "file"), {**data, "file-upload": pdf()})
    assert r.status_code == 302
    assert ExitCondition.objects.get(case=dropout).judgment.original_name == "判决书.pdf"


def test_the_bureau_records_the_approval_and_the_case_stays_open(login, org, dropout):
    joint(org, dropout, 3)
    exit_condition_file(actor=org.office, case=dropout, ground=EC.Ground.JOINT, on=D(2025, 10, 9))
    r = login(org.county_official).post(act(dropout, "approve"), {
        "approve-approver": "county_government", "approve-on": "2025-10-20", "approve-approval_no": "示政〔2025〕3号",
        "approve-upload": pdf("批复.pdf")})
    assert r.status_code == 302
    ec = ExitCondition.objects.get(case=dropout)
    assert ec.state == EC.State.APPROVED and ec.approval_recorded_by == org.county_official
    dropout.refresh_from_db()
    assert dropout.is_open
    html = login(org.office).get(reverse("case_detail", args=[dropout.pk])).content.decode()
    assert "认定符合退出条件" in html and "辍学劝返台账中继续跟进" in html
    # The head teacher, who does not see the legal page, still learns that the student counts apart.
    html = login(org.head_teacher_2).get(reverse("case_detail", args=[dropout.pk])).content.decode()
    assert "认定符合义务教育有保障退出条件" in html and reverse("legal_case", args=[dropout.pk]) not in html


def test_a_township_official_cannot_file_or_approve(login, org, dropout):
    joint(org, dropout, 3)
    client = login(org.township_official)
    assert client.post(act(dropout, "file"), {"file-ground": "joint", "file-on": "2025-10-09"}).status_code == 404
    assert not ExitCondition.objects.exists()


def test_the_township_records_a_legal_step_with_its_document(login, org, dropout):
    client = login(org.township_official)
    r = client.post(act(dropout, "step"), step_post())
    assert r.status_code == 302
    step = LegalStep.objects.get(case=dropout)
    assert (step.kind, step.date, step.issued_by, step.doc_no, step.recorded_by) == (
        "order", D(2025, 10, 10), "留固镇人民政府", "留政责〔2025〕5号", org.township_official)
    assert step.paper.original_name == "通知书.pdf" and "通知书" not in step.paper.file.name
    entry = AuditEntry.objects.get(object_type="legalstep", object_id=str(step.pk))
    assert entry.actor == org.township_official and entry.student_id == org.student_2.pk


def test_a_step_document_is_checked_by_content_and_needed_for_an_order(login, org, dropout):
    client = login(org.office)
    r = client.post(act(dropout, "step"), step_post(**{"step-upload": fake_pdf("通知书.pdf")}))
    assert r.status_code == 400 and "按文件内容判断" in r.content.decode()
    data = step_post()
    del data["step-upload"]
    r = client.post(act(dropout, "step"), data)
    assert r.status_code == 400 and "请上传文书" in r.content.decode()
    # 批评教育 may be recorded without a paper.
    r = client.post(act(dropout, "step"), {**data, "step-kind": "education"})
    assert r.status_code == 302
    assert list(LegalStep.objects.values_list("kind", flat=True)) == ["education"]


@pytest.mark.parametrize("role", ["township_official", "county_official", "office", "leader", "admin"])
def test_legal_steps_are_visible_to_the_township_the_school_and_the_bureau(login, org, dropout, role):
    step = legal_step_record(actor=org.township_official, case=dropout, kind="penalty", date=D(2025, 10, 15),
                             issued_by="留固镇人民政府", doc_no="留政罚〔2025〕1号", upload=pdf("处罚决定书.pdf"))
    client = login(getattr(org, role))
    html = client.get(page(dropout)).content.decode()
    assert "行政处罚" in html and "留政罚〔2025〕1号" in html
    assert "李四" in client.get(reverse("legal_list")).content.decode()
    r = client.get(reverse("legal_file", args=[step.paper_id]))
    assert r.status_code == 200 and r["Content-Type"] == "application/pdf" and r["Cache-Control"] == "no-store"
    view = AuditEntry.objects.get(action="view", object_type="legalpaper")
    assert view.actor == getattr(org, role) and "处罚决定书.pdf" in view.note


@pytest.mark.parametrize("role", ["head_teacher_1", "head_teacher_2", "mentor", "registrar", "outsider",
                                  "other_township_official"])
def test_everyone_else_gets_a_404(login, org, dropout, other_township_official, role):
    step = legal_step_record(actor=org.township_official, case=dropout, kind="penalty", date=D(2025, 10, 15),
                             issued_by="留固镇人民政府", upload=pdf("处罚决定书.pdf"))
    user = other_township_official if role == "other_township_official" else getattr(org, role)
    client = login(user)
    assert client.get(page(dropout)).status_code == 404
    assert client.get(reverse("legal_file", args=[step.paper_id])).status_code == 404
    assert client.post(act(dropout, "step"), step_post()).status_code == 404
    assert LegalStep.objects.count() == 1
    assert not AuditEntry.objects.filter(action="view").exists()
    r = client.get(reverse("legal_list"))
    assert r.status_code == 404 or "李四" not in r.content.decode()


def test_the_list_filters_by_school_and_state(login, org, dropout):
    joint(org, dropout, 3)
    ec = exit_condition_file(actor=org.office, case=dropout, ground=EC.Ground.JOINT, on=D(2025, 10, 9))
    client = login(org.county_official)
    url = reverse("legal_list")
    assert "李四" in client.get(url, {"state": "filed"}).content.decode()
    assert "李四" not in client.get(url, {"state": "approved"}).content.decode()
    exit_condition_approve(actor=org.county_official, ec=ec, approver="revitalisation", on=D(2025, 10, 20),
                           approval_no="示乡振〔2025〕12号")
    html = client.get(url, {"state": "approved", "school": org.school.code}).content.decode()
    assert "李四" in html and "示乡振〔2025〕12号" in html
    assert "李四" not in client.get(url, {"kind": "order"}).content.decode()
    assert "李四" in client.get(url, {"kind": "none"}).content.decode()


def test_the_forms_render_for_the_office_on_the_case_page(login, org, dropout):
    html = login(org.office).get(page(dropout)).content.decode()
    assert "申报退出条件" in html and "记录一项措施" in html and 'enctype="multipart/form-data"' in html
    assert "0/3" in html
    html = login(org.office).get(reverse("case_detail", args=[dropout.pk])).content.decode()
    assert "义务教育有保障退出条件与依法控辍" in html and page(dropout) in html


def test_the_navigation_links_the_list_for_the_township_only_where_it_applies(login, org):
    assert "退出条件与依法控辍" in login(org.township_official).get(reverse("home")).content.decode()
    assert "退出条件与依法控辍" not in login(org.head_teacher_1).get(reverse("home")).content.decode()


def test_papers_of_other_cases_are_not_found(login, org, dropout):
    assert login(org.office).get(reverse("legal_file", args=[999])).status_code == 404
    assert not LegalPaper.objects.exists()
