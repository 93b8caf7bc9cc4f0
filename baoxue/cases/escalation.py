"""The daily job of 13510: evaluate a school day and move every run on.

A run is the consecutive school days of unexcused absence. Days that are not school days, and
days nobody took attendance (unknown), neither count nor break it; a day at school or an
excused day ends it.

- 第1天 → task 联系家长了解情况 for the head teacher, due the same school day;
- 第3天 → task 家访或与监护人联系跟进, due the next school day;
- 第5天 → 疑似辍学: the case enters the 疑似辍学学生台账, persuasion due 10 working days later;
- still absent on the first school day after that deadline → 辍学学生劝返台账.
(The days, the 10 and the 3 attempts are the county's `Rules`, kept per case.)

Each evaluation reads the school's attendance of the day and of the open runs in bulk, so its
cost grows with the number of absentees, not the number of students.
"""

import datetime
from dataclasses import dataclass

from django.db import transaction

from baoxue.attendance.selectors import EXCUSED_DAY, PRESENT_DAY, UNEXCUSED_DAY, UNKNOWN_DAY, DayBook
from baoxue.calendar import workdays
from baoxue.cases.models import Case, DropoutCause, Evaluation, Outcome, Stage, Task
from baoxue.cases import services
from baoxue.org.models import RegistryStatus, School, Student

# How far back a run may reach when attendance was entered late (school days).
LOOKBACK_CALENDAR_DAYS = 120
SYSTEM = "每日预警任务"


@dataclass
class Run:
    days: list[datetime.date]  # the unexcused school days, in order

    @property
    def first(self) -> datetime.date:
        return self.days[0]

    @property
    def length(self) -> int:
        return len(self.days)


def run_ending(book: DayBook, student_id: int, class_id, school_days: list[datetime.date]) -> Run | None:
    """The run that includes the last day of `school_days`, found by walking back through
    unexcused days (unknown days skipped) to the last day at school or on leave."""
    days: list[datetime.date] = []
    for day in reversed(school_days):
        status = book.status(student_id, class_id, day)
        if status == UNEXCUSED_DAY:
            days.append(day)
        elif status == UNKNOWN_DAY:
            continue
        else:
            break
    if not days:
        return None
    days.reverse()
    return Run(days)


def _step(*, school: School, day: datetime.date, book: DayBook, window: list[datetime.date], student: dict,
          case: Case | None, stats: dict) -> None:
    """Move one student's run on by one evaluated school day."""
    if case is not None and case.stage == Stage.DROPOUT:
        return  # persuasion goes on in the dropout ledger until 复学 or another outcome
    sid, class_id = student["id"], student["school_class_id"]
    status = book.status(sid, class_id, day)
    if status == UNEXCUSED_DAY:
        if case is None and student["status"] != RegistryStatus.IN_SCHOOL:
            return
        run = run_ending(book, sid, class_id, window)
        if case is None:
            case = services.case_open(student_id=sid, school=school, run_days=run.days)
            stats["opened"] += 1
        else:
            stats["advanced"] += 1
        services.case_advance(case=case, run_days=run.days, head_teacher_id=student["school_class__head_teacher_id"])
        if case.stage == Stage.SUSPECTED_DROPOUT and case.persuasion_due and day > case.persuasion_due:
            services.case_to_dropout(case=case, on=day, cause=DropoutCause.NOT_RETURNED, actor=None, actor_label=SYSTEM)
            stats["dropouts"] += 1
    elif case is not None and status == PRESENT_DAY:
        services.case_close(case=case, on=day, outcome=Outcome.RETURNED, actor=None, actor_label=SYSTEM, note="到校，销账")
        stats["closed"] += 1
    elif case is not None and status == EXCUSED_DAY:
        services.case_close(case=case, on=day, outcome=Outcome.EXCUSED, actor=None, actor_label=SYSTEM,
                            note="请假（正当原因），连续缺勤中断")
        stats["closed"] += 1


STUDENT_VALUES = ("id", "school_class_id", "status", "school_class__head_teacher_id")


def _window(school: School, day: datetime.date) -> list[datetime.date]:
    """The school days a run ending on `day` may span; empty when `day` is not a school day."""
    window = workdays.school_days(school, day - datetime.timedelta(days=LOOKBACK_CALENDAR_DAYS), day)
    return window if window and window[-1] == day else []


def evaluate_day(school: School, day: datetime.date, *, force: bool = False,
                 school_days: list[datetime.date] | None = None, book: DayBook | None = None) -> dict:
    """Evaluate one school day of one school (a no-op on other days and on a day already done).

    `escalate --through` passes the school days and the attendance of the whole range it
    processes, read once; attendance does not change while the job runs."""
    stats = {"opened": 0, "advanced": 0, "closed": 0, "dropouts": 0}
    if not force and Evaluation.objects.filter(school=school, date=day).exists():
        return stats
    if school_days is None:
        window = _window(school, day)
    else:
        lo = day - datetime.timedelta(days=LOOKBACK_CALENDAR_DAYS)
        window = [d for d in school_days if lo <= d <= day]
        window = window if window and window[-1] == day else []
    if not window:
        return stats
    with transaction.atomic():
        book = book or DayBook(school, window[0], day)
        open_cases = {c.student_id: c for c in Case.objects.filter(school=school, is_open=True).select_related("rules")}
        ids = book.unexcused_students(day) | set(open_cases)
        for student in Student.objects.filter(pk__in=ids).order_by("pk").values(*STUDENT_VALUES):
            _step(school=school, day=day, book=book, window=window, student=student,
                  case=open_cases.get(student["id"]), stats=stats)
        Evaluation.objects.update_or_create(school=school, date=day, defaults={"county_id": school.county_id})
    return stats


def last_evaluated(school: School) -> datetime.date | None:
    return Evaluation.objects.filter(school=school).order_by("-date").values_list("date", flat=True).first()


def escalate(*, day: datetime.date, through: bool = False, schools=None) -> dict:
    """`baoxue escalate`: evaluate `day` (or, with `through`, every school day after the last
    evaluated one up to `day`) for every school."""
    totals = {"opened": 0, "advanced": 0, "closed": 0, "dropouts": 0, "days": 0, "warnings": []}
    for school in (schools if schools is not None else School.objects.select_related("county")):
        try:
            if through:
                last = last_evaluated(school)
                start = last + datetime.timedelta(days=1) if last else _first_term_day(school)
                days = workdays.school_days(school, start, day) if start and start <= day else []
            else:
                days = [day] if workdays.is_school_day(school, day) else []
        except workdays.CalendarMissing as e:
            # Never guess a school day: this school waits until the year's calendar is entered.
            totals["warnings"].append(f"{school.name}：{e}")
            continue
        if not days:
            continue
        lookback = days[0] - datetime.timedelta(days=LOOKBACK_CALENDAR_DAYS)
        try:
            known_days = workdays.school_days(school, lookback, days[-1])
        except workdays.CalendarMissing:
            known_days = workdays.school_days(school, datetime.date(days[0].year, 1, 1), days[-1])
        book = DayBook(school, known_days[0], days[-1])
        for d in days:
            stats = evaluate_day(school, d, school_days=known_days, book=book)
            totals["days"] += 1
            for k, v in stats.items():
                totals[k] += v
    return totals


def _first_term_day(school: School) -> datetime.date | None:
    from baoxue.org.models import Term

    return Term.objects.filter(school=school).order_by("start").values_list("start", flat=True).first()


def reevaluate_student(student: Student, since: datetime.date) -> None:
    """Attendance of an evaluated day changed (a correction or a late roll call): replay the
    student's evaluated days from `since`, so that the result is what daily runs would have given."""
    school = student.school
    last = last_evaluated(school)
    if last is None or since > last:
        return
    case = Case.objects.filter(student=student, is_open=True).first()
    if case is not None and case.stage != Stage.DROPOUT and case.first_absent_on >= since:
        # The run began on or after the changed day: rebuild it from the attendance.
        services.case_close(case=case, on=since, outcome=Outcome.CORRECTED, actor=None, actor_label=SYSTEM,
                            note=f"{since} 的考勤已更正，按更正后的考勤重新计算")
    start = min(since, case.first_absent_on) if case is not None and case.is_open else since
    for day in workdays.school_days(school, start, last):
        _replay_student_day(student, school, day)


def _replay_student_day(student: Student, school: School, day: datetime.date) -> None:
    window = _window(school, day)
    if not window:
        return
    book = DayBook(school, window[0], day, student_ids=[student.pk])
    case = Case.objects.filter(student=student, is_open=True).select_related("rules").first()
    values = Student.objects.filter(pk=student.pk).values(*STUDENT_VALUES).get()
    _step(school=school, day=day, book=book, window=window, student=values, case=case,
          stats={"opened": 0, "advanced": 0, "closed": 0, "dropouts": 0})


__all__ = ["evaluate_day", "escalate", "reevaluate_student", "run_ending", "Task"]
