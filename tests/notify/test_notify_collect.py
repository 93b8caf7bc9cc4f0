"""The daily scans: 劝返不足 and 逾期 to the office, roll calls not taken by the due time to the head
teacher and the office (school days only), suspensions ending to the registry clerk and the head
teacher. Running a scan twice writes nothing new."""

import datetime as dt

import pytest

from baoxue.attendance.services import roll_call_submit
from baoxue.calendar.services import closure_add
from baoxue.cases.models import Case
from baoxue.cases.services import attempt_add
from baoxue.notify import services
from baoxue.notify.collect import collect
from baoxue.notify.models import Message
from baoxue.org.models import RegistryStatus, Student
from baoxue.registry.models import Application, RegistryChange
from tests.notify.conftest import at

D = dt.date
RUN = [D(2025, 9, 22), D(2025, 9, 23), D(2025, 9, 24), D(2025, 9, 25), D(2025, 9, 26)]


def add(county, url="https://hooks.example.cn/x", **kwargs):
    return services.channel_add(actor=None, county=county, kind="webhook", url=url, **kwargs)


def keys(**filters):
    return sorted(Message.objects.filter(**filters).values_list("key", flat=True))


@pytest.fixture
def office(county, school):
    return add(county, school=school, audiences="office", url="https://hooks.example.cn/office")


@pytest.fixture
def suspected(diary, students):
    """张三 absent 9-22..9-26: in the 疑似 ledger from 9-26, persuasion due 10-16."""
    for day in RUN:
        diary.day(day, absent=[students["zhangsan"]])
    case = Case.objects.get(student=students["zhangsan"])
    assert (case.suspected_on, case.persuasion_due) == (RUN[-1], D(2025, 10, 16))
    return case


PARTICIPANTS = [{"name": "钱主任", "unit": "学校"}]


def test_persuasion_short_counts_down_once_a_working_day_then_overdue_once(suspected, office, people, on_day):
    Message.objects.all().delete()
    case = suspected
    assert collect(D(2025, 10, 10), now=at(D(2025, 10, 10)))["short"] == 0  # 4 working days left
    assert collect(D(2025, 10, 13), now=at(D(2025, 10, 13)))["short"] == 1  # 3 left, 0/3 attempts
    m = Message.objects.get(channel=office, key__startswith="short:")  # beside the roll-call summaries
    assert m.key == f"short:{case.pk}:2025-10-16:3"
    assert m.title == "劝返不足：张三（七年级(1)班）"
    assert "劝返 0/3 次" in m.text and "还剩 3 个工作日" in m.text
    assert m.link == f"https://baoxue.example.cn/cases/{case.pk}/"
    assert collect(D(2025, 10, 13), now=at(D(2025, 10, 13), 18))["short"] == 0  # the same day again
    assert collect(D(2025, 10, 14), now=at(D(2025, 10, 14)))["short"] == 1  # 2 left
    on_day(D(2025, 10, 15))
    for n, day in enumerate((D(2025, 10, 14), D(2025, 10, 15)), start=1):
        attempt_add(actor=people["users"]["office"], case=case, date=day, method="phone", participants=PARTICIPANTS,
                    result=f"第{n}次劝返，家长答应考虑")
    assert collect(D(2025, 10, 15), now=at(D(2025, 10, 15)))["short"] == 1  # 2/3: still short, 1 left
    assert collect(D(2025, 10, 17), now=at(D(2025, 10, 17)))["overdue"] == 1
    assert collect(D(2025, 10, 20), now=at(D(2025, 10, 20)))["overdue"] == 0  # once per deadline
    overdue = Message.objects.get(key__startswith="overdue:")
    assert overdue.title == "劝返逾期：张三（七年级(1)班）" and "劝返 2/3 次" in overdue.text
    assert "家长答应" not in "".join(Message.objects.values_list("text", flat=True))


def test_enough_attempts_is_not_short(suspected, office, people, on_day):
    on_day(D(2025, 10, 14))
    for n, day in enumerate((D(2025, 9, 29), D(2025, 9, 30), D(2025, 10, 9)), start=1):
        attempt_add(actor=people["users"]["office"], case=suspected, date=day, method="phone", participants=PARTICIPANTS,
                    result="劝返")
    assert collect(D(2025, 10, 14), now=at(D(2025, 10, 14)))["short"] == 0


def test_roll_calls_not_taken_by_the_due_time(people, students, term, county, school, settings, on_day):
    settings.ROLL_CALL_DUE = "09:30"
    on_day(D(2025, 10, 13))
    c71 = add(county, school_class=people["c71"], url="https://hooks.example.cn/c71")
    office = add(county, school=school, audiences="office", url="https://hooks.example.cn/office")
    day = D(2025, 10, 13)
    assert collect(day, now=at(day, 9, 29))["rollcall"] == 0  # not due yet
    roll_call_submit(actor=people["users"]["t72"], school_class=people["c72"], date=day, marks={})
    assert collect(day, now=at(day, 9, 31))["rollcall"] == 2  # 七(1)班 to its channel, the summary to the office
    m = Message.objects.get(channel=c71)
    assert m.key == f"rollcall:{people['c71'].pk}:2025-10-13" and m.audience == "head_teacher"
    assert m.title == "未点名：七年级(1)班（示范县第一初级中学）"
    assert m.link == f"https://baoxue.example.cn/attendance/classes/{people['c71'].pk}/2025-10-13/"
    summary = Message.objects.get(channel=office)
    assert summary.title == "未点名班级：示范县第一初级中学 1 个班"
    assert "七年级(1)班（李老师）" in summary.text and "(2)班" not in summary.text
    assert summary.link.endswith(f"/attendance/schools/{school.code}/roll-calls/?date=2025-10-13")
    assert collect(day, now=at(day, 15))["rollcall"] == 0  # once a day
    assert collect(D(2025, 10, 14), now=at(D(2025, 10, 14), 8))["rollcall"] == 0


def test_no_roll_call_reminder_on_a_day_without_school(people, students, term, county, school):
    add(county, school=school)
    # 调休 Saturday: a school day (two classes, and the office's summary: the channel takes all)
    assert collect(D(2025, 10, 11), now=at(D(2025, 10, 11), 12))["rollcall"] == 3
    Message.objects.all().delete()
    assert collect(D(2025, 10, 12), now=at(D(2025, 10, 12), 12))["rollcall"] == 0  # Sunday
    assert collect(D(2025, 10, 3), now=at(D(2025, 10, 3), 12))["rollcall"] == 0  # National Day
    closure_add(actor=None, date=D(2025, 10, 15), reason="运动会", school=school)
    assert collect(D(2025, 10, 15), now=at(D(2025, 10, 15), 12))["rollcall"] == 0
    assert collect(D(2026, 3, 2), now=at(D(2026, 3, 2), 12))["rollcall"] == 0  # outside the term
    assert Message.objects.count() == 0


def test_a_class_without_students_on_the_roll_needs_no_roll_call(people, students, term, county, school):
    add(county, school=school)
    Student.objects.filter(school_class=people["c72"]).update(status=RegistryStatus.SUSPENDED)
    collect(D(2025, 10, 13), now=at(D(2025, 10, 13), 12))
    assert keys(key__startswith="rollcall:") == [f"rollcall:{people['c71'].pk}:2025-10-13"]


def test_suspensions_ending_remind_the_registrar_and_the_head_teacher_once(people, students, county, school):
    zhangsan = students["zhangsan"]
    registrar = add(county, school=school, audiences="registrar", url="https://hooks.example.cn/reg")
    head = add(county, school_class=people["c71"], url="https://hooks.example.cn/c71")
    office = add(county, school=school, audiences="office", url="https://hooks.example.cn/office")
    change = RegistryChange.objects.create(county=county, school=school, student=zhangsan, change_type="suspend",
                                           date=D(2025, 9, 30), reason="因病休学", status_before="in_school",
                                           status_after="suspended")
    app = Application.objects.create(county=county, school=school, student=zhangsan, state="effective", change=change, submitted_on=D(2025, 9, 10),
                                     illness="急性淋巴细胞白血病", start_on=D(2025, 9, 30), ends_on=D(2026, 9, 29))
    Student.objects.filter(pk=zhangsan.pk).update(status=RegistryStatus.SUSPENDED, status_since=D(2025, 9, 30))
    assert collect(D(2026, 8, 29), now=at(D(2026, 8, 29)))["ending"] == 0
    assert collect(D(2026, 8, 30), now=at(D(2026, 8, 30)))["ending"] == 2
    assert collect(D(2026, 8, 31), now=at(D(2026, 8, 31)))["ending"] == 0
    for ch in (registrar, head):
        m = Message.objects.get(channel=ch)
        assert m.key == f"ending:{app.pk}:ending:2026-09-29"
        assert m.title == "休学即将期满：张三（七年级(1)班）"
        assert "2026-09-29 期满" in m.text and "白血病" not in m.text
        assert m.link == f"https://baoxue.example.cn/registry/suspensions/{app.pk}/"
    assert not Message.objects.filter(channel=office).exists()


def test_without_any_channel_the_scans_read_nothing(suspected, django_assert_max_num_queries):
    with django_assert_max_num_queries(1):
        assert collect(D(2025, 10, 13), now=at(D(2025, 10, 13))) == {
            "short": 0, "overdue": 0, "rollcall": 0, "ending": 0, "warnings": []}


def test_the_roll_call_scan_reads_a_constant_number_of_queries(people, students, term, county, townships,
                                                                django_assert_max_num_queries):
    from baoxue.notify.events import roll_calls_missing
    from baoxue.notify.services import active_channels
    from baoxue.org.models import Grade, School, SchoolClass, Term
    from tests.conftest import make_student

    for n in range(4):
        s = School.objects.create(code=f"410999010{n}", name=f"第{n}小学", county=county, township=townships["城关镇"])
        Term.objects.create(school=s, name="2025-2026-1", start=D(2025, 9, 1), end=D(2026, 1, 23))
        c = SchoolClass.objects.create(school=s, grade=Grade.objects.create(school=s, name="一年级", order=1), name="(1)班")
        make_student(s, c, f"学生{n}", 40 + n)
    add(county)
    channels = active_channels([county.pk])
    day = D(2025, 10, 13)
    with django_assert_max_num_queries(12):
        assert roll_calls_missing(channels, day=day, now=at(day, 12))["rollcall"] == 2 + 4 + 5  # classes, summaries
