"""Working days on the real calendar: holidays, 调休, terms, closures, and no guessing."""

import datetime as dt

import pytest
from django.core.management import CommandError, call_command

from baoxue.calendar import workdays
from baoxue.calendar.models import CalendarDay, CalendarYear
from baoxue.calendar.services import calendar_year_set, closure_add
from baoxue.org.models import Term

D = dt.date


@pytest.mark.django_db
def test_ten_working_days_after_a_friday():
    assert workdays.add_working_days(D(2025, 9, 26), 10) == D(2025, 10, 16)


@pytest.mark.django_db
def test_a_deadline_across_national_day():
    assert workdays.add_working_days(D(2025, 9, 30), 10) == D(2025, 10, 21)
    assert workdays.next_working_day(D(2025, 9, 30)) == D(2025, 10, 9)


@pytest.mark.django_db
def test_make_up_days_are_working_days():
    assert workdays.is_working_day(D(2025, 9, 28))  # Sunday, 调休上班
    assert workdays.is_working_day(D(2025, 10, 11))  # Saturday, 调休上班
    assert not workdays.is_working_day(D(2025, 10, 3))
    assert workdays.cn_date(D(2025, 9, 28)) == "2025年9月28日（周日，调休上班）"
    assert workdays.cn_date(D(2025, 10, 1)) == "2025年10月1日（周三，国庆节）"


@pytest.mark.django_db
def test_moved_to_the_next_working_day():
    assert workdays.on_or_next_working_day(D(2025, 10, 4)) == D(2025, 10, 9)
    assert workdays.on_or_next_working_day(D(2025, 10, 9)) == D(2025, 10, 9)


@pytest.mark.django_db
def test_a_year_without_calendar_is_an_error_not_a_guess():
    assert 2027 not in workdays.known_years()
    with pytest.raises(workdays.CalendarMissing, match="2027年的工作日历尚未录入"):
        workdays.add_working_days(D(2026, 12, 28), 10)
    with pytest.raises(workdays.CalendarMissing):
        workdays.is_working_day(D(2027, 3, 1))


@pytest.mark.django_db
def test_an_entered_year_answers():
    calendar_year_set(actor=None, year=2027, holidays={D(2027, 1, 1): "元旦"}, workdays=[])
    assert workdays.add_working_days(D(2026, 12, 31), 1) == D(2027, 1, 4)
    assert CalendarYear.objects.get(year=2027).source == "手工录入"
    assert CalendarDay.objects.filter(date__year=2027).count() == 365


def test_school_days_are_term_working_days_without_closures(school):
    Term.objects.create(school=school, name="2025-2026-1", start=D(2025, 9, 1), end=D(2026, 1, 23))
    closure_add(actor=None, school=school, date=D(2025, 9, 26), reason="秋季运动会")
    closure_add(actor=None, county=school.county, date=D(2025, 9, 29), reason="暴雨")
    days = workdays.school_days(school, D(2025, 9, 24), D(2025, 10, 10))
    assert days == [D(2025, 9, 24), D(2025, 9, 25), D(2025, 9, 28), D(2025, 9, 30), D(2025, 10, 9), D(2025, 10, 10)]
    assert not workdays.is_school_day(school, D(2025, 8, 29))  # before the term
    assert workdays.is_school_day(school, D(2025, 9, 28))


def test_the_calendar_commands(school, capsys):
    call_command("calendar", "working-day", "--from", "2025-09-30", "--add", "1")
    assert capsys.readouterr().out.strip() == "2025-10-09"
    call_command("calendar", "add-term", "--school", school.code, "--name", "2025-2026-1",
                 "--start", "2025-09-01", "--end", "2026-01-23")
    call_command("calendar", "close", "--school", school.code, "--date", "2025-09-26", "--reason", "运动会")
    assert workdays.school_days(school, D(2025, 9, 26), D(2025, 9, 26)) == []
    with pytest.raises(CommandError, match="2027"):
        call_command("calendar", "working-day", "--from", "2026-12-30", "--add", "3")
    with pytest.raises(CommandError, match="学期"):
        call_command("calendar", "add-term", "--school", school.code, "--name", "2025秋",
                     "--start", "2025-09-01", "--end", "2026-01-23")
