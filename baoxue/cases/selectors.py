"""Reads of cases: the JSON contract of `baoxue cases`, role-scoped lists and the ledgers."""

import bisect
import datetime
from dataclasses import dataclass

from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery
from django.http import Http404
from django.utils import timezone

from baoxue.calendar import workdays
from baoxue.cases.models import Case, Outcome, Persuader, Report, Stage, Task
from baoxue.org.models import Role
from baoxue.org.selectors import is_admin, memberships, roles_of, students_for_user


def _iso(day: datetime.date | None) -> str | None:
    return day.isoformat() if day else None


def current_rules(county_id: int):
    """The county's 13510 rules in force, read only: the plan's 1/3/5 days, 10 working days and
    3 attempts (an unsaved default) until the county sets its own."""
    from baoxue.cases.models import Rules

    return Rules.objects.filter(county_id=county_id).order_by("-id").first() or Rules(county_id=county_id)


def case_json(case: Case, today: datetime.date | None = None) -> dict:
    """One case as in `baoxue cases --format json` (a contract: keep these keys). "attempts" is
    the count toward N/3 (attempts dated by the deadline); "flags" is `case_flags`. A case read
    through `with_clocks` gives both without a query."""
    counted, late = attempt_counts(case)
    flags = getattr(case, "flags", None)
    if flags is None:
        flags = case_flags(case, today=today or timezone.localdate(), attempts_in_window=counted, late_attempts=late)
    return {
        "registry_no": case.student.registry_no,
        "name": case.student.name,
        "school": case.school.code,
        "stage": case.stage,
        "state": "open" if case.is_open else "closed",
        "outcome": case.outcome or None,
        "first_absent_on": _iso(case.first_absent_on),
        "last_absent_on": _iso(case.last_absent_on),
        "unexcused_days": case.unexcused_days,
        "suspected_on": _iso(case.suspected_on),
        "persuasion_due": _iso(case.persuasion_due),
        "dropout_on": _iso(case.dropout_on),
        "attempts": counted,
        "closed_on": _iso(case.closed_on),
        "flags": flags,
    }


def cases_for_user(user) -> QuerySet[Case]:
    """Cases of the students the user may see (the same scope as students)."""
    if is_admin(user):
        return Case.objects.all()
    return Case.objects.filter(student__in=students_for_user(user).values("pk"))


def tasks_for_user(user) -> QuerySet[Task]:
    return Task.objects.filter(Q(assignee=user) | Q(case__in=cases_for_user(user).values("pk")))


def reports_for_user(user) -> QuerySet[Report]:
    """The township sees reports about its residents, the bureau its county's."""
    if is_admin(user):
        return Report.objects.all()
    q = Q(pk__in=[])
    for m in memberships(user):
        if m.role == Role.TOWNSHIP:
            q |= Q(recipient=Report.Recipient.TOWNSHIP, township_id=m.township_id)
        elif m.role == Role.COUNTY:
            q |= Q(recipient=Report.Recipient.COUNTY, county_id=m.county_id)
    return Report.objects.filter(q)


# ---------------------------------------------------------------- one case, and who may act on it

def case_scope(user) -> Q:
    """Cases the user may open: those of the students they see, and those they were named
    persuader of (a teacher of another class can be one)."""
    return Q(pk__in=cases_for_user(user).values("pk")) | Q(persuaders__user_id=user.pk)


def get_case_for_user(user, pk) -> Case:
    """One case, or 404 outside the user's scope (never 403: that would confirm it exists)."""
    if not user.is_authenticated:
        raise Http404("没有找到该个案")
    try:
        return (Case.objects.filter(case_scope(user)).distinct()
                .select_related("student__school_class__grade", "student__school_class__head_teacher",
                                "student__residence_township", "school__county", "rules", "closed_by")
                .get(pk=pk))
    except (Case.DoesNotExist, ValueError):
        raise Http404("没有找到该个案")


def is_office_of(user, school_id: int) -> bool:
    """The school's 控辍保学办公室 runs the process (admins may stand in)."""
    return is_admin(user) or any(m.role == Role.OFFICE and m.school_id == school_id for m in memberships(user))


def is_head_teacher_of(user, case: Case) -> bool:
    cls = case.student.school_class
    return cls is not None and cls.head_teacher_id == user.pk


def is_persuader_of(user, case: Case) -> bool:
    return case.persuaders.filter(user_id=user.pk).exists()


def can_manage_case(user, case: Case) -> bool:
    """Assign persuaders, mark missing, 复学, 销账, edit the 一生一表: the office's work."""
    return is_office_of(user, case.school_id)


def can_record_contact(user, case: Case) -> bool:
    """联系家长 and 家访 are the head teacher's; the office may fill in for them."""
    return is_head_teacher_of(user, case) or is_office_of(user, case.school_id)


def can_record_attempt(user, case: Case) -> bool:
    """劝返记录: the office, the named persuaders and the head teacher."""
    return can_record_contact(user, case) or is_persuader_of(user, case)


def can_act_on_case(user, case: Case) -> bool:
    return case.is_open and can_record_attempt(user, case)


def can_change_rules(user, county) -> bool:
    """The county bureau sets its 13510 thresholds (admins too)."""
    return is_admin(user) or any(m.role == Role.COUNTY and m.county_id == county.pk for m in memberships(user))


LEDGER_ROLES = (Role.ADMIN, Role.COUNTY, Role.TOWNSHIP, Role.LEADER, Role.OFFICE, Role.REGISTRAR)
INBOX_ROLES = LEDGER_ROLES + (Role.HEAD_TEACHER,)


def can_see_ledgers(user) -> bool:
    return bool(roles_of(user) & set(LEDGER_ROLES))


def has_case_work(user) -> bool:
    """Whether 13510 待办 means anything to the user (for the navigation)."""
    if not user.is_authenticated:
        return False
    return bool(roles_of(user) & set(INBOX_ROLES)) or Persuader.objects.filter(user_id=user.pk).exists()


# ---------------------------------------------------------------- attempts toward N/3

# The one rule for "attempts toward N/3" (issue 7): an attempt counts when it is dated on or
# before the persuasion deadline, or when the deadline is unknown. An attempt dated after the
# deadline while the case was still in the 疑似 ledger is late (逾期记录): kept and shown, never
# counted. Attempts made once the case is in the dropout ledger (persuasion goes on until 复学)
# are neither counted nor late. `attempt_standing` says the same of one attempt in Python.
ATTEMPT_COUNTED_Q = Q(persuasion_due__isnull=True) | Q(attempts__date__lte=F("persuasion_due"))
ATTEMPT_LATE_Q = Q(attempts__date__gt=F("persuasion_due")) & (
    Q(dropout_on__isnull=True) | Q(attempts__date__lt=F("dropout_on")))


def with_attempt_counts(cases: QuerySet[Case]) -> QuerySet[Case]:
    """Annotate `n_attempts` (toward N/3) and `n_late_attempts` (逾期记录), in the same query."""
    return cases.annotate(n_attempts=Count("attempts", filter=ATTEMPT_COUNTED_Q, distinct=True),
                          n_late_attempts=Count("attempts", filter=ATTEMPT_LATE_Q, distinct=True))


def attempt_counts(case: Case) -> tuple[int, int]:
    """(toward N/3, late) of one case: its annotations when read through `with_attempt_counts`,
    else one query with the same annotations."""
    if hasattr(case, "n_attempts") and hasattr(case, "n_late_attempts"):
        return case.n_attempts, case.n_late_attempts
    counted, late = (with_attempt_counts(Case.objects.filter(pk=case.pk))
                     .values_list("n_attempts", "n_late_attempts").get())
    return counted, late


def attempt_standing(case: Case, attempt) -> str:
    """"counted" toward N/3, "late" (after the deadline, before the dropout ledger) or
    "dropout" (persuasion in the dropout ledger, after the deadline): the rule of
    ATTEMPT_COUNTED_Q / ATTEMPT_LATE_Q for one attempt already read."""
    if case.persuasion_due is None or attempt.date <= case.persuasion_due:
        return "counted"
    if case.dropout_on is not None and attempt.date >= case.dropout_on:
        return "dropout"
    return "late"


# ---------------------------------------------------------------- deadlines and flags

# 劝返不足: "3 or fewer working days remain with fewer than 3 attempts" (issue 3); the 3
# attempts are the case's own rules, the 3 days of warning are fixed here.
SHORT_WARNING_WORKING_DAYS = 3


class DaysLeft:
    """Working days left until many deadlines, from one read of the calendar (a list page
    must not query per case). `left(due)` raises CalendarMissing like working_days_left."""

    def __init__(self, today: datetime.date, deadlines):
        self.today = today
        self.known = workdays.known_years()
        covered = [d for d in deadlines if d and d > today and self._missing_year(d) is None]
        self.days = workdays.working_days(today + datetime.timedelta(days=1), max(covered)) if covered else []

    def _missing_year(self, due: datetime.date) -> int | None:
        return next((y for y in range(self.today.year, due.year + 1) if y not in self.known), None)

    def left(self, due: datetime.date) -> int:
        if due <= self.today:
            return 0
        year = self._missing_year(due)
        if year is not None:
            raise workdays.CalendarMissing(year)
        return bisect.bisect_right(self.days, due)


@dataclass
class Clock:
    """Where a case stands against its persuasion deadline."""

    attempts: int
    min_attempts: int
    due: datetime.date | None
    days_left: int | None = None  # None: no deadline, or the calendar is missing
    calendar_missing: str = ""  # why the working days left cannot be counted
    overdue: bool = False  # 逾期: past the deadline, still in the 疑似 ledger
    short: bool = False  # 劝返不足

    @property
    def attempts_text(self) -> str:
        return f"{self.attempts}/{self.min_attempts}"


def persuasion_clock(case: Case, *, today: datetime.date, attempts: int, days_left: DaysLeft | None = None) -> Clock:
    """Attempts N/3, working days left, and the flags: 劝返不足 when 3 or fewer working days
    remain with fewer attempts than the rules ask; 逾期 after the deadline. Only a case still in
    the 疑似辍学 ledger runs against the clock (a dropout is past it by definition)."""
    clock = Clock(attempts=attempts, min_attempts=case.rules.min_attempts, due=case.persuasion_due)
    if case.stage == Stage.SUSPECTED_DROPOUT and case.persuasion_due is None:
        # The deadline could not be computed when the case opened.
        clock.calendar_missing = "劝返截止日无法计算：工作日历缺失，请管理员录入该年的放假安排"
    if case.persuasion_due is None or not case.is_open or case.stage != Stage.SUSPECTED_DROPOUT:
        return clock
    try:
        clock.days_left = (days_left.left(case.persuasion_due) if days_left
                           else workdays.working_days_left(today, case.persuasion_due))
    except workdays.CalendarMissing as e:
        clock.calendar_missing = str(e)
        return clock
    clock.overdue = today > case.persuasion_due
    clock.short = clock.days_left <= SHORT_WARNING_WORKING_DAYS and attempts < clock.min_attempts
    return clock


# What `case_flags` may say, in its order, with the words the pages use (the change_pending
# tag adds the change and its dates).
FLAG_LABELS = {
    "late_attempts": "劝返记录晚于截止日",
    "due_unknown": "劝返截止日无法计算（工作日历缺失）",
    "seen_at_school": "辍学后到校：请办理复学？",
    "change_pending": "学籍异动办理中",
    "after_return": "返校后观察期内再次缺勤",
    "persuasion_short": "劝返不足",
    "overdue": "逾期",
}


def case_flags(case: Case, *, today: datetime.date, attempts_in_window: int | None = None,
               late_attempts: int | None = None, clock: Clock | None = None) -> list[str]:
    """What needs attention on a case, a list of FLAG_LABELS keys in that order (a contract of
    `baoxue cases --format json`): late_attempts (an attempt dated after the deadline, before
    the dropout ledger), due_unknown (entered the 疑似 ledger but has no deadline: the calendar
    was missing), seen_at_school (a dropout seen at school again, open case), change_pending
    (学籍异动办理中, open case), after_return (a new run of a student under observation after a
    return: it started at the home-visit step), persuasion_short (劝返不足) and overdue (逾期). Counts not given
    are read (one query); `clock` saves reading the calendar again."""
    if attempts_in_window is None or late_attempts is None:
        counted, late = attempt_counts(case)
        attempts_in_window = counted if attempts_in_window is None else attempts_in_window
        late_attempts = late if late_attempts is None else late_attempts
    if clock is None:
        clock = persuasion_clock(case, today=today, attempts=attempts_in_window)
    flags = []
    if late_attempts:
        flags.append("late_attempts")
    if case.suspected_on is not None and case.persuasion_due is None:
        flags.append("due_unknown")
    if case.seen_at_school_on is not None and case.is_open:
        flags.append("seen_at_school")
    if case.change_pending and case.is_open:
        flags.append("change_pending")
    if case.head_start and case.is_open:
        flags.append("after_return")
    if clock.short:
        flags.append("persuasion_short")
    if clock.overdue:
        flags.append("overdue")
    return flags


def with_clocks(cases, today: datetime.date) -> list[Case]:
    """Attach `.clock` and `.flags` to each case, reading the calendar once. Cases read through
    `with_attempt_counts` take no further query."""
    cases = list(cases)
    days_left = DaysLeft(today, [c.persuasion_due for c in cases if c.is_open])
    for c in cases:
        counted, late = attempt_counts(c)
        c.clock = persuasion_clock(c, today=today, attempts=counted, days_left=days_left)
        c.flags = case_flags(c, today=today, attempts_in_window=counted, late_attempts=late, clock=c.clock)
    return cases


# ---------------------------------------------------------------- inboxes

def task_text(task: Task, today: datetime.date | None = None) -> str:
    """What the rule asks and by when: 第3天：家访或与监护人联系跟进，截止 9月25日."""
    today = today or timezone.localdate()
    day = task.case.rules.contact_day if task.kind == Task.Kind.CONTACT_GUARDIAN else task.case.rules.visit_day
    due = task.due_on
    when = f"{due.month}月{due.day}日" if due.year == today.year else f"{due.year}年{due.month}月{due.day}日"
    return f"第{day}天：{task.get_kind_display()}，截止 {when}"


def my_open_tasks(user) -> QuerySet[Task]:
    """The head teacher's open 13510 steps (also those opened while the class had no head
    teacher assigned), within the user's scope."""
    # A task cancelled by an attendance correction has closed_on set too; the explicit test
    # keeps it out whatever the job does.
    return (Task.objects.filter(done_on__isnull=True, closed_on__isnull=True, cancelled_on__isnull=True,
                                case__is_open=True)
            .filter(Q(assignee=user) | Q(case__student__school_class__head_teacher=user))
            .filter(case__in=cases_for_user(user).values("pk"))
            .select_related("case__student__school_class__grade", "case__rules")
            .order_by("due_on", "id"))


def my_cases(user) -> QuerySet[Case]:
    """Open cases of my class's students, and those I was named persuader of."""
    return (Case.objects.filter(is_open=True)
            .filter(Q(student__school_class__head_teacher=user) | Q(persuaders__user_id=user.pk)).distinct())


def office_schools(user) -> list:
    """Schools whose whole caseload the user runs (the office; admins: every school with cases)."""
    from baoxue.org.models import School

    if is_admin(user):
        return list(School.objects.filter(pk__in=Case.objects.filter(is_open=True).values("school_id")).order_by("code"))
    return [m.school for m in memberships(user) if m.role == Role.OFFICE and m.school_id]


def overview_schools(user) -> list:
    """Schools whose counts the user watches: leaders and the registry clerk their school."""
    return [m.school for m in memberships(user) if m.role in (Role.LEADER, Role.REGISTRAR) and m.school_id]


def term_start_subquery():
    """The start of each case's school's current term (the last one begun by today)."""
    from baoxue.org.models import Term

    return Subquery(Term.objects.filter(school_id=OuterRef("school_id"), start__lte=timezone.localdate())
                    .order_by("-start").values("start")[:1])


def case_counts(cases: QuerySet[Case], today: datetime.date | None = None) -> dict:
    """The counts leaders watch: open suspected and dropout cases, returned this term,
    overdue and 劝返不足."""
    today = today or timezone.localdate()
    open_ = cases.filter(is_open=True)
    by_stage = dict(open_.values_list("stage").annotate(n=Count("pk")))
    returned = (cases.filter(is_open=False, outcome__in=[Outcome.RETURNED, Outcome.RESUMED])
                .annotate(term_start=term_start_subquery()).filter(closed_on__gte=F("term_start")).count())
    running = with_clocks(with_attempt_counts(open_.filter(stage=Stage.SUSPECTED_DROPOUT)
                                              .select_related("rules", "school", "student__school_class__grade")),
                          today)
    return {
        "by_stage": [(value, label, by_stage.get(value, 0)) for value, label in Stage.choices],
        "open": sum(by_stage.values()),
        "suspected": by_stage.get(Stage.SUSPECTED_DROPOUT, 0),
        "dropout": by_stage.get(Stage.DROPOUT, 0),
        "returned": returned,
        "overdue": sum(1 for c in running if c.clock.overdue),
        "short": sum(1 for c in running if c.clock.short),
        "flagged": [c for c in running if c.clock.overdue or c.clock.short],
        "calendar_missing": next((c.clock.calendar_missing for c in running if c.clock.calendar_missing), ""),
    }


def inbox_counts(user) -> dict:
    """A few numbers for the home page: my steps due, my cases, my school's open cases,
    unread reports. Keys with nothing to say are 0; `any` says whether to show the block."""
    if not user.is_authenticated:
        return {"any": False}
    today = timezone.localdate()
    counts = {
        "tasks_due": my_open_tasks(user).filter(due_on__lte=today).count(),
        "my_cases": my_cases(user).count(),
        "school_open": 0, "suspected": 0, "dropout": 0, "overdue": 0, "short": 0,
        "unread_reports": reports_for_user(user).filter(read_at__isnull=True).count(),
    }
    schools = {s.pk for s in office_schools(user) + overview_schools(user)}
    if schools:
        c = case_counts(cases_for_user(user).filter(school_id__in=schools), today)
        counts.update(school_open=c["open"], suspected=c["suspected"], dropout=c["dropout"], overdue=c["overdue"],
                      short=c["short"])
    counts["any"] = has_case_work(user)
    counts["nothing"] = not any(v for k, v in counts.items() if k != "any")
    return counts


# ---------------------------------------------------------------- the roll call's 13510 advice

# How far back the roll call looks for the start of an absentee's run (calendar days).
RUN_LOOKBACK_DAYS = 120


def next_step_text(n: int, rules, *, today: bool) -> str:
    """What the plan asks after the n-th consecutive school day of unexcused absence."""
    if n >= rules.suspect_day:
        return (f"已满{rules.suspect_day}天，纳入疑似辍学学生台账：学校落实专人动员劝返，"
                f"{rules.persuasion_working_days}个工作日内劝返不少于{rules.min_attempts}次")
    if n >= rules.visit_day:
        if n == rules.visit_day:
            return "请家访或与监护人联系跟进（下一个在校日前完成）"
        return f"继续家访跟进；满{rules.suspect_day}天将纳入疑似辍学学生台账"
    if n >= rules.contact_day:
        if n == rules.contact_day:
            return "请今天联系家长了解情况" if today else "请当天联系家长了解情况"
        return f"继续联系家长；第{rules.visit_day}天需家访或与监护人联系跟进"
    return f"第{rules.contact_day}天起需联系家长"


def _month_day_time(at: datetime.datetime) -> str:
    local = timezone.localtime(at)
    return f"{local.month}月{local.day}日 {local:%H:%M}"


def absence_advice(*, school_class, day: datetime.date, today: datetime.date, student_ids) -> dict[int, dict]:
    """For each unexcused absentee of a class's day: the run so far, the next step, and the last
    contact with the guardian recorded on the open case (it stays through corrections)."""
    from baoxue.attendance.selectors import DayBook, run_length
    from baoxue.cases.models import ContactRecord

    school = school_class.school
    ids = list(student_ids)
    window = workdays.school_days(school, day - datetime.timedelta(days=RUN_LOOKBACK_DAYS), day)
    if not ids or not window:
        return {}
    book = DayBook(school, window[0], day, student_ids=ids)
    cases = {c.student_id: c for c in Case.objects.filter(student_id__in=ids, is_open=True).select_related("rules")}
    contacts = {}
    for c in ContactRecord.objects.filter(case__in=cases.values()).order_by("at", "pk"):
        contacts[c.case_id] = c  # the latest
    rules = current_rules(school.county_id)
    out = {}
    for sid in ids:
        n = max(run_length(book, sid, school_class.pk, window), 1)
        case = cases.get(sid)
        if case is not None and case.stage == Stage.DROPOUT:
            step = "已在辍学学生劝返台账中：继续劝返"
        else:
            step = next_step_text(n, case.rules if case else rules, today=day == today)
        contact = contacts.get(case.pk) if case else None
        out[sid] = {
            "days": n, "step": step, "case_id": case.pk if case else None,
            "contact": (f"已联系家长：{_month_day_time(contact.at)} {contact.get_method_display()}，"
                        f"联系到{contact.reached}" + (f"（{contact.result}）" if contact.result else "")) if contact else "",
        }
    return out


def repeated_absence(school, *, today: datetime.date, student_ids=None) -> dict[int, int]:
    """反复缺勤: students on the roll with at least the county's N unexcused days within its last
    M school days up to `today` (default 8 in 20), even when no run reached day 5. A flag for
    the office and the head teacher, not a ledger row. {student_id: days}, in one query."""
    from baoxue.attendance.models import UNEXCUSED, AttendanceRecord
    from baoxue.cases.models import Rules

    rules = (Rules.objects.filter(county_id=school.county_id).order_by("-id").first()
             or Rules(county_id=school.county_id))
    try:
        window = workdays.school_days(school, today - datetime.timedelta(days=rules.repeat_window_days * 3), today)
    except workdays.CalendarMissing:
        return {}
    window = window[-rules.repeat_window_days:]
    if not window:
        return {}
    qs = AttendanceRecord.objects.filter(school=school, date__in=window, mark__in=UNEXCUSED,
                                         student__status="in_school")
    if student_ids is not None:
        qs = qs.filter(student_id__in=list(student_ids))
    rows = qs.values("student_id").annotate(n=Count("id")).filter(n__gte=rules.repeat_absent_days)
    return {r["student_id"]: r["n"] for r in rows}


def under_observation(student_ids, *, today: datetime.date) -> dict[int, tuple[datetime.date, datetime.date]]:
    """返校后观察: students whose suspected-dropout or dropout case closed with a return and whose
    observation (that term and the county's number of terms after it) runs through `today`.
    {student_id: (returned_on, watched_until)}."""
    from baoxue.cases.escalation import Calendar, returned_after_suspicion

    found: dict[int, tuple[datetime.date, datetime.date]] = {}
    calendars: dict[int, Calendar] = {}
    for case in (Case.objects.filter(student_id__in=list(student_ids), is_open=False,
                                     outcome__in=[Outcome.RETURNED, Outcome.RESUMED], suspected_on__isnull=False,
                                     closed_on__lte=today)
                 .select_related("rules", "school").order_by("student_id", "closed_on")):
        if not returned_after_suspicion(case):
            continue
        cal = calendars.setdefault(case.school_id, Calendar(case.school))
        until = cal.observation_end(case.closed_on, case.rules.observation_terms)
        if until >= today:
            found[case.student_id] = (case.closed_on, until)
        else:
            found.pop(case.student_id, None)
    return found
