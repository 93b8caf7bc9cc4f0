"""巩固率: the formula on known inputs, capped at 100%; the system's inputs where it has the history,
hand-entered ones (audited) where it has not; the county's rate over the schools whose inputs are
complete; the command and the pages."""

import datetime
import json

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from baoxue.audit.models import AuditEntry
from baoxue.org.models import Grade, Membership, RegistryStatus, Role, School, SchoolClass, Student
from baoxue.registry.models import ChangeType
from baoxue.reports import retention
from baoxue.reports.models import RetentionInputs
from baoxue.reports.services import retention_inputs_set
from tests.reports.report_helpers import add_change, pupil, set_status

D = datetime.date
S = RegistryStatus
FORMULA = "巩固率 = 本届毕业生数 ÷（三年前入学人数 + 转入 − 转出）"


def by_key(result):
    return {i["key"]: i for i in result["inputs"]}


def enter(school, user, year=2026, **values):
    return retention_inputs_set(actor=user, school=school, year=year, values=values)


def test_the_rate_on_known_inputs(school, people):
    office = people["users"]["office"]
    enter(school, office, graduates=95, intake=100, transfers_in=3, transfers_out=2)
    r = retention.retention(school, 2026)
    assert r["formula"] == FORMULA
    assert r["rate"] == 0.9406 and r["percent"] == "94.06%" and not r["capped"]
    assert r["computation"] == "95 ÷（100 + 3 − 2） = 94.06%"
    assert r["target"] == 0.95 and r["meets_target"] is False
    assert [(i["label"], i["value"], i["source"]) for i in r["inputs"]] == [
        ("本届毕业生数", 95, "手工填写"), ("三年前入学人数", 100, "手工填写"), ("转入人数", 3, "手工填写"),
        ("转出人数", 2, "手工填写")]
    assert by_key(r)["intake"]["entered_by"] == "office"
    enter(school, office, graduates=97, transfers_in=2, transfers_out=0)
    r = retention.retention(school, 2026)
    assert r["percent"] == "95.10%" and r["meets_target"] is True


def test_the_rate_is_capped_at_100_percent(school, people):
    enter(school, people["users"]["office"], graduates=105, intake=100, transfers_in=3, transfers_out=2)
    r = retention.retention(school, 2026)
    assert r["rate"] == 1.0 and r["percent"] == "100.00%" and r["capped"] is True


def test_a_base_of_zero_is_a_problem_not_a_rate(school, people):
    enter(school, people["users"]["office"], graduates=0, intake=0, transfers_in=0, transfers_out=0)
    r = retention.retention(school, 2026)
    assert r["rate"] is None and "不大于0" in r["problem"]


def test_without_data_every_input_is_missing(school):
    r = retention.retention(school, 2026)
    assert r["rate"] is None and r["percent"] is None
    assert [i["source"] for i in r["inputs"]] == ["缺少"] * 4
    assert r["missing"] == ["本届毕业生数", "三年前入学人数", "转入人数", "转出人数"]
    assert "系统中没有本校学生记录" in by_key(r)["transfers_in"]["hint"]


@pytest.fixture
def cohort(school, people):
    """The 2026 junior cohort: six entered in September 2023 (four graduated in July 2026, one
    transferred out, one dropped out), one transferred in during 八年级 and graduated; records
    that do not count: a cancelled transfer, a 七年级 transfer, a transfer before the cohort's years."""
    g9 = Grade.objects.create(school=school, name="九年级", order=9)
    c91 = SchoolClass.objects.create(school=school, grade=g9, name="(1)班")
    entrants = [pupil(school, c91, f"九{n}", 900 + n) for n in range(6)]
    Student.objects.filter(pk__in=[s.pk for s in entrants]).update(enrolled_on=D(2023, 9, 1))
    for s in entrants[:4]:
        set_status(s, S.GRADUATED, D(2026, 7, 1))
    add_change(entrants[4], ChangeType.TRANSFER_OUT, D(2024, 3, 1), S.IN_SCHOOL, S.TRANSFERRED_OUT)
    set_status(entrants[5], S.DROPPED_OUT, D(2025, 4, 1))
    newcomer = pupil(school, c91, "转来", 910)
    Student.objects.filter(pk=newcomer.pk).update(enrolled_on=D(2022, 9, 1))
    add_change(newcomer, ChangeType.TRANSFER_IN, D(2024, 10, 8), S.IN_SCHOOL, S.IN_SCHOOL)
    set_status(newcomer, S.GRADUATED, D(2026, 7, 1))
    other = pupil(school, c91, "撤销", 911)
    add_change(other, ChangeType.TRANSFER_IN, D(2025, 3, 1), S.IN_SCHOOL, S.IN_SCHOOL, cancelled_on=D(2025, 3, 2))
    Student.objects.filter(pk=other.pk).update(status=S.TRANSFERRED_OUT, enrolled_on=D(2022, 9, 1))  # never came
    young = pupil(school, people["c71"], "七年级生", 912)
    add_change(young, ChangeType.TRANSFER_OUT, D(2025, 1, 6), S.IN_SCHOOL, S.TRANSFERRED_OUT)
    early = pupil(school, c91, "早转", 913)
    Student.objects.filter(pk=early.pk).update(enrolled_on=D(2022, 9, 1))
    add_change(early, ChangeType.TRANSFER_OUT, D(2023, 8, 20), S.IN_SCHOOL, S.TRANSFERRED_OUT)
    return entrants


def backdate(school, day=D(2023, 6, 1)):
    Student.objects.filter(school=school).update(
        created_at=timezone.make_aware(datetime.datetime.combine(day, datetime.time(9))))


def test_the_systems_inputs_where_it_has_the_history(school, cohort):
    backdate(school)
    r = retention.retention(school, 2026)
    inputs = by_key(r)
    assert {k: (i["value"], i["source"]) for k, i in inputs.items()} == {
        "graduates": (5, "系统"), "intake": (6, "系统"), "transfers_in": (1, "系统"), "transfers_out": (1, "系统")}
    assert r["cohort"] == {"from": "2023-09-01", "to": "2026-08-31", "years": 3}
    assert r["percent"] == "83.33%" and r["computation"] == "5 ÷（6 + 1 − 1） = 83.33%"


def test_no_system_intake_while_students_lack_their_entry_date(school, cohort):
    backdate(school)
    Student.objects.filter(pk=cohort[0].pk).update(enrolled_on=None)
    intake = by_key(retention.retention(school, 2026))["intake"]
    assert intake["source"] == "缺少" and "1名学生没有入学年月" in intake["hint"]


def test_without_the_history_transfers_and_intake_are_for_hand_entry(school, cohort, people):
    backdate(school, D(2024, 9, 1))  # the school came into the system in the cohort's second year
    r = retention.retention(school, 2026)
    inputs = by_key(r)
    assert inputs["graduates"]["source"] == "系统"
    for key in ("intake", "transfers_in", "transfers_out"):
        assert inputs[key]["source"] == "缺少" and "系统自2024年9月起" in inputs[key]["hint"]
    assert "（系统记录：1人）" in inputs["transfers_in"]["hint"]
    assert r["rate"] is None
    enter(school, people["users"]["registrar"], intake=6, transfers_in=1, transfers_out=1)
    assert retention.retention(school, 2026)["percent"] == "83.33%"


def test_hand_values_override_the_systems_and_are_audited(school, cohort, people):
    backdate(school)
    office = people["users"]["office"]
    row = enter(school, office, intake=7)
    r = retention.retention(school, 2026)
    intake = by_key(r)["intake"]
    assert (intake["value"], intake["source"], intake["system_value"]) == (7, "手工填写", 6)
    assert r["percent"] == "71.43%"
    entry = AuditEntry.objects.filter(object_type="retentioninputs", object_id=str(row.pk)).get()
    assert entry.actor == office and entry.action == "create" and entry.changes == {"intake": [None, 7]}
    assert entry.school_id == school.pk
    enter(school, office, intake=None)  # cleared: the system's value again
    assert by_key(retention.retention(school, 2026))["intake"]["source"] == "系统"
    assert "intake" not in RetentionInputs.objects.get().entered
    assert AuditEntry.objects.filter(object_type="retentioninputs").count() == 2


def test_who_may_enter_and_what(school, other_school, people):
    with pytest.raises(ValidationError, match="只有学校控辍保学办公室"):
        enter(school, people["users"]["county"], intake=5)
    with pytest.raises(ValidationError, match="只有学校控辍保学办公室"):
        enter(school, people["users"]["t71"], intake=5)
    with pytest.raises(ValidationError):
        enter(school, people["users"]["office"], intake=-1)
    with pytest.raises(ValidationError):
        enter(other_school, people["users"]["office"], intake=5)
    enter(school, people["users"]["leader"], intake=5)


def test_a_primary_school_counts_six_years(county, townships, people):
    primary = School.objects.create(code="4109990101", name="城关镇中心小学", county=county,
                                    township=townships["城关镇"], stage="primary")
    r = retention.retention(primary, 2026)
    assert r["formula"] == "巩固率 = 本届毕业生数 ÷（六年前入学人数 + 转入 − 转出）"
    assert r["cohort"]["from"] == "2020-09-01" and r["target"] is None
    assert by_key(r)["intake"]["label"] == "六年前入学人数"


def test_the_county_rate_sums_the_complete_schools(county, townships, school, other_school, people):
    third = School.objects.create(code="4109990003", name="第三初级中学", county=county,
                                  township=townships["城关镇"], stage="nine_year")
    enter(school, people["users"]["office"], graduates=95, intake=100, transfers_in=3, transfers_out=2)
    Membership.objects.create(user=people["users"]["leader"], role=Role.LEADER, school=third, county=county)
    enter(third, people["users"]["leader"], graduates=48, intake=50, transfers_in=0, transfers_out=0)
    enter(other_school, _office_of(other_school), graduates=40)  # incomplete
    c = retention.county_retention(county, 2026)
    assert c["included"] == 2 and len(c["schools"]) == 3
    assert c["totals"] == {"graduates": 143, "intake": 150, "transfers_in": 3, "transfers_out": 2}
    assert c["percent"] == "94.70%" and c["meets_target"] is False
    assert c["computation"] == "143 ÷（150 + 3 − 2） = 94.70%"
    assert c["incomplete"] == [{"school": other_school.code, "school_name": "留固镇初级中学",
                                "missing": ["三年前入学人数", "转入人数", "转出人数"]}]


def _office_of(school):
    from tests.conftest import make_user

    user = make_user(f"office{school.code}")
    Membership.objects.create(user=user, role=Role.OFFICE, school=school, county=school.county)
    return user


def test_the_county_rate_reads_in_a_constant_number_of_queries(county, townships, school, django_assert_max_num_queries):
    for n in range(10):
        School.objects.create(code=f"41099902{n:02d}", name=f"学校{n}", county=county, township=townships["城关镇"])
    with django_assert_max_num_queries(8):
        c = retention.county_retention(county, 2026)
    assert len(c["schools"]) == 11


# ---------------------------------------------------------------- the command

def test_the_retention_command(school, people, capsys):
    enter(school, people["users"]["office"], graduates=95, intake=100, transfers_in=3, transfers_out=2)
    call_command("report", "retention", "--school", school.code, "--year", "2026", "--format", "json")
    data = json.loads(capsys.readouterr().out)
    assert data["rate"] == 0.9406 and data["formula"] == FORMULA
    assert [i["source"] for i in data["inputs"]] == ["手工填写"] * 4
    call_command("report", "retention", "--county", school.county.code, "--year", "2026")
    out = capsys.readouterr().out
    assert "94.06%" in out and FORMULA in out and "计入学校：1/1" in out
    call_command("report", "retention", "--school", school.code, "--year", "2026")
    assert "三年前入学人数：100（手工填写）" in capsys.readouterr().out
    with pytest.raises(CommandError, match="--school"):
        call_command("report", "retention", "--year", "2026")
    with pytest.raises(CommandError, match="没有区县代码为 999999"):
        call_command("report", "retention", "--county", "999999", "--year", "2026")


# ---------------------------------------------------------------- pages

@pytest.fixture
def today(on_day):
    on_day(D(2026, 9, 15))


def test_the_bureau_sees_every_schools_rate_and_the_countys(login, school, other_school, people, today,
                                                            django_assert_max_num_queries):
    enter(school, people["users"]["office"], graduates=95, intake=100, transfers_in=3, transfers_out=2)
    c = login(people["users"]["county"])
    c.get(reverse("report_retention"))
    with django_assert_max_num_queries(20):
        page = c.get(reverse("report_retention"))
    assert page.status_code == 200
    text = page.content.decode()
    assert FORMULA in text and "94.06%" in text and "留固镇初级中学" in text and "1/2" in text
    assert page.context["year"] == 2026
    school_page = c.get(reverse("report_retention") + f"?school={school.code}&year=2026")
    assert school_page.status_code == 200 and school_page.context["form"] is None


def test_a_school_sees_its_own_rate_and_enters_its_inputs(login, school, other_school, people, today):
    c = login(people["users"]["registrar"])
    page = c.get(reverse("report_retention"))
    assert page.status_code == 200 and page.context["school"] == school and page.context["form"] is not None
    assert "缺少" in page.content.decode()
    assert c.get(reverse("report_retention") + f"?school={other_school.code}").status_code == 404
    url = reverse("report_retention_edit", args=[school.code, 2026])
    assert c.post(url, {"intake": "-3"}).status_code == 400
    response = c.post(url, {"graduates": "95", "intake": "100", "transfers_in": "3", "transfers_out": "2",
                            "note": "据2023年秋季招生名册"})
    assert response.status_code == 302
    page = c.get(response.url)
    assert "94.06%" in page.content.decode() and "据2023年秋季招生名册" in page.content.decode()
    assert login(people["users"]["county"]).post(url, {"intake": "1"}).status_code == 404
    assert RetentionInputs.objects.get().intake == 100
