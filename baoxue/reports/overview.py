"""The county's and the township's view: what the bureau sees at a glance, school by school, and
the list behind every number.

Every figure is read for all schools at once (a fixed number of queries whatever the number of
schools or students), so the page stays the same on a county of 60 schools and on a province
partitioned by county.

Definitions (the same words as the monthly report, `reports.monthly`):
- 今日点名: classes with in-school students whose roll call (or an attendance file covering the
  class) was in by the due time (settings.ROLL_CALL_DUE), of all such classes; only on a 在校日.
- 本月新增疑似 / 本月新增辍学: `suspected_on` / `dropout_on` in this month, up to today.
- 本月劝返复学: cases that reached the 疑似 ledger, closed as 已返校 or 复学 this month.
- 劝返不足 / 逾期: the 13510 clock of each open suspected case (`cases.selectors`).
"""

import datetime
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Count, Min, Q
from django.utils import timezone

from baoxue.attendance.models import FileDay, RollCall
from baoxue.calendar import workdays
from baoxue.cases import selectors as case_selectors
from baoxue.cases.models import STAGE_ORDER, Case, Outcome, Stage
from baoxue.org.forms import current_key_group_q
from baoxue.org.models import KeyGroupMembership, RegistryStatus, SchoolClass, Student
from baoxue.registry.models import Application

RETURN_OUTCOMES = (Outcome.RETURNED, Outcome.RESUMED)

# What a number on the overview can open: its list (`cases_behind`) and the words of its title.
CASE_LISTS = {
    "contact": "联系家长阶段的个案",
    "visit": "家访跟进阶段的个案",
    "suspected": "疑似辍学劝返中",
    "dropout": "辍学劝返中",
    "short": "劝返不足",
    "overdue": "逾期（过劝返截止日仍在疑似辍学台账）",
    "new_suspected": "本月新增疑似辍学",
    "new_dropouts": "本月新增辍学",
    "returned": "本月劝返复学",
}


def due_time() -> datetime.time:
    return datetime.time.fromisoformat(settings.ROLL_CALL_DUE)


def month_start(today: datetime.date) -> datetime.date:
    return today.replace(day=1)


@dataclass
class SchoolRow:
    school: object
    in_session: bool = False
    classes: int = 0
    on_time: int = 0  # classes whose roll call was in by the due time
    late: int = 0  # taken after the due time
    stages: dict = field(default_factory=dict)  # open cases by stage value
    short: int = 0
    overdue: int = 0
    new_suspected: int = 0
    new_dropouts: int = 0
    returned: int = 0
    suspended: int = 0
    next_end: datetime.date | None = None  # the nearest end of a suspension in effect
    key_groups: int = 0

    @property
    def not_taken(self) -> int:
        return max(0, self.classes - self.on_time - self.late)

    @property
    def open_cases(self) -> int:
        return sum(self.stages.values())


NUMBERS = ("classes", "on_time", "late", "short", "overdue", "new_suspected", "new_dropouts", "returned", "suspended",
           "key_groups")


def _total(rows: list[SchoolRow], school=None) -> SchoolRow:
    total = SchoolRow(school=school, in_session=any(r.in_session for r in rows))
    for name in NUMBERS:
        setattr(total, name, sum(getattr(r, name) for r in rows))
    total.stages = dict(sum((Counter(r.stages) for r in rows), Counter()))
    ends = [r.next_end for r in rows if r.next_end]
    total.next_end = min(ends) if ends else None
    return total


def _roll_calls(rows: dict[int, SchoolRow], today: datetime.date) -> str:
    """Fill today's roll-call completion; returns the calendar's complaint, if any."""
    try:
        in_session = workdays.schools_in_session([r.school for r in rows.values()], today)
    except workdays.CalendarMissing as e:
        return str(e)
    due = timezone.make_aware(datetime.datetime.combine(today, due_time()))
    classes = defaultdict(set)
    for class_id, school_id in (SchoolClass.objects.filter(school_id__in=in_session)
                                .filter(students__status=RegistryStatus.IN_SCHOOL).distinct()
                                .values_list("pk", "school_id")):
        classes[school_id].add(class_id)
    when: dict[int, datetime.datetime] = {}
    for class_id, taken_at in RollCall.objects.filter(school_id__in=in_session, date=today).values_list(
            "school_class_id", "taken_at"):
        when[class_id] = min(taken_at, when.get(class_id, taken_at))
    whole_school: dict[int, datetime.datetime] = {}
    for school_id, class_id, imported_at in FileDay.objects.filter(school_id__in=in_session, date=today).values_list(
            "school_id", "school_class_id", "imported_at"):
        if class_id is None:
            whole_school[school_id] = min(imported_at, whole_school.get(school_id, imported_at))
        else:
            when[class_id] = min(imported_at, when.get(class_id, imported_at))
    for school_id in in_session:
        row = rows[school_id]
        row.in_session = True
        row.classes = len(classes[school_id])
        for class_id in classes[school_id]:
            at = min((t for t in (when.get(class_id), whole_school.get(school_id)) if t), default=None)
            if at is None:
                continue
            if at <= due:
                row.on_time += 1
            else:
                row.late += 1
    return ""


def county_overview(schools, *, today: datetime.date | None = None) -> dict:
    """The overview of `schools` (a county's, or a township's): a row per school, totals per
    township and for all; `calendar_error` when today's calendar or a deadline cannot be read."""
    today = today or timezone.localdate()
    schools = list(schools)
    rows = {s.pk: SchoolRow(school=s) for s in schools}
    ids = list(rows)
    calendar_error = _roll_calls(rows, today)

    cases = Case.objects.filter(school_id__in=ids)
    for school_id, stage, n in cases.filter(is_open=True).values_list("school_id", "stage").annotate(n=Count("pk")):
        rows[school_id].stages[stage] = n
    start = month_start(today)
    month = (
        cases.values("school_id").annotate(
            new_suspected=Count("pk", filter=Q(suspected_on__gte=start, suspected_on__lte=today)),
            new_dropouts=Count("pk", filter=Q(dropout_on__gte=start, dropout_on__lte=today)),
            returned=Count("pk", filter=Q(suspected_on__isnull=False, is_open=False, outcome__in=RETURN_OUTCOMES,
                                          closed_on__gte=start, closed_on__lte=today)),
        ).filter(Q(new_suspected__gt=0) | Q(new_dropouts__gt=0) | Q(returned__gt=0)))
    for m in month:
        row = rows[m["school_id"]]
        row.new_suspected, row.new_dropouts, row.returned = m["new_suspected"], m["new_dropouts"], m["returned"]
    running = case_selectors.with_clocks(
        case_selectors.with_attempt_counts(cases.filter(is_open=True, stage=Stage.SUSPECTED_DROPOUT)
                                           .select_related("rules")), today)
    for c in running:
        rows[c.school_id].short += c.clock.short
        rows[c.school_id].overdue += c.clock.overdue
        calendar_error = calendar_error or c.clock.calendar_missing

    for school_id, n in (Student.objects.filter(school_id__in=ids, status=RegistryStatus.SUSPENDED)
                         .values_list("school_id").annotate(n=Count("pk"))):
        rows[school_id].suspended = n
    for school_id, end in (Application.objects.filter(school_id__in=ids, state=Application.State.EFFECTIVE,
                                                      student__status=RegistryStatus.SUSPENDED, ends_on__gte=today)
                           .values_list("school_id").annotate(end=Min("ends_on"))):
        rows[school_id].next_end = end
    for school_id, n in (KeyGroupMembership.objects.filter(current_key_group_q(today), school_id__in=ids,
                                                           student__status=RegistryStatus.IN_SCHOOL)
                         .values_list("school_id").annotate(n=Count("student_id", distinct=True))):
        rows[school_id].key_groups = n

    ordered = [rows[s.pk] for s in schools]
    townships: dict[int, list[SchoolRow]] = defaultdict(list)
    for r in ordered:
        townships[r.school.township_id].append(r)
    by_township = [{"township": group[0].school.township, "rows": group, "total": _total(group)}
                   for group in townships.values()]
    by_township.sort(key=lambda t: t["township"].name)
    return {"today": today, "rows": ordered, "townships": by_township, "total": _total(ordered),
            "calendar_error": calendar_error, "due": due_time(), "month_start": start,
            "stages": [(v, label) for v, label in Stage.choices]}


def cases_behind(cases, what: str, *, today: datetime.date | None = None) -> list[Case]:
    """The cases behind one number of the overview (`what` is a key of CASE_LISTS), with their
    clocks and flags, most urgent first."""
    today = today or timezone.localdate()
    start = month_start(today)
    stage_of = {"contact": Stage.CONTACT_GUARDIAN, "visit": Stage.HOME_VISIT, "suspected": Stage.SUSPECTED_DROPOUT,
                "dropout": Stage.DROPOUT, "short": Stage.SUSPECTED_DROPOUT, "overdue": Stage.SUSPECTED_DROPOUT}
    if what in stage_of:
        cases = cases.filter(is_open=True, stage=stage_of[what])
    elif what == "new_suspected":
        cases = cases.filter(suspected_on__gte=start, suspected_on__lte=today)
    elif what == "new_dropouts":
        cases = cases.filter(dropout_on__gte=start, dropout_on__lte=today)
    elif what == "returned":
        cases = cases.filter(suspected_on__isnull=False, is_open=False, outcome__in=RETURN_OUTCOMES,
                             closed_on__gte=start, closed_on__lte=today)
    else:
        raise KeyError(what)
    rows = case_selectors.with_clocks(
        case_selectors.with_attempt_counts(cases.select_related("rules", "school", "student__school_class__grade"))
        .order_by("school__code", "-first_absent_on", "pk"), today)
    if what == "short":
        rows = [c for c in rows if c.clock.short]
    elif what == "overdue":
        rows = [c for c in rows if c.clock.overdue]
    return rows


def weekly_trend(cases, *, start: datetime.date, end: datetime.date) -> list[dict]:
    """Open suspected and dropout cases at the end of each week (Sunday) from `start` to `end`
    (the last point is `end` itself), rebuilt from the cases' dates: a case is a suspected one
    from `suspected_on` until it entered the dropout ledger or was closed, a dropout one from
    `dropout_on` until closed. One query."""
    facts = list(cases.filter(suspected_on__isnull=False, suspected_on__lte=end)
                 .filter(Q(closed_on__isnull=True) | Q(closed_on__gt=start))
                 .values_list("suspected_on", "dropout_on", "closed_on"))
    # Dropouts that never passed through 疑似 (missing, not enrolled) count from their dropout date.
    facts += list(cases.filter(suspected_on__isnull=True, dropout_on__isnull=False, dropout_on__lte=end)
                  .filter(Q(closed_on__isnull=True) | Q(closed_on__gt=start))
                  .values_list("dropout_on", "dropout_on", "closed_on"))
    points = []
    day = start + datetime.timedelta(days=6 - start.weekday())
    while True:
        at = min(day, end)
        suspected = dropout = 0
        for suspected_on, dropout_on, closed_on in facts:
            if closed_on is not None and closed_on <= at:
                continue
            if dropout_on is not None and dropout_on <= at:
                dropout += 1
            elif suspected_on <= at:
                suspected += 1
        points.append({"day": at, "suspected": suspected, "dropout": dropout})
        if at >= end:
            return points
        day += datetime.timedelta(days=7)


def trend_svg(points: list[dict], *, width: int = 640, height: int = 200) -> dict:
    """Coordinates for an inline SVG line chart (no script, no network: it prints as it shows)."""
    pad_left, pad_right, pad_top, pad_bottom = 36, 12, 12, 28
    top = max([p["suspected"] for p in points] + [p["dropout"] for p in points] + [1])
    step = (width - pad_left - pad_right) / max(1, len(points) - 1)

    def y(v):
        return round(pad_top + (height - pad_top - pad_bottom) * (1 - v / top), 1)

    def line(key):
        return " ".join(f"{round(pad_left + i * step, 1)},{y(p[key])}" for i, p in enumerate(points))

    ticks = sorted({0, top, top // 2})
    labels = [{"x": round(pad_left + i * step, 1), "text": f"{p['day'].month}/{p['day'].day}"}
              for i, p in enumerate(points) if i % max(1, len(points) // 8) == 0 or i == len(points) - 1]
    return {"width": width, "height": height, "suspected": line("suspected"), "dropout": line("dropout"),
            "yticks": [{"y": y(t), "text": t} for t in ticks], "xlabels": labels, "base": height - pad_bottom,
            "left": pad_left, "right": width - pad_right, "last": points[-1] if points else None}


def township_overview(township, *, students, cases, today: datetime.date | None = None) -> dict:
    """A township's residents (`students`: those living there, as the user may see them) by
    village and by school, their open cases, the joint persuasions, in a fixed number of queries."""
    today = today or timezone.localdate()
    open_by_student = dict(cases.filter(is_open=True).values_list("student_id", "stage"))
    villages: dict[str, Counter] = defaultdict(Counter)
    schools: dict[int, Counter] = defaultdict(Counter)
    school_objs = {}
    for sid, village, school_id, status in students.values_list("pk", "residence_village", "school_id", "status"):
        for bucket in (villages[village or "（未填村）"], schools[school_id]):
            bucket["residents"] += 1
            bucket["in_school"] += status == RegistryStatus.IN_SCHOOL
            stage = open_by_student.get(sid)
            if stage:
                bucket["open"] += 1
                bucket["dropout"] += stage == Stage.DROPOUT
        school_objs[school_id] = None
    from baoxue.org.models import School

    for s in School.objects.filter(pk__in=school_objs).order_by("code"):
        school_objs[s.pk] = s
    open_cases = case_selectors.with_clocks(
        case_selectors.with_attempt_counts(cases.filter(is_open=True)
                                           .select_related("rules", "school", "student__school_class__grade"))
        .order_by("first_absent_on", "pk"), today)
    open_cases.sort(key=lambda c: -STAGE_ORDER.index(c.stage))
    return {
        "township": township,
        "villages": sorted(({"name": k, **v} for k, v in villages.items()), key=lambda v: v["name"]),
        "schools": [{"school": school_objs[k], **schools[k]} for k in school_objs if school_objs[k]],
        "open_cases": open_cases,
    }
