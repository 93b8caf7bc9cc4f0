"""The 小学毕业生核查 pages: who sees them, upload → preview → confirm, and 逐一销账."""

import datetime
import io
import re
from pathlib import Path

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from baoxue.audit.models import AuditEntry
from baoxue.cases.models import Case
from baoxue.lib.idcard import make_resident_id
from baoxue.org.models import Membership, Role, School
from baoxue.registry.graduates import import_graduates
from baoxue.registry.models import Graduate, GraduateUpload
from tests.web.conftest import _user

LIST = "/registry/graduates/"
HEADERS = ["姓名", "身份证件号", "毕业小学", "村（社区）", "乡镇"]
BIRTH = datetime.date(2014, 6, 1)


def confirm_button(html: str) -> str:
    return re.search(r"<button[^>]*>确认导入</button>", html).group(0)


def new_id(seq, sex="F"):
    return make_resident_id("410999", BIRTH, seq, sex)


def xlsx(rows, name="毕业生名单.xlsx") -> SimpleUploadedFile:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(HEADERS)
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return SimpleUploadedFile(name, buf.getvalue(),
                              content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@pytest.fixture
def listed(org):
    """张三 (in the junior school: 已接续), 孙一 (留固镇, not found) and 孙二 (城关镇, not found)."""
    rows = [["张三", org.student_1.id_number, "城关镇中心小学", "东村", "城关镇"],
            ["孙一", new_id(1), "留固镇中心小学", "北村", "留固镇"],
            ["孙二", new_id(2), "城关镇中心小学", "西村", "城关镇"]]
    buf = io.BytesIO()
    wb = openpyxl.Workbook()
    wb.active.append(HEADERS)
    for row in rows:
        wb.active.append(row)
    wb.save(buf)
    buf.seek(0)
    report = import_graduates(actor=None, source=buf, filename="名单.xlsx", county=org.county, graduation_year=2026)
    assert report.committed
    return {g.name: g for g in Graduate.objects.all()}


# ---------------------------------------------------------------- who sees what

@pytest.mark.parametrize("role", ["admin", "county_official", "office", "registrar", "leader", "township_official"])
def test_the_list_opens_for_the_county_and_junior_school_staff(login, org, listed, role):
    r = login(getattr(org, role)).get(LIST)
    assert r.status_code == 200
    assert "应上尽上" in r.content.decode()


@pytest.mark.parametrize("role", ["head_teacher_1", "mentor", "outsider"])
def test_the_pages_are_not_found_for_others(login, org, listed, role):
    client = login(getattr(org, role))
    assert client.get(LIST).status_code == 404
    assert client.get(reverse("graduate_detail", args=[listed["孙一"].pk])).status_code == 404
    assert client.get(reverse("graduate_export")).status_code == 404


def test_a_primary_schools_office_does_not_see_them(login, org, listed):
    primary = School.objects.create(code="4109990009", name="城关镇中心小学", county=org.county,
                                    township=org.chengguan, stage="primary")
    user = _user("primary_office", "小学主任")
    Membership.objects.create(user=user, role=Role.OFFICE, county=org.county, school=primary)
    client = login(user)
    assert client.get(LIST).status_code == 404
    assert "小学毕业生核查" not in client.get("/").content.decode()


def test_the_county_sees_every_graduate_and_open_items_come_first(login, org, listed):
    html = login(org.county_official).get(LIST).content.decode()
    assert html.index("孙一") < html.index("张三") and html.index("孙二") < html.index("张三")
    assert "已接续" in html and "待核查" in html


def test_a_township_official_sees_the_graduates_living_there(login, org, listed):
    client = login(org.township_official)  # 留固镇
    html = client.get(LIST).content.decode()
    assert "孙一" in html and "孙二" not in html and "张三" not in html
    assert client.get(reverse("graduate_detail", args=[listed["孙二"].pk])).status_code == 404
    detail = client.get(reverse("graduate_detail", args=[listed["孙一"].pk])).content.decode()
    assert new_id(1) not in detail and "保存并销账" not in detail  # masked, and read only


def test_the_filters(login, org, listed):
    client = login(org.registrar)
    html = client.get(LIST, {"status": "open"}).content.decode()
    assert "孙一" in html and "张三" not in html.split("<tbody>")[1]
    html = client.get(LIST, {"township": org.liugu.pk}).content.decode()
    assert "孙一" in html.split("<tbody>")[1] and "孙二" not in html.split("<tbody>")[1]
    html = client.get(LIST, {"school": "城关镇中心小学"}).content.decode()
    assert "孙一" not in html.split("<tbody>")[1]
    html = client.get(LIST, {"result": "enrolled_here"}).content.decode()
    assert "张三" in html.split("<tbody>")[1] and "孙二" not in html.split("<tbody>")[1]


def test_the_export(login, org, listed):
    r = login(org.registrar).get(reverse("graduate_export"), {"status": "open"})
    assert r.status_code == 200 and r["Content-Type"].startswith("application/vnd.openxmlformats")
    ws = openpyxl.load_workbook(io.BytesIO(r.content)).active
    names = [row[3] for row in ws.iter_rows(min_row=2, values_only=True)]
    assert sorted(names) == ["孙一", "孙二"]
    assert AuditEntry.objects.filter(action="export", object_type="graduate").exists()
    r = login(org.township_official).get(reverse("graduate_export"))
    ws = openpyxl.load_workbook(io.BytesIO(r.content)).active
    ids = [row[6] for row in ws.iter_rows(min_row=2, values_only=True)]
    assert ids and all("*" in i for i in ids)


def test_the_nav_link(login, org):
    assert "小学毕业生核查" in login(org.registrar).get("/").content.decode()
    assert "小学毕业生核查" in login(org.county_official).get("/").content.decode()
    assert "小学毕业生核查" not in login(org.head_teacher_1).get("/").content.decode()


# ---------------------------------------------------------------- upload → preview → confirm

def test_upload_preview_confirm(login, org, media):
    client = login(org.registrar)
    r = client.post(LIST, {"file": xlsx([["张三", org.student_1.id_number, "城关镇中心小学", "东村", "城关镇"],
                                         ["孙一", new_id(1), "留固镇中心小学", "北村", "留固镇"]]),
                           "graduation_year": 2026, "county": org.county.pk})
    assert r.status_code == 302 and "/registry/graduates/upload/" in r["Location"]
    assert Graduate.objects.count() == 0  # nothing written before the confirmation
    stored = list((Path(media) / "graduate_imports").iterdir())
    assert len(stored) == 2  # the file and its report

    html = client.get(r["Location"]).content.decode()
    assert "检查通过" in html and "按身份证件号在初中找到 1 人" in html and "未找到 1 人" in html
    assert "disabled" not in confirm_button(html)
    assert client.get(reverse("graduate_preview", args=["0" * 31 + "g"])).status_code == 404
    assert login(org.office).get(r["Location"]).status_code == 404  # someone else's upload

    client = login(org.registrar)
    r2 = client.post(r["Location"] + "confirm/")
    assert r2.status_code == 302
    assert Graduate.objects.count() == 2 and GraduateUpload.objects.get().uploaded_by == org.registrar
    assert list((Path(media) / "graduate_imports").iterdir()) == []
    html = client.get(r2["Location"]).content.decode()
    assert "已导入" in html and "孙一" in html
    assert client.post(r["Location"] + "confirm/").status_code == 404  # once only


def test_a_bad_file_shows_every_problem_and_cannot_be_confirmed(login, org, media):
    client = login(org.office)
    good = new_id(1)
    r = client.post(LIST, {"file": xlsx([["孙一", good, "城关镇中心小学", "东村", "城关镇"],
                                         ["孙二", good[:17] + ("1" if good[17] != "1" else "2"), "城关镇中心小学", "东村", "城关镇"],
                                         ["孙三", good, "城关镇中心小学", "东村", "城关镇"]]),
                           "graduation_year": 2026, "county": org.county.pk})
    html = client.get(r["Location"]).content.decode()
    assert "身份证件号校验位错误" in html and "与第2行重复" in html
    assert "disabled" in confirm_button(html)
    problems = client.get(r["Location"] + "problems.xlsx")
    assert problems.status_code == 200
    client.post(r["Location"] + "confirm/")
    assert Graduate.objects.count() == 0
    r3 = client.post(r["Location"] + "cancel/")
    assert r3.status_code == 302 and list((Path(media) / "graduate_imports").iterdir()) == []


def test_a_leader_sees_but_does_not_upload(login, org, listed, media):
    client = login(org.leader)
    assert "上传小学毕业生名单" not in client.get(LIST).content.decode()
    assert client.post(LIST, {"file": xlsx([]), "graduation_year": 2026}).status_code == 404
    assert "保存并销账" not in client.get(reverse("graduate_detail", args=[listed["孙一"].pk])).content.decode()


def test_a_wrong_file_type_is_refused_on_the_form(login, org, media):
    r = login(org.registrar).post(LIST, {"file": SimpleUploadedFile("名单.docx", b"x"), "graduation_year": 2026,
                                         "county": org.county.pk})
    assert r.status_code == 200 and "不支持的文件类型" in r.content.decode()


# ---------------------------------------------------------------- 逐一销账

def test_recording_a_result_on_the_page(login, org, listed, media):
    client = login(org.registrar)
    url = reverse("graduate_detail", args=[listed["孙二"].pk])
    html = client.get(url).content.decode()
    assert "保存并销账" in html and new_id(2) not in html and "显示完整证件号" in html  # masked until revealed
    r = client.post(url, {"result": "elsewhere", "result_school": "某中学"})
    assert r.status_code == 200 and "就读地" in r.content.decode() and "请填写就读地" in r.content.decode()
    r = client.post(url, {"result": "elsewhere", "result_school": "某中学", "result_place": "广东省东莞市",
                          "proof": SimpleUploadedFile("证明.pdf", b"%PDF-1.4")})
    assert r.status_code == 302
    g = Graduate.objects.get(pk=listed["孙二"].pk)
    assert g.closed_on and g.result == "elsewhere" and g.proof
    html = client.get(url).content.decode()
    assert "在外地就读" in html and "保存并销账" not in html
    assert client.get(reverse("graduate_proof", args=[g.pk])).status_code == 200
    assert login(org.outsider).get(reverse("graduate_proof", args=[g.pk])).status_code == 404


def test_a_dropout_on_the_page_starts_the_dropout_case(login, org, listed, media):
    client = login(org.county_official)
    url = reverse("graduate_detail", args=[listed["孙一"].pk])
    r = client.post(url, {"result": "dropped_out", "responsible_school": org.school.pk, "note": "外出打工"})
    assert r.status_code == 302
    g = Graduate.objects.get(pk=listed["孙一"].pk)
    case = Case.objects.get(student=g.matched_student)
    assert case.stage == "dropout" and case.dropout_cause == "not_enrolled"
    html = client.get(url).content.decode()
    assert "纳入辍学学生劝返台账" in html and reverse("case_detail", args=[case.pk]) in html
    ledger = client.get(reverse("cases_ledger_dropout")).content.decode()
    assert "孙一" in ledger and "小学毕业未升学" in ledger
