"""The daily job of 13510: evaluate a school day and move every run on.

A run is the consecutive school days of unexcused absence. Days that are not school days, and
days nobody took attendance (unknown), neither count nor break it; a day at school or an
excused day ends it.

- 第1天 → task 联系家长了解情况 for the head teacher, due the same school day;
- 第3天 → task 家访或与监护人联系跟进, due the next school day;
- 第5天 → 疑似辍学: the case enters the 疑似辍学学生台账, persuasion due 10 working days later;
- still absent on the first school day after that deadline → 辍学学生劝返台账.
(The days, the 10 and the 3 attempts are the county's `Rules`, kept per case.)

One rule, written once: `step` moves a run on by one school day. It is a pure function of the
run so far and the day's attendance, so the daily job (one step from the stored case), a
back-fill (`escalate --through`, one step a day) and a replay after a correction (`walk` from
the start of the run over the corrected data, `baoxue.cases.replay`) give the same cases.

A person's decisions are facts the job works with and never undoes: 失踪失联 (the case is in
the dropout ledger from that day), a 学籍异动 in progress (the student is not expected at
school, so days stop counting), 复学 and every other closure by a person.
"""

import datetime
from dataclasses import dataclass, field

from django.db import transaction

from baoxue.attendance.selectors import (
    NOT_SEEN_DAY,
    PRESENT_DAY,
    UNEXCUSED_DAY,
    UNKNOWN_DAY,
    DayBook,
)
from baoxue.calendar import workdays
from baoxue.cases import sync
from baoxue.cases.models import STAGE_ORDER, Case, DropoutCause, Evaluation, Outcome, Rules, Stage, Task
from baoxue.lib.joblock import exclusive
from baoxue.org.models import RegistryStatus, School, Student

SYSTEM = "每日预警任务"
# How far the job looks ahead for the next school day (a home visit's due date).
NEXT_SCHOOL_DAY_SEARCH = 40


class Calendar:
    """The calendar facts one school's evaluation needs, each computed once."""

    def __init__(self, school: School):
        self.school = school
        self._next: dict[datetime.date, datetime.date] = {}
        self._due: dict[tuple[datetime.date, int], datetime.date | None] = {}
        self._terms: list | None = None

    def next_school_day(self, day: datetime.date) -> datetime.date:
        """The next school day (or working day, between terms). When the calendar of the coming
        days is not entered yet, the task is due on its own day: sooner, never a guess."""
        if day not in self._next:
            self._next[day] = home_visit_due(self.school, day)
        return self._next[day]

    def observation_end(self, closed_on: datetime.date, terms_after: int) -> datetime.date:
        """返校后观察: through the end of the term of the return and `terms_after` more terms
        (a return between terms counts in the next one). Without terms entered: 180 days."""
        if self._terms is None:
            from baoxue.org.models import Term

            self._terms = list(Term.objects.filter(school=self.school).order_by("start").values_list("start", "end"))
        ends = [end for _, end in self._terms if end >= closed_on]
        if not ends:
            return closed_on + datetime.timedelta(days=180)
        return ends[min(terms_after, len(ends) - 1)]

    def working_days_after(self, day: datetime.date, n: int) -> datetime.date | None:
        """10个工作日内: n working days after `day`; None while that year has no calendar (the case
        carries the flag `due_unknown` and the job fills the date in once the year is entered)."""
        key = (day, n)
        if key not in self._due:
            try:
                self._due[key] = workdays.add_working_days(day, n)
            except workdays.CalendarMissing:
                self._due[key] = None
        return self._due[key]


def returned_after_suspicion(run) -> bool:
    """A suspected-dropout (or dropout) run, or case, that ended with the student back: the
    student is then under observation (返校后观察)."""
    return (not run.is_open and run.outcome in (Outcome.RETURNED, Outcome.RESUMED)
            and run.suspected_on is not None)


def home_visit_due(school: School, day: datetime.date) -> datetime.date:
    """The due date of a step that is due "the next school day"."""
    last_known = datetime.date(max(workdays.known_years()), 12, 31)
    end = min(day + datetime.timedelta(days=NEXT_SCHOOL_DAY_SEARCH), last_known)
    following = workdays.school_days(school, day + datetime.timedelta(days=1), end) if end > day else []
    if following:
        return following[0]
    try:
        return workdays.next_working_day(day)
    except workdays.CalendarMissing:
        return day


@dataclass
class RunState:
    """What a run has become: the fields of its `Case` that attendance decides."""

    rules: Rules
    first_absent_on: datetime.date
    last_absent_on: datetime.date
    unexcused_days: int = 0
    stage: str = Stage.CONTACT_GUARDIAN
    suspected_on: datetime.date | None = None
    persuasion_due: datetime.date | None = None
    dropout_on: datetime.date | None = None
    dropout_cause: str = ""
    seen_at_school_on: datetime.date | None = None
    # A 学籍异动 in progress: days in [change_since, change_due_on] do not count.
    change_since: datetime.date | None = None
    change_due_on: datetime.date | None = None
    tasks: dict[str, tuple[datetime.date, datetime.date]] = field(default_factory=dict)
    # A run of a student under observation after a return starts at the home-visit step.
    head_start: int = 0
    is_open: bool = True
    outcome: str = ""
    closed_on: datetime.date | None = None

    @classmethod
    def of(cls, case: Case, tasks) -> "RunState":
        """The stored case as a state (its tasks that are still due)."""
        return cls(
            rules=case.rules, first_absent_on=case.first_absent_on, last_absent_on=case.last_absent_on,
            unexcused_days=case.unexcused_days, stage=case.stage, suspected_on=case.suspected_on,
            persuasion_due=case.persuasion_due, dropout_on=case.dropout_on, dropout_cause=case.dropout_cause,
            seen_at_school_on=case.seen_at_school_on, head_start=case.head_start,
            change_since=case.change_since if case.change_pending else None,
            change_due_on=case.change_due_on if case.change_pending else None,
            tasks={t.kind: (t.opened_on, t.due_on) for t in tasks if t.cancelled_on is None},
            is_open=case.is_open, outcome=case.outcome, closed_on=case.closed_on,
        )

    def pending_on(self, day: datetime.date) -> bool:
        return (self.change_since is not None and day >= self.change_since
                and (self.change_due_on is None or day <= self.change_due_on))

    def at_least(self, stage: str) -> bool:
        return STAGE_ORDER.index(self.stage) >= STAGE_ORDER.index(stage)


def _count_day(state: RunState, day: datetime.date, cal: Calendar) -> None:
    """One more school day of unexcused absence, and the step of 13510 it reaches."""
    state.unexcused_days += 1
    state.last_absent_on = day
    if state.stage == Stage.DROPOUT:
        return  # the days go on counting; the ledger's steps are behind it
    n, rules = state.unexcused_days + state.head_start, state.rules
    if n == rules.contact_day:
        state.tasks[Task.Kind.CONTACT_GUARDIAN] = (day, day)
    if n == rules.visit_day:
        state.tasks[Task.Kind.HOME_VISIT] = (day, cal.next_school_day(day))
        if not state.at_least(Stage.HOME_VISIT):
            state.stage = Stage.HOME_VISIT
    if n == rules.suspect_day:
        state.stage = Stage.SUSPECTED_DROPOUT
        state.suspected_on = day


def _fill_due(state: RunState, cal: Calendar) -> None:
    if state.suspected_on is not None and state.persuasion_due is None:
        state.persuasion_due = cal.working_days_after(state.suspected_on, state.rules.persuasion_working_days)


def to_dropout(state: RunState, day: datetime.date, cause: str) -> None:
    state.stage = Stage.DROPOUT
    state.dropout_on = day
    state.dropout_cause = cause


def step(state: RunState | None, day: datetime.date, status: str, *, on_roll: bool, rules: Rules,
         cal: Calendar, observed: bool = False) -> tuple[RunState | None, RunState | None]:
    """Move one student's run on by one school day. Returns (the open run after the day, the
    run that ended on the day). `observed`: the student is under observation after a return
    (`Calendar.observation_end`), so a new run starts at the home-visit step."""
    if state is None:
        # Only a student on the roll (在校) starts a run.
        if status == UNEXCUSED_DAY and on_roll:
            state = RunState(rules=rules, first_absent_on=day, last_absent_on=day,
                             head_start=max(0, rules.visit_day - 1) if observed else 0)
            _count_day(state, day, cal)
            _fill_due(state, cal)
        return state, None
    _fill_due(state, cal)
    if status == UNKNOWN_DAY or state.pending_on(day):
        return state, None
    absent = status in (UNEXCUSED_DAY, NOT_SEEN_DAY)
    if state.stage == Stage.DROPOUT:
        # In the 辍学学生劝返台账 until 复学 (a person's decision): a day at school raises a flag.
        if state.seen_at_school_on is None:
            if absent:
                _count_day(state, day, cal)
            elif status == PRESENT_DAY:
                state.seen_at_school_on = day
        return state, None
    if absent:
        _count_day(state, day, cal)
        _fill_due(state, cal)
        if state.stage == Stage.SUSPECTED_DROPOUT and state.persuasion_due and day > state.persuasion_due:
            # 劝返不成功: still absent on the first school day after the deadline.
            to_dropout(state, day, DropoutCause.NOT_RETURNED)
        return state, None
    state.is_open = False
    state.outcome = Outcome.RETURNED if status == PRESENT_DAY else Outcome.EXCUSED
    state.closed_on = day
    return None, state


@dataclass
class Facts:
    """A person's decisions about the student's open case, which a replay keeps."""

    missing_on: datetime.date | None = None  # 失踪失联, marked on this day
    change_since: datetime.date | None = None
    change_due_on: datetime.date | None = None


def _apply(state: RunState, facts: Facts, day: datetime.date | None) -> None:
    """Facts dated on or before `day` (all of them when `day` is None) apply to the open run."""
    if facts.change_since is not None and state.change_since is None and (day is None or facts.change_since <= day):
        state.change_since, state.change_due_on = facts.change_since, facts.change_due_on
    if (facts.missing_on is not None and state.stage != Stage.DROPOUT
            and (day is None or facts.missing_on <= day)):
        to_dropout(state, facts.missing_on, DropoutCause.MISSING)


def walk(days: list[datetime.date], status_of, on_roll_of, *, rules: Rules, cal: Calendar,
         facts: Facts | None = None, observed_until: datetime.date | None = None) -> list[RunState]:
    """Every run over `days`, from a day no run was open: the cases daily runs would give.
    `observed_until`: the end of the observation of an earlier return (`observation_until`)."""
    facts = facts or Facts()
    runs: list[RunState] = []
    state = None
    for day in days:
        if state is not None:
            _apply(state, facts, day)
        state, ended = step(state, day, status_of(day), on_roll=on_roll_of(day), rules=rules, cal=cal,
                            observed=observed_until is not None and day <= observed_until)
        if ended is not None:
            runs.append(ended)
            if returned_after_suspicion(ended):
                end = cal.observation_end(ended.closed_on, ended.rules.observation_terms)
                observed_until = max(filter(None, (observed_until, end)))
    if state is not None:
        _apply(state, facts, None)
        runs.append(state)
    return runs


def on_roll(student: dict, day: datetime.date) -> bool:
    """Expected at school on `day`: 在校, or left 在校 only after that day."""
    return (student["status"] == RegistryStatus.IN_SCHOOL
            or (student["status_since"] is not None and day < student["status_since"]))


STUDENT_VALUES = ("id", "name", "school_class_id", "status", "status_since", "school_class__head_teacher_id")


def evaluate_day(school: School, day: datetime.date, *, force: bool = False) -> dict:
    """Evaluate a school's days up to `day`: every school day not evaluated yet, in order (daily
    runs and one back-fill are the same thing). A day already evaluated is a no-op, or, with
    `force`, a replay of the school from that day."""
    stats = _stats()
    last = last_evaluated(school)
    if last is not None and day <= last:
        if force or not Evaluation.objects.filter(school=school, date=day).exists():
            from baoxue.cases import replay

            replay.calendar_changed(schools=[school], since=day, note=f"重新评估 {day} 起的在校日")
            if workdays.is_school_day(school, day):
                Evaluation.objects.get_or_create(school=school, date=day, defaults={"county_id": school.county_id})
        return stats
    start = last + datetime.timedelta(days=1) if last else _first_term_day(school)
    days = workdays.school_days(school, start, day) if start and start <= day else []
    _evaluate_days(school, days, stats)
    return stats


def _stats() -> dict:
    return {"opened": 0, "advanced": 0, "closed": 0, "dropouts": 0, "days": 0}


def _evaluate_days(school: School, days: list[datetime.date], stats: dict) -> None:
    """Step every run of the school through `days` (school days after the last evaluated one),
    with the attendance of the range read once."""
    if not days:
        return
    book = DayBook(school, days[0], days[-1])
    cal = Calendar(school)
    for day in days:
        with transaction.atomic():
            _evaluate(school, day, book, cal, stats)


def _evaluate(school: School, day: datetime.date, book: DayBook, cal: Calendar, stats: dict) -> None:
    # One writer of a school's cases at a time: a replay after a correction takes the same lock.
    list(School.objects.select_for_update().filter(pk=school.pk).values_list("pk"))
    if Evaluation.objects.filter(school=school, date=day).exists():
        return  # another run did it meanwhile
    open_cases = {c.student_id: c for c in Case.objects.filter(school=school, is_open=True).select_related("rules")
                  .prefetch_related("tasks")}
    ids = book.unexcused_students(day) | set(open_cases)
    starting = ids - set(open_cases)
    rules = sync.rules_for(school.county_id) if starting else None
    watched = observation_until(school, starting, before=day, cal=cal) if starting else {}
    writer = sync.Writer(school, actor_label=SYSTEM)
    for student in Student.objects.filter(pk__in=ids).order_by("pk").values(*STUDENT_VALUES):
        case = open_cases.get(student["id"])
        expected = on_roll(student, day)
        state, ended = step(RunState.of(case, case.tasks.all()) if case else None, day,
                            book.status(student["id"], student["school_class_id"], day, on_roll=expected),
                            on_roll=expected, rules=case.rules if case else rules, cal=cal,
                            observed=day <= watched.get(student["id"], datetime.date.min))
        after = ended or state
        if after is None:
            continue
        if case is None:
            stats["opened"] += 1
        elif ended is not None:
            stats["closed"] += 1
        else:
            stats["advanced"] += 1
        if after.stage == Stage.DROPOUT and (case is None or case.stage != Stage.DROPOUT):
            stats["dropouts"] += 1
        writer.save(case, after, student)
    Evaluation.objects.create(school=school, date=day, county_id=school.county_id)
    stats["days"] += 1


def observation_until(school: School, student_ids, *, before: datetime.date, cal: Calendar) -> dict[int, datetime.date]:
    """For each student, the end of the observation after their latest return from a
    suspected-dropout or dropout case closed before `before` (students never watched are absent)."""
    found: dict[int, datetime.date] = {}
    for case in (Case.objects.filter(school=school, student_id__in=list(student_ids), is_open=False,
                                     outcome__in=[Outcome.RETURNED, Outcome.RESUMED], suspected_on__isnull=False,
                                     closed_on__lt=before)
                 .select_related("rules").order_by("student_id", "closed_on")):
        found[case.student_id] = cal.observation_end(case.closed_on, case.rules.observation_terms)
    return found


def last_evaluated(school: School) -> datetime.date | None:
    return Evaluation.objects.filter(school=school).order_by("-date").values_list("date", flat=True).first()


def escalate(*, day: datetime.date, through: bool = False, schools=None) -> dict:
    """`baoxue escalate`: evaluate every school's days up to `day` (each school day after the
    last evaluated one; `through` is kept for the command's words, daily runs and a back-fill
    being one thing)."""
    totals = {**_stats(), "warnings": [], "busy": []}
    schools = list(schools if schools is not None else School.objects.select_related("county"))
    done = []
    by_county: dict[int, list[School]] = {}
    for school in schools:
        by_county.setdefault(school.county_id, []).append(school)
    for county_id, county_schools in by_county.items():
        # One escalation at a time per county: a second run (cron beside the scheduler, two
        # servers) leaves the county to the run already doing it.
        with exclusive(f"escalate-county-{county_id}") as mine:
            if not mine:
                totals["busy"].append(county_schools[0].county.name)
                continue
            for school in county_schools:
                try:
                    stats = evaluate_day(school, day)
                except workdays.CalendarMissing as e:
                    # Never guess a school day: this school waits until the year's calendar is entered.
                    totals["warnings"].append(f"{school.name}：{e}")
                    continue
                for k, v in stats.items():
                    totals[k] += v
            done.extend(county_schools)
    totals["warnings"].extend(due_unknown_warnings(done))
    return totals


def due_unknown_warnings(schools) -> list[str]:
    """One line per case whose persuasion deadline cannot be computed (a year without calendar)."""
    lines = []
    for case in (Case.objects.filter(school__in=schools, is_open=True, suspected_on__isnull=False,
                                     persuasion_due__isnull=True)
                 .select_related("school", "student", "rules").order_by("school__code", "suspected_on", "pk")):
        try:
            workdays.add_working_days(case.suspected_on, case.rules.persuasion_working_days)
            why = ""
        except workdays.CalendarMissing as e:
            why = f"{e.year}年的工作日历尚未录入"
        lines.append(f"{case.school.name} {case.student.name}（个案 {case.pk}）：{case.suspected_on} 纳入疑似辍学学生台账，"
                     f"劝返截止日无法计算（{why or '工作日历缺失'}），录入日历后自动补上")
    return lines


def _first_term_day(school: School) -> datetime.date | None:
    from baoxue.org.models import Term

    return Term.objects.filter(school=school).order_by("start").values_list("start", flat=True).first()


__all__ = ["evaluate_day", "escalate", "step", "walk", "RunState", "Facts", "Calendar", "home_visit_due"]
