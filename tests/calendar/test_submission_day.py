"""每月20日为各校到教体局报批休学时间(遇周末或节假日顺延): the submission day on the real calendar."""

import datetime as dt
import io

import pytest
from django.core.management import CommandError, call_command

from baoxue.calendar import workdays
from baoxue.calendar.services import closure_add
from baoxue.org.models import Term

D = dt.date


def run(*args) -> str:
    out = io.StringIO()
    call_command("calendar", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
@pytest.mark.parametrize("year, month, expected", [
    (2025, 9, D(2025, 9, 22)),    # the 20th is a Saturday
    (2025, 12, D(2025, 12, 22)),  # the 20th is a Saturday
    (2026, 2, D(2026, 2, 24)),    # Spring Festival 2026: 2-15 to 2-23 off
    (2025, 10, D(2025, 10, 20)),  # a Monday: the 20th itself
    (2026, 9, D(2026, 9, 20)),    # a Sunday, but 调休上班: a working day
])
def test_submission_day(year, month, expected):
    assert workdays.SUBMISSION_DAY_OF_MONTH == 20
    assert workdays.submission_day(year, month) == expected


@pytest.mark.django_db
def test_next_submission_day():
    assert workdays.next_submission_day(D(2025, 9, 1)) == D(2025, 9, 22)
    assert workdays.next_submission_day(D(2025, 9, 22)) == D(2025, 9, 22)  # the day itself
    assert workdays.next_submission_day(D(2025, 9, 23)) == D(2025, 10, 20)
    assert workdays.next_submission_day(D(2025, 12, 23)) == D(2026, 1, 20)  # across the year
    assert workdays.next_submission_day(D(2026, 2, 21)) == D(2026, 2, 24)  # the 20th is past, its day is not


@pytest.mark.django_db
def test_a_year_without_calendar_is_an_error_not_a_guess():
    assert 2027 not in workdays.known_years()
    with pytest.raises(workdays.CalendarMissing, match="2027年的工作日历尚未录入"):
        workdays.submission_day(2027, 1)
    with pytest.raises(workdays.CalendarMissing, match="2027年的工作日历尚未录入"):
        workdays.next_submission_day(D(2026, 12, 25))  # 2026-12-21 is past: next is January 2027
    with pytest.raises(CommandError, match="2027年的工作日历尚未录入"):
        run("submission-day", "2027-01")


@pytest.mark.django_db
def test_the_submission_day_command():
    assert run("submission-day", "2025-09") == "2025-09-22\n"
    assert run("submission-day", "2026-02") == "2026-02-24\n"
    for bad in ("2025-13", "abc", "2025-00", "2025/09", "2025-09-01"):
        with pytest.raises(CommandError, match="格式不对：请写成 2025-09"):
            run("submission-day", bad)


def test_the_school_days_command(school):
    Term.objects.create(school=school, name="2025-2026-1", start=D(2025, 9, 1), end=D(2026, 1, 23))
    closure_add(actor=None, school=school, date=D(2025, 9, 26), reason="秋季运动会")
    closure_add(actor=None, county=school.county, date=D(2025, 9, 29), reason="暴雨")
    # September 2025: 22 weekdays + Sunday 9-28 (调休上班), less the two closures.
    assert run("school-days", "--school", school.code, "--from", "2025-09-01", "--to", "2025-09-30") == "21\n"
    # Before the term starts nothing counts; 9-01..9-05 do.
    assert run("school-days", "--school", school.code, "--from", "2025-08-25", "--to", "2025-09-05") == "5\n"
    # National Day week: only 10-09 and 10-10 (and Saturday 10-11, 调休上班) are school days.
    assert run("school-days", "--school", school.code, "--from", "2025-10-01", "--to", "2025-10-12") == "3\n"
    assert run("school-days", "--school", school.code, "--from", "2025-09-26", "--to", "2025-09-26") == "0\n"


def test_the_school_days_command_refuses_bad_input(school):
    Term.objects.create(school=school, name="2026-2027-1", start=D(2026, 9, 1), end=D(2027, 1, 22))
    with pytest.raises(CommandError, match="没有学校标识码为 9999999999 的学校"):
        run("school-days", "--school", "9999999999", "--from", "2025-09-01", "--to", "2025-09-30")
    with pytest.raises(CommandError, match="格式不对：请写成 2025-09-01"):
        run("school-days", "--school", school.code, "--from", "2025-09-31", "--to", "2025-10-31")
    with pytest.raises(CommandError, match="早于开始日期"):
        run("school-days", "--school", school.code, "--from", "2025-09-30", "--to", "2025-09-01")
    with pytest.raises(CommandError, match="2027年的工作日历尚未录入"):
        run("school-days", "--school", school.code, "--from", "2026-12-28", "--to", "2027-01-08")
