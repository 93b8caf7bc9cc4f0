"""The care pages: a mentor sees only own mentees (404 otherwise), the phone page in a constant
number of queries, the office's steps on the student page, the key-group page's counts."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from baoxue.attendance.models import AttendanceRecord, Mark
from baoxue.audit.models import AuditEntry
from baoxue.care.models import CareRecord, RiskMark
from baoxue.cases.models import Case, Rules
from baoxue.org.models import KeyGroup, Mentorship

from tests.care.conftest import add_group, add_student

D = datetime.date
TODAY = D(2025, 10, 20)  # a Monday


@pytest.fixture(autouse=True)
def today(on_day):
    on_day(TODAY)


@pytest.fixture
def as_user(client):
    def _as(user):
        client.force_login(user)
        return client
    return _as


def care_url(student):
    return reverse("care_student", args=[student.pk])


# ---------------------------------------------------------------- who sees what

def test_a_mentor_sees_only_own_mentees(org, as_user):
    c = as_user(org.mentor)
    assert c.get(care_url(org.lisi)).status_code == 200
    assert c.get(care_url(org.zhangsan)).status_code == 404
    assert c.post(reverse("care_student_act", args=[org.zhangsan.pk, "record"]),
                  {"rec-date": "2025-10-20", "rec-form": "talk", "rec-content": "x"}).status_code == 404
    assert CareRecord.objects.count() == 0


@pytest.mark.parametrize("who", ["teacher2", "township", "outsider", "other_office"])
def test_anyone_else_gets_a_404(org, as_user, who):
    assert as_user(getattr(org, who)).get(care_url(org.lisi)).status_code == 404


def test_an_ended_mentorship_closes_the_page(org, as_user):
    Mentorship.objects.filter(student=org.lisi).update(ended_on=D(2025, 10, 1))
    assert as_user(org.mentor).get(care_url(org.lisi)).status_code == 404


def test_the_head_teacher_and_the_office_see_the_page(org, as_user):
    assert as_user(org.head_teacher).get(care_url(org.zhangsan)).status_code == 200
    assert as_user(org.office).get(care_url(org.wangwu)).status_code == 200


# ---------------------------------------------------------------- the mentor's phone page

def test_the_phone_page_shows_due_absent_and_open_case(org, as_user):
    AttendanceRecord.objects.create(county=org.county, school=org.school, student=org.lisi, date=TODAY,
                                    mark=Mark.TRUANT)
    page = as_user(org.mentor).get(reverse("care_mine")).content.decode()
    assert "李四" in page and "已逾期" in page  # due 9 October, nothing recorded
    assert "今天旷课" in page
    assert "张三" not in page
    rules = Rules.objects.create(county=org.county)
    case = Case.objects.create(county=org.county, school=org.school, student=org.lisi, rules=rules,
                               first_absent_on=TODAY, last_absent_on=TODAY, unexcused_days=1)
    page = as_user(org.mentor).get(reverse("care_mine")).content.decode()
    assert reverse("case_detail", args=[case.pk]) in page


def test_the_phone_page_takes_a_constant_number_of_queries(org, as_user, django_assert_max_num_queries):
    c = as_user(org.mentor)
    c.get(reverse("care_mine"))  # warm the session
    with CaptureQueriesContext(connection) as one:
        c.get(reverse("care_mine"))
    for n in range(8):
        s = add_student(org.school, org.c81, f"学生{n}", 20 + n)
        add_group(s, KeyGroup.LEFT_BEHIND, D(2025, 9, 1))
        add_group(s, KeyGroup.POOR, D(2025, 9, 1), "监测户")
        Mentorship.objects.create(mentor=org.mentor, student=s, school=org.school, started_on=D(2025, 9, 1))
        AttendanceRecord.objects.create(county=org.county, school=org.school, student=s, date=TODAY, mark=Mark.UNKNOWN)
    with django_assert_max_num_queries(len(one.captured_queries)):
        page = c.get(reverse("care_mine")).content.decode()
    assert "学生7" in page and "今天原因不明" in page


def test_a_head_teachers_key_group_students_without_a_mentor_are_theirs(org, as_user):
    add_group(org.zhangsan, KeyGroup.LEARNING, D(2025, 9, 1))
    page = as_user(org.head_teacher).get(reverse("care_mine")).content.decode()
    assert "张三" in page and "学业辅导" in page
    assert "李四" not in page  # 周老师 is responsible for 李四


# ---------------------------------------------------------------- the office's steps

def test_the_office_marks_assigns_and_ends_on_the_student_page(org, as_user):
    c = as_user(org.office)
    act = lambda a: reverse("care_student_act", args=[org.zhangsan.pk, a])  # noqa: E731
    r = c.post(act("mark"), {"mark-kind": "work", "mark-reason": "常说要去打工", "mark-marked_on": "2025-10-20"})
    assert r.status_code == 302
    r = c.post(act("assign"), {"assign-mentor": org.teacher2.pk, "assign-started_on": "2025-10-20"})
    assert r.status_code == 302
    ms = Mentorship.objects.get(student=org.zhangsan)
    page = c.get(care_url(org.zhangsan)).content.decode()
    assert "吴老师" in page and "外出打工倾向" in page
    r = c.post(act("mentor-end"), {"mentorship": ms.pk, "msend-ended_on": "2025-10-20", "msend-note": ""})
    assert r.status_code == 302
    ms.refresh_from_db()
    assert ms.ended_on == TODAY
    assert AuditEntry.objects.filter(student_id=org.zhangsan.pk, object_type__in=["riskmark", "mentorship"]).count() == 3


def test_a_bad_form_is_shown_again(org, as_user):
    r = as_user(org.office).post(reverse("care_student_act", args=[org.zhangsan.pk, "mark"]),
                                 {"mark-kind": "other", "mark-reason": "", "mark-marked_on": "2025-10-20"})
    assert r.status_code == 400 and RiskMark.objects.count() == 0


def test_a_head_teacher_records_but_does_not_mark(org, as_user):
    c = as_user(org.head_teacher)
    assert c.post(reverse("care_student_act", args=[org.zhangsan.pk, "mark"]),
                  {"mark-kind": "other", "mark-reason": "x", "mark-marked_on": "2025-10-20"}).status_code == 404
    r = c.post(reverse("care_student_act", args=[org.zhangsan.pk, "record"]),
               {"rec-date": "2025-10-20", "rec-form": "home_school", "rec-content": "电话联系母亲"})
    assert r.status_code == 302 and CareRecord.objects.get().recorded_by == org.head_teacher


def test_the_student_page_links_to_care(org, as_user):
    page = as_user(org.office).get(reverse("student_detail", args=[org.zhangsan.pk])).content.decode()
    assert care_url(org.zhangsan) in page


# ---------------------------------------------------------------- school pages

def kg_url(org, **params):
    q = "&".join(f"{k}={v}" for k, v in params.items())
    return f"{reverse('care_key_groups')}?school={org.school.code}" + (f"&{q}" if q else "")


def test_the_key_group_page_counts_and_lists(org, as_user):
    add_group(org.zhangsan, KeyGroup.LEFT_BEHIND, D(2025, 9, 1), "单亲留守")
    add_group(org.wangwu, KeyGroup.POOR, D(2025, 9, 1), "脱贫户")
    add_group(org.wangwu, KeyGroup.LEFT_BEHIND, D(2025, 3, 1), "双亲留守", ended_on=D(2025, 10, 10))
    c = as_user(org.leader)
    r = c.get(kg_url(org))
    ov = r.context["ov"]
    assert ov.total == 3
    groups = {g["group"]: g for g in ov.groups}
    assert groups["left_behind"]["n"] == 2
    assert dict(groups["left_behind"]["subtypes"]) == {"单亲留守": 1, "双亲留守": 1}
    assert dict(groups["poor"]["subtypes"]) == {"脱贫户": 1, "监测户": 0, "低保": 0, "特困": 0}
    assert [(r["grade"].name, r["key_stage"], r["total"]) for r in ov.by_grade] == [("七年级", True, 2), ("八年级", True, 1)]
    october = next(m for m in ov.months if m["month"] == D(2025, 10, 1))
    assert october["cells"][[g for g, _ in KeyGroup.choices].index("left_behind")] == (0, 1)
    page = r.content.decode()
    assert "重点学段" in page and f"group=left_behind" in page
    listed = c.get(kg_url(org, group="left_behind", subtype="双亲留守")).context["ov"].rows
    assert [m.student.name for m in listed] == ["李四"]
    assert c.get(kg_url(org, grade=org.g8.pk)).context["ov"].total == 1
    assert c.get(kg_url(org, **{"class": org.c71.pk})).context["ov"].total == 2


def test_the_key_group_page_takes_a_constant_number_of_queries(org, as_user, django_assert_max_num_queries):
    c = as_user(org.office)
    c.get(kg_url(org, group="left_behind"))
    with CaptureQueriesContext(connection) as few:
        c.get(kg_url(org, group="left_behind"))
    for n in range(10):
        s = add_student(org.school, org.c81 if n % 2 else org.c71, f"学生{n}", 20 + n)
        add_group(s, KeyGroup.LEFT_BEHIND, D(2025, 9, 1), "单亲留守")
        add_group(s, KeyGroup.DISABLED, D(2025, 9, 1), "肢体残疾", ended_on=D(2025, 10, 1))
    with django_assert_max_num_queries(len(few.captured_queries)):
        r = c.get(kg_url(org, group="left_behind"))
    assert len(r.context["ov"].rows) == 11


@pytest.mark.parametrize("who", ["head_teacher", "mentor", "other_office", "township"])
def test_the_key_group_page_is_the_schools(org, as_user, who):
    assert as_user(getattr(org, who)).get(kg_url(org)).status_code == 404


def test_the_high_risk_list_shows_mentors_and_overdue(org, as_user):
    RiskMark.objects.create(county=org.county, school=org.school, student=org.zhangsan, kind="learning",
                            reason="三科不及格", marked_on=D(2025, 9, 1))
    RiskMark.objects.create(county=org.county, school=org.school, student=org.lisi, kind="returned",
                            reason="劝返复学", marked_on=D(2025, 10, 13))
    r = as_user(org.office).get(f"{reverse('care_high_risk')}?school={org.school.code}")
    rows = {row["s"].name: row for row in r.context["rows"]}
    assert rows["张三"]["item"].overdue and not rows["张三"]["mentors"]
    assert not rows["李四"]["item"].overdue and rows["李四"]["mentors"] == [org.mentor]
    assert r.context["overdue"] == 1 and r.context["no_mentor"] == 1
    assert as_user(org.mentor).get(reverse("care_high_risk")).status_code == 404


def test_the_county_sets_the_cadence(org, as_user):
    c = as_user(org.county_official)
    assert c.get(reverse("care_cadence")).status_code == 200
    r = c.post(reverse("care_cadence"), {"group": "left_behind", "left_behind-every_weeks": "2",
                                         "left_behind-what": "与监护人联系", "left_behind-counts_as": ["home_school"]})
    assert r.status_code == 302
    assert "每2周与监护人联系" in c.get(reverse("care_cadence")).content.decode()
    assert as_user(org.office).get(reverse("care_cadence")).status_code == 404
