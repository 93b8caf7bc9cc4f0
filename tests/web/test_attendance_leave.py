"""请假 (/attendance/students/<pk>/leave/) and 正当原因 (/attendance/records/<pk>/excuse/)."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from baoxue.attendance.models import AttendanceRecord, LeaveRequest
from baoxue.attendance.services import roll_call_submit
from baoxue.audit.models import AuditEntry

MONDAY = datetime.date(2025, 9, 29)


@pytest.fixture(autouse=True)
def today(monkeypatch):
    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: MONDAY)


def test_the_head_teacher_records_a_leave(login, org):
    client = login(org.head_teacher_1)
    page = reverse("attendance_leave", args=[org.student_1.pk])
    assert "张三 请假" in client.get(page).content.decode()
    r = client.post(page, {"kind": "sick", "start": "2025-09-29", "end": "2025-09-30", "reason": "发烧，县医院就诊"})
    assert r.status_code == 302
    leave = LeaveRequest.objects.get()
    assert (leave.student, leave.kind, leave.start, leave.end, leave.approved_by) == (
        org.student_1, "sick", MONDAY, datetime.date(2025, 9, 30), org.head_teacher_1)
    assert AuditEntry.objects.filter(object_type="leaverequest", actor=org.head_teacher_1).exists()
    html = client.get(page).content.decode()
    assert "发烧，县医院就诊" in html and "2025年9月29日–2025年9月30日" in html


def test_a_leave_ending_before_it_starts_is_refused(login, org):
    r = login(org.office).post(reverse("attendance_leave", args=[org.student_1.pk]),
                               {"kind": "personal", "start": "2025-09-30", "end": "2025-09-29", "reason": "家中有事"})
    assert r.status_code == 200
    assert "结束日期不能早于开始日期" in r.content.decode()
    assert not LeaveRequest.objects.exists()


@pytest.mark.parametrize("role", ["head_teacher_2", "mentor", "registrar", "county_official", "outsider"])
def test_others_cannot_record_leave(login, org, role):
    assert login(getattr(org, role)).get(reverse("attendance_leave", args=[org.student_1.pk])).status_code == 404


def truant(org):
    roll_call_submit(actor=org.head_teacher_1, school_class=org.class_1, date=MONDAY,
                     marks={org.student_1.pk: ("truant", "")})
    return AttendanceRecord.objects.get(student=org.student_1, date=MONDAY)


def test_an_absence_with_a_valid_reason_becomes_excused(login, org):
    record = truant(org)
    client = login(org.head_teacher_1)
    page = reverse("attendance_excuse", args=[record.pk])
    html = client.get(page).content.decode()
    assert "改为正当原因" in html and "2025年9月29日（周一）" in html and "旷课" in html
    back = reverse("roll_call", args=[org.class_1.pk, MONDAY])
    r = client.post(page, {"mark": "sick", "reason": "急性肠胃炎，乡卫生院病历", "next": back})
    assert r.status_code == 302 and r["Location"] == back
    record.refresh_from_db()
    assert (record.mark, record.reason, record.source) == ("sick", "急性肠胃炎，乡卫生院病历", "correction")
    entry = AuditEntry.objects.filter(object_type="attendancerecord", actor=org.head_teacher_1, action="update").latest("pk")
    assert entry.changes == {"mark": ["旷课", "病假"]}


def test_excusing_needs_a_reason(login, org):
    record = truant(org)
    r = login(org.office).post(reverse("attendance_excuse", args=[record.pk]), {"mark": "personal", "reason": " "})
    assert r.status_code == 200
    record.refresh_from_db()
    assert record.mark == "truant"


def test_it_does_not_redirect_elsewhere(login, org):
    record = truant(org)
    r = login(org.office).post(reverse("attendance_excuse", args=[record.pk]),
                               {"mark": "sick", "reason": "病历", "next": "https://example.com/"})
    assert r["Location"] == reverse("attendance_history", args=[org.student_1.pk])


@pytest.mark.parametrize("role", ["head_teacher_2", "mentor", "county_official", "outsider"])
def test_others_cannot_excuse(login, org, role):
    record = truant(org)
    client = login(getattr(org, role))
    assert client.post(reverse("attendance_excuse", args=[record.pk]), {"mark": "sick", "reason": "病历"}).status_code == 404
    record.refresh_from_db()
    assert record.mark == "truant"
