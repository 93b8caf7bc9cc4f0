"""The 学籍异动 pages: the register, the form, one change with its 国网/省网 steps, and the term
review; by role, with outsiders getting a 404."""

import datetime as dt
import io

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from baoxue.audit.models import AuditEntry
from baoxue.org.models import RegistryStatus
from baoxue.registry.changes import registry_change_record
from baoxue.registry.models import ChangeType, RegistryChange, TermReview
from tests.conftest import approved_application

D = dt.date
LIST = reverse("registry_changes")
NEW = reverse("registry_change_new")
REVIEW = reverse("registry_review")


@pytest.fixture(autouse=True)
def _media(media):
    return media


@pytest.fixture
def suspension(org):
    return registry_change_record(actor=org.registrar, student=org.student_1, change_type=ChangeType.SUSPEND,
                                  date=D(2025, 10, 13), reason="因病休学（肺结核）", application=approved_application(org.student_1, D(2025, 10, 13)))


def png(name="截图.png"):
    return SimpleUploadedFile(name, b"\x89PNG\r\n\x1a\n fake", content_type="image/png")


# ---------------------------------------------------------------- who sees what

@pytest.mark.parametrize("who, status", [
    ("registrar", 200), ("office", 200), ("leader", 200), ("county_official", 200), ("admin", 200),
    ("head_teacher_1", 404), ("mentor", 404), ("township_official", 404), ("outsider", 404),
])
def test_the_register_by_role(login, org, suspension, who, status):
    response = login(getattr(org, who)).get(LIST)
    assert response.status_code == status
    if status == 200:
        assert "张三" in response.content.decode()


@pytest.mark.parametrize("who, status", [
    ("registrar", 200), ("leader", 200), ("county_official", 200),
    ("head_teacher_1", 404), ("outsider", 404), ("township_official", 404),
])
def test_one_change_by_role(login, org, suspension, who, status):
    assert login(getattr(org, who)).get(reverse("registry_change_detail", args=[suspension.pk])).status_code == status


@pytest.mark.parametrize("who, status", [
    ("registrar", 200), ("office", 200), ("admin", 200),
    ("leader", 404), ("county_official", 404), ("head_teacher_1", 404), ("outsider", 404),
])
def test_the_form_is_for_the_registrar_office_and_admin(login, org, who, status):
    assert login(getattr(org, who)).get(NEW, {"student": org.student_1.pk}).status_code == status


def test_the_nav_link_shows_for_registry_roles_only(login, org):
    assert "学籍异动</a>" in login(org.registrar).get(reverse("home")).content.decode()
    assert "学籍异动</a>" in login(org.county_official).get(reverse("home")).content.decode()
    assert "学籍异动</a>" not in login(org.head_teacher_1).get(reverse("home")).content.decode()


def test_a_file_is_shown_only_to_those_who_read_the_change(login, org):
    change = registry_change_record(actor=org.registrar, student=org.student_1, change_type=ChangeType.SUSPEND,
                                    date=D(2025, 10, 13), reason="因病休学",
                                    documents=SimpleUploadedFile("诊断证明.pdf", b"%PDF-1.4"), application=approved_application(org.student_1, D(2025, 10, 13)))
    url = reverse("registry_change_file", args=[change.pk, "documents"])
    response = login(org.leader).get(url)
    assert response.status_code == 200 and b"".join(response.streaming_content) == b"%PDF-1.4"
    assert login(org.outsider).get(url).status_code == 404
    assert login(org.leader).get(reverse("registry_change_file", args=[change.pk, "national"])).status_code == 404


# ---------------------------------------------------------------- the register

def test_filters_counts_and_export(login, org, suspension):
    registry_change_record(actor=org.registrar, student=org.student_2, change_type=ChangeType.TRANSFER_OUT,
                           date=D(2025, 9, 30), reason="随父母迁居", scope="cross_province", other_school="义乌市稠城中学")
    client = login(org.registrar)
    html = client.get(LIST).content.decode()
    assert "<strong>2</strong>条异动" in html and "<strong>1</strong>转出" in html
    assert "已逾期" in html  # due 2025-10-21, long past and not done
    filtered = client.get(LIST, {"change_type": "suspend"}).content.decode()
    assert "张三" in filtered and "李四" not in filtered
    overdue = client.get(LIST, {"processing": "overdue"}).content.decode()
    assert "李四" in overdue and "张三" not in overdue
    response = client.get(reverse("registry_changes_xlsx"), {"change_type": "transfer_out"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    rows = list(openpyxl.load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    assert len(rows) == 2 and rows[1][2:9] == ("李四", "七年级(2)班", "转出", "2025-09-30", "随父母迁居", "跨省",
                                                "义乌市稠城中学")
    assert AuditEntry.objects.filter(action="export", object_type="registrychange", school_id=org.school.pk).exists()


# ---------------------------------------------------------------- recording a change

def test_it_creates_a_transfer_out_by_post(login, org):
    client = login(org.registrar)
    response = client.post(f"{NEW}?student={org.student_2.pk}", {
        "change_type": "transfer_out", "date": "2025-09-30", "reason": "随父母到浙江务工", "scope": "cross_province",
        "other_school": "义乌市稠城中学", "documents": SimpleUploadedFile("转学联系函.pdf", b"%PDF-1.4"),
    })
    change = RegistryChange.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("registry_change_detail", args=[change.pk])
    assert change.due_on == D(2025, 10, 21) and change.handled_by == org.registrar and change.documents
    org.student_2.refresh_from_db()
    assert org.student_2.status == RegistryStatus.TRANSFERRED_OUT
    html = client.get(response["Location"]).content.decode()
    assert "2025年10月21日（周二）" in html and "已超过办结期限" in html
    assert "转入学校" in html and "义乌市稠城中学" in html


def test_working_days_left_are_shown_before_the_deadline(login, org, monkeypatch):
    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: D(2025, 10, 9))
    change = registry_change_record(actor=org.registrar, student=org.student_2, change_type=ChangeType.TRANSFER_OUT,
                                    date=D(2025, 9, 30), reason="迁居", scope="in_province", other_school="濮阳市一中")
    html = login(org.registrar).get(reverse("registry_change_detail", args=[change.pk])).content.decode()
    # 10-10, 10-11 (Saturday, 调休上班), 10-13 … 10-17, 10-20, 10-21: 9 working days after today.
    assert "还剩 <strong>9</strong> 个工作日" in html


def test_a_transfer_out_while_suspended_shows_the_rule(login, org, suspension):
    response = login(org.registrar).post(f"{NEW}?student={org.student_1.pk}", {
        "change_type": "transfer_out", "date": "2025-10-20", "reason": "转学", "scope": "in_province",
        "other_school": "濮阳市一中",
    })
    assert response.status_code == 200
    html = response.content.decode()
    assert "休学期间不能办理转学" in html
    assert RegistryChange.objects.count() == 1


def test_the_form_without_a_student_finds_one(login, org):
    html = login(org.registrar).get(NEW, {"q": "李四"}).content.decode()
    assert f"?student={org.student_2.pk}" in html and "张三" not in html
    assert login(org.leader).get(NEW).status_code == 404


def test_a_student_of_another_school_is_404(login, org, other_school_student):
    assert login(org.registrar).get(NEW, {"student": other_school_student.pk}).status_code == 404


@pytest.fixture
def other_school_student(org):
    from baoxue.lib.idcard import make_resident_id
    from baoxue.org.models import School, Student

    school = School.objects.create(code="4109990002", name="留固镇初级中学", county=org.county, township=org.liugu)
    number = make_resident_id("410999", D(2012, 5, 1), 9, "F")
    return Student.objects.create(county=org.county, school=school, name="外校生", sex="F", id_number=number)


# ---------------------------------------------------------------- 国网 and 省网

def test_resumption_steps_national_first_with_screenshot(login, org, suspension):
    client = login(org.registrar)
    client.post(f"{NEW}?student={org.student_1.pk}",
                {"change_type": "resume", "date": "2025-11-10", "reason": "病愈复学"})
    change = RegistryChange.objects.get(change_type="resume")
    url = reverse("registry_change_detail", args=[change.pk])
    html = client.get(url).content.decode()
    assert "省网办理复学时需上传国网复学成功截图" in html
    assert 'action="' + reverse("registry_change_done", args=[change.pk, "provincial"]) not in html

    refused = client.post(reverse("registry_change_done", args=[change.pk, "provincial"]), {"provincial-done_on": "2025-11-11"})
    assert refused.status_code == 400 and "省网办理复学时需上传国网复学成功截图" in refused.content.decode()
    missing = client.post(reverse("registry_change_done", args=[change.pk, "national"]), {"national-done_on": "2025-11-11"})
    assert missing.status_code == 400 and "这个字段是必填项" in missing.content.decode()

    done = client.post(reverse("registry_change_done", args=[change.pk, "national"]),
                       {"national-done_on": "2025-11-11", "national-screenshot": png()})
    assert done.status_code == 302
    client.post(reverse("registry_change_done", args=[change.pk, "provincial"]), {"provincial-done_on": "2025-11-12"})
    change.refresh_from_db()
    assert change.national_done_on == D(2025, 11, 11) and change.provincial_done_on == D(2025, 11, 12)
    assert reverse("registry_change_file", args=[change.pk, "national"]) in client.get(url).content.decode()


def test_a_leader_sees_the_steps_but_cannot_record_them(login, org, suspension):
    client = login(org.leader)
    html = client.get(reverse("registry_change_detail", args=[suspension.pk])).content.decode()
    assert "登记国网办结" not in html
    response = client.post(reverse("registry_change_done", args=[suspension.pk, "national"]),
                           {"national-done_on": "2025-10-14"})
    assert response.status_code == 404


# ---------------------------------------------------------------- the term review

def test_the_review_shows_the_deadline_and_the_terms_changes(login, org, suspension):
    html = login(org.registrar).get(REVIEW).content.decode()
    assert "2025年11月3日（周一）" in html
    assert "因病休学" in html
    assert "已超过梳理截止日期" in html  # today is long after it
    assert "签字确认</button>" not in html  # the registry clerk does not sign


def test_the_reminder_shows_within_two_weeks(login, org, monkeypatch):
    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: D(2025, 10, 25))
    html = login(org.office).get(REVIEW).content.decode()
    assert "距梳理截止还有 <strong>9</strong> 天" in html
    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: D(2025, 10, 10))
    html = login(org.office).get(REVIEW).content.decode()
    assert "距梳理截止还有" not in html and "2025年10月20日 起开始提醒" not in html
    assert "（2025年10月20日 起）开始提醒" in html


def test_office_director_and_principal_sign_off(login, org, suspension):
    office = login(org.office)
    html = office.get(REVIEW).content.decode()
    assert "以办公室主任身份签字确认" in html and "以校长身份签字确认" not in html
    review = TermReview.objects.get()
    response = office.post(reverse("registry_review_sign", args=[review.pk]), {"as_role": "office"})
    assert response.status_code == 302
    again = office.post(reverse("registry_review_sign", args=[review.pk]), {"as_role": "office"}, follow=True)
    assert "办公室主任已于" in again.content.decode()

    leader = login(org.leader)
    html = leader.get(REVIEW).content.decode()
    assert "以校长身份签字确认" in html and "钱主任 已于" in html
    leader.post(reverse("registry_review_sign", args=[review.pk]), {"as_role": "principal"})
    review.refresh_from_db()
    assert review.office_signed_by == org.office and review.principal_signed_by == org.leader
    assert "已完成" in leader.get(REVIEW).content.decode()


def test_the_review_exports_and_is_404_for_outsiders(login, org, suspension):
    login(org.registrar).get(REVIEW)
    review = TermReview.objects.get()
    response = login(org.county_official).get(reverse("registry_review_xlsx", args=[review.pk]))
    assert response.status_code == 200 and response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert login(org.outsider).get(REVIEW).status_code == 404
    assert login(org.outsider).get(reverse("registry_review_xlsx", args=[review.pk])).status_code == 404
    assert login(org.outsider).post(reverse("registry_review_sign", args=[review.pk]),
                                    {"as_role": "office"}).status_code == 404
    assert login(org.head_teacher_1).get(REVIEW).status_code == 404
