"""The calendar page: warnings for a missing year, entering a year, closures and terms."""

import datetime as dt

from baoxue.audit.models import AuditEntry
from baoxue.calendar import workdays
from baoxue.calendar.models import Closure, CalendarYear
from baoxue.org.models import Term


def test_the_bureau_is_warned_about_a_missing_year(org, login):
    Term.objects.create(school=org.school, name="2026-2027-1", start=dt.date(2026, 9, 1), end=dt.date(2027, 1, 22))
    page = login(org.county_official).get("/calendar/").content.decode()
    assert "2027年的工作日历尚未录入" in page


def test_the_bureau_enters_next_years_schedule(org, login):
    client = login(org.county_official)
    response = client.post("/calendar/year/", {
        "year": "2027", "holidays": "2027-01-01 元旦\n2027-10-01..2027-10-07 国庆节", "workdays": "2027-09-26\n2027-10-09",
    })
    assert response.status_code == 302
    assert CalendarYear.objects.get(year=2027).source == "手工录入"
    assert workdays.is_working_day(dt.date(2027, 9, 26)) and not workdays.is_working_day(dt.date(2027, 10, 4))
    assert AuditEntry.objects.filter(object_type="calendar", actor=org.county_official).exists()


def test_a_bad_date_is_explained(org, login):
    page = login(org.county_official).post("/calendar/year/", {"year": "2027", "holidays": "2027-13-01 元旦"}).content.decode()
    assert "日期格式不对" in page and not CalendarYear.objects.filter(year=2027).exists()


def test_the_office_closes_its_school_but_cannot_enter_years(org, login):
    client = login(org.office)
    assert client.get("/calendar/").status_code == 200
    client.post("/calendar/closures/", {"school": org.school.pk, "date": "2025-09-26", "reason": "秋季运动会"})
    assert Closure.objects.get().school == org.school
    assert not workdays.is_school_day(org.school, dt.date(2025, 9, 26))
    assert client.post("/calendar/year/", {"year": "2027", "holidays": "2027-01-01 元旦"}).status_code == 404


def test_head_teachers_and_outsiders_get_404(org, login):
    assert login(org.head_teacher_1).get("/calendar/").status_code == 404
    assert login(org.outsider).get("/calendar/").status_code == 404


def test_the_office_adds_a_term(org, login):
    login(org.office).post("/calendar/terms/", {"school": org.school.pk, "name": "2025-2026-2",
                                                 "start": "2026-02-23", "end": "2026-07-03"})
    assert Term.objects.filter(school=org.school, name="2025-2026-2").exists()


def test_the_office_removes_a_closure_entered_by_mistake_and_13510_counts_the_day_again(org, login):
    import datetime

    from baoxue.attendance.services import roll_call_submit
    from baoxue.calendar.models import Closure
    from baoxue.cases.escalation import escalate
    from baoxue.cases.models import Case

    days = [datetime.date(2025, 9, 22), datetime.date(2025, 9, 23), datetime.date(2025, 9, 24)]
    for day in days:
        roll_call_submit(actor=org.head_teacher_1, school_class=org.class_1, date=day,
                         marks={org.student_1.pk: ("truant", "")})
    escalate(day=days[-1], schools=[org.school])
    client = login(org.office)
    client.post("/calendar/closures/", {"school": org.school.pk, "date": "2025-09-23", "reason": "运动会"})
    assert Case.objects.get(student=org.student_1).unexcused_days == 2
    closure = Closure.objects.get(date=days[1])
    assert login(org.head_teacher_1).post(f"/calendar/closures/{closure.pk}/remove/").status_code == 404
    login(org.office).post(f"/calendar/closures/{closure.pk}/remove/")
    assert not Closure.objects.exists()
    assert Case.objects.get(student=org.student_1).unexcused_days == 3
