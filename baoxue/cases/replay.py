"""Attendance or the calendar changed for these students since this day: replay them.

The one entry for every change after the daily job has run: a corrected or late roll call, an
attendance file, leave, an excused absence, the on-site check, a closure or a year's calendar
entered afterwards. The result is what daily runs over the corrected data would have given
(the property test in `tests/cases/test_replay_property.py` holds it to that), and a case stays
the same case: it is updated in place, reopened when the run turns out to have gone on, and
closed as 考勤更正撤销 only when its run no longer exists.

Attendance and the calendar sit below this app, so they announce their changes by the signals
`attendance.signals.attendance_changed` and `calendar.signals.calendar_changed`, which
`CasesConfig.ready` connects here; the registry app calls in directly.
"""

import datetime
from collections import defaultdict

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from baoxue.attendance.models import UNEXCUSED, AttendanceRecord
from baoxue.attendance.selectors import DayBook
from baoxue.calendar import workdays
from baoxue.cases.escalation import (
    STUDENT_VALUES, Calendar, Facts, RunState, last_evaluated, observation_until, on_roll, walk,
)
from baoxue.cases.models import CLOSED_BY_JOB, Case, DropoutCause, Outcome, closed_by_job
from baoxue.cases.sync import Writer, rules_for
from baoxue.org.models import School, Student

REPLAY = "考勤更正重算"


def attendance_changed(*, school: School, since: datetime.date, student_ids=(), class_ids=(), note: str = "") -> int:
    """Attendance of `student_ids` changed from `since` on, or somebody looked at `class_ids`
    (a roll call or a file now covers them) from `since` on. Replays those students only.
    Returns the number of students replayed."""
    ids = set(student_ids)
    if class_ids:
        ids |= _students_with_cases(school, since, Q(student__school_class_id__in=list(class_ids)))
    return replay(school=school, student_ids=ids, since=since, note=note or f"{since} 起的考勤有变更")


def calendar_changed(*, schools=None, since: datetime.date, note: str = "") -> int:
    """School days changed from `since` on (a closure, a term, a year's calendar): replay every
    student of those schools with a case the change may touch or an absence it may count."""
    n = 0
    for school in (schools if schools is not None else School.objects.all()):
        horizon = last_evaluated(school)
        if horizon is None:
            continue
        ids = _students_with_cases(school, since, Q())
        ids |= set(AttendanceRecord.objects.filter(school=school, date__gte=since, date__lte=horizon, mark__in=UNEXCUSED)
                   .values_list("student_id", flat=True))
        n += replay(school=school, student_ids=ids, since=min(since, horizon), note=note or f"{since} 起的校历有变更")
    return n


def _students_with_cases(school: School, since: datetime.date, where: Q) -> set[int]:
    """Students whose run may reach `since`: an open case, or one the job closed on or after it."""
    q = Q(is_open=True) | (CLOSED_BY_JOB & Q(closed_on__gte=since))
    return set(Case.objects.filter(where, q, school=school).values_list("student_id", flat=True))


def _candidates(cases: list[Case], since: datetime.date) -> tuple[datetime.date | None, list[Case]]:
    """The cases a replay from `since` may change, and the day before which a person's closure
    keeps history as it was decided (None when there is none)."""
    barrier = max((c.closed_on for c in cases if not c.is_open and not closed_by_job(c)), default=None)
    out = []
    for c in cases:
        if barrier is not None and c.first_absent_on <= barrier:
            continue
        if c.is_open or (closed_by_job(c) and (c.closed_on >= since if c.outcome != Outcome.CORRECTED
                                               else c.last_absent_on >= since)):
            out.append(c)
    return barrier, out


def _overlaps(case: Case, run: RunState) -> bool:
    return case.first_absent_on <= run.last_absent_on and run.first_absent_on <= case.last_absent_on


def _pinned(case: Case) -> bool:
    """The open case carries a person's decision the replay must keep."""
    return case.is_open and (case.dropout_cause == DropoutCause.MISSING or bool(case.change_pending))


def match(cases: list[Case], runs: list[RunState]) -> tuple[list[tuple[Case, RunState]], list[RunState], list[Case]]:
    """Pair stored cases with the runs they are, so that a correction changes cases in place.

    Latest run first, each run takes the oldest case whose days it overlaps: a run split in two
    leaves its case with the later part (the open case stays open); two runs joined keep the
    case that began it. A run left over takes a case left over (a case withdrawn by an earlier
    correction comes back rather than a copy being made). Returns (pairs, runs that are new,
    cases whose run is gone)."""
    free_cases = sorted(cases, key=lambda c: (c.first_absent_on, c.pk))
    free_runs, pairs = list(runs), []

    def pair(case, run):
        pairs.append((case, run))
        free_cases.remove(case)
        free_runs.remove(run)

    for run in reversed(list(free_runs)):
        case = next((c for c in free_cases if _overlaps(c, run)), None)
        if case is not None:
            pair(case, run)
    open_case = next((c for c in cases if c.is_open), None)
    if open_case in free_cases and _pinned(open_case):
        run = next((r for r in free_runs if r.is_open), None)
        if run is not None:
            pair(open_case, run)
    for run in list(free_runs):
        if free_cases:
            pair(free_cases[0], run)
    return pairs, free_runs, free_cases


@transaction.atomic
def replay(*, school: School, student_ids, since: datetime.date, note: str = "") -> int:
    """Re-walk each student's school days from the start of the earliest run the change may
    touch up to the last evaluated day, and store the result in place."""
    ids = set(student_ids)
    if not ids:
        return 0
    # One writer of a school's cases at a time: the daily job takes the same lock.
    school = School.objects.select_for_update().get(pk=school.pk)
    horizon = last_evaluated(school)
    if horizon is None or since > horizon:
        return 0
    students = {s["id"]: s for s in Student.objects.filter(pk__in=ids, school=school).values(*STUDENT_VALUES)}
    by_student: dict[int, list[Case]] = defaultdict(list)
    for case in (Case.objects.filter(student_id__in=list(students), school=school).select_related("rules")
                 .prefetch_related("tasks").order_by("first_absent_on", "pk")):
        by_student[case.student_id].append(case)
    plans = {}
    for sid in students:
        barrier, candidates = _candidates(by_student[sid], since)
        start = min([since] + [c.first_absent_on for c in candidates])
        if barrier is not None and start <= barrier:
            start = barrier + datetime.timedelta(days=1)
        if start <= horizon:
            plans[sid] = (start, candidates)
    if not plans:
        return 0
    lo = min(start for start, _ in plans.values())
    try:
        days = workdays.school_days(school, lo, horizon)
    except workdays.CalendarMissing:
        return 0  # the evaluated days have a calendar; a gap means nothing was evaluated there
    book = DayBook(school, lo, horizon, student_ids=list(plans))
    cal = Calendar(school)
    writer = Writer(school, actor_label=REPLAY, note=note)
    today = timezone.localdate()
    current = None
    for sid, (start, candidates) in plans.items():
        student = students[sid]
        open_case = next((c for c in candidates if c.is_open), None)
        if open_case is not None or candidates:
            rules = (open_case or candidates[0]).rules
        else:
            current = current or rules_for(school.county_id)
            rules = current
        facts = Facts()
        if open_case is not None:
            if open_case.dropout_cause == DropoutCause.MISSING:
                facts.missing_on = open_case.dropout_on
            if open_case.change_pending:
                facts.change_since, facts.change_due_on = open_case.change_since, open_case.change_due_on
        watched = observation_until(school, [sid], before=start, cal=cal).get(sid)
        runs = walk([d for d in days if d >= start],
                    lambda d: book.status(sid, student["school_class_id"], d, on_roll=on_roll(student, d)),
                    lambda d: on_roll(student, d), rules=rules, cal=cal, facts=facts, observed_until=watched)
        pairs, new, gone = match(candidates, runs)
        for case in gone:
            if case.outcome != Outcome.CORRECTED and not _pinned(case):
                writer.withdraw(case, today)
        # Closings before openings: one open case per student at every moment.
        for case, run in sorted(pairs + [(None, r) for r in new], key=lambda p: p[1].is_open):
            writer.save(case, run, student)
    return len(plans)


__all__ = ["attendance_changed", "calendar_changed", "replay", "match"]
