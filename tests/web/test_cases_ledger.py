"""The two ledgers: pages with filters and counts, and .xlsx files with exactly the columns of
the domain page; ID numbers in full only for those who may reveal them, and every export logged."""

import datetime as dt
import io

import openpyxl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from baoxue.audit.models import AuditEntry
from baoxue.cases.ledgers import dropout_rows, suspected_ledger, suspected_rows
from baoxue.cases.models import Case
from baoxue.cases.services import attempt_add, persuader_assign
from tests.web.test_cases_helpers import FIRST_WEEK, absent, dropout, suspected  # noqa: F401 (fixtures)

D = dt.date

SUSPECTED_HEADERS = ["序号", "学校", "年级班级", "姓名", "性别", "身份证件号", "全国学籍号", "重点群体", "监护人及电话",
                     "家庭住址（乡镇/村组）", "首次缺勤日", "连续缺勤天数", "第1天联系家长（日期、人员）", "第3天家访（日期、人员）",
                     "第5天纳入台账日期", "疑似原因", "劝返责任人", "劝返截止日", "劝返次数", "状态", "结果", "销账日期"]
DROPOUT_HEADERS = ["序号", "学校", "年级班级", "姓名", "性别", "身份证件号", "全国学籍号", "重点群体", "监护人及电话",
                   "家庭住址（乡镇/村组）", "辍学日期", "辍学原因（类别）", "辍学原因（说明）", "去向", "帮扶措施", "劝返记录",
                   "是否复学", "复学日期", "报告乡镇日期", "报告教体局日期", "销账日期"]


def sheet(response):
    assert response["Content-Type"].startswith("application/vnd.openxmlformats-officedocument.spreadsheetml")
    ws = openpyxl.load_workbook(io.BytesIO(response.content)).active
    # Below the title rows (title; unit and date): the header, then the entries.
    return [list(row) for row in ws.iter_rows(min_row=3, values_only=True)]


def test_the_ledger_prints_on_a4_with_its_title_and_header_on_every_page(login, org, suspected):
    ws = openpyxl.load_workbook(io.BytesIO(login(org.office).get(reverse("cases_ledger_suspected_xlsx")).content)).active
    assert ws["A1"].value == "疑似辍学学生台账" and org.school.name in ws["A2"].value and "制表日期" in ws["A2"].value
    assert ws.page_setup.orientation == "landscape" and str(ws.page_setup.paperSize) == "9"
    assert ws.sheet_properties.pageSetUpPr.fitToPage and str(ws.page_setup.fitToHeight) == "0"
    assert ws.page_setup.fitToWidth in (None, 1)
    assert ws.print_title_rows == "$3:$3" and ws.freeze_panes == "E4"


def test_the_suspected_ledger_lists_the_case_with_counts(login, org, suspected, dropout):
    html = login(org.office).get(reverse("cases_ledger_suspected")).content.decode()
    assert "张三" in html and "李四" in html  # 李四 went on to the dropout ledger but stays here
    assert "<strong>2</strong>台账人数" in html and "<strong>1</strong>已转入辍学台账" in html
    assert "0/3" in html and "逾期" in html


def test_late_attempts_are_shown_but_not_counted_in_the_ledgers(login, org, suspected):
    for day in (D(2025, 9, 10), D(2025, 9, 22)):  # the deadline is 19 September
        attempt_add(actor=org.office, case=suspected, date=day, method="home_visit",
                    participants=[{"name": "钱主任", "unit": "学校"}], result="家长答应")
    client = login(org.office)
    html = client.get(reverse("cases_ledger_suspected")).content.decode()
    assert "1/3" in html and "另有截止日后 1 次" in html and "劝返记录晚于截止日" in html
    row = dict(zip(*sheet(client.get(reverse("cases_ledger_suspected_xlsx")))[:2]))
    assert row["劝返次数"] == "1（另有截止日后逾期记录1次，不计入）"


def test_the_dropout_ledger_marks_late_attempts_and_a_student_seen_at_school(login, org, suspected):
    # Two attempts, one after the deadline (19 September), before the case went to the dropout
    # ledger; then one more in the dropout ledger.
    for day in (D(2025, 9, 12), D(2025, 9, 20)):
        attempt_add(actor=org.office, case=suspected, date=day, method="home_visit",
                    participants=[{"name": "钱主任", "unit": "学校"}], result="家长答应")
    Case.objects.filter(pk=suspected.pk).update(stage="dropout", dropout_on=D(2025, 9, 22), dropout_cause="not_returned",
                                                seen_at_school_on=D(2025, 10, 13))
    attempt_add(actor=org.office, case=suspected, date=D(2025, 10, 9), method="home_visit",
                participants=[{"name": "钱主任", "unit": "学校"}], result="家长答应")
    client = login(org.office)
    html = client.get(reverse("cases_ledger_dropout")).content.decode()
    assert 'data-label="劝返">3 次' in html and "含截止日后逾期记录 1 次" in html and "辍学后到校：请办理复学？" in html
    row = dict(zip(*sheet(client.get(reverse("cases_ledger_dropout_xlsx")))[:2]))
    assert row["劝返记录"].split("\n") == [
        "第1次 2025-09-12 家访 钱主任（学校）：家长答应",
        "第2次 2025-09-20（截止日后，逾期记录） 家访 钱主任（学校）：家长答应",
        "第3次 2025-10-09 家访 钱主任（学校）：家长答应",
    ]


def test_a_run_that_never_reached_day_5_is_not_in_the_ledger(login, org):
    absent(org.school, org.student_1, FIRST_WEEK[:4])
    assert "张三" not in login(org.office).get(reverse("cases_ledger_suspected")).content.decode()


def test_the_suspected_xlsx_has_the_exact_columns_and_full_ids_for_the_office(login, org, suspected):
    persuader_assign(actor=org.office, case=suspected, name="王支书", unit="村委会")
    attempt_add(actor=org.office, case=suspected, date=D(2025, 9, 9), method="home_visit",
                participants=[{"name": "王支书", "unit": "村委会"}], result="家长答应")
    rows = sheet(login(org.office).get(reverse("cases_ledger_suspected_xlsx")))
    assert rows[0] == SUSPECTED_HEADERS
    row = dict(zip(rows[0], rows[1]))
    assert row["姓名"] == "张三" and row["年级班级"] == "七年级(1)班"
    assert row["身份证件号"] == org.student_1.id_number
    assert (row["首次缺勤日"], row["连续缺勤天数"], row["第5天纳入台账日期"]) == ("2025-09-01", 5, "2025-09-05")
    assert (row["劝返截止日"], row["劝返次数"], row["劝返责任人"]) == ("2025-09-19", 1, "王支书（村委会）")
    assert row["家庭住址（乡镇/村组）"] == "城关镇/东村"
    entry = AuditEntry.objects.get(action="export")
    assert entry.actor == org.office and "含完整证件号" in entry.note and entry.school_id == org.school.pk


def test_the_township_gets_its_residents_with_masked_ids(login, org, suspected, dropout):
    rows = sheet(login(org.township_official).get(reverse("cases_ledger_suspected_xlsx")))
    assert [r[3] for r in rows[1:]] == ["李四"]  # 张三 lives in 城关镇
    assert org.student_2.id_number not in str(rows) and "*" in rows[1][5]
    assert "证件号已遮盖" in AuditEntry.objects.get(action="export").note


def test_the_dropout_ledger_and_its_xlsx(login, org, dropout):
    attempt_add(actor=org.office, case=dropout, date=D(2025, 10, 9), method="joint",
                participants=[{"name": "钱主任", "unit": "学校"}, {"name": "王支书", "unit": "村委会"}],
                result="家长同意下周一送回", next_step="周一到校核实")
    client = login(org.county_official)
    html = client.get(reverse("cases_ledger_dropout")).content.decode()
    assert "李四" in html and "失踪失联" in html and "张三" not in html
    rows = sheet(client.get(reverse("cases_ledger_dropout_xlsx")))
    assert rows[0] == DROPOUT_HEADERS
    row = dict(zip(rows[0], rows[1]))
    assert (row["辍学日期"], row["辍学原因（类别）"], row["是否复学"]) == ("2025-09-08", "失踪失联", "否")
    assert row["劝返记录"] == "第1次 2025-10-09 联合劝返 钱主任（学校）、王支书（村委会）：家长同意下周一送回；下一步：周一到校核实"
    assert (row["报告乡镇日期"], row["报告教体局日期"]) == ("2025-09-08", "2025-09-08")
    assert row["重点群体"] == "留守儿童（双亲留守）"


def test_filters_narrow_the_page_and_the_export(login, org, suspected, dropout):
    client = login(org.office)
    html = client.get(reverse("cases_ledger_suspected"), {"stage": "dropout"}).content.decode()
    assert "李四" in html and "张三" not in html
    rows = sheet(client.get(reverse("cases_ledger_suspected_xlsx"), {"group": "left_behind"}))
    assert [r[3] for r in rows[1:]] == ["李四"]
    html = client.get(reverse("cases_ledger_suspected"), {"state": "closed"}).content.decode()
    assert "台账中没有记录" in html
    html = client.get(reverse("cases_ledger_dropout"), {"start": "2025-09-09"}).content.decode()
    assert "李四" not in html


@pytest.mark.parametrize("role", ["head_teacher_1", "mentor", "outsider"])
def test_the_ledgers_are_not_found_for_others(login, org, role):
    client = login(getattr(org, role))
    for name in ("cases_ledger_suspected", "cases_ledger_dropout", "cases_ledger_suspected_xlsx"):
        assert client.get(reverse(name)).status_code == 404


def test_rows_take_the_same_number_of_queries_for_one_case_or_many(org, suspected, dropout):
    one = Case.objects.filter(pk=suspected.pk)
    with CaptureQueriesContext(connection) as few:
        suspected_rows(suspected_ledger(one))
    with CaptureQueriesContext(connection) as many:
        suspected_rows(suspected_ledger(Case.objects.all()))
        dropout_rows(Case.objects.all())
    assert len(many) <= 2 * len(few)  # two ledgers, each a fixed number of queries
