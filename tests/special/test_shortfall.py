"""送教上门 shortfall on the real calendar: weeks are counted only when they hold school days
(the Spring Festival week inside a term does not count), a week with fewer school days needs
fewer visits, the class hours of the school year against the target, the plan's higher values."""

import datetime as dt
from decimal import Decimal

import pytest

from baoxue.calendar.services import closure_add
from baoxue.org.models import Term
from baoxue.special.models import HomeTeachingPlan, SpecialSettings
from baoxue.special.shortfall import compute
from tests.special.helpers import home_teaching

D = dt.date
RULES = SpecialSettings(visits_per_week=2, hours_per_year=30)


def v(*days, hours="2"):
    return [(d, Decimal(hours), True) for d in days]


def test_a_week_of_holidays_is_not_a_school_week(users, child, spring):
    plan = home_teaching(users, child, start_on=D(2026, 2, 9), end_on=D(2026, 3, 1))
    r = compute(plan, RULES, v(D(2026, 2, 10), D(2026, 2, 12), D(2026, 2, 24), D(2026, 2, 26)), D(2026, 3, 2))
    # 2月9日–15日 (with the make-up Saturday 14th) and 2月23日–3月1日 are school weeks; the Spring
    # Festival week 2月16日–22日 has no school day.
    assert [w.monday for w in r.weeks] == [D(2026, 2, 9), D(2026, 2, 23)]
    assert r.skipped_weeks == 1 and r.short_weeks == []
    assert any("另有 1 周没有在校日" in line for line in r.lines)


def test_a_school_week_with_one_visit_is_flagged(users, child, spring):
    plan = home_teaching(users, child, start_on=D(2026, 2, 9), end_on=D(2026, 3, 1))
    r = compute(plan, RULES, v(D(2026, 2, 10), D(2026, 2, 12), D(2026, 2, 24)), D(2026, 3, 2))
    assert [(w.monday, w.visits, w.required) for w in r.short_weeks] == [(D(2026, 2, 23), 1, 2)]
    assert "1 周送教次数不足" in r.flags
    assert any("2月23日–3月1日：送教 1 次，应 2 次" in line for line in r.lines)


def test_the_week_in_progress_is_not_judged_yet(users, child, term):
    plan = home_teaching(users, child)
    r = compute(plan, RULES, v(D(2025, 9, 2), D(2025, 9, 4), D(2025, 9, 9)), D(2025, 9, 10))
    assert [w.in_progress for w in r.weeks] == [False, True]
    assert r.short_weeks == []
    assert any("本周（9月8日–9月14日）进行中：已送教 1 次，应 2 次" in line for line in r.lines)


def test_a_week_with_one_school_day_needs_one_visit(users, child, school, term):
    for day in (13, 14, 15, 16):
        closure_add(actor=users["office"], date=D(2025, 10, day), reason="雨雪停课", school=school)
    plan = home_teaching(users, child, start_on=D(2025, 10, 13), end_on=D(2025, 10, 19))
    r = compute(plan, RULES, v(D(2025, 10, 17)), D(2025, 10, 20))
    (week,) = r.weeks
    assert (week.school_days, week.required, week.short) == (1, 1, False)


def test_the_national_day_week_still_has_two_school_days(users, child, term):
    plan = home_teaching(users, child, start_on=D(2025, 9, 29), end_on=D(2025, 10, 12))
    r = compute(plan, RULES, v(D(2025, 9, 30), D(2025, 10, 9), D(2025, 10, 11)), D(2025, 10, 13))
    # 9月29日、30日 are school days (10月1日–8日 holidays); 10月9日–11日 (the 11th a make-up Saturday).
    assert [(w.school_days, w.visits, w.required) for w in r.weeks] == [(2, 1, 2), (3, 2, 2)]
    assert len(r.short_weeks) == 1


def autumn_visits(hours):
    """Two visits in every week from 2025-09-01 to 2025-11-28, on the week's first two working days."""
    days, monday = [], D(2025, 9, 1)
    firsts = {D(2025, 9, 29): (D(2025, 9, 29), D(2025, 9, 30)), D(2025, 10, 6): (D(2025, 10, 9), D(2025, 10, 10))}
    while monday <= D(2025, 11, 24):
        days += firsts.get(monday, (monday, monday + dt.timedelta(days=1)))
        monday += dt.timedelta(days=7)
    return v(*days, hours=hours)


def test_hours_short_for_the_year(users, child, term):
    plan = home_teaching(users, child, start_on=D(2025, 9, 1), end_on=D(2025, 11, 28), hours_per_visit=1)
    r = compute(plan, RULES, autumn_visits("1"), D(2025, 12, 1))
    assert r.short_weeks == [] and r.total_weeks == 13
    assert r.hours_done == Decimal("26") and r.hours_short
    assert "学年课时不足：26/30" in r.flags
    text = " ".join(r.lines)
    assert "不足 4 课时" in text
    assert "每周 2 次 × 每次 1 课时 × 13 个在校周 = 26 课时，低于学年目标" in text


def test_enough_hours_are_not_flagged(users, child, term):
    plan = home_teaching(users, child, start_on=D(2025, 9, 1), end_on=D(2025, 11, 28))
    r = compute(plan, RULES, autumn_visits("2"), D(2025, 12, 1))
    assert r.hours_done == Decimal("52") and r.flags == []


def test_hours_behind_the_share_of_weeks_passed(users, child, term):
    plan = home_teaching(users, child, start_on=D(2025, 9, 1), end_on=D(2025, 11, 28))
    visits = [x for x in autumn_visits("0.5") if x[0] < D(2025, 10, 27)]
    r = compute(plan, RULES, visits, D(2025, 10, 27))
    # 8 school weeks of 13 passed: 30 × 8/13 = 18.5 hours expected, 8 done.
    assert (r.passed_weeks, r.expected_now, r.hours_done) == (8, Decimal("18.5"), Decimal("8.0"))
    assert r.hours_behind and not r.hours_short and r.short_weeks == []


def test_the_plans_higher_values_override_the_county(users, child, spring):
    plan = home_teaching(users, child, start_on=D(2026, 2, 9), end_on=D(2026, 3, 1), visits_per_week=3,
                         hours_per_year=40)
    r = compute(plan, RULES, v(D(2026, 2, 10), D(2026, 2, 12), D(2026, 2, 24), D(2026, 2, 26)), D(2026, 3, 2))
    assert (r.per_week, r.target) == (3, 40)
    assert len(r.short_weeks) == 2
    county_higher = SpecialSettings(visits_per_week=4, hours_per_year=50)
    assert (compute(plan, county_higher, [], D(2026, 3, 2)).per_week,
            compute(plan, county_higher, [], D(2026, 3, 2)).target) == (4, 50)


def test_a_year_without_calendar_is_said_not_guessed(users, child, school):
    Term.objects.create(school=school, name="2026-2027-1", start=D(2026, 9, 1), end=D(2027, 1, 22))
    plan = home_teaching(users, child, school_year="2026-2027", start_on=D(2026, 9, 1), end_on=D(2027, 7, 2))
    r = compute(plan, RULES, v(D(2026, 9, 1), D(2026, 9, 3)), D(2026, 9, 14))
    assert r.total_weeks is None and "2027年的工作日历尚未录入" in r.calendar_error
    assert [(w.visits, w.in_progress) for w in r.weeks] == [(2, False), (0, False), (0, True)]
    assert len(r.short_weeks) == 1
    assert "校历缺失，无法全部核算" in r.flags


def test_the_county_setting_is_a_new_row_and_audited(users, county):
    from baoxue.audit.models import AuditEntry
    from baoxue.special.selectors import current_settings
    from baoxue.special.services import settings_set

    assert (current_settings(county.pk).visits_per_week, current_settings(county.pk).hours_per_year) == (2, 30)
    settings_set(actor=users["county"], county=county, visits_per_week=3, hours_per_year=36)
    assert current_settings(county.pk).hours_per_year == 36
    row = AuditEntry.objects.get(object_type="specialsettings")
    assert row.changes == {"visits_per_week": [2, 3], "hours_per_year": [30, 36]}
    assert HomeTeachingPlan.objects.count() == 0
