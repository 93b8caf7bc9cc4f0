"""返校后观察: a student whose suspected-dropout case closed with a return is watched for the rest
of the term and the next one; a new unexcused absence then starts at the home-visit step (and
reaches the suspected-dropout ledger sooner), the office sees it flagged the same day; daily runs
and a replay after a correction agree. Repeated absence (N in M school days) is a flag."""

import datetime as dt

from baoxue.attendance.services import roll_call_submit
from baoxue.calendar import workdays
from baoxue.cases.escalation import escalate
from baoxue.cases.models import Case, Task
from baoxue.cases.selectors import case_flags, repeated_absence
from baoxue.org.models import Term

D = dt.date


def days(school, start, n):
    return workdays.school_days(school, start, start + dt.timedelta(days=40))[:n]


def suspected_then_back(diary, student, school):
    """Five days away (suspected dropout), then back: the case closes as 已返校."""
    run = days(school, D(2025, 9, 15), 6)
    for day in run[:5]:
        diary.day(day, absent=[student])
    diary.day(run[5])
    first = Case.objects.get(student=student)
    assert first.suspected_on == run[4] and first.outcome == "returned"
    return run[5]


def test_a_new_absence_while_watched_starts_at_the_home_visit_step(diary, students, school):
    zs = students["zhangsan"]
    back = suspected_then_back(diary, zs, school)
    later = days(school, back + dt.timedelta(days=14), 3)
    diary.day(later[0], absent=[zs])
    case = Case.objects.get(student=zs, is_open=True)
    assert case.head_start == 2 and case.stage == "home_visit"
    kinds = set(Task.objects.filter(case=case).values_list("kind", flat=True))
    assert kinds == {"home_visit"}  # the contact step is behind it
    assert "after_return" in case_flags(case, today=later[0])
    diary.day(later[1], absent=[zs])
    diary.day(later[2], absent=[zs])
    case.refresh_from_db()
    assert case.stage == "suspected_dropout" and case.suspected_on == later[2]  # day 3, not day 5


def test_after_the_next_term_ends_the_watch_is_over(diary, students, school, term):
    Term.objects.create(school=school, name="2025-2026-2", start=D(2026, 3, 2), end=D(2026, 7, 10))
    Term.objects.create(school=school, name="2026-2027-1", start=D(2026, 9, 1), end=D(2026, 11, 30))
    zs = students["zhangsan"]
    suspected_then_back(diary, zs, school)
    # Still watched in the next term (2025-2026-2) …
    spring = days(school, D(2026, 3, 2), 2)
    diary.day(spring[0], absent=[zs])
    assert Case.objects.get(student=zs, is_open=True).head_start == 2
    diary.day(spring[1])
    # … not in the one after it.
    autumn = days(school, D(2026, 9, 7), 1)
    escalate(day=autumn[0] - dt.timedelta(days=1), schools=[school])
    diary.day(autumn[0], absent=[zs])
    case = Case.objects.get(student=zs, is_open=True)
    assert case.head_start == 0 and case.stage == "contact_guardian"


def test_a_replay_after_a_correction_gives_what_daily_runs_gave(diary, students, school, people):
    zs = students["zhangsan"]
    back = suspected_then_back(diary, zs, school)
    later = days(school, back + dt.timedelta(days=7), 4)
    for day in later:
        diary.day(day, absent=[zs])
    before = Case.objects.get(student=zs, is_open=True)
    assert before.suspected_on == later[2]
    # A late correction of the first run's last day (absent, not present): the first case now
    # runs on; then the correction is undone. Each time the cases agree with daily runs.
    roll_call_submit(actor=diary.actor, school_class=people["c71"], date=back, marks={zs.pk: ("truant", "")})
    assert not Case.objects.filter(student=zs, head_start=2, is_open=True).exists()
    roll_call_submit(actor=diary.actor, school_class=people["c71"], date=back, marks={})
    after = Case.objects.get(student=zs, is_open=True)
    assert (after.head_start, after.suspected_on, after.stage) == (2, later[2], "suspected_dropout")
    # The earlier run is back as it was: a suspected-dropout case closed with the return.
    earlier = Case.objects.get(student=zs, is_open=False, outcome="returned")
    assert (earlier.closed_on, earlier.head_start) == (back, 0) and earlier.suspected_on is not None
    # Both identities kept (no case created for the correction and left behind).
    assert Case.objects.filter(student=zs).count() == 2 and before.pk in {after.pk, earlier.pk}


def test_repeated_absence_is_a_flag_without_a_ledger_row(diary, students, school):
    zs = students["zhangsan"]
    school_days = days(school, D(2025, 9, 1), 20)
    for n, day in enumerate(school_days):
        # nine days away, one day at school, nine away again, one at school: never 5 in a row
        away = n % 10 != 9 and n % 5 != 4
        diary.day(day, absent=[zs] if away else [])
    assert not Case.objects.filter(student=zs, suspected_on__isnull=False).exists()
    flagged = repeated_absence(school, today=school_days[-1])
    assert zs.pk in flagged and flagged[zs.pk] >= 8
