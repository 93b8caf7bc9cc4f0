"""Writes to the calendar: seeding the working-day table, entering a year, terms and closures."""

import datetime

from django.db import transaction

from baoxue.audit.models import Action
from baoxue.audit.services import audit_record
from baoxue.calendar import signals
from baoxue.calendar.models import CalendarDay, CalendarYear, Closure

HOLIDAY_NAMES = {
    "New Year's Day": "元旦", "Spring Festival": "春节", "Tomb-sweeping Day": "清明节", "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节", "National Day": "国庆节", "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "抗战胜利纪念日",
}
MAKE_UP_WORKDAY = "调休上班"
PACKAGE_SOURCE = "chinese-calendar"


def package_years() -> range:
    """The years the installed `chinese-calendar` holds (it raises for any other)."""
    from chinese_calendar import constants

    return range(min(constants.holidays).year, max(constants.holidays).year + 1)


def _days_of(year: int):
    day = datetime.date(year, 1, 1)
    while day.year == year:
        yield day
        day += datetime.timedelta(days=1)


def package_days(year: int) -> list[tuple[datetime.date, bool, str]]:
    """(date, is working day, note) for every day of a year the package holds."""
    import chinese_calendar

    days = []
    for day in _days_of(year):
        is_holiday, name = chinese_calendar.get_holiday_detail(day)
        note = ""
        if name and is_holiday:
            note = HOLIDAY_NAMES.get(name, name)
        elif not is_holiday and day.weekday() >= 5:
            note = MAKE_UP_WORKDAY
        days.append((day, not is_holiday, note))
    return days


@transaction.atomic
def calendar_seed(*, actor=None, years=None, replace: bool = False) -> list[int]:
    """Fill the working-day table from `chinese-calendar` for the years it holds.

    Years already present are kept unless `replace` (a year entered by hand is never replaced
    by the package)."""
    present = dict(CalendarYear.objects.values_list("year", "source"))
    done = []
    for year in years or package_years():
        if year in present and (not replace or present[year] != PACKAGE_SOURCE):
            continue
        rows = [CalendarDay(date=d, is_working=w, note=n) for d, w, n in package_days(year)]
        CalendarDay.objects.filter(date__year=year).delete()
        CalendarDay.objects.bulk_create(rows)
        CalendarYear.objects.update_or_create(year=year, defaults={"source": PACKAGE_SOURCE})
        done.append(year)
    if done:
        audit_record(actor=actor, action=Action.IMPORT, object_type="calendar",
                     object_repr=f"工作日历 {done[0]}–{done[-1]}", note=f"从 chinese-calendar 录入 {len(done)} 年")
        signals.announce(since=datetime.date(min(done), 1, 1))
    return done


@transaction.atomic
def calendar_year_set(*, actor, year: int, holidays: dict[datetime.date, str], workdays: list[datetime.date]) -> CalendarYear:
    """Enter a year's schedule as published by the State Council: its public holidays (with
    their names) and its make-up workdays; every other weekday works, every other weekend rests."""
    for day in list(holidays) + list(workdays):
        if day.year != year:
            raise ValueError(f"{day} 不在 {year} 年")
    rows = []
    for day in _days_of(year):
        if day in holidays:
            rows.append(CalendarDay(date=day, is_working=False, note=holidays[day]))
        elif day in workdays:
            rows.append(CalendarDay(date=day, is_working=True, note=MAKE_UP_WORKDAY if day.weekday() >= 5 else ""))
        else:
            rows.append(CalendarDay(date=day, is_working=day.weekday() < 5, note=""))
    old = CalendarDay.objects.filter(date__year=year).count()
    CalendarDay.objects.filter(date__year=year).delete()
    CalendarDay.objects.bulk_create(rows)
    entry, _ = CalendarYear.objects.update_or_create(year=year, defaults={"source": "手工录入"})
    audit_record(actor=actor, action=Action.UPDATE if old else Action.CREATE, object_type="calendar",
                 object_id=str(year), object_repr=f"{year}年工作日历",
                 changes={"holidays": [None, sorted(d.isoformat() for d in holidays)],
                          "workdays": [None, sorted(d.isoformat() for d in workdays)]})
    # Deadlines reaching into the year, and school days in it, are computed anew.
    signals.announce(since=datetime.date(year, 1, 1))
    return entry


@transaction.atomic
def closure_add(*, actor, date: datetime.date, reason: str = "", school=None, county=None) -> Closure:
    closure = Closure.objects.create(school=school, county=None if school else county, date=date, reason=reason,
                                     created_by=actor if getattr(actor, "is_authenticated", False) else None)
    audit_record(actor=actor, action=Action.CREATE, obj=closure, scope_from=school or None,
                 changes={"date": [None, date], "reason": [None, reason]})
    # A closure entered after the day: the day no longer counts, for 13510 either.
    signals.announce(since=date, schools=_schools_of(school, county))
    return closure


@transaction.atomic
def closure_remove(*, actor, closure: Closure) -> None:
    """A closure entered by mistake: the day is a school day again."""
    school, county, date = closure.school, closure.county, closure.date
    audit_record(actor=actor, action=Action.DELETE, obj=closure, scope_from=school or None,
                 changes={"date": [date, None], "reason": [closure.reason, None]})
    closure.delete()
    signals.announce(since=date, schools=_schools_of(school, county))


def _schools_of(school, county):
    from baoxue.org.models import School

    if school is not None:
        return [school]
    return list(School.objects.filter(county=county))
