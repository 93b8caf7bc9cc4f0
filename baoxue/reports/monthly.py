"""学校一月一报告: a school's figures for one month, and the drafting of the reports that are due.

Every figure counts events by their date in the month (not by when they were recorded):

- 新增疑似辍学 `new_suspected`: cases put in the suspected-dropout ledger in the month
  (`Case.suspected_on`, the day-5 date).
- 劝返复学 `returned`: suspected-dropout and dropout cases (cases with `suspected_on`) closed in
  the month (`closed_on`) as 已返校 (returned) or 复学 (resumed).
- 新增辍学 `new_dropouts`: cases that reached the dropout ledger in the month (`dropout_on`).
- 月末仍辍学 `dropouts_open`: cases in the dropout ledger by the month's end and not closed by
  then (dropout_on ≤ end and (closed_on is empty or after the end)).
- 休学 `suspended`, 复学 `resumed`, 转入 `transferred_in`, 转出 `transferred_out`: 学籍异动 of
  those types dated in the month and not cancelled.
- 月末未销账个案 `open_cases`: 13510 runs that had started by the month's end and were not closed
  by then (first_absent_on ≤ end and (still open or closed after the end)), with the stage they
  had reached at the end (from `dropout_on`, `suspected_on` and the date of the home-visit step).

As at the month's end, not as now:

- 月末在校生 `enrolled`: students of the school whose 学籍状态 at the month's end was 在校. It is
  rebuilt from the 学籍异动 recorded after the end: a student's first (not cancelled) change
  after the end says what the status was before it (`status_before`); a student whose first
  change after the end is a 转入, or whose 入学年月 is after the end, was not here yet. A
  student with no change after the end has today's status, except one whose status (辍学 from
  13510, 毕业 from an import) is dated after the end, who was 在校 then. Students in the dropout
  ledger at the end (`dropouts_open`) are not counted. So a transfer recorded in May does not
  change April's figure.
- `enrolled_by_grade`: those students by their class's grade as recorded now (reports are drafted
  on the first working day after the month, before the autumn's new classes).
- `key_groups`: those students in each 重点群体 by memberships current at the end.

`monthly_figures` reads the database in a constant number of queries, whatever the school's size.
"""

import datetime
from collections import Counter

from django.db.models import Q
from django.utils import timezone

from baoxue.calendar import workdays
from baoxue.cases.models import Case, DropoutCause, Outcome, Stage, Task
from baoxue.org.models import Grade, KeyGroup, KeyGroupMembership, RegistryStatus, School, Student
from baoxue.registry.changes import CLASS_ONLY
from baoxue.registry.models import ChangeType, RegistryChange

RETURN_OUTCOMES = (Outcome.RETURNED, Outcome.RESUMED)
NO_CLASS = "未分班"

# The numbers of the report, in the order the county's form lists them.
NUMBERS = [
    ("enrolled", "月末在校生数"),
    ("new_suspected", "新增疑似辍学"),
    ("returned", "劝返复学"),
    ("new_dropouts", "新增辍学"),
    ("dropouts_open", "月末仍辍学（未销账）"),
    ("suspended", "休学"),
    ("resumed", "复学"),
    ("transferred_in", "转入"),
    ("transferred_out", "转出"),
    ("open_cases_count", "月末未销账个案"),
]
NUMBER_LABELS = dict(NUMBERS)
# The lists behind the numbers (each a list of students), in the order shown.
LISTS = [
    ("new_suspected", "新增疑似辍学"),
    ("returned", "劝返复学"),
    ("new_dropouts", "新增辍学"),
    ("dropouts_open", "月末仍辍学"),
    ("suspended", "休学"),
    ("resumed", "复学"),
    ("transferred_in", "转入"),
    ("transferred_out", "转出"),
]


# ---------------------------------------------------------------- months

class BadMonth(ValueError):
    pass


def parse_month(text: str) -> datetime.date:
    """"2026-04" → 2026-04-01; anything else is a `BadMonth` saying how to write it."""
    text = (text or "").strip()
    try:
        year, month = text.split("-")
        if len(year) != 4 or len(month) != 2:
            raise ValueError
        return datetime.date(int(year), int(month), 1)
    except ValueError:
        raise BadMonth(f"月份“{text}”无法识别：请写成 年-月，例如 2026-04")


def month_key(month: datetime.date) -> str:
    return f"{month:%Y-%m}"


def month_label(month: datetime.date) -> str:
    return f"{month.year}年{month.month}月"


def month_end(month: datetime.date) -> datetime.date:
    nxt = datetime.date(month.year + (month.month == 12), month.month % 12 + 1, 1)
    return nxt - datetime.timedelta(days=1)


def previous_month(day: datetime.date) -> datetime.date:
    return (day.replace(day=1) - datetime.timedelta(days=1)).replace(day=1)


def is_finished(month: datetime.date, today: datetime.date | None = None) -> bool:
    return month_end(month) < (today or timezone.localdate())


def first_working_day_after(month: datetime.date) -> datetime.date:
    """The day the month's report is drafted: the first working day after the month's last day
    (on the national calendar; `CalendarMissing` when the next year is not entered)."""
    return workdays.next_working_day(month_end(month))


# ---------------------------------------------------------------- figures

def _iso(day: datetime.date | None) -> str | None:
    return day.isoformat() if day else None


def _class_label(student: Student) -> str:
    return str(student.school_class) if student.school_class_id else NO_CLASS


def _person(student: Student) -> dict:
    return {"registry_no": student.registry_no, "name": student.name, "class": _class_label(student)}


def _stage_at(case: Case, end: datetime.date, home_visit_on: dict[int, datetime.date]) -> str:
    """The furthest stage the run had reached by `end`."""
    if case.dropout_on and case.dropout_on <= end:
        return Stage.DROPOUT
    if case.suspected_on and case.suspected_on <= end:
        return Stage.SUSPECTED_DROPOUT
    visit = home_visit_on.get(case.pk)
    if visit is not None:
        return Stage.HOME_VISIT if visit <= end else Stage.CONTACT_GUARDIAN
    if case.stage in (Stage.CONTACT_GUARDIAN, Stage.HOME_VISIT):
        return case.stage
    # Went further after the end, with no home-visit step recorded (a run that began at that
    # step after an earlier return): it was at the home-visit step at the end.
    return Stage.HOME_VISIT


def _in_month(day: datetime.date | None, start: datetime.date, end: datetime.date) -> bool:
    return day is not None and start <= day <= end


def monthly_figures(school: School, month: datetime.date) -> dict:
    """The figures of `school` for the month starting `month` (see the module's docstring)."""
    start, end = month.replace(day=1), month_end(month)

    cases = list(
        Case.objects.filter(school=school)
        .filter(Q(suspected_on__range=(start, end))
                | Q(suspected_on__isnull=False, outcome__in=RETURN_OUTCOMES, closed_on__range=(start, end))
                | Q(dropout_on__range=(start, end))
                | (Q(first_absent_on__lte=end) & (Q(is_open=True) | Q(closed_on__gt=end))))
        .select_related("student__school_class__grade").order_by("first_absent_on", "id"))
    open_at_end = [c for c in cases if c.first_absent_on <= end and (c.is_open or c.closed_on > end)]
    undecided = [c.pk for c in open_at_end if not (c.dropout_on and c.dropout_on <= end)
                 and not (c.suspected_on and c.suspected_on <= end)]
    home_visit_on = dict(Task.objects.filter(case_id__in=undecided, kind=Task.Kind.HOME_VISIT)
                         .values_list("case_id", "opened_on")) if undecided else {}

    def case_item(case: Case, day: datetime.date | None, note: str = "") -> dict:
        return {**_person(case.student), "date": _iso(day), "note": note}

    def dropout_note(case: Case) -> str:
        cause = DropoutCause(case.dropout_cause).label if case.dropout_cause in DropoutCause.values else ""
        reason = case.dropout_reason if case.dropout_reason != cause else ""
        return "；".join(x for x in (cause, reason) if x)

    new_suspected = [case_item(c, c.suspected_on, c.suspected_reason) for c in cases
                     if _in_month(c.suspected_on, start, end)]
    returned = [case_item(c, c.closed_on, Outcome(c.outcome).label) for c in cases
                if c.suspected_on and c.outcome in RETURN_OUTCOMES and _in_month(c.closed_on, start, end)]
    new_dropouts = [case_item(c, c.dropout_on, dropout_note(c)) for c in cases if _in_month(c.dropout_on, start, end)]
    dropouts_open = [c for c in open_at_end if c.dropout_on and c.dropout_on <= end]
    open_cases = []
    for c in open_at_end:
        stage = _stage_at(c, end, home_visit_on)
        open_cases.append({**_person(c.student), "stage": str(stage), "stage_label": Stage(stage).label,
                           "first_absent_on": _iso(c.first_absent_on), "suspected_on": _iso(
                               c.suspected_on if c.suspected_on and c.suspected_on <= end else None),
                           "dropout_on": _iso(c.dropout_on if c.dropout_on and c.dropout_on <= end else None)})

    changes = list(
        RegistryChange.objects.filter(school=school, cancelled_on__isnull=True, date__gte=start)
        .exclude(change_type__in=CLASS_ONLY)
        .select_related("student__school_class__grade").order_by("date", "id"))
    in_month: dict[str, list] = {t: [] for t in ChangeType.values}
    first_after: dict[int, RegistryChange] = {}
    for ch in changes:
        if ch.date <= end:
            in_month[ch.change_type].append({**_person(ch.student), "date": _iso(ch.date), "note": ch.other_school})
        elif ch.student_id not in first_after:
            first_after[ch.student_id] = ch

    out_at_end = {c.student_id for c in dropouts_open}
    students = Student.objects.filter(school=school).values_list(
        "pk", "status", "status_since", "enrolled_on", "school_class__grade_id")
    enrolled: dict[int, int | None] = {}  # student → grade
    for pk, status, since, enrolled_on, grade_id in students:
        if enrolled_on and enrolled_on > end or pk in out_at_end:
            continue
        ch = first_after.get(pk)
        if ch is not None:
            here = ch.change_type != ChangeType.TRANSFER_IN and ch.status_before == RegistryStatus.IN_SCHOOL
        elif status != RegistryStatus.IN_SCHOOL and since and since > end:
            here = True
        else:
            here = status == RegistryStatus.IN_SCHOOL
        if here:
            enrolled[pk] = grade_id

    per_grade = Counter(enrolled.values())
    by_grade = [{"grade": name, "n": per_grade[pk]}
                for pk, name in Grade.objects.filter(school=school).order_by("order", "name").values_list("pk", "name")]
    if per_grade[None]:
        by_grade.append({"grade": NO_CLASS, "n": per_grade[None]})

    members: dict[str, set[int]] = {g: set() for g in KeyGroup.values}
    for student_id, group in (KeyGroupMembership.objects.filter(school=school, started_on__lte=end)
                              .filter(Q(ended_on__isnull=True) | Q(ended_on__gt=end))
                              .values_list("student_id", "group")):
        if student_id in enrolled:
            members[group].add(student_id)
    key_groups = [{"group": g.value, "label": g.label, "n": len(members[g.value])} for g in KeyGroup]

    dropouts_list = [case_item(c, c.dropout_on, dropout_note(c)) for c in dropouts_open]
    lists = {
        "new_suspected": new_suspected, "returned": returned, "new_dropouts": new_dropouts,
        "dropouts_open": dropouts_list,
        "suspended": in_month[ChangeType.SUSPEND], "resumed": in_month[ChangeType.RESUME],
        "transferred_in": in_month[ChangeType.TRANSFER_IN], "transferred_out": in_month[ChangeType.TRANSFER_OUT],
    }
    return {
        "school": school.code,
        "school_name": school.name,
        "month": month_key(start),
        "period": [start.isoformat(), end.isoformat()],
        "enrolled": len(enrolled),
        **{key: len(items) for key, items in lists.items()},
        "open_cases_count": len(open_cases),
        "enrolled_by_grade": by_grade,
        "key_groups": key_groups,
        "open_cases": open_cases,
        "lists": lists,
    }


def figure_changes(old: dict, new: dict) -> list[str]:
    """What differs between two snapshots, for a person: "新增疑似辍学 1 → 2" …"""
    if not old:
        return []
    out = [f"{label} {old.get(key)} → {new.get(key)}" for key, label in NUMBERS if old.get(key) != new.get(key)]
    for key, label, name in (("enrolled_by_grade", "按年级在校生", "grade"), ("key_groups", "重点群体", "label")):
        before = {r[name]: r["n"] for r in old.get(key, [])}
        after = {r[name]: r["n"] for r in new.get(key, [])}
        diffs = [f"{k} {before.get(k, 0)} → {after.get(k, 0)}" for k in dict.fromkeys([*before, *after])
                 if before.get(k, 0) != after.get(k, 0)]
        if diffs:
            out.append(f"{label}：" + "，".join(diffs))
    before = [(c["registry_no"], c["stage"]) for c in old.get("open_cases", [])]
    after = [(c["registry_no"], c["stage"]) for c in new.get("open_cases", [])]
    if before != after and old.get("open_cases_count") == new.get("open_cases_count"):
        out.append("月末未销账个案名单或阶段有变化")
    for key, label in LISTS:
        if old.get(key) == new.get(key) and (old.get("lists") or {}).get(key) != (new.get("lists") or {}).get(key):
            out.append(f"{label}名单有变化")
    return out


# ---------------------------------------------------------------- drafting

def draft_due(today: datetime.date | None = None) -> int:
    """For the scheduler, once a day: on (or, if missed, after) the first working day after a
    month ends, draft that month's report for every school that has none. Idempotent (one report
    per school and month); returns how many were drafted. Raises `CalendarMissing` when the
    calendar lacks the year of the drafting day."""
    from baoxue.reports.services import report_draft

    today = today or timezone.localdate()
    month = previous_month(today)
    if today < first_working_day_after(month):
        return 0
    from baoxue.reports.models import MonthlyReport

    done = set(MonthlyReport.objects.filter(month=month).values_list("school_id", flat=True))
    drafted = 0
    for school in School.objects.exclude(pk__in=done).select_related("county").order_by("code"):
        _, created = report_draft(actor=None, school=school, month=month, today=today)
        drafted += created
    return drafted
