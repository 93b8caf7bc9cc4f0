"""What goes out when 13510 moves: the day-1 and day-3 tasks to the head teacher's channel, a new
suspected dropout to the office, a dropout report to the township and the bureau; each once,
written in the transaction of the event, to the channels whose scope and audience take it, with
names, classes, what to do and a link, and never an ID number, a phone number or a reason."""

import datetime as dt
import re

import pytest

from baoxue.cases.models import Case, Report, Task
from baoxue.cases.services import case_mark_missing, contact_add
from baoxue.notify import events, services
from baoxue.notify.models import Channel, Message
from baoxue.org.models import Student
from tests.conftest import make_student
from tests.notify.conftest import Diary, at

D = dt.date
RUN = [D(2025, 9, 22), D(2025, 9, 23), D(2025, 9, 24), D(2025, 9, 25), D(2025, 9, 26)]
REASON = "父母离异去外地打工"
PHONE = "13812345678"


def add(county, kind="webhook", url="https://hooks.example.cn/x", **kwargs):
    return services.channel_add(actor=None, county=county, kind=kind, url=url, **kwargs)


@pytest.fixture
def channels(county, school, people, townships):
    """The county's channels: 七(1)班's own group, the school's office, the 城关镇 government,
    the bureau (audience county)."""
    return {
        "c71": add(county, url="https://hooks.example.cn/c71", school_class=people["c71"]),
        "office": add(county, url="https://hooks.example.cn/office", school=school, audiences="office"),
        "chengguan": add(county, url="https://hooks.example.cn/cg", township=townships["城关镇"]),
        "liugu": add(county, url="https://hooks.example.cn/lg", township=townships["留固镇"]),
        "bureau": add(county, url="https://hooks.example.cn/bureau", audiences="county"),
    }


@pytest.fixture
def zhangsan(students):
    s = students["zhangsan"]
    Student.objects.filter(pk=s.pk).update(phone=PHONE)
    return s


def keys(channel):
    return sorted(Message.objects.filter(channel=channel).values_list("key", flat=True))


def assert_private(student):
    """No message says the student's ID number, phone, or any reason recorded."""
    for m in Message.objects.all():
        words = m.title + m.text + m.link
        assert student.id_number not in words and PHONE not in words and REASON not in words, words
        assert not re.search(r"(?<![0-9])[0-9]{17}[0-9Xx]", words)
        assert not re.search(r"(?<![0-9])1[3-9][0-9]{9}(?![0-9])", words)


def test_a_run_of_absence_notifies_each_step_once_to_the_right_channels(diary, zhangsan, channels, townships):
    diary.day(RUN[0], absent=[zhangsan], note=REASON)
    case = Case.objects.get(student=zhangsan)
    contact = Task.objects.get(case=case, kind="contact_guardian")
    assert keys(channels["c71"]) == [f"task:{contact.pk}"]
    m = Message.objects.get(channel=channels["c71"])
    assert (m.state, m.audience, m.school_id, m.county_id) == ("waiting", "head_teacher", case.school_id, case.county_id)
    assert m.title == "联系家长：张三（七年级(1)班）"
    assert "第1天：联系家长了解情况，截止 9月22日" in m.text
    assert m.link == f"https://baoxue.example.cn/cases/{case.pk}/"
    assert keys(channels["office"]) == []  # the office listens to office messages only

    contact_add(actor=diary.actor, case=case, at=dt.datetime(2025, 9, 22, 18, tzinfo=dt.timezone.utc), method="phone",
                reached="母亲", reason_given=REASON, result="说明天送来")
    for day in RUN[1:]:
        diary.day(day, absent=[zhangsan], note=REASON)
    case.refresh_from_db()
    visit = Task.objects.get(case=case, kind="home_visit")
    assert case.stage == "suspected_dropout"
    assert keys(channels["c71"]) == sorted([f"task:{contact.pk}", f"task:{visit.pk}", f"suspected:{case.pk}"])
    suspected = Message.objects.get(channel=channels["office"])
    assert suspected.key == f"suspected:{case.pk}" and suspected.audience == "office"
    assert suspected.title == "疑似辍学：张三（七年级(1)班）"
    assert "已连续 5 个在校日无正当原因未到校" in suspected.text and "劝返不少于 3 次" in suspected.text
    assert "10月16日前" in suspected.text

    case_mark_missing(actor=None, case=case, on=D(2025, 9, 29))
    to_township = Report.objects.get(case=case, recipient="township")
    to_bureau = Report.objects.get(case=case, recipient="county")
    assert keys(channels["chengguan"]) == [f"report:{to_township.pk}"]  # 张三 lives in 城关镇
    assert keys(channels["liugu"]) == []
    assert keys(channels["bureau"]) == [f"report:{to_bureau.pk}"]
    report = Message.objects.get(channel=channels["chengguan"])
    assert report.audience == "township" and "城关镇人民政府" in report.text
    assert report.title == "辍学报告：张三（示范县第一初级中学 七年级(1)班）"
    assert report.link == "https://baoxue.example.cn/cases/inbox/"
    assert "县教体局" in Message.objects.get(channel=channels["bureau"]).text

    # The same events again write nothing: the key is unique per channel.
    n = Message.objects.count()
    assert events.tasks_opened([contact, visit], today=RUN[-1]) == 0
    assert events.cases_suspected([case], today=RUN[-1]) == 0
    assert Message.objects.count() == n
    assert_private(zhangsan)


def test_a_back_fill_of_a_past_term_announces_nothing(people, term, zhangsan, channels, on_day):
    """Roll calls entered late and the job catching up: the steps are long past, nobody is told."""
    from baoxue.attendance.services import roll_call_submit
    from baoxue.cases.escalation import escalate

    on_day(D(2025, 11, 20))
    for day in RUN:
        roll_call_submit(actor=None, school_class=people["c71"], date=day, marks={zhangsan.pk: ("truant", "")})
    escalate(day=D(2025, 11, 19), schools=[people["c71"].school])
    assert Case.objects.get(student=zhangsan).suspected_on == RUN[-1]
    assert Message.objects.count() == 0


def test_a_class_channel_hears_its_class_only_and_a_school_channel_the_whole_school(
        diary, zhangsan, students, county, school, people):
    school_wide = add(county, url="https://hooks.example.cn/school", school=school)
    c72 = add(county, url="https://hooks.example.cn/c72", school_class=people["c72"])
    lisi = students["lisi"]
    diary.day(RUN[0], absent=[zhangsan])
    Diary(people["c72"], people["users"]["t72"], diary.on_day).day(RUN[0], absent=[lisi])
    assert len(keys(school_wide)) == 2
    assert [Message.objects.get(channel=c72).title] == ["联系家长：李四（七年级(2)班）"]


def test_a_switched_off_channel_gets_nothing_and_no_channel_costs_nothing(diary, zhangsan, county, people,
                                                                           django_assert_max_num_queries):
    ch = add(county, school_class=people["c71"])
    services.channel_set_active(actor=None, channel=ch, active=False)
    diary.day(RUN[0], absent=[zhangsan])
    assert Message.objects.count() == 0
    task = Task.objects.get()
    with django_assert_max_num_queries(1):  # one read of the channels, nothing else
        assert events.tasks_opened([task], today=RUN[0]) == 0


def test_a_failing_notification_never_stops_13510(diary, zhangsan, channels, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise RuntimeError("boom")
    monkeypatch.setattr(events, "tasks_opened", broken)
    diary.day(RUN[0], absent=[zhangsan])
    assert Task.objects.filter(case__student=zhangsan).count() == 1
    assert Message.objects.count() == 0
    assert "写入通知失败" in caplog.text


def test_reading_many_tasks_takes_a_bounded_number_of_queries(people, school, term, channels,
                                                              django_assert_max_num_queries, on_day):
    from baoxue.attendance.services import roll_call_submit
    from baoxue.cases.escalation import escalate

    kids = [make_student(school, people["c71"], f"学生{i}", 10 + i) for i in range(8)]
    on_day(RUN[0])
    roll_call_submit(actor=None, school_class=people["c71"], date=RUN[0], marks={k.pk: ("truant", "") for k in kids})
    escalate(day=RUN[0], schools=[school])
    Message.objects.all().delete()
    tasks = list(Task.objects.all())
    assert len(tasks) == 8
    # channels, tasks (one read), the keys already written, one insert: whatever the number of tasks.
    with django_assert_max_num_queries(4):
        assert events.tasks_opened(tasks, today=RUN[0]) == 8


def test_enqueue_masks_an_id_or_phone_number_that_slipped_into_a_text(county, school):
    ch = add(county, school=school)
    n = services.enqueue(county_id=county.pk, school_id=school.pk, audience="office", key="x:1",
                         title="测试 410999201203050011", text=f"电话 {PHONE}，证件 41099920120305001X", link="")
    assert n == 1
    m = Message.objects.get(channel=ch)
    assert "410999201203050011" not in m.title and PHONE not in m.text and "41099920120305001X" not in m.text
    assert "138****5678" in m.text
    assert services.enqueue(county_id=county.pk, school_id=school.pk, audience="office", key="x:1", title="再一次",
                            text="", link="") == 0
    assert Message.objects.count() == 1


def test_a_digest_channel_holds_its_messages_until_the_morning(county, school):
    ch = add(county, school=school, digest=True)
    instant = add(county, url="https://hooks.example.cn/now", school=school)
    now = at(D(2025, 9, 22), 18, 5)
    services.enqueue(county_id=county.pk, school_id=school.pk, audience="office", key="x:1", title="t", text="",
                     link="", now=now)
    assert Message.objects.get(channel=ch).next_try_at == at(D(2025, 9, 23), 7, 30)
    assert Message.objects.get(channel=instant).next_try_at == now
    services.enqueue(county_id=county.pk, school_id=school.pk, audience="office", key="x:2", title="t", text="",
                     link="", now=at(D(2025, 9, 23), 6, 0))
    assert Message.objects.get(channel=ch, key="x:2").next_try_at == at(D(2025, 9, 23), 7, 30)


def test_channels_of_another_county_never_hear(diary, zhangsan, people):
    from baoxue.org.models import County

    other = County.objects.create(code="410998", name="邻县")
    add(other, url="https://hooks.example.cn/other")
    diary.day(RUN[0], absent=[zhangsan])
    assert Message.objects.count() == 0
    assert Channel.objects.count() == 1
