"""现场核查: the office opens a check, head teachers confirm each student, a confirmed 未到校
without a valid reason starts 13510, and the results feed the registry reconciliation."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from baoxue.attendance.models import AttendanceRecord, RollCall
from baoxue.attendance.services import roll_call_submit
from baoxue.audit.models import AuditEntry
from baoxue.cases.escalation import escalate
from baoxue.cases.models import Case, Task
from baoxue.lib.idcard import make_resident_id
from baoxue.registry.models import Category, OnsiteCheck, OnsiteEntry
from baoxue.registry.onsite import (
    onsite_close,
    onsite_confirm_class,
    onsite_open,
    onsite_progress,
    progress_totals,
)
from baoxue.registry.reconcile import RosterRow, reconcile_rows
from tests.conftest import make_student

D = dt.date
TERM_START = D(2025, 9, 1)  # Monday, the first school day of 2025-2026-1
NATIONAL_DAY = D(2025, 10, 1)


@pytest.fixture
def check(people, students, school, term):
    return onsite_open(actor=people["users"]["office"], school=school, term=term, date=TERM_START)


def confirm(check, school_class, actor, results=None, added=()):
    return onsite_confirm_class(actor=actor, check=check, school_class=school_class, results=results or {},
                                added=list(added))


def newcomer(seq=41, name="周九"):
    return (name, make_resident_id("410999", D(2012, 5, 6), seq, "M"), "从外省转来，尚未办转学")


# ---------------------------------------------------------------- opening and closing

def test_it_opens_one_check_per_school(check, people, school, term):
    assert (check.school, check.term, check.date, check.closed_on) == (school, term, TERM_START, None)
    assert check.opened_by == people["users"]["office"]
    assert AuditEntry.objects.filter(object_type="onsitecheck", object_id=str(check.pk), action="create").exists()
    with pytest.raises(ValidationError, match="已有进行中的现场核查"):
        onsite_open(actor=people["users"]["leader"], school=school, term=term, date=D(2025, 9, 2))
    assert OnsiteCheck.objects.count() == 1


def test_a_check_is_on_a_school_day_of_the_term(people, school, term):
    with pytest.raises(ValidationError, match="不是本校在校日"):
        onsite_open(actor=None, school=school, term=term, date=NATIONAL_DAY)
    with pytest.raises(ValidationError, match="学期"):
        onsite_open(actor=None, school=school, term=term, date=D(2026, 3, 2))


def test_after_closing_a_new_check_may_open(check, people, school, term):
    office = people["users"]["office"]
    onsite_close(actor=office, check=check, on=D(2025, 9, 5))
    check.refresh_from_db()
    assert check.closed_on == D(2025, 9, 5)
    with pytest.raises(ValidationError, match="已于"):
        onsite_close(actor=office, check=check, on=D(2025, 9, 6))
    with pytest.raises(ValidationError, match="结束"):
        confirm(check, people["c71"], people["users"]["t71"])
    assert onsite_open(actor=office, school=school, term=term, date=D(2025, 9, 8)).closed_on is None


# ---------------------------------------------------------------- confirming a class

def test_confirming_gives_every_student_of_the_class_an_entry_present_by_default(check, people, school, students):
    wang = make_student(school, people["c71"], "王小明", 5)
    zs = students["zhangsan"]
    done = confirm(check, people["c71"], people["users"]["t71"], {zs.pk: ("not_in_class", "在七(2)班上课", False)})
    entries = {e.student_id: e for e in OnsiteEntry.objects.filter(check_run=check)}
    assert set(entries) == {zs.pk, wang.pk}  # 李四 of 七(2)班 is not touched
    assert (entries[wang.pk].result, entries[zs.pk].result, entries[zs.pk].reason) == \
        ("present", "not_in_class", "在七(2)班上课")
    assert entries[wang.pk].confirmed_by == people["users"]["t71"]
    assert done.recorded == [] and not AttendanceRecord.objects.exists()
    assert AuditEntry.objects.filter(object_type="onsitecheck", note__contains="确认七年级(1)班").exists()
    assert AuditEntry.objects.filter(object_type="onsiteentry", student_id=zs.pk).exists()


def test_reconfirming_replaces_the_class_entries(check, people, students):
    zs, t71 = students["zhangsan"], people["users"]["t71"]
    confirm(check, people["c71"], t71, {zs.pk: ("not_in_class", "在七(2)班", False)}, [newcomer()])
    confirm(check, people["c71"], t71)
    assert list(OnsiteEntry.objects.filter(check_run=check).values_list("student_id", "result")) == [(zs.pk, "present")]


def test_not_in_class_needs_where_and_a_valid_reason_needs_the_reason(check, people, students):
    zs, t71 = students["zhangsan"], people["users"]["t71"]
    with pytest.raises(ValidationError) as e:
        confirm(check, people["c71"], t71, {zs.pk: ("not_in_class", "", False)})
    assert f"r_{zs.pk}" in e.value.message_dict
    with pytest.raises(ValidationError) as e:
        confirm(check, people["c71"], t71, {zs.pk: ("absent", " ", True)})
    assert "写明原因" in e.value.message_dict[f"r_{zs.pk}"][0]
    assert not OnsiteEntry.objects.exists()


def test_a_student_of_another_class_is_refused(check, people, students):
    with pytest.raises(ValidationError, match="不属于本班"):
        confirm(check, people["c71"], people["users"]["t71"], {students["lisi"].pk: ("absent", "", False)})


def test_an_added_person_with_a_bad_id_number_is_refused(check, people):
    name, number, note = newcomer()
    wrong = number[:-1] + ("0" if number[-1] != "0" else "1")
    with pytest.raises(ValidationError) as e:
        confirm(check, people["c71"], people["users"]["t71"], added=[(name, wrong, note)])
    assert "校验位错误" in e.value.message_dict["a_id_0"][0]
    assert not OnsiteEntry.objects.exists()


def test_an_added_person_is_kept_with_name_and_id_and_needs_a_name(check, people, students):
    t71 = people["users"]["t71"]
    with pytest.raises(ValidationError) as e:
        confirm(check, people["c71"], t71, added=[("", newcomer()[1], "")])
    assert "a_name_0" in e.value.message_dict
    with pytest.raises(ValidationError, match="已在本班名单上"):
        confirm(check, people["c71"], t71, added=[("张三", students["zhangsan"].id_number, "")])
    confirm(check, people["c71"], t71, added=[newcomer(), ("吴十", "", "证件号待查")])
    added = list(OnsiteEntry.objects.filter(result="added").order_by("id").values_list("name", "id_number", "student"))
    assert added == [("周九", newcomer()[1], None), ("吴十", "", None)]


# ---------------------------------------------------------------- 未到校 starts 13510

def test_a_confirmed_absence_without_valid_reason_is_recorded_and_opens_a_case(check, people, school, students):
    zs = students["zhangsan"]
    done = confirm(check, people["c71"], people["users"]["t71"], {zs.pk: ("absent", "家长说在外地", False)})
    record = AttendanceRecord.objects.get(student=zs)
    assert (record.date, record.mark, record.reason, record.source) == \
        (TERM_START, "unknown", "现场核查：家长说在外地", "roll_call")
    assert done.recorded == [zs.pk]
    roll_call = RollCall.objects.get(school_class=people["c71"], date=TERM_START)
    assert roll_call.taken_by == people["users"]["t71"]
    assert AuditEntry.objects.filter(object_type="attendancerecord", student_id=zs.pk).exists()

    escalate(day=TERM_START, schools=[school])  # the daily job
    case = Case.objects.get(student=zs)
    assert (case.is_open, case.first_absent_on, case.unexcused_days) == (True, TERM_START, 1)
    contact = Task.objects.get(case=case, kind="contact_guardian")
    assert (contact.due_on, contact.assignee) == (TERM_START, people["users"]["t71"])


def test_a_valid_reason_records_nothing(check, people, students):
    zs = students["zhangsan"]
    done = confirm(check, people["c71"], people["users"]["t71"], {zs.pk: ("absent", "住院（县医院）", True)})
    assert OnsiteEntry.objects.get(student=zs).valid_reason
    assert not AttendanceRecord.objects.exists() and not RollCall.objects.exists()
    assert done.recorded == [] and done.unexcused == 0


def test_a_day_already_evaluated_is_replayed_at_once(check, people, school, students):
    escalate(day=TERM_START, schools=[school])  # ran before the head teacher confirmed
    zs = students["zhangsan"]
    confirm(check, people["c71"], people["users"]["t71"], {zs.pk: ("absent", "", False)})
    case = Case.objects.get(student=zs)
    assert (case.first_absent_on, case.is_open) == (TERM_START, True)
    assert AttendanceRecord.objects.get(student=zs).reason == "现场核查：原因不明"


def test_the_head_teachers_own_roll_call_of_the_day_stands(check, people, students):
    zs, t71 = students["zhangsan"], people["users"]["t71"]
    roll_call_submit(actor=t71, school_class=people["c71"], date=TERM_START, marks={zs.pk: ("sick", "发烧")})
    done = confirm(check, people["c71"], t71, {zs.pk: ("absent", "", False)})
    assert AttendanceRecord.objects.get(student=zs).mark == "sick"
    assert done.recorded == []


def test_a_corrected_confirmation_takes_its_absence_back(check, people, school, students):
    zs, t71 = students["zhangsan"], people["users"]["t71"]
    confirm(check, people["c71"], t71, {zs.pk: ("absent", "", False)})
    escalate(day=TERM_START, schools=[school])
    assert Case.objects.get(student=zs).is_open
    done = confirm(check, people["c71"], t71)  # a slip of the finger: he was there
    assert done.withdrawn == [zs.pk]
    assert not AttendanceRecord.objects.filter(student=zs).exists()
    assert not Case.objects.filter(student=zs, is_open=True).exists()


# ---------------------------------------------------------------- progress and reconciliation

def test_progress_per_class_in_a_few_queries(check, people, school, students, django_assert_max_num_queries):
    for i in range(6):
        make_student(school, people["c72"], f"学生{i}", 50 + i)
    confirm(check, people["c71"], people["users"]["t71"], {students["zhangsan"].pk: ("absent", "", False)},
            [newcomer()])
    with django_assert_max_num_queries(3):
        rows = onsite_progress(check)
    by_class = {r.school_class: r for r in rows}
    c71, c72 = by_class[people["c71"]], by_class[people["c72"]]
    assert (c71.confirmed, c71.students, c71.present, c71.absent, c71.unexcused, c71.added) == (True, 1, 0, 1, 1, 1)
    assert c71.head_teacher == people["users"]["t71"] and c71.confirmed_by == "李老师"
    assert (c72.confirmed, c72.students, c72.head_teacher) == (False, 7, people["users"]["t72"])
    totals = progress_totals(rows)
    assert (totals["classes"], totals["confirmed"], totals["waiting"], totals["absent"]) == (2, 1, 1, 1)


def roster_row(n, s):
    return RosterRow(n, s.name, s.sex, s.birth_date, s.id_number, s.registry_no, s.school_class.grade.name,
                     s.school_class.name)


def test_the_reconciliation_reads_absent_and_added_from_the_check(check, people, school, students):
    zs, ls = students["zhangsan"], students["lisi"]
    confirm(check, people["c71"], people["users"]["t71"], {zs.pk: ("absent", "外出打工", False)}, [newcomer()])
    confirm(check, people["c72"], people["users"]["t72"])
    result = reconcile_rows(school, [roster_row(2, zs), roster_row(3, ls)])
    names = {c: [p.name for p in result.people[c]] for c in result.people}
    assert names[Category.REGISTERED_NOT_PRESENT] == ["张三"]  # 名在人不在
    assert names[Category.CONSISTENT] == ["李四"]
    assert names[Category.PRESENT_NOT_REGISTERED] == ["周九"]  # 人在籍不在


def test_a_valid_reason_absence_is_not_registered_not_present(check, people, school, students):
    zs = students["zhangsan"]
    confirm(check, people["c71"], people["users"]["t71"], {zs.pk: ("absent", "住院", True)})
    result = reconcile_rows(school, [roster_row(2, zs)])
    assert [p.name for p in result.people[Category.CONSISTENT]] == ["张三"]
