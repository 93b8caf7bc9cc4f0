"""The county's overview against hand counts, the list behind each number, the township's
view of its residents only, and constant queries whatever the number of schools."""

import datetime as dt

import pytest
from django.utils import timezone

from baoxue.attendance.models import FileDay, RollCall
from baoxue.cases.models import Case, Outcome, PersuasionAttempt, Rules, Stage
from baoxue.org.models import Grade, KeyGroup, KeyGroupMembership, RegistryStatus, School, SchoolClass, Term
from baoxue.reports import overview
from tests.conftest import make_student

D = dt.date
TODAY = D(2025, 11, 12)  # a Wednesday in term


@pytest.fixture
def on_today(monkeypatch):
    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: TODAY)


def case(student, stage, *, first, suspected=None, due=None, dropout=None, closed=None, outcome=""):
    rules = Rules.objects.get_or_create(county=student.county)[0]
    return Case.objects.create(county=student.county, school=student.school, student=student, rules=rules,
                               first_absent_on=first, last_absent_on=first, unexcused_days=5, stage=stage,
                               suspected_on=suspected, persuasion_due=due, dropout_on=dropout,
                               is_open=closed is None, closed_on=closed, outcome=outcome)


def roll_call(school_class, hour, minute):
    rc = RollCall.objects.create(county=school_class.school.county, school=school_class.school,
                                 school_class=school_class, date=TODAY)
    at = timezone.make_aware(dt.datetime.combine(TODAY, dt.time(hour, minute)))
    RollCall.objects.filter(pk=rc.pk).update(taken_at=at)


@pytest.fixture
def county_scene(people, school, other_school, townships, students, term):
    """First school (城关镇): 七(1)班 called at 08:10, 七(2)班 at 10:05 (late), 七(3)班 not at all,
    七(4)班 has nobody in school. Second school (留固镇): its whole day imported by 09:00."""
    Term.objects.create(school=other_school, name="2025-2026-1", start=D(2025, 9, 1), end=D(2026, 1, 23))
    grade = people["grade"]
    c73 = SchoolClass.objects.create(school=school, grade=grade, name="(3)班")
    SchoolClass.objects.create(school=school, grade=grade, name="(4)班")
    g_other = Grade.objects.create(school=other_school, name="七年级", order=7)
    o71 = SchoolClass.objects.create(school=other_school, grade=g_other, name="(1)班")
    s = {
        "zhangsan": students["zhangsan"], "lisi": students["lisi"],
        "wang": make_student(school, c73, "王五", 5, township=townships["城关镇"]),
        "zhao": make_student(school, people["c71"], "赵六", 7, township=townships["城关镇"]),
        "qian": make_student(school, people["c71"], "钱七", 9, township=townships["留固镇"]),
        "sun": make_student(other_school, o71, "孙八", 11, township=townships["留固镇"]),
        "zhou": make_student(other_school, o71, "周九", 13, township=townships["留固镇"]),
        "wu": make_student(school, c73, "吴十", 15, township=townships["城关镇"]),
    }
    roll_call(people["c71"], 8, 10)
    roll_call(people["c72"], 10, 5)
    fd = FileDay.objects.create(county=other_school.county, school=other_school, date=TODAY, filename="考勤.xlsx")
    FileDay.objects.filter(pk=fd.pk).update(imported_at=timezone.make_aware(dt.datetime.combine(TODAY, dt.time(9))))
    cases = {
        # open: one at each stage in the first school; suspected with 0 attempts and 1 working day left → 劝返不足
        "contact": case(s["zhangsan"], Stage.CONTACT_GUARDIAN, first=D(2025, 11, 11)),
        "short": case(s["lisi"], Stage.SUSPECTED_DROPOUT, first=D(2025, 10, 27), suspected=D(2025, 10, 31),
                      due=D(2025, 11, 13)),
        # suspected past its deadline → 逾期, suspected this month
        "overdue": case(s["wang"], Stage.SUSPECTED_DROPOUT, first=D(2025, 10, 29), suspected=D(2025, 11, 4),
                        due=D(2025, 11, 11)),
        # a dropout this month (opened last month)
        "dropout": case(s["zhao"], Stage.DROPOUT, first=D(2025, 10, 9), suspected=D(2025, 10, 15),
                        due=D(2025, 10, 29), dropout=D(2025, 11, 3)),
        # returned this month, after being suspected last month
        "returned": case(s["qian"], Stage.SUSPECTED_DROPOUT, first=D(2025, 10, 20), suspected=D(2025, 10, 24),
                         due=D(2025, 11, 7), closed=D(2025, 11, 5), outcome=Outcome.RETURNED),
        # returned last month: not this month's
        "old": case(s["wu"], Stage.SUSPECTED_DROPOUT, first=D(2025, 9, 22), suspected=D(2025, 9, 26),
                    due=D(2025, 10, 17), closed=D(2025, 10, 10), outcome=Outcome.RETURNED),
        # second school: a home-visit case
        "visit": case(s["sun"], Stage.HOME_VISIT, first=D(2025, 11, 10)),
    }
    s["zhou"].status = RegistryStatus.SUSPENDED
    s["zhou"].save()
    for st, group in ((s["zhangsan"], KeyGroup.LEFT_BEHIND), (s["zhangsan"], KeyGroup.MIGRANT),
                      (s["sun"], KeyGroup.LEFT_BEHIND), (s["zhou"], KeyGroup.LEFT_BEHIND)):
        KeyGroupMembership.objects.create(student=st, county=st.county, school=st.school, group=group,
                                          started_on=D(2025, 9, 1))
    PersuasionAttempt.objects.create(case=cases["dropout"], number=1, date=D(2025, 10, 20), method="joint",
                                     participants=[{"name": "吴干事", "unit": "城关镇政府"}], result="家长同意考虑")
    return {"students": s, "cases": cases}


def test_it_counts_what_a_person_counts_by_hand(county_scene, school, other_school):
    data = overview.county_overview(School.objects.order_by("code"), today=TODAY)
    first, second = data["rows"]
    assert first.in_session and second.in_session
    # 七(1) on time, 七(2) late, 七(3) missing, 七(4) empty and not counted
    assert (first.classes, first.on_time, first.late, first.not_taken) == (3, 1, 1, 1)
    assert (second.classes, second.on_time, second.late, second.not_taken) == (1, 1, 0, 0)
    assert first.stages == {Stage.CONTACT_GUARDIAN: 1, Stage.SUSPECTED_DROPOUT: 2, Stage.DROPOUT: 1}
    assert second.stages == {Stage.HOME_VISIT: 1}
    # 王五 is past the deadline with no attempt: 逾期 and, as on the ledger, 劝返不足 too
    assert (first.short, first.overdue) == (2, 1)
    assert (first.new_suspected, first.new_dropouts, first.returned) == (1, 1, 1)
    assert (second.suspended, first.suspended) == (1, 0)
    # 张三 counts once though in two groups; 周九 is suspended, not in school
    assert (first.key_groups, second.key_groups) == (1, 1)
    total = data["total"]
    assert (total.classes, total.on_time, total.open_cases, total.key_groups) == (4, 2, 5, 2)
    assert [t["township"].name for t in data["townships"]] == ["城关镇", "留固镇"]


def test_a_day_off_says_so_instead_of_counting_missing_roll_calls(county_scene):
    data = overview.county_overview(School.objects.all(), today=D(2025, 11, 15))  # Saturday
    assert not any(r.in_session for r in data["rows"])
    assert data["total"].not_taken == 0


def test_the_list_behind_each_number_holds_those_cases(county_scene, school):
    cases = county_scene["cases"]
    scope = Case.objects.filter(school=school)
    assert {c.pk for c in overview.cases_behind(scope, "short", today=TODAY)} == {cases["short"].pk,
                                                                                  cases["overdue"].pk}
    assert [c.pk for c in overview.cases_behind(scope, "overdue", today=TODAY)] == [cases["overdue"].pk]
    assert [c.pk for c in overview.cases_behind(scope, "returned", today=TODAY)] == [cases["returned"].pk]
    assert [c.pk for c in overview.cases_behind(scope, "new_dropouts", today=TODAY)] == [cases["dropout"].pk]
    assert {c.pk for c in overview.cases_behind(scope, "suspected", today=TODAY)} == {cases["short"].pk,
                                                                                      cases["overdue"].pk}


def test_the_weekly_trend_rebuilds_the_past_from_dates(county_scene):
    points = overview.weekly_trend(Case.objects.all(), start=D(2025, 9, 1), end=TODAY)
    by_day = {p["day"]: (p["suspected"], p["dropout"]) for p in points}
    assert by_day[D(2025, 9, 28)] == (1, 0)  # 吴十 suspected 9-26
    assert by_day[D(2025, 10, 12)] == (0, 0)  # 吴十 returned 10-10
    assert by_day[D(2025, 10, 26)] == (2, 0)  # 赵六 10-15, 钱七 10-24
    assert by_day[D(2025, 11, 9)] == (2, 1)  # 赵六 a dropout 11-3, 钱七 returned 11-5, 李四, 王五
    assert points[-1]["day"] == TODAY


def test_the_county_drills_down_from_a_number_to_the_student(client, people, county_scene, school, townships, on_today):
    client.force_login(people["users"]["county"])
    page = client.get("/overview/").content.decode()
    assert f'/overview/cases/?what=short&amp;school={school.code}"' in page
    assert '/overview/cases/?what=suspected"' in page  # the county's
    assert f'/attendance/schools/{school.code}/roll-calls/' in page
    listing = client.get(f"/overview/cases/?what=short&school={school.code}").content.decode()
    case_pk = county_scene["cases"]["short"].pk
    assert f"/cases/{case_pk}/" in listing and "李四" in listing and "张三" not in listing
    assert client.get(f"/cases/{case_pk}/").status_code == 200


def test_outsiders_get_404(client, people, county_scene, school):
    for who in ("office", "t71", "township", "outsider"):
        client.force_login(people["users"][who])
        assert client.get("/overview/").status_code == 404, who
        assert client.get("/overview/roll-calls/").status_code == 404, who
    client.force_login(people["users"]["outsider"])
    assert client.get("/overview/cases/?what=suspected").status_code == 404
    client.force_login(people["users"]["county"])
    assert client.get("/overview/cases/?what=nonsense").status_code == 404


def test_the_township_sees_only_its_residents(client, people, county_scene, townships, on_today):
    """people["township"] serves 留固镇: 李四 and 钱七 (first school), 孙八 and 周九 (second)."""
    client.force_login(people["users"]["township"])
    page = client.get(f"/overview/township/{townships['留固镇'].pk}/").content.decode()
    assert "李四" in page and "孙八" in page
    assert "张三" not in page and "赵六" not in page
    assert client.get(f"/overview/township/{townships['城关镇'].pk}/").status_code == 404
    home = client.get("/").content.decode()
    assert "留固镇常住学生" in home and "李四" in home and "张三" not in home
    listing = client.get(f"/overview/cases/?what=suspected&residents={townships['留固镇'].pk}").content.decode()
    assert "李四" in listing and "王五" not in listing
    assert client.get(f"/overview/cases/?what=suspected&residents={townships['城关镇'].pk}").status_code == 404


def test_the_township_page_lists_joint_persuasions_of_its_residents(client, people, county_scene, townships, on_today):
    client.force_login(people["users"]["county"])
    page = client.get(f"/overview/township/{townships['城关镇'].pk}/").content.decode()
    assert "吴干事（城关镇政府）" in page  # 赵六 lives in 城关镇


def test_the_overview_reads_in_the_same_number_of_queries_for_more_schools(
        client, people, county_scene, county, townships, on_today, django_assert_max_num_queries):
    client.force_login(people["users"]["county"])
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        assert client.get("/overview/").status_code == 200
    for n in range(3, 9):
        extra = School.objects.create(code=f"41099900{n:02d}", name=f"第{n}中学", county=county,
                                      township=townships["城关镇"])
        Term.objects.create(school=extra, name="2025-2026-1", start=D(2025, 9, 1), end=D(2026, 1, 23))
        grade = Grade.objects.create(school=extra, name="七年级", order=7)
        cls = SchoolClass.objects.create(school=extra, grade=grade, name="(1)班")
        st = make_student(extra, cls, f"学生{n}", 40 + n)
        case(st, Stage.SUSPECTED_DROPOUT, first=D(2025, 11, 3), suspected=D(2025, 11, 7), due=D(2025, 11, 21))
        roll_call(cls, 8, 0)
    with django_assert_max_num_queries(len(few)):
        page = client.get("/overview/").content.decode()
    assert "第8中学" in page


def test_the_office_home_shows_today_with_links(client, people, county_scene, school, on_today):
    client.force_login(people["users"]["office"])
    page = client.get("/").content.decode()
    assert f'/attendance/schools/{school.code}/roll-calls/' in page and "1/3" in page  # 七(1) on time of three
    assert f'/overview/cases/?what=short&amp;school={school.code}"' in page
    listing = client.get(f"/overview/cases/?what=short&school={school.code}").content.decode()
    assert "李四" in listing
    client.force_login(people["users"]["t71"])  # a head teacher has no school block
    assert "/overview/cases/" not in client.get("/").content.decode()
