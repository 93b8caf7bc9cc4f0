"""`baoxue cases --format json` says what needs attention on each case in `flags` (issue 7):
a deadline that could not be computed, a dropout seen at school again, a 学籍异动 in progress."""

import datetime as dt
import io
import json

from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from baoxue.cases.models import Case
from baoxue.cases.services import case_mark_missing
from tests.conftest import make_student

D = dt.date
FIRST_WEEK = [D(2025, 9, 1), D(2025, 9, 2), D(2025, 9, 3), D(2025, 9, 4), D(2025, 9, 5)]


def cases_json(*args) -> dict:
    out = io.StringIO()
    call_command("cases", "--format", "json", *args, stdout=out)
    return {row["name"]: row for row in json.loads(out.getvalue())}


def test_flags_say_what_the_case_fields_say(diary, students, people, school):
    zs = students["zhangsan"]
    ww, zl = make_student(school, people["c71"], "王五", 5), make_student(school, people["c71"], "赵六", 6)
    for day in FIRST_WEEK:
        diary.day(day, absent=[zs, ww, zl])
    # 张三 reached day 5 but the calendar was missing: no deadline.
    Case.objects.filter(student=zs).update(persuasion_due=None)
    # 王五: 失踪失联, then seen at school again (the office should consider 复学).
    case_mark_missing(actor=people["users"]["office"], case=Case.objects.get(student=ww), on=D(2025, 9, 8),
                      note="联系不上")
    Case.objects.filter(student=ww).update(seen_at_school_on=D(2025, 9, 22))
    # 赵六 is being transferred out (学籍异动办理中); past his deadline with no attempt.
    Case.objects.filter(student=zl).update(change_pending="转出", change_since=D(2025, 9, 8),
                                           change_due_on=D(2025, 10, 8))
    rows = cases_json()
    assert rows["张三"]["flags"] == ["due_unknown"]
    assert rows["张三"]["suspected_on"] == "2025-09-05" and rows["张三"]["persuasion_due"] is None
    assert rows["王五"]["stage"] == "dropout" and rows["王五"]["flags"] == ["seen_at_school"]
    assert rows["赵六"]["flags"] == ["change_pending", "persuasion_short", "overdue"]

    # Only open cases are flagged for 复学 or a pending change.
    Case.objects.filter(student__in=[ww, zl]).update(is_open=False, closed_on=D(2025, 10, 9), outcome="other")
    rows = cases_json("--all")
    assert rows["王五"]["flags"] == [] and rows["赵六"]["flags"] == []
    assert rows["张三"]["flags"] == ["due_unknown"]


def test_the_command_takes_no_query_per_case(diary, students, people, school):
    zs = students["zhangsan"]
    for day in FIRST_WEEK:
        diary.day(day, absent=[zs])
    with CaptureQueriesContext(connection) as one:
        assert list(cases_json("--all")) == ["张三"]
    ww, zl = make_student(school, people["c71"], "王五", 5), make_student(school, people["c71"], "赵六", 6)
    for day in [D(2025, 9, 8), D(2025, 9, 9), D(2025, 9, 10), D(2025, 9, 11), D(2025, 9, 12)]:
        diary.day(day, absent=[ww, zl])
    with CaptureQueriesContext(connection) as three:
        assert sorted(cases_json("--all")) == sorted(["张三", "王五", "赵六"])
    assert len(three) == len(one)
