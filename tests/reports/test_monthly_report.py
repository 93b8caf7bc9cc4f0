"""The monthly report's figures: every kind of event counted in the month of its date, and the
month's end as it was then (a later transfer does not change a past month)."""

import datetime
import json

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction

from baoxue.cases.models import Stage
from baoxue.org.models import RegistryStatus
from baoxue.registry.models import ChangeType
from baoxue.reports import monthly
from baoxue.reports.models import MonthlyReport
from tests.reports.report_helpers import APRIL, add_case, add_change, pupil

D = datetime.date
S = RegistryStatus


def names(items):
    return sorted(i["name"] for i in items)


def test_april_counts_each_event_in_the_month_of_its_date(school, april):
    f = monthly.monthly_figures(school, APRIL)
    assert f["school"] == school.code and f["month"] == "2026-04"
    assert f["period"] == ["2026-04-01", "2026-04-30"]
    assert names(f["lists"]["new_suspected"]) == ["李四", "赵六"]
    assert names(f["lists"]["returned"]) == ["张三", "赵六"]  # 已返校 4月8日, 复学 4月28日
    assert names(f["lists"]["new_dropouts"]) == ["赵六"]  # 李四's dropout date is in May
    assert names(f["lists"]["dropouts_open"]) == ["王五"]
    assert names(f["lists"]["suspended"]) == ["周一"]
    assert names(f["lists"]["resumed"]) == ["吴二"]
    assert names(f["lists"]["transferred_in"]) == ["郑三"]  # 卫六 came in May
    assert names(f["lists"]["transferred_out"]) == ["冯四"]  # 褚五's was cancelled; 蒋七 left in May
    assert (f["new_suspected"], f["returned"], f["new_dropouts"], f["dropouts_open"]) == (2, 2, 1, 1)
    assert (f["suspended"], f["resumed"], f["transferred_in"], f["transferred_out"]) == (1, 1, 1, 1)


def test_open_cases_at_the_end_of_april_with_the_stage_they_had_then(school, april):
    f = monthly.monthly_figures(school, APRIL)
    stages = {c["name"]: c["stage"] for c in f["open_cases"]}
    # 李四 is in the dropout ledger now (5月6日) but was a suspected dropout at the end of April.
    assert stages == {"王五": Stage.DROPOUT, "李四": Stage.SUSPECTED_DROPOUT, "钱七": Stage.CONTACT_GUARDIAN}
    lisi = next(c for c in f["open_cases"] if c["name"] == "李四")
    assert lisi["registry_no"] == april.lisi.registry_no and lisi["dropout_on"] is None
    assert f["open_cases_count"] == 3


def test_a_case_opened_in_march_and_closed_in_april_counts_in_both(school, april):
    march = monthly.monthly_figures(school, D(2026, 3, 1))
    assert names(march["lists"]["new_suspected"]) == ["张三", "王五", "陈九"]
    assert names(march["lists"]["new_dropouts"]) == ["王五"]
    assert march["returned"] == 0
    assert {c["name"]: c["stage"] for c in march["open_cases"]} == {
        "张三": Stage.SUSPECTED_DROPOUT, "王五": Stage.DROPOUT, "陈九": Stage.SUSPECTED_DROPOUT}
    assert names(march["lists"]["transferred_out"]) == ["陈九"]
    april_figures = monthly.monthly_figures(school, APRIL)
    assert "张三" in names(april_figures["lists"]["returned"])
    assert "张三" not in names(april_figures["open_cases"])
    # A transfer closes a case without a return; an excused contact-step run is no return either.
    assert "陈九" not in names(april_figures["lists"]["returned"])
    assert "孙八" not in names(april_figures["lists"]["returned"])


def test_enrolled_is_the_roll_at_the_end_of_the_month(school, april):
    f = monthly.monthly_figures(school, APRIL)
    # In school on April 30: 张三, 李四 (dropout only in May), 赵六 (复学), 钱七, 孙八, 吴二 (复学), 郑三
    # (转入), 褚五 (cancelled 转出), 蒋七 (left in May) and the three at school all along. Not: 王五
    # (dropout), 陈九 and 冯四 (转出), 周一 (休学), 卫六 (came in May).
    assert f["enrolled"] == 12
    assert f["enrolled_by_grade"] == [{"grade": "七年级", "n": 7}, {"grade": "八年级", "n": 5}]
    groups = {g["group"]: g["n"] for g in f["key_groups"]}
    assert groups["left_behind"] == 2 and groups["poor"] == 1 and groups["disabled"] == 0
    assert [g["label"] for g in f["key_groups"]][:2] == ["随迁子女", "留守儿童"]


def test_a_late_transfer_does_not_change_a_past_month(school, april, people):
    before = monthly.monthly_figures(school, APRIL)
    newcomer = pupil(school, people["c71"], "新生", 500)
    add_change(newcomer, ChangeType.TRANSFER_IN, D(2026, 6, 2), S.IN_SCHOOL, S.IN_SCHOOL)
    add_change(april.plain[0], ChangeType.TRANSFER_OUT, D(2026, 6, 3), S.IN_SCHOOL, S.TRANSFERRED_OUT)
    add_change(april.plain[1], ChangeType.SUSPEND, D(2026, 6, 4), S.IN_SCHOOL, S.SUSPENDED)
    after = monthly.monthly_figures(school, APRIL)
    assert after == before
    june = monthly.monthly_figures(school, D(2026, 6, 1))
    assert (june["transferred_in"], june["transferred_out"], june["suspended"]) == (1, 1, 1)
    # May: 李四 out, 卫六 in, 蒋七 out (11); June: 新生 in, 沈八 out, 韩九 休学 (10).
    assert june["enrolled"] == 10


def test_may_sees_the_may_events(school, april):
    may = monthly.monthly_figures(school, D(2026, 5, 1))
    assert names(may["lists"]["new_dropouts"]) == ["李四"]
    assert names(may["lists"]["transferred_in"]) == ["卫六"]
    assert names(may["lists"]["transferred_out"]) == ["蒋七"]
    # 李四 is out from May 6; 卫六 came in, 蒋七 left.
    assert may["enrolled"] == 12 - 1 + 1 - 1
    assert {c["name"] for c in may["open_cases"]} == {"王五", "李四", "钱七"}


def test_another_schools_events_do_not_count(school, other_school, april, rules, people):
    stranger = pupil(other_school, None, "外校生", 501)
    add_case(stranger, rules, D(2026, 4, 1), stage=Stage.SUSPECTED_DROPOUT, suspected_on=D(2026, 4, 8))
    f = monthly.monthly_figures(school, APRIL)
    assert "外校生" not in names(f["lists"]["new_suspected"])
    other = monthly.monthly_figures(other_school, APRIL)
    assert other["new_suspected"] == 1 and other["enrolled"] == 1
    assert other["enrolled_by_grade"] == [{"grade": "未分班", "n": 1}]


def test_figures_read_in_a_constant_number_of_queries(school, april, people, rules, django_assert_max_num_queries):
    with django_assert_max_num_queries(6):
        small = monthly.monthly_figures(school, APRIL)
    for n in range(30):
        st = pupil(school, people["c72"], f"学生{n}", 600 + n)
        add_case(st, rules, D(2026, 4, 2), stage=Stage.SUSPECTED_DROPOUT, suspected_on=D(2026, 4, 9))
        add_change(st, ChangeType.TRANSFER_OUT, D(2026, 5, 20), S.IN_SCHOOL, S.TRANSFERRED_OUT)
    with django_assert_max_num_queries(6):
        big = monthly.monthly_figures(school, APRIL)
    assert big["new_suspected"] == small["new_suspected"] + 30
    assert big["enrolled"] == small["enrolled"] + 30


def test_the_month_must_be_the_first_of_a_month_in_the_database(school):
    MonthlyReport.objects.create(county=school.county, school=school, month=D(2026, 4, 1))
    with pytest.raises(IntegrityError), transaction.atomic():
        MonthlyReport.objects.create(county=school.county, school=school, month=D(2026, 5, 2))
    with pytest.raises(IntegrityError), transaction.atomic():
        MonthlyReport.objects.create(county=school.county, school=school, month=D(2026, 4, 1))


def test_parse_month():
    assert monthly.parse_month("2026-04") == APRIL
    for bad in ("2026-4", "202604", "2026-13", "四月", ""):
        with pytest.raises(monthly.BadMonth, match="2026-04"):
            monthly.parse_month(bad)
    assert monthly.month_end(D(2026, 2, 1)) == D(2026, 2, 28)
    assert monthly.month_end(D(2026, 12, 1)) == D(2026, 12, 31)
    assert monthly.previous_month(D(2026, 1, 5)) == D(2025, 12, 1)


# ---------------------------------------------------------------- the command

def test_the_command_prints_the_contract_keys_as_json(school, april, capsys):
    call_command("report", "monthly", "--school", school.code, "--month", "2026-04", "--format", "json")
    data = json.loads(capsys.readouterr().out)
    for key in ("new_suspected", "returned", "new_dropouts", "dropouts_open", "suspended", "resumed",
                "transferred_in", "transferred_out", "enrolled", "open_cases"):
        assert key in data
    assert isinstance(data["enrolled"], int) and data["enrolled"] == 12
    assert data["returned"] == 2 and data["new_suspected"] == 2
    assert all({"registry_no", "stage"} <= set(c) for c in data["open_cases"])
    assert {c["registry_no"] for c in data["open_cases"]} == {
        april.lisi.registry_no, april.wangwu.registry_no, april.qianqi.registry_no}


def test_the_command_in_text(school, april, capsys):
    call_command("report", "monthly", "--school", school.code, "--month", "2026-04")
    out = capsys.readouterr().out
    assert "2026年4月" in out and "新增疑似辍学：2" in out and "月末在校生数：12" in out and "钱七" in out


def test_the_command_names_the_fix(school):
    with pytest.raises(CommandError, match="2026-04"):
        call_command("report", "monthly", "--school", school.code, "--month", "2026/04")
    with pytest.raises(CommandError, match="没有学校标识码为 4109999999"):
        call_command("report", "monthly", "--school", "4109999999", "--month", "2026-04")
