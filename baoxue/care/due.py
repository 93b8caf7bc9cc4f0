"""What is due: the county's cadence per key group, turned into due dates for the responsible
teacher on the real calendar, with overdue flags.

Computed, not stored. A due date follows from the cadence and the last record that satisfies it
(or, with none yet, from the day the student joined the group or was marked high-risk), so a
record of the contact is all it takes to move it on. The alternative — a nightly job writing a
task row per student and group — would duplicate that state, need its own repair when a
cadence, a membership or a record changes, and write thousands of rows a night that say nothing
a query cannot; there is no step here that needs claiming by one worker. The rules:

- "每N周一次": due N weeks after the last satisfying record (or the start), moved to the next
  working day when that day is not one (遇周末或节假日顺延).
- "每学期一次": due by the `PER_TERM_WORKING_DAYS`-th working day of the term (or after joining,
  if later); done once a satisfying record falls within the term. Outside any term nothing is due.
- The responsible teacher is the student's mentor (帮扶教师) if any, else the head teacher.
- A year the working-day table lacks is a visible warning on the item (`CalendarMissing`), never
  a guess: such an item has no due date.
"""

import datetime
from dataclasses import dataclass, field

from django.db.models import Max, QuerySet

from baoxue.calendar import workdays
from baoxue.calendar.models import CalendarDay
from baoxue.care.models import HIGH_RISK, CareCadence, CareForm, CareRecord, RiskMark
from baoxue.cases.selectors import under_observation
from baoxue.org.forms import current_key_group_q
from baoxue.org.models import KeyGroup, KeyGroupMembership, Mentorship, Student, Term

F = CareForm
# (every_weeks or None, per_term, what, forms that count as doing it; empty = any record)
DEFAULT_CADENCES: dict[str, tuple[int | None, bool, str, list[str]]] = {
    KeyGroup.LEFT_BEHIND: (4, False, "与监护人联系", [F.HOME_SCHOOL, F.HOME_VISIT]),
    KeyGroup.POOR: (None, True, "资助核查", [F.AID, F.HOME_VISIT]),
    KeyGroup.MIGRANT: (None, True, "家校联系", [F.HOME_SCHOOL, F.HOME_VISIT]),
    KeyGroup.DISABLED: (4, False, "家访或与监护人联系", [F.HOME_VISIT, F.HOME_SCHOOL]),
    KeyGroup.UNSUPPORTED: (2, False, "谈心或家访", [F.TALK, F.HOME_VISIT]),
    KeyGroup.ORPHAN: (4, False, "谈心或家访", [F.TALK, F.COUNSELLING, F.HOME_VISIT]),
    KeyGroup.LEARNING: (2, False, "学业辅导", [F.TUTORING]),
    KeyGroup.DISTRESSED: (4, False, "谈心或家访", [F.TALK, F.COUNSELLING, F.HOME_VISIT]),
    KeyGroup.JUSTICE: (2, False, "谈心或心理疏导", [F.TALK, F.COUNSELLING, F.REFERRAL]),
    # "No record for N weeks (default 4) → overdue."
    HIGH_RISK: (4, False, "一对一帮扶记录", []),
}
# "每学期一次" is due by this working day of the term (about four weeks in: aid lists are drawn
# up at the start of a term).
PER_TERM_WORKING_DAYS = 20
# 返校后观察: check-ins 2, 4 and 8 weeks after a suspected-dropout or dropout case closed with a return.
OBSERVATION = "observation"
OBSERVATION_WEEKS = (2, 4, 8)


def default_cadence(county_id: int, group: str) -> CareCadence:
    weeks, per_term, what, forms = DEFAULT_CADENCES[group]
    return CareCadence(county_id=county_id, group=group, every_weeks=weeks, per_term=per_term, what=what,
                       forms=[str(f) for f in forms])


def cadences_for(county_ids) -> dict[tuple[int, str], CareCadence]:
    """Each county's cadence per group: its own rows over the defaults (one query)."""
    county_ids = set(county_ids)
    found = {(c.county_id, c.group): c for c in CareCadence.objects.filter(county_id__in=county_ids)}
    return {(cid, g): found.get((cid, g)) or default_cadence(cid, g) for cid in county_ids for g in DEFAULT_CADENCES}


class WorkingCalendar:
    """The working-day table of a date range, read once (two queries), for computing many due
    dates at a time. Outside the range it falls back to `workdays`; a year the table lacks raises
    `CalendarMissing` like `workdays` does."""

    def __init__(self, lo: datetime.date, hi: datetime.date):
        self.lo, self.hi = lo, hi
        self.known = workdays.known_years()
        years = [y for y in range(lo.year, hi.year + 1) if y in self.known]
        self.days = set(CalendarDay.objects.filter(date__gte=lo, date__lte=hi, is_working=True, date__year__in=years)
                        .values_list("date", flat=True)) if years else set()

    def _is_working(self, day: datetime.date) -> bool:
        if day.year not in self.known:
            raise workdays.CalendarMissing(day.year)
        return day in self.days

    def on_or_next(self, day: datetime.date) -> datetime.date:
        """遇周末或节假日顺延."""
        d = day
        while self.lo <= d <= self.hi:
            if self._is_working(d):
                return d
            d += datetime.timedelta(days=1)
        return workdays.on_or_next_working_day(d)

    def nth_from(self, start: datetime.date, n: int) -> datetime.date:
        """The n-th working day counting `start` itself as day 1 when it is one."""
        d, count = start, 0
        while self.lo <= d <= self.hi:
            if self._is_working(d):
                count += 1
                if count == n:
                    return d
            d += datetime.timedelta(days=1)
        return workdays.add_working_days(d - datetime.timedelta(days=1), n - count)


@dataclass
class DueItem:
    student: Student
    group: str
    group_label: str
    subtype: str
    cadence: CareCadence
    since: datetime.date
    last_on: datetime.date | None
    teacher: object | None
    due_on: datetime.date | None = None
    done_this_term: bool = False
    overdue: bool = False
    this_week: bool = False
    calendar_error: str = ""

    @property
    def rule(self) -> str:
        if self.group == OBSERVATION:
            return self.cadence.what
        return f"{self.cadence.interval_label}{self.cadence.what}"


@dataclass
class DueReport:
    items: list[DueItem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def for_teacher(self, user) -> list[DueItem]:
        return [i for i in self.items if i.teacher is not None and i.teacher.pk == user.pk]

    def pressing(self, items=None) -> list[DueItem]:
        """Overdue or due by the end of this week, most urgent first."""
        rows = [i for i in (self.items if items is None else items) if i.overdue or i.this_week or i.calendar_error]
        return sorted(rows, key=lambda i: (i.due_on or datetime.date.min, i.student.name))


def _week_end(today: datetime.date) -> datetime.date:
    return today + datetime.timedelta(days=6 - today.weekday())


def due_report(students: QuerySet[Student], today: datetime.date) -> DueReport:
    """Due items of every key-group membership and open high-risk mark of `students`, in a
    constant number of queries whatever their number."""
    students = {s.pk: s for s in students.select_related("school_class__head_teacher", "school")}
    report = DueReport()
    if not students:
        return report
    ids = list(students)
    memberships = list(KeyGroupMembership.objects.filter(current_key_group_q(today), student_id__in=ids,
                                                         started_on__lte=today))
    marks = list(RiskMark.objects.filter(student_id__in=ids, ended_on__isnull=True, marked_on__lte=today))
    last: dict[tuple[int, str], datetime.date] = {
        (r["student_id"], r["form"]): r["last"]
        for r in CareRecord.objects.filter(student_id__in=ids, date__lte=today).values("student_id", "form")
        .annotate(last=Max("date"))}
    mentors: dict[int, object] = {}
    for m in (Mentorship.objects.filter(student_id__in=ids, ended_on__isnull=True).select_related("mentor")
              .order_by("started_on", "id")):
        mentors.setdefault(m.student_id, m.mentor)
    cadences = cadences_for({s.county_id for s in students.values()})
    terms: dict[int, Term] = {}
    for t in Term.objects.filter(school_id__in={s.school_id for s in students.values()}, start__lte=today,
                                 end__gte=today):
        terms.setdefault(t.school_id, t)

    pending: list[tuple[DueItem, datetime.date, str]] = []  # (item, day, "on_or_next" | "nth")
    labels = dict(KeyGroup.choices)
    sources = [(m.student_id, m.group, labels[m.group], m.subtype, m.started_on) for m in memberships]
    sources += [(r.student_id, HIGH_RISK, "高风险学生", r.get_kind_display(), r.marked_on) for r in marks]
    for sid, group, label, subtype, since in sources:
        s = students[sid]
        cadence = cadences[(s.county_id, group)]
        if group == OBSERVATION:
            continue  # below
        forms = cadence.forms or CareForm.values
        done = [last[(sid, f)] for f in forms if (sid, f) in last]
        last_on = max(done) if done else None
        teacher = mentors.get(sid) or (s.school_class.head_teacher if s.school_class_id else None)
        item = DueItem(student=s, group=group, group_label=label, subtype=subtype, cadence=cadence, since=since,
                       last_on=last_on, teacher=teacher)
        if cadence.per_term:
            term = terms.get(s.school_id)
            if term is None:
                continue  # a holiday: nothing per term is due
            if last_on and last_on >= term.start:
                item.done_this_term = True
            else:
                pending.append((item, max(term.start, since), "nth"))
        else:
            base = max(last_on, since) if last_on else since
            pending.append((item, base + datetime.timedelta(weeks=cadence.every_weeks), "on_or_next"))
        report.items.append(item)

    # 返校后观察: the mentor (or head teacher) checks in 2, 4 and 8 weeks after the return; each
    # care record after the return counts as one check-in.
    watched = under_observation(ids, today=today)
    if watched:
        since_return: dict[int, int] = {}
        for r in CareRecord.objects.filter(student_id__in=list(watched), date__lte=today).values("student_id", "date"):
            if r["date"] > watched[r["student_id"]][0]:
                since_return[r["student_id"]] = since_return.get(r["student_id"], 0) + 1
        for sid, (returned_on, until) in watched.items():
            s = students[sid]
            done = since_return.get(sid, 0)
            if done >= len(OBSERVATION_WEEKS):
                continue
            weeks = OBSERVATION_WEEKS[done]
            cadence = CareCadence(county_id=s.county_id, group=OBSERVATION, every_weeks=weeks, per_term=False,
                                  what=f"返校后第{weeks}周回访（第{done + 1}次，共{len(OBSERVATION_WEEKS)}次）", forms=[])
            item = DueItem(student=s, group=OBSERVATION, group_label="返校后观察", subtype=f"{returned_on} 返校，观察至 {until}",
                           cadence=cadence, since=returned_on, last_on=None,
                           teacher=mentors.get(sid) or (s.school_class.head_teacher if s.school_class_id else None))
            pending.append((item, returned_on + datetime.timedelta(weeks=weeks), "on_or_next"))
            report.items.append(item)

    if pending:
        lo = min(day for _, day, _ in pending)
        cal = WorkingCalendar(lo, max(day for _, day, _ in pending) + datetime.timedelta(days=60))
        week_end = _week_end(today)
        missing: set[int] = set()
        for item, day, how in pending:
            try:
                item.due_on = cal.on_or_next(day) if how == "on_or_next" else cal.nth_from(day, PER_TERM_WORKING_DAYS)
            except workdays.CalendarMissing as e:
                item.calendar_error = str(e)
                missing.add(e.year)
                continue
            item.overdue = item.due_on < today
            item.this_week = today <= item.due_on <= week_end
        report.warnings = [str(workdays.CalendarMissing(y)) for y in sorted(missing)]
    report.items.sort(key=lambda i: (i.student.name, i.group))
    return report
