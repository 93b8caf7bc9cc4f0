"""Working days and school days: every deadline in Baoxue is computed here.

- 工作日 (working day): the national calendar in `CalendarDay`, with holidays and 调休.
- 在校日 (school day): a working day inside one of the school's terms, not a closure of the
  school or its county.
- "N working days after a date": the start day is not counted; day 1 is the next working day
  (the usual rule for periods in Chinese law). 10 working days after Friday 2025-09-26 is
  Thursday 2025-10-16.
- "遇周末或节假日顺延": a day that is not a working day moves to the next working day.

A question that needs a year with no calendar raises `CalendarMissing`: never a guess.
"""

import datetime

from django.db.models import Q

from baoxue.calendar.models import CalendarDay, CalendarYear, Closure

WEEKDAYS = "一二三四五六日"
SUBMISSION_DAY_OF_MONTH = 20


class CalendarMissing(Exception):
    def __init__(self, year: int):
        self.year = year
        super().__init__(
            f"{year}年的工作日历尚未录入，无法计算日期：请管理员在“工作日历”中录入国务院公布的{year}年放假安排"
            f"（或运行 baoxue calendar seed）"
        )


def known_years() -> set[int]:
    return set(CalendarYear.objects.values_list("year", flat=True))


def _require(years, known: set[int] | None = None) -> None:
    known = known_years() if known is None else known
    for year in sorted(set(years)):
        if year not in known:
            raise CalendarMissing(year)


def is_working_day(day: datetime.date) -> bool:
    _require([day.year])
    return CalendarDay.objects.filter(date=day, is_working=True).exists()


def working_days(start: datetime.date, end: datetime.date) -> list[datetime.date]:
    """Working days in [start, end], in order."""
    if end < start:
        return []
    _require(range(start.year, end.year + 1))
    return list(CalendarDay.objects.filter(date__gte=start, date__lte=end, is_working=True)
                .order_by("date").values_list("date", flat=True))


def add_working_days(start: datetime.date, n: int) -> datetime.date:
    """The n-th working day after `start` (the start day itself is not counted)."""
    if n < 1:
        raise ValueError("n 至少为 1")
    found = list(CalendarDay.objects.filter(date__gt=start, is_working=True).order_by("date")
                 .values_list("date", flat=True)[:n])
    known = known_years()
    if len(found) < n:
        # Ran out of calendar: name the first year after `start` that has no data.
        _require(range(start.year, (found[-1].year if found else start.year) + 2), known)
    _require(range(start.year, found[-1].year + 1), known)
    return found[-1]


def next_working_day(day: datetime.date) -> datetime.date:
    """The first working day after `day`."""
    return add_working_days(day, 1)


def on_or_next_working_day(day: datetime.date) -> datetime.date:
    """遇周末或节假日顺延: `day` itself when it is a working day, else the next one."""
    return day if is_working_day(day) else next_working_day(day)


def submission_day(year: int, month: int) -> datetime.date:
    """The month's submission day: "每月20日为各校到教体局报批休学时间(遇周末或节假日顺延)".

    The 20th when it is a working day (a 调休上班 weekend day counts), else the next working day.
    Raises `CalendarMissing` when the calendar lacks the year."""
    return on_or_next_working_day(datetime.date(year, month, SUBMISSION_DAY_OF_MONTH))


def next_submission_day(today: datetime.date) -> datetime.date:
    """The first submission day on or after `today`: this month's if it is not past, else next month's."""
    day = submission_day(today.year, today.month)
    if today <= day:
        return day
    year, month = (today.year + 1, 1) if today.month == 12 else (today.year, today.month + 1)
    return submission_day(year, month)


def working_days_left(today: datetime.date, deadline: datetime.date) -> int:
    """Working days after today up to and including the deadline (0 on or after it)."""
    if deadline <= today:
        return 0
    return len(working_days(today + datetime.timedelta(days=1), deadline))


def school_days(school, start: datetime.date, end: datetime.date) -> list[datetime.date]:
    """在校日 of a school in [start, end]: working days inside a term, minus closures."""
    from baoxue.org.models import Term

    terms = list(Term.objects.filter(school=school, start__lte=end, end__gte=start).values_list("start", "end"))
    if not terms:
        return []
    lo = max(start, min(t[0] for t in terms))
    hi = min(end, max(t[1] for t in terms))
    closed = set(Closure.objects.filter(Q(school=school) | Q(county_id=school.county_id), date__gte=lo, date__lte=hi)
                 .values_list("date", flat=True))
    return [d for d in working_days(lo, hi) if d not in closed and any(a <= d <= b for a, b in terms)]


def is_school_day(school, day: datetime.date) -> bool:
    return school_days(school, day, day) == [day]


def schools_in_session(schools, day: datetime.date) -> set[int]:
    """The ids of `schools` for which `day` is a 在校日, in three queries whatever their number
    (a county's overview must not ask school by school)."""
    from baoxue.org.models import Term

    schools = list(schools)
    if not schools or not is_working_day(day):
        return set()
    ids = {s.pk for s in schools}
    in_term = set(Term.objects.filter(school_id__in=ids, start__lte=day, end__gte=day).values_list("school_id", flat=True))
    closed = Closure.objects.filter(date=day).filter(Q(school_id__in=ids) | Q(county_id__in={s.county_id for s in schools}))
    closed_schools, closed_counties = set(), set()
    for school_id, county_id in closed.values_list("school_id", "county_id"):
        (closed_schools if school_id else closed_counties).add(school_id or county_id)
    return {s.pk for s in schools if s.pk in in_term and s.pk not in closed_schools and s.county_id not in closed_counties}


def cn_date(day: datetime.date, *, weekday: bool = True) -> str:
    """2025年9月28日（周日，调休上班） — how a person reads a date."""
    text = f"{day.year}年{day.month}月{day.day}日"
    if not weekday:
        return text
    extra = f"周{WEEKDAYS[day.weekday()]}"
    note = CalendarDay.objects.filter(date=day).values_list("note", flat=True).first()
    return f"{text}（{extra}，{note}）" if note else f"{text}（{extra}）"
