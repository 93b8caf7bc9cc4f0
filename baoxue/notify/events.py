"""What each event says, and to whom: the texts of the notifications and their outbox rows.

Texts carry the student's name and class label, what to do by when, and a link into the system
(the case, the roll call, the application). Never an ID number, a phone number, or a reason of
an absence (the case's reasons, a leave's reason, an illness): who needs those opens the link
and signs in, and the page shows what that person may see.

Each function reads its rows in one query for the whole list and writes nothing when no
channel could take the messages. Keys make every function idempotent: running it twice for the
same facts writes nothing new.
"""

import datetime

from django.conf import settings
from django.db.models import Count, Q
from django.urls import reverse

from baoxue.calendar import workdays
from baoxue.notify.models import Audience
from baoxue.notify.services import active_channels, enqueue_many, site_link

# A 13510 step opened longer ago than this (a back-fill of a past term) is not announced; one
# opened in the last days is, even when its due day has passed (the scheduler catching up after
# the server was down: the head teacher still has to act).
RECENT_TASK_DAYS = 3
# A case that entered the 疑似辍学 ledger longer ago than this (a back-fill of a past term)
# is not announced: the ledgers show it, a chat message about it would be noise.
RECENT_SUSPECTED_DAYS = 7
# Likewise for dropout reports.
RECENT_REPORT_DAYS = 30


def md(day: datetime.date, today: datetime.date | None = None) -> str:
    """9月25日 (with the year when it is not this year's)."""
    if today is not None and day.year != today.year:
        return f"{day.year}年{day.month}月{day.day}日"
    return f"{day.month}月{day.day}日"


def _channels_for(county_ids) -> dict:
    return active_channels(set(county_ids)) if county_ids else {}


# ---------------------------------------------------------------- 13510 events (inside their transaction)

def tasks_opened(tasks, *, today: datetime.date) -> int:
    """第1天联系家长, 第3天家访跟进 → the head teacher's channel. Only steps still to do, opened in
    the last RECENT_TASK_DAYS days, on an open case (a back-fill of a past term announces nothing)."""
    from baoxue.cases.models import Task
    from baoxue.cases.selectors import task_text

    channels = _channels_for({t.county_id for t in tasks})
    if not channels:
        return 0
    since = today - datetime.timedelta(days=RECENT_TASK_DAYS)
    rows = (Task.objects.filter(pk__in=[t.pk for t in tasks], opened_on__gte=since, done_on__isnull=True,
                                closed_on__isnull=True, cancelled_on__isnull=True, case__is_open=True)
            .select_related("case__rules", "case__student__school_class__grade"))
    items = []
    for task in rows:
        student = task.case.student
        contact = task.kind == Task.Kind.CONTACT_GUARDIAN
        items.append(dict(
            county_id=task.county_id, school_id=task.school_id, audience=Audience.HEAD_TEACHER,
            school_class_id=student.school_class_id, key=f"task:{task.pk}",
            title=f"{'联系家长' if contact else '家访跟进'}：{student.name}（{student.class_label}）",
            text=(f"{student.name}（{student.class_label}）已连续 {task.case.unexcused_days} 个在校日无正当原因未到校。\n"
                  f"{task_text(task, today)}。\n"
                  f"完成后请在系统中记录{'联系家长的情况' if contact else '家访或跟进的情况'}。"),
            link=site_link(reverse("case_detail", args=[task.case_id]))))
    return enqueue_many(items, channels=channels)


def cases_suspected(cases, *, today: datetime.date) -> int:
    """A case entered the 疑似辍学学生台账 → the school's office."""
    from baoxue.cases.models import Case

    channels = _channels_for({c.county_id for c in cases})
    if not channels:
        return 0
    since = today - datetime.timedelta(days=RECENT_SUSPECTED_DAYS)
    rows = (Case.objects.filter(pk__in=[c.pk for c in cases], is_open=True, suspected_on__gte=since)
            .select_related("rules", "student__school_class__grade"))
    items = []
    for case in rows:
        student, rules = case.student, case.rules
        due = (f"{md(case.persuasion_due, today)}前（{rules.persuasion_working_days}个工作日内）"
               if case.persuasion_due else f"{rules.persuasion_working_days}个工作日内")
        items.append(dict(
            county_id=case.county_id, school_id=case.school_id, audience=Audience.OFFICE,
            school_class_id=student.school_class_id, key=f"suspected:{case.pk}",
            title=f"疑似辍学：{student.name}（{student.class_label}）",
            text=(f"{student.name}（{student.class_label}）已连续 {case.unexcused_days} 个在校日无正当原因未到校，"
                  f"{md(case.suspected_on, today)}纳入疑似辍学学生台账。\n"
                  f"请落实专人动员劝返：{due}劝返不少于 {rules.min_attempts} 次，每次在系统中记录。"),
            link=site_link(reverse("case_detail", args=[case.pk]))))
    return enqueue_many(items, channels=channels)


def reports_made(reports, *, today: datetime.date) -> int:
    """A dropout reported to the township of residence and to the county bureau → their channels."""
    from baoxue.cases.models import Report

    channels = _channels_for({r.county_id for r in reports})
    if not channels:
        return 0
    since = today - datetime.timedelta(days=RECENT_REPORT_DAYS)
    rows = (Report.objects.filter(pk__in=[r.pk for r in reports], case__is_open=True, read_at__isnull=True,
                                  sent_on__gte=since)
            .select_related("township", "case__school", "case__student__school_class__grade"))
    items = []
    for report in rows:
        case, student = report.case, report.case.student
        to_township = report.recipient == Report.Recipient.TOWNSHIP
        who = f"{report.township}人民政府" if to_township and report.township else "县教体局"
        items.append(dict(
            county_id=report.county_id, school_id=case.school_id,
            audience=Audience.TOWNSHIP if to_township else Audience.COUNTY,
            township_id=report.township_id if to_township else None, school_class_id=student.school_class_id,
            key=f"report:{report.pk}",
            title=f"辍学报告：{student.name}（{case.school.name} {student.class_label}）",
            text=(f"{case.school.name} {student.class_label} 学生 {student.name} 已纳入辍学学生劝返台账，"
                  f"学校于 {md(report.sent_on, today)}报告{who}。\n"
                  f"请登录系统查阅报告，{'配合学校做好劝返复学工作' if to_township else '督促学校和乡镇做好劝返复学工作'}。"),
            link=site_link(reverse("cases_inbox") if to_township else reverse("case_detail", args=[case.pk])),
        ))
    return enqueue_many(items, channels=channels)


# ---------------------------------------------------------------- the daily scans

def persuasion_flags(channels: dict, *, day: datetime.date) -> dict:
    """劝返不足 (3 or fewer working days left, fewer attempts than the rules ask) and 逾期 → the
    office. 劝返不足 once for each working day of the countdown, 逾期 once per deadline."""
    from baoxue.cases.models import Case, Stage
    from baoxue.cases.selectors import with_attempt_counts, with_clocks

    short, overdue = [], []
    qs = (Case.objects.filter(county_id__in=list(channels), is_open=True, stage=Stage.SUSPECTED_DROPOUT,
                              persuasion_due__isnull=False)
          .select_related("rules", "student__school_class__grade"))
    for case in with_clocks(with_attempt_counts(qs), day):
        clock, student = case.clock, case.student
        common = dict(county_id=case.county_id, school_id=case.school_id, audience=Audience.OFFICE,
                      school_class_id=student.school_class_id, link=site_link(reverse("case_detail", args=[case.pk])))
        if clock.overdue:
            overdue.append(dict(
                key=f"overdue:{case.pk}:{case.persuasion_due}",
                title=f"劝返逾期：{student.name}（{student.class_label}）",
                text=(f"{student.name}（{student.class_label}）的劝返截止日 {md(case.persuasion_due, day)}已过，"
                      f"仍在疑似辍学学生台账，劝返 {clock.attempts_text} 次。\n"
                      f"请核实该生是否已返校，并在系统中处理（返校销账，或按规定纳入辍学学生劝返台账）。"),
                **common))
        elif clock.short:
            left = "今天截止" if clock.days_left == 0 else f"还剩 {clock.days_left} 个工作日"
            short.append(dict(
                key=f"short:{case.pk}:{case.persuasion_due}:{clock.days_left}",
                title=f"劝返不足：{student.name}（{student.class_label}）",
                text=(f"{student.name}（{student.class_label}）劝返 {clock.attempts_text} 次，"
                      f"距劝返截止日 {md(case.persuasion_due, day)}{left}。\n"
                      f"请尽快安排劝返（截止前不少于 {clock.min_attempts} 次），并在系统中记录。"),
                **common))
    return {"short": enqueue_many(short, channels=channels), "overdue": enqueue_many(overdue, channels=channels)}


def roll_calls_missing(channels: dict, *, day: datetime.date, now: datetime.datetime) -> dict:
    """Classes that have not taken the day's roll call by ROLL_CALL_DUE, on the school's school
    days: a message per class to the head teacher, one per school to the office. A constant
    number of queries whatever the number of schools (the scheduler runs it every minute)."""
    from django.utils import timezone

    from baoxue.attendance.models import FileDay, RollCall
    from baoxue.org.models import RegistryStatus, School, SchoolClass

    out = {"rollcall": 0, "warnings": []}
    due = datetime.time.fromisoformat(settings.ROLL_CALL_DUE)
    local = timezone.localtime(now)
    if day > local.date() or (day == local.date() and local.time() < due):
        return out  # not due yet
    schools = list(School.objects.filter(county_id__in=list(channels)))
    try:
        open_ids = workdays.schools_in_session(schools, day)
    except workdays.CalendarMissing as e:
        out["warnings"].append(str(e))
        return out
    if not open_ids:
        return out
    taken = set(RollCall.objects.filter(school_id__in=open_ids, date=day).values_list("school_class_id", flat=True))
    files = list(FileDay.objects.filter(school_id__in=open_ids, date=day).values_list("school_id", "school_class_id"))
    whole_school = {s for s, c in files if c is None}
    taken |= {c for _, c in files if c is not None}
    classes = (SchoolClass.objects.filter(school_id__in=open_ids)
               .exclude(pk__in=taken).exclude(school_id__in=whole_school)
               .annotate(n=Count("students", filter=Q(students__status=RegistryStatus.IN_SCHOOL)))
               .filter(n__gt=0).select_related("grade", "school", "head_teacher")
               .order_by("school__code", "grade__order", "grade__name", "name"))
    by_school: dict = {}
    items = []
    when = f"{md(day)}（应在 {due:%H:%M} 前完成）"
    for c in classes:
        by_school.setdefault(c.school, []).append(c)
        items.append(dict(
            county_id=c.school.county_id, school_id=c.school_id, audience=Audience.HEAD_TEACHER, school_class_id=c.pk,
            key=f"rollcall:{c.pk}:{day}", title=f"未点名：{c}（{c.school.name}）",
            text=f"{c} {when}的点名还没有提交。请打开系统点名：全班到齐也要提交一次。",
            link=site_link(reverse("roll_call", args=[c.pk, day]))))
    for school, missing in by_school.items():
        names = "、".join(f"{c}（{c.head_teacher.get_full_name() or c.head_teacher.get_username()}）"
                         if c.head_teacher else f"{c}（未设班主任）" for c in missing)
        items.append(dict(
            county_id=school.county_id, school_id=school.pk, audience=Audience.OFFICE, key=f"rollcalls:{school.pk}:{day}",
            title=f"未点名班级：{school.name} {len(missing)} 个班",
            text=f"{when}尚未点名的班级：{names}。请提醒班主任点名。",
            link=site_link(reverse("roll_call_status", args=[school.code]) + f"?date={day.isoformat()}")))
    out["rollcall"] = enqueue_many(items, channels=channels)
    return out


SUSPENSION_HEADS = {"expired": "休学期满未复学", "review": "残联复评", "ending": "休学即将期满"}


def suspension_reminders(channels: dict, *, day: datetime.date) -> dict:
    """Suspensions ending soon, 残联 reviews due, suspensions ended without 复学 → the registry
    clerk and the head teacher, once each (the key carries the date it is about)."""
    from baoxue.registry.models import Application
    from baoxue.registry.suspensions import reminders

    items = []
    for row in reminders(Application.objects.filter(county_id__in=list(channels)), day):
        app, student = row["app"], row["app"].student
        for audience in (Audience.REGISTRAR, Audience.HEAD_TEACHER):
            items.append(dict(
                county_id=app.county_id, school_id=app.school_id, audience=audience,
                school_class_id=student.school_class_id, key=f"ending:{app.pk}:{row['kind']}:{row['on']}",
                title=f"{SUSPENSION_HEADS.get(row['kind'], '休学提醒')}：{student.name}（{student.class_label}）",
                text=f"{student.name}（{student.class_label}）：{row['text']}。",
                link=site_link(reverse("suspension_detail", args=[app.pk]))))
    return {"ending": enqueue_many(items, channels=channels)}
