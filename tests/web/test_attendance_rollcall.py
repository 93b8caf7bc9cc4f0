"""The head teacher's roll call on a phone: /attendance/classes/<pk>/[<date>/]."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from baoxue.attendance.models import AttendanceRecord, RollCall
from baoxue.audit.models import AuditEntry
from tests.web.conftest import _student

MONDAY = datetime.date(2025, 9, 29)
MAKE_UP_SUNDAY = datetime.date(2025, 9, 28)


@pytest.fixture
def today(monkeypatch):
    """today(d): the site believes it is d (views and services read timezone.localdate)."""
    def _set(day: datetime.date):
        monkeypatch.setattr(timezone, "localdate", lambda *a, **k: day)
    _set(MONDAY)
    return _set


@pytest.fixture
def class_1(org):
    """七年级(1)班 with 张三 and two more students."""
    _student(org.school, org.class_1, "王小明", 5, "M", org.chengguan, "")
    _student(org.school, org.class_1, "赵小红", 6, "F", org.chengguan, "")
    return org.class_1


def url(school_class, day=None):
    if day is None:
        return reverse("roll_call_today", args=[school_class.pk])
    return reverse("roll_call", args=[school_class.pk, day])


def test_it_shows_every_student_present_by_default(login, org, class_1, today):
    html = login(org.head_teacher_1).get(url(class_1, MONDAY)).content.decode()
    for name in ("张三", "王小明", "赵小红"):
        assert name in html
    assert html.count('value="present" class="rc-present" checked') == 3
    assert "提交点名（全班 3 人）" in html
    assert "2025年9月29日（周一）" in html
    assert "今天还没有点名" in html


def test_today_is_the_default_date(login, org, class_1, today):
    html = login(org.head_teacher_1).get(url(class_1)).content.decode()
    assert "2025年9月29日（周一）" in html and "今天" in html


def test_a_make_up_sunday_is_a_school_day(login, org, class_1, today):
    html = login(org.head_teacher_1).get(url(class_1, MAKE_UP_SUNDAY)).content.decode()
    assert "2025年9月28日（周日，调休上班）" in html
    assert "提交点名" in html


def test_submitting_one_truant_creates_the_record_and_the_roll_call(login, org, class_1, today):
    client = login(org.head_teacher_1)
    zhangsan = org.student_1
    r = client.post(url(class_1, MONDAY), {f"m_{zhangsan.pk}": "truant", f"r_{zhangsan.pk}": "",
                                           **{f"m_{s.pk}": "present" for s in class_1.students.exclude(pk=zhangsan.pk)}})
    assert r.status_code == 302
    record = AttendanceRecord.objects.get()
    assert (record.student, record.date, record.mark, record.recorded_by) == (zhangsan, MONDAY, "truant", org.head_teacher_1)
    roll_call = RollCall.objects.get()
    assert (roll_call.school_class, roll_call.date, roll_call.taken_by) == (class_1, MONDAY, org.head_teacher_1)
    assert AuditEntry.objects.filter(object_type="attendancerecord", student_id=zhangsan.pk).exists()

    html = client.get(r["Location"]).content.decode()
    assert "已提交七年级(1)班9月29日点名：全班 3 人，到校 2 人，缺勤 1 人（旷课1）" in html
    assert "已点名：李老师" in html
    assert "张三</a></strong> 今天无正当原因未到校：第1天，请今天联系家长了解情况" in html
    assert "tel:13812345678" in html  # the head teacher calls from the page
    assert reverse("attendance_excuse", args=[record.pk]) in html
    # The form is prefilled with the stored mark, for correction.
    assert f'value="truant" class="rc-truant" checked' in html


def test_a_form_with_no_marks_means_everyone_present(login, org, class_1, today):
    r = login(org.head_teacher_1).post(url(class_1, MONDAY), {})
    assert r.status_code == 302
    assert RollCall.objects.filter(school_class=class_1, date=MONDAY).exists()
    assert not AttendanceRecord.objects.exists()


def test_a_correction_replaces_the_day(login, org, class_1, today):
    client = login(org.head_teacher_1)
    pk = org.student_1.pk
    client.post(url(class_1, MONDAY), {f"m_{pk}": "unknown"})
    client.post(url(class_1, MONDAY), {f"m_{pk}": "sick", f"r_{pk}": "发烧"})
    record = AttendanceRecord.objects.get()
    assert (record.mark, record.reason) == ("sick", "发烧")
    client.post(url(class_1, MONDAY), {f"m_{pk}": "present"})
    assert not AttendanceRecord.objects.exists()
    assert RollCall.objects.count() == 1


def test_the_run_is_counted_across_school_days(login, org, class_1, today):
    """旷课 on Thursday, Friday and the make-up Sunday: the third school day in a row."""
    client = login(org.head_teacher_1)
    pk = org.student_1.pk
    for day in (datetime.date(2025, 9, 25), datetime.date(2025, 9, 26), MAKE_UP_SUNDAY):
        client.post(url(class_1, day), {f"m_{pk}": "truant"})
    html = client.get(url(class_1, MAKE_UP_SUNDAY)).content.decode()
    assert "9月28日无正当原因未到校：连续第3天，请家访或与监护人联系跟进" in html


def test_an_unknown_mark_is_refused(login, org, class_1, today):
    r = login(org.head_teacher_1).post(url(class_1, MONDAY), {f"m_{org.student_1.pk}": "asleep"})
    assert r.status_code == 200
    assert "没有提交" in r.content.decode()
    assert not RollCall.objects.exists()


def test_the_other_head_teacher_gets_404(login, org, class_1, today):
    client = login(org.head_teacher_2)
    assert client.get(url(class_1, MONDAY)).status_code == 404
    assert client.post(url(class_1, MONDAY), {}).status_code == 404
    assert not RollCall.objects.exists()


@pytest.mark.parametrize("role", ["mentor", "registrar", "county_official", "township_official", "outsider"])
def test_it_is_not_found_for_those_who_do_not_take_roll_calls(login, org, class_1, today, role):
    assert login(getattr(org, role)).get(url(class_1, MONDAY)).status_code == 404


@pytest.mark.parametrize("role", ["office", "leader", "admin"])
def test_the_office_leaders_and_admins_may_take_it(login, org, class_1, today, role):
    client = login(getattr(org, role))
    assert client.get(url(class_1, MONDAY)).status_code == 200
    assert client.post(url(class_1, MONDAY), {}).status_code == 302
    assert RollCall.objects.get().taken_by == getattr(org, role)


def test_a_holiday_shows_no_form(login, org, class_1, today):
    today(datetime.date(2025, 10, 9))
    client = login(org.head_teacher_1)
    html = client.get(url(class_1, datetime.date(2025, 10, 3))).content.decode()
    assert "2025年10月3日（周五，国庆节） 不是本校在校日" in html
    assert "<form method=\"post\" class=\"rollcall\"" not in html
    client.post(url(class_1, datetime.date(2025, 10, 3)), {})
    assert not RollCall.objects.exists()


def test_a_too_old_date_is_refused(login, org, class_1, today):
    """Only today and the last few school days may be filled in or corrected."""
    old = datetime.date(2025, 9, 22)
    client = login(org.head_teacher_1)
    html = client.get(url(class_1, old)).content.decode()
    assert "只能补点或更正最近 5 个在校日的点名" in html
    assert "提交点名" not in html
    r = client.post(url(class_1, old), {f"m_{org.student_1.pk}": "truant"})
    assert r.status_code == 302
    assert not RollCall.objects.exists() and not AttendanceRecord.objects.exists()


def test_a_future_date_is_refused(login, org, class_1, today):
    client = login(org.head_teacher_1)
    html = client.get(url(class_1, datetime.date(2025, 9, 30))).content.decode()
    assert "不能为将来的日期点名" in html
    client.post(url(class_1, datetime.date(2025, 9, 30)), {})
    assert not RollCall.objects.exists()


def test_it_links_the_recent_days_and_shows_which_were_taken(login, org, class_1, today):
    client = login(org.head_teacher_1)
    client.post(url(class_1, datetime.date(2025, 9, 26)), {})
    html = client.get(url(class_1, MONDAY)).content.decode()
    for day in ("2025-09-24", "2025-09-25", "2025-09-26", "2025-09-28", "2025-09-29"):
        assert reverse("roll_call", args=[class_1.pk, day]) in html
    assert reverse("roll_call", args=[class_1.pk, "2025-09-23"]) not in html
    assert html.count("已点名</span>") == 1


def test_a_student_on_leave_starts_out_marked_with_the_leave(login, org, class_1, today):
    from baoxue.attendance.services import leave_approve

    leave_approve(actor=org.head_teacher_1, student=org.student_1, kind="sick", start=MONDAY, end=MONDAY, reason="发烧")
    html = login(org.head_teacher_1).get(url(class_1, MONDAY)).content.decode()
    assert 'value="sick" class="rc-sick" checked' in html
    assert "已请病假" in html


def test_a_bad_date_in_the_url_is_not_found(login, org, class_1, today):
    assert login(org.head_teacher_1).get(f"/attendance/classes/{class_1.pk}/2025-02-30/").status_code == 404


def test_a_contact_recorded_stays_on_the_roll_call_after_the_teacher_corrects_the_day(login, org, class_1, today):
    """The head teacher marks 张三 absent, the daily job opens the case, she records the call to
    his mother; then she corrects the day (王小明 was late after all): the call is still there."""
    from baoxue.cases.escalation import escalate
    from baoxue.cases.models import Case
    from baoxue.cases.services import contact_add
    from baoxue.org.models import Student

    client = login(org.head_teacher_1)
    pk = org.student_1.pk
    client.post(url(class_1, MONDAY), {f"m_{pk}": "truant"})
    escalate(day=MONDAY, schools=[org.school])
    case = Case.objects.get(student_id=pk)
    at = timezone.make_aware(datetime.datetime(2025, 9, 29, 9, 40))
    contact_add(actor=org.head_teacher_1, case=case, at=at, method="phone", reached="母亲", result="孩子在家，明天送来")
    late = Student.objects.get(school_class=class_1, name="王小明").pk
    r = client.post(url(class_1, MONDAY), {f"m_{pk}": "truant", f"m_{late}": "late"}, follow=True)
    html = r.content.decode()
    assert "已联系家长：9月29日 09:40 电话，联系到母亲（孩子在家，明天送来）" in html
    assert list(Case.objects.filter(student_id=pk).values_list("pk", "is_open")) == [(case.pk, True)]
    assert case.contacts.count() == 1


def test_students_off_the_list_can_be_ticked_as_seen_at_school(login, org, class_1, today):
    """A dropout is not on the roll call; the head teacher who sees him ticks 今天到校."""
    from baoxue.org.models import RegistryStatus, Student

    Student.objects.filter(pk=org.student_1.pk).update(status=RegistryStatus.DROPPED_OUT, status_since=MONDAY)
    client = login(org.head_teacher_1)
    html = client.get(url(class_1, MONDAY)).content.decode()
    assert "名单外的本班学生" in html and f'name="seen_{org.student_1.pk}"' in html
    assert f'name="m_{org.student_1.pk}"' not in html
    client.post(url(class_1, MONDAY), {f"seen_{org.student_1.pk}": "on"})
    assert AttendanceRecord.objects.get(student=org.student_1, date=MONDAY).mark == "present"
    client.post(url(class_1, MONDAY), {})
    assert not AttendanceRecord.objects.filter(student=org.student_1, date=MONDAY).exists()
