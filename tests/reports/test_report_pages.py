"""The report pages: who sees which school's reports (others get a 404), the buttons per role and
state, the bureau's list of who has not submitted, the note of a change after submission, and the
exports as the county prints them."""

import datetime
import io

import pytest
from django.urls import reverse

from baoxue.audit.models import AuditEntry
from baoxue.cases.models import Stage
from baoxue.lib.idcard import mask_registry_no
from baoxue.org.models import Membership, Role, School
from baoxue.reports.models import MonthlyReport
from baoxue.reports.services import report_draft, report_review, report_sign, report_submit
from tests.conftest import make_user
from tests.reports.report_helpers import APRIL, add_case, pupil

D = datetime.date
DETAIL = reverse("report_monthly_detail", args=["4109990001", "2026-04"])
OTHER_DETAIL = reverse("report_monthly_detail", args=["4109990002", "2026-04"])
LIST = reverse("report_monthly_list")


@pytest.fixture
def today(on_day):
    on_day(D(2026, 5, 12))


@pytest.fixture
def other_office(other_school):
    user = make_user("other_office", "孙主任")
    Membership.objects.create(user=user, role=Role.OFFICE, school=other_school, county=other_school.county)
    return user


def submitted(school, people):
    u = people["users"]
    report, _ = report_draft(actor=None, school=school, month=APRIL)
    report_review(actor=u["office"], report=report, remarks="本月情况正常。")
    report_sign(actor=u["leader"], report=report)
    report_submit(actor=u["office"], report=report)
    return MonthlyReport.objects.get(pk=report.pk)


def test_a_schools_office_sees_its_own_reports_not_another_schools(login, people, school, other_school, april, today,
                                                                   other_office):
    c = login(people["users"]["office"])
    page = c.get(DETAIL)
    assert page.status_code == 200
    text = page.content.decode()
    assert "示范县第一初级中学 · 2026年4月控辍保学月报告" in text and "生成2026年4月报告" in text
    assert c.get(OTHER_DETAIL).status_code == 404
    assert c.get(reverse("report_monthly_xlsx", args=[other_school.code, "2026-04"])).status_code == 404
    assert c.post(reverse("report_monthly_act", args=[other_school.code, "2026-04", "draft"])).status_code == 404
    c = login(other_office)
    assert c.get(DETAIL).status_code == 404
    assert c.get(OTHER_DETAIL).status_code == 200


@pytest.mark.parametrize("who", ["t71", "township", "outsider"])
def test_others_get_a_404(login, people, school, april, today, who):
    report_draft(actor=None, school=school, month=APRIL)
    c = login(people["users"][who])
    assert c.get(DETAIL).status_code == 404
    assert c.get(reverse("report_monthly_docx", args=[school.code, "2026-04"])).status_code == 404
    assert c.get(LIST).status_code == 404
    assert c.get(reverse("report_retention") + f"?school={school.code}").status_code == 404


def test_the_county_sees_its_schools_reports(login, people, school, other_school, april, today):
    c = login(people["users"]["county"])
    assert c.get(DETAIL).status_code == 200
    assert c.get(OTHER_DETAIL).status_code == 200
    elsewhere = School.objects.create(code="4108880001", name="外县中学", county=_county("410888"),
                                      township=school.township)
    assert c.get(reverse("report_monthly_detail", args=[elsewhere.code, "2026-04"])).status_code == 404


def _county(code):
    from baoxue.org.models import County

    return County.objects.create(code=code, name="外县")


def test_bad_months_are_404(login, people, school, today):
    c = login(people["users"]["office"])
    assert c.get(reverse("report_monthly_detail", args=[school.code, "2026-13"])).status_code == 404
    assert c.get(reverse("report_monthly_detail", args=[school.code, "2026-06"])).status_code == 404  # not begun
    page = c.get(reverse("report_monthly_detail", args=[school.code, "2026-05"]))
    assert page.status_code == 200 and "尚未结束" in page.content.decode()


def test_the_bureau_sees_who_has_not_submitted(login, people, school, other_school, april, today):
    third = School.objects.create(code="4109990003", name="第三初级中学", county=school.county,
                                  township=school.township)
    submitted(school, people)
    report_draft(actor=None, school=third, month=APRIL)  # drafted, not submitted
    page = login(people["users"]["county"]).get(LIST + "?month=2026-04")
    assert page.status_code == 200
    bureau = page.context["bureau"]
    assert (bureau["submitted"], bureau["not_submitted"]) == (1, 2)
    rows = [(r["school"].name, r["submitted"]) for r in bureau["rows"]]
    # Those not submitted first.
    assert rows == [("留固镇初级中学", False), ("第三初级中学", False), ("示范县第一初级中学", True)]
    text = page.content.decode()
    assert text.count("未提交</span>") == 2 and "未生成" in text
    assert "<strong>1</strong>已提交" in text and "<strong>2</strong>未提交" in text


def test_a_schools_list_shows_its_months(login, people, school, april, today):
    submitted(school, people)
    page = login(people["users"]["registrar"]).get(LIST)
    assert page.status_code == 200
    (section,) = page.context["school_sections"]
    assert section["months"][0]["month"] == APRIL and section["months"][0]["report"].state == "submitted"
    assert page.context["bureau"] is None


def test_the_steps_through_the_pages(login, people, school, april, today):
    u = people["users"]
    act = lambda step: reverse("report_monthly_act", args=[school.code, "2026-04", step])  # noqa: E731
    c = login(u["office"])
    assert c.post(act("draft")).status_code == 302
    page = c.get(DETAIL)
    assert "办公室审核" in page.content.decode() and "review" in page.context["acts"]
    assert "sign" not in page.context["acts"]
    assert c.post(act("review"), {"remarks": "x" * 2001}).status_code == 400
    assert c.post(act("review"), {"remarks": "本月劝返复学2人"}).status_code == 302
    assert c.post(act("sign")).status_code == 302  # refused, with a message
    assert MonthlyReport.objects.get().state == "reviewed"
    c = login(u["leader"])
    assert "sign" in c.get(DETAIL).context["acts"]
    assert c.post(act("sign")).status_code == 302
    c = login(u["registrar"])
    assert c.get(DETAIL).context["acts"] == set()
    c.post(act("submit"))
    assert MonthlyReport.objects.get().state == "signed"
    c = login(u["office"])
    c.post(act("submit"))
    assert MonthlyReport.objects.get().state == "submitted"
    c = login(u["county"])
    page = c.get(DETAIL)
    assert page.context["acts"] == {"return"}
    assert c.post(act("return"), {"reason": ""}).status_code == 400
    assert c.post(act("return"), {"reason": "请补充情况说明"}).status_code == 302
    report = MonthlyReport.objects.get()
    assert report.state == "draft" and report.returned_reason == "请补充情况说明"
    text = login(u["office"]).get(DETAIL).content.decode()
    assert "退回：请补充情况说明" in text
    assert c.post(act("nonsense")).status_code == 404


def test_a_change_after_submission_is_shown(login, people, school, april, rules, today):
    submitted(school, people)
    late = pupil(school, people["c71"], "晚录", 710)
    add_case(late, rules, D(2026, 4, 13), stage=Stage.SUSPECTED_DROPOUT, suspected_on=D(2026, 4, 20))
    page = login(people["users"]["county"]).get(DETAIL)
    text = page.content.decode()
    assert "提交后数据有变化：" in text and "新增疑似辍学 2 → 3" in text
    # The report still shows what was submitted.
    assert page.context["figures"]["new_suspected"] == 2


def test_the_detail_page_reads_in_a_constant_number_of_queries(login, people, school, april, rules, today,
                                                               django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    submitted(school, people)
    c = login(people["users"]["county"])
    c.get(DETAIL)  # the first request of a session reads a little more
    with django_assert_max_num_queries(20), CaptureQueriesContext(connection) as small:
        assert c.get(DETAIL).status_code == 200
    for n in range(25):
        st = pupil(school, people["c72"], f"学生{n}", 800 + n)
        add_case(st, rules, D(2026, 4, 2), stage=Stage.SUSPECTED_DROPOUT, suspected_on=D(2026, 4, 9))
    with django_assert_max_num_queries(20), CaptureQueriesContext(connection) as big:
        assert c.get(DETAIL).status_code == 200
    assert len(big) == len(small)
    with django_assert_max_num_queries(15):
        assert c.get(LIST).status_code == 200


# ---------------------------------------------------------------- exports

def test_the_xlsx_export_prints_as_the_county_asks(login, people, school, april, today):
    import openpyxl

    submitted(school, people)
    response = login(people["users"]["county"]).get(reverse("report_monthly_xlsx", args=[school.code, "2026-04"]))
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    assert ".xlsx" in response["Content-Disposition"]
    wb = openpyxl.load_workbook(io.BytesIO(response.content))
    assert wb.sheetnames == ["月报告", "未销账个案", "变动名单"]
    for ws in wb.worksheets:
        assert ws.page_setup.orientation == "landscape"
        assert str(ws.page_setup.paperSize) == "9"  # A4
        assert ws.sheet_properties.pageSetUpPr.fitToPage
        # One page wide (1 is the format's default, left out of the file), as many pages long as needed.
        assert ws.page_setup.fitToWidth in (None, 1) and str(ws.page_setup.fitToHeight) == "0"
        assert ws.print_title_rows == "$1:$3"
        assert ws.freeze_panes == "A4"
        assert "控辍保学学校月报告（2026年4月）" in ws["A1"].value
        assert "示范县第一初级中学" in ws["A2"].value and "2026年4月" in ws["A2"].value
    main = wb["月报告"]
    values = {main.cell(r, 1).value: main.cell(r, 2).value for r in range(4, 14)}
    assert values["新增疑似辍学"] == 2 and values["月末在校生数"] == 12 and values["劝返复学"] == 2
    cells = [c.value for row in main.iter_rows() for c in row if c.value]
    assert "本月情况正常。" in cells and "校长签字：" in cells and "填报人：" in cells
    cases = wb["未销账个案"]
    assert [c.value for c in cases[3]] == ["序号", "姓名", "全国学籍号", "班级", "首次缺勤日", "月末阶段",
                                          "纳入疑似辍学台账日", "辍学日期"]
    assert {cases.cell(r, 2).value for r in range(4, 7)} == {"李四", "王五", "钱七"}
    assert AuditEntry.objects.filter(action="export", object_type="monthlyreport").count() == 1


def test_the_docx_export_is_a4_with_its_signature_lines(login, people, school, april, today):
    from docx import Document

    submitted(school, people)
    response = login(people["users"]["office"]).get(reverse("report_monthly_docx", args=[school.code, "2026-04"]))
    assert response.status_code == 200
    doc = Document(io.BytesIO(response.content))
    section = doc.sections[0]
    assert round(section.page_width.mm) == 210 and round(section.page_height.mm) == 297
    text = "\n".join(p.text for p in doc.paragraphs)
    assert doc.paragraphs[0].text == "控辍保学学校月报告（2026年4月）"
    assert "填报单位：示范县第一初级中学" in text and "报告月份：2026年4月" in text
    for line in ("填报人", "校长签字", "学校盖章", "日期"):
        assert line in text
    assert "本月情况正常。" in text
    cells = [c.text for t in doc.tables for row in t.rows for c in row.cells]
    assert "新增疑似辍学" in cells and "钱七" in cells and "联系家长" in cells
    # A G-number is the ID number: masked on paper that travels
    assert april.qianqi.registry_no not in cells and mask_registry_no(april.qianqi.registry_no) in cells


def test_the_xlsx_export_carries_no_full_registry_number(login, people, school, april, today):
    import openpyxl

    submitted(school, people)
    response = login(people["users"]["county"]).get(reverse("report_monthly_xlsx", args=[school.code, "2026-04"]))
    wb = openpyxl.load_workbook(io.BytesIO(response.content))
    cells = [str(c.value) for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value]
    assert mask_registry_no(april.qianqi.registry_no) in cells
    assert not any(april.qianqi.registry_no in c or april.qianqi.id_number in c for c in cells)


def test_no_export_before_the_report_exists(login, people, school, today):
    assert login(people["users"]["office"]).get(
        reverse("report_monthly_xlsx", args=[school.code, "2026-04"])).status_code == 404
