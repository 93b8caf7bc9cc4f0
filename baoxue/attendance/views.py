"""Pages of attendance: the head teacher's roll call on a phone, the office's roll-call status,
leave, re-classifying an absence, a student's attendance history and the attendance import.

Every read goes through `baoxue.org.selectors` (outside the user's scope is a 404), every write
through `services` or `imports` (which write the audit rows). Views only glue them to templates.
"""

import datetime
import uuid
from collections import Counter, defaultdict
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from baoxue.attendance import imports
from baoxue.attendance.forms import (
    ABSENT_MARKS,
    AttendanceUploadForm,
    ExcuseForm,
    LeaveForm,
    RollCallForm,
)
from baoxue.attendance.models import AT_SCHOOL, UNEXCUSED, AttendanceRecord, FileDay, LeaveRequest, Mark, RollCall
from baoxue.attendance import signals
from baoxue.attendance.services import (
    CORRECTION_SCHOOL_DAYS,
    absence_excuse,
    correctable_days,
    leave_approve,
    roll_call_students,
    roll_call_submit,
)
from baoxue.calendar import workdays
from baoxue.lib import cells, idcard
from baoxue.lib.headers import match_headers
from baoxue.lib.sheets import SheetError, read_table
from baoxue.org import selectors
from baoxue.org.imports import RowProblem
from baoxue.org.models import RegistryStatus, Role, School, SchoolClass, Student, Term
from baoxue.web import apply_service

# The time by which every class should have taken the day's roll call (the plan's default).
# 点名截止时间: classes without a roll call after this show in red on the office's page.
ROLL_CALL_DUE = datetime.time.fromisoformat(settings.ROLL_CALL_DUE)
# Besides a class's head teacher, these roles of the school take and correct roll calls,
# record leave and excuse absences (admins too).
RECORDING_ROLES = (Role.OFFICE, Role.LEADER)


# ---------------------------------------------------------------- access

def _may_record(user, school: School, school_class: SchoolClass | None) -> bool:
    """Roll call, leave and 正当原因 are the class's head teacher's work; the school's office and
    leaders (and admins) may do it for them. The bureau, registry clerks and mentors only read."""
    if selectors.is_admin(user):
        return True
    if school_class is not None and school_class.head_teacher_id == user.pk:
        return True
    return any(m.role in RECORDING_ROLES and m.school_id == school.pk for m in selectors.memberships(user))


def _recording_class(user, pk) -> SchoolClass:
    school_class = selectors.get_class_for_user(user, pk)
    if not _may_record(user, school_class.school, school_class):
        raise Http404("没有找到该班级")
    return school_class


def _recording_student(user, pk) -> Student:
    student = selectors.get_student_for_user(user, pk)
    if not _may_record(user, student.school, student.school_class):
        raise Http404("没有找到该学生")
    return student


def _parse_day(text: str | None) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(text) if text else None
    except ValueError:
        return None


def _short(day: datetime.date) -> str:
    return f"{day.month}月{day.day}日"


# ---------------------------------------------------------------- 13510: what an absence means

def _consequences(user, school_class: SchoolClass, day: datetime.date, today: datetime.date,
                  records: list[AttendanceRecord], on_leave: set[int]) -> list[dict]:
    """For each unexcused absentee of the day: what 13510 says follows (the length of the run,
    the next step, the contact already recorded), as the apps above answer `absence_advice`."""
    unexcused = [r for r in records if r.mark in UNEXCUSED and r.student_id not in on_leave]
    if not unexcused:
        return []
    advice = signals.advice(school_class=school_class, day=day, today=today, student_ids=[r.student_id for r in unexcused])
    when = "今天" if day == today else _short(day)
    out = []
    for r in unexcused:
        a = advice.get(r.student_id, {})
        n = a.get("days", 1)
        out.append({
            "record": r, "student": r.student, "days": n,
            "text": f"{when}无正当原因未到校：{'连续' if n > 1 else ''}第{n}天" + (f"，{a['step']}" if a.get("step") else ""),
            "contact": a.get("contact", ""), "case_id": a.get("case_id"),
            "phone": r.student.phone if selectors.can_see_phone(user, r.student) else "",
        })
    return out


# ---------------------------------------------------------------- roll call (the head teacher's phone)

@never_cache
@login_required
def roll_call(request, class_pk, day: datetime.date | None = None):
    user = request.user
    school_class = _recording_class(user, class_pk)
    school = school_class.school
    today = timezone.localdate()
    if day is None:
        picked = _parse_day(request.GET.get("date"))
        if picked:
            return redirect("roll_call", class_pk=school_class.pk, day=picked)
        day = today
    ctx: dict = {"school_class": school_class, "school": school, "day": day, "today": today,
                 "day_label": workdays.cn_date(day), "correction_days": CORRECTION_SCHOOL_DAYS,
                 "sees_school": selectors.sees_whole_school(user, school)}
    try:
        school_day = workdays.is_school_day(school, day)
        recent = [d for d in correctable_days(school, today) if d <= today]
    except workdays.CalendarMissing as e:
        ctx["calendar_error"] = str(e)
        return render(request, "attendance/roll_call.html", ctx)
    taken_days = set(RollCall.objects.filter(school_class=school_class, date__in=recent).values_list("date", flat=True))
    ctx["recent"] = [{"day": d, "taken": d in taken_days, "label": workdays.cn_date(d)} for d in reversed(recent)]
    ctx.update({"school_day": school_day, "future": day > today})
    if day > today or not school_day:
        return render(request, "attendance/roll_call.html", ctx)
    if day not in recent:
        ctx["refusal"] = (f"只能补点或更正最近 {CORRECTION_SCHOOL_DAYS} 个在校日的点名"
                          f"{'（' + _short(recent[0]) + '起）' if recent else ''}；这一天的考勤只能查看。")
    can_submit = "refusal" not in ctx

    students = list(roll_call_students(school_class))
    off_list = list(Student.objects.filter(school_class=school_class).exclude(status=RegistryStatus.IN_SCHOOL)
                    .order_by("name"))
    seen_initial = set(AttendanceRecord.objects.filter(student__in=off_list, date=day, mark=Mark.PRESENT)
                       .values_list("student_id", flat=True))
    existing = {r.student_id: r for r in AttendanceRecord.objects.filter(student__in=students, date=day)
                .select_related("recorded_by", "student")}
    leaves = {lv.student_id: lv for lv in LeaveRequest.objects.filter(
        student__in=students, start__lte=day, end__gte=day, approved_at__isnull=False)}
    taken = RollCall.objects.filter(school_class=school_class, date=day).select_related("taken_by").first()
    initial = {sid: (r.mark, r.reason) for sid, r in existing.items()}
    if taken is None:
        # Not yet taken: a student on approved leave starts out marked with the leave's kind.
        for sid, lv in leaves.items():
            initial.setdefault(sid, (lv.kind, lv.reason))
    notes = {sid: f"已请{lv.get_kind_display()} {_short(lv.start)}–{_short(lv.end)}" for sid, lv in leaves.items()}
    for sid, text in signals.roll_notes(student_ids=[s.pk for s in students]).items():
        notes[sid] = f"{text}；{notes[sid]}" if sid in notes else text

    if request.method == "POST":
        if not can_submit:
            messages.error(request, ctx["refusal"])
            return redirect("roll_call", class_pk=school_class.pk, day=day)
        form = RollCallForm(request.POST, students=students, initial_marks=initial, notes=notes, off_list=off_list,
                            seen_initial=seen_initial)
        if form.is_valid():
            marks = form.marks()
            try:
                roll_call_submit(actor=user, school_class=school_class, date=day, marks=marks, seen=form.seen())
            except ValidationError as e:
                messages.error(request, "没有提交：" + "；".join(e.messages))
            else:
                counts = Counter(mark for mark, _ in marks.values())
                absent = sum(counts[m] for m in ABSENT_MARKS)
                detail = "、".join(f"{Mark(m).label}{counts[m]}" for m in ABSENT_MARKS if counts[m])
                late_early = sum(counts[m] for m in AT_SCHOOL)
                messages.success(request, f"已提交{school_class}{_short(day)}点名：全班 {len(students)} 人，"
                                          f"到校 {len(students) - absent} 人，缺勤 {absent} 人"
                                          + (f"（{detail}）" if detail else "")
                                          + (f"，迟到/早退 {late_early} 人" if late_early else ""))
                return redirect(reverse("roll_call", kwargs={"class_pk": school_class.pk, "day": day}) + "#result")
        else:
            messages.error(request, "没有提交：请检查标红的学生")
    else:
        form = RollCallForm(students=students, initial_marks=initial, notes=notes, off_list=off_list,
                            seen_initial=seen_initial)

    records = list(existing.values())
    by_mark = Counter(r.mark for r in records)
    ctx.update({
        "form": form, "rows": form.rows(), "students": students, "can_submit": can_submit, "taken": taken,
        "absent_now": form.absent_count(),
        "result": {
            "absent": sum(n for m, n in by_mark.items() if m in ABSENT_MARKS),
            "marks": [(Mark(m).label, by_mark[m]) for m in Mark.values if by_mark[m]],
            "at_school": len(students) - sum(n for m, n in by_mark.items() if m in ABSENT_MARKS),
        } if taken else None,
        "consequences": _consequences(user, school_class, day, today, records, set(leaves)) if taken else [],
        "excused": [r for r in records if r.mark not in UNEXCUSED and r.mark not in AT_SCHOOL] if taken else [],
        "late_early": [r for r in records if r.mark in AT_SCHOOL] if taken else [],
    })
    return render(request, "attendance/roll_call.html", ctx)


# ---------------------------------------------------------------- the office: 今日点名情况

def _missing_roll_calls(school: School, days: list[datetime.date], classes: list[SchoolClass]) -> list[dict]:
    """Recent school days on which classes with students have neither a roll call nor an
    imported file: unknown days for escalation until someone fills them in."""
    if not days:
        return []
    taken = set(RollCall.objects.filter(school=school, date__in=days).values_list("school_class_id", "date"))
    files = set(FileDay.objects.filter(school=school, date__in=days).values_list("date", flat=True))
    out = []
    for d in reversed(days):
        if d in files:
            continue
        missing = [c for c in classes if c.n and (c.pk, d) not in taken]
        if missing:
            out.append({"day": d, "label": workdays.cn_date(d), "classes": missing})
    return out


@never_cache
@login_required
def roll_call_status(request, code):
    user = request.user
    school = selectors.get_school_for_user(user, code)
    if not selectors.sees_whole_school(user, school):
        raise Http404("没有找到该页面")
    today = timezone.localdate()
    now = timezone.localtime()
    day = _parse_day(request.GET.get("date")) or today
    ctx: dict = {"school": school, "day": day, "today": today, "day_label": workdays.cn_date(day),
                 "due": ROLL_CALL_DUE, "can_import": selectors.can_import_for_school(user, school)}
    classes = list(SchoolClass.objects.filter(school=school).select_related("grade", "head_teacher")
                   .annotate(n=Count("students", filter=Q(students__status=RegistryStatus.IN_SCHOOL), distinct=True))
                   .order_by("grade__order", "grade__name", "name"))
    try:
        school_day = workdays.is_school_day(school, day)
        recent = [d for d in correctable_days(school, today) if d <= today]
    except workdays.CalendarMissing as e:
        ctx["calendar_error"] = str(e)
        return render(request, "attendance/roll_call_status.html", ctx)
    for c in classes:
        c.can_record = _may_record(user, school, c)
    overdue = day < today or (day == today and now.time() >= ROLL_CALL_DUE)
    # Today's missing list starts only when the due time has passed.
    missing_days = [d for d in recent if d < today or overdue]
    ctx.update({"school_day": school_day, "overdue": overdue,
                "missing": _missing_roll_calls(school, missing_days, classes)})
    if not school_day:
        return render(request, "attendance/roll_call_status.html", ctx)

    calls = {rc.school_class_id: rc for rc in RollCall.objects.filter(school=school, date=day).select_related("taken_by")}
    file_day = FileDay.objects.filter(school=school, date=day).first()
    per_class: dict[int, Counter] = defaultdict(Counter)
    for class_id, mark, n in (AttendanceRecord.objects.filter(school=school, date=day)
                              .values_list("student__school_class_id", "mark").annotate(n=Count("pk"))):
        per_class[class_id][mark] += n
    rows = []
    for c in classes:
        marks = per_class[c.pk]
        roll = calls.get(c.pk)
        if roll:
            state = "taken"
        elif not c.n:
            state = "empty"
        elif file_day:
            state = "file"
        else:
            state = "missing" if overdue else "pending"
        rows.append({
            "c": c, "roll_call": roll, "state": state,
            "absent": sum(n for m, n in marks.items() if m in ABSENT_MARKS),
            "unexcused": sum(n for m, n in marks.items() if m in UNEXCUSED),
            "late_early": sum(n for m, n in marks.items() if m in AT_SCHOOL),
        })
    states = Counter(r["state"] for r in rows)
    ctx.update({
        "rows": rows, "file_day": file_day,
        "counts": {"classes": sum(1 for r in rows if r["state"] != "empty"), "taken": states["taken"],
                   "not_taken": states["missing"] + states["pending"], "file": states["file"],
                   "absent": sum(r["absent"] for r in rows), "unexcused": sum(r["unexcused"] for r in rows)},
    })
    return render(request, "attendance/roll_call_status.html", ctx)


# ---------------------------------------------------------------- leave and 正当原因

@never_cache
@login_required
def leave_new(request, pk):
    user = request.user
    student = _recording_student(user, pk)
    today = timezone.localdate()
    form = LeaveForm(request.POST or None, initial={"start": today, "end": today})
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        if apply_service(form, lambda: leave_approve(actor=user, student=student, kind=d["kind"], start=d["start"],
                                              end=d["end"], reason=d["reason"])):
            messages.success(request, f"已记录 {student.name} {LeaveRequest.Kind(d['kind']).label}："
                                      f"{_short(d['start'])}–{_short(d['end'])}，这些天按请假（正当原因）计")
            return redirect("attendance_leave", pk=student.pk)
    leaves = student.leave_requests.select_related("approved_by").order_by("-start", "-pk")
    return render(request, "attendance/leave_form.html", {"student": student, "form": form, "leaves": leaves})


def _safe_next(request, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return target
    return default


@never_cache
@login_required
def record_excuse(request, pk):
    user = request.user
    record = (AttendanceRecord.objects.filter(pk=pk, student__in=selectors.students_for_user(user))
              .select_related("student__school", "student__school_class__grade", "recorded_by").first())
    if record is None or not _may_record(user, record.student.school, record.student.school_class):
        raise Http404("没有找到该考勤记录")
    back = _safe_next(request, reverse("attendance_history", args=[record.student_id]))
    if record.mark not in UNEXCUSED:
        messages.info(request, f"这条记录是“{record.get_mark_display()}”，不是无正当原因缺勤，无需更改")
        return redirect(back)
    form = ExcuseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        old = record.get_mark_display()
        if apply_service(form, lambda: absence_excuse(actor=user, record=record, mark=d["mark"], reason=d["reason"])):
            messages.success(request, f"已将 {record.student.name} {_short(record.date)} 的“{old}”改为"
                                      f"“{Mark(d['mark']).label}”（正当原因），连续缺勤就此中断")
            return redirect(back)
    return render(request, "attendance/excuse_form.html", {
        "record": record, "student": record.student, "form": form, "next": back,
        "day_label": workdays.cn_date(record.date),
    })


# ---------------------------------------------------------------- a student's attendance history

def _term_for(school: School, today: datetime.date, pk: str | None) -> tuple[Term | None, list[Term]]:
    terms = list(Term.objects.filter(school=school).order_by("-start"))
    if pk:
        chosen = next((t for t in terms if str(t.pk) == pk), None)
        if chosen:
            return chosen, terms
    current = (next((t for t in terms if t.start <= today <= t.end), None)
               or next((t for t in terms if t.start <= today), None)
               or (terms[-1] if terms else None))
    return current, terms


@never_cache
@login_required
def student_attendance(request, pk):
    user = request.user
    student = selectors.get_student_for_user(user, pk)
    today = timezone.localdate()
    term, terms = _term_for(student.school, today, request.GET.get("term"))
    records = student.attendance.select_related("recorded_by").order_by("-date")
    leaves = student.leave_requests.select_related("approved_by").order_by("-start", "-pk")
    if term:
        records = records.filter(date__gte=term.start, date__lte=term.end)
        leaves = leaves.filter(start__lte=term.end, end__gte=term.start)
    records = list(records)
    by_mark = Counter(r.mark for r in records)
    case = signals.open_case(student=student)
    return render(request, "attendance/student_attendance.html", {
        "student": student, "term": term, "terms": terms, "records": records, "leaves": list(leaves),
        "counts": [(Mark(m).label, by_mark[m], m in UNEXCUSED) for m in Mark.values],
        "can_record": _may_record(user, student.school, student.school_class), "case": case,
        "unexcused": set(UNEXCUSED),
    })


# ---------------------------------------------------------------- import: upload → preview → confirm

SESSION_KEY = "attendance_imports"


def _import_schools(user) -> list[School]:
    schools = [s for s in selectors.schools_for_user(user).order_by("code") if selectors.can_import_for_school(user, s)]
    if not schools:
        raise Http404("没有找到该页面")
    return schools


def _import_dir() -> Path:
    path = Path(settings.MEDIA_ROOT) / "attendance_imports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _stored(request, token: uuid.UUID) -> tuple[Path, str, str]:
    """The stored upload of this session's token, its original file name and what it covers."""
    entry = request.session.get(SESSION_KEY, {}).get(token.hex)
    if not entry:
        raise Http404("没有找到这次上传")
    return (_import_dir() / f"{token.hex}{entry['ext']}", entry["filename"],
            entry.get("covers", imports.LISTED_CLASSES))


def _forget(request, token: uuid.UUID) -> None:
    uploads = request.session.get(SESSION_KEY, {})
    uploads.pop(token.hex, None)
    request.session[SESSION_KEY] = uploads


def _outside(path: Path, filename: str, schools: list[School]) -> list[RowProblem]:
    """Rows about students of other schools. `import_attendance` looks students up county-wide;
    a school's office may write only its own. Reported like an unknown student, so that the
    page does not confirm that a number belongs to another school."""
    try:
        table = read_table(str(path), filename)
    except SheetError:
        return []  # the import reports it
    columns, _ = match_headers(table.headers, imports.HEADERS)
    col = {k: i for i, k in columns.items()}
    keyed = []
    for number, row in table.rows:
        for key in ("registry_no", "id_number"):
            if key not in col:
                continue
            try:
                value = idcard.normalise_id(cells.identifier(row[col[key]]) or "")
            except cells.CellError:
                value = ""
            if value:
                keyed.append((number, key, value))
                break
    regs = {v for _, k, v in keyed if k == "registry_no"}
    ids = {v for _, k, v in keyed if k == "id_number"}
    allowed = {s.pk for s in schools}
    school_of = dict(Student.objects.filter(registry_no__in=regs).values_list("registry_no", "school_id"))
    school_by_id = dict(Student.objects.filter(id_number__in=ids).values_list("id_number", "school_id"))
    problems = []
    for number, key, value in keyed:
        school_id = (school_of if key == "registry_no" else school_by_id).get(value)
        if school_id is not None and school_id not in allowed:
            problems.append(RowProblem(number, table.headers[col[key]],
                                       f"没有找到学生 {value}：请核对号码，或先导入学生名册"))
    return problems


def _check(path: Path, filename: str, schools, user, *, covers: str, dry_run: bool):
    outside = _outside(path, filename, schools)
    report = imports.import_attendance(actor=user, source=str(path), filename=filename, covers=covers,
                                       dry_run=dry_run or bool(outside))
    report.problems = sorted(report.problems + outside, key=lambda p: (p.row or 0, p.column))
    return report


@never_cache
@login_required
def import_upload(request):
    user = request.user
    schools = _import_schools(user)
    form = AttendanceUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        filename = Path(upload.name.replace("\\", "/")).name
        token = uuid.uuid4()
        ext = Path(filename).suffix.lower()
        with (_import_dir() / f"{token.hex}{ext}").open("wb") as out:
            for chunk in upload.chunks():
                out.write(chunk)
        uploads = request.session.get(SESSION_KEY, {})
        uploads[token.hex] = {"filename": filename, "ext": ext, "covers": form.cleaned_data["covers"]}
        request.session[SESSION_KEY] = uploads
        return redirect("attendance_import_preview", token=token)
    return render(request, "attendance/import_upload.html", {"form": form, "schools": schools})


@never_cache
@login_required
def import_preview(request, token):
    user = request.user
    schools = _import_schools(user)
    path, filename, covers = _stored(request, token)
    if not path.is_file():
        _forget(request, token)
        raise Http404("文件已不存在")
    report = _check(path, filename, schools, user, covers=covers, dry_run=True)
    return render(request, "attendance/import_preview.html", {
        "token": token, "report": report, "schools": schools,
        "dates": [workdays.cn_date(d, weekday=False) for d in report.dates],
    })


@login_required
@require_POST
def import_confirm(request, token):
    user = request.user
    schools = _import_schools(user)
    path, filename, covers = _stored(request, token)
    # Claim the file by renaming it, so that a double click cannot import it twice.
    claimed = path.with_name(path.stem + ".importing" + path.suffix)
    try:
        path.rename(claimed)
    except FileNotFoundError:
        messages.info(request, "这个文件已经导入或已取消")
        return redirect("attendance_import")
    report = _check(claimed, filename, schools, user, covers=covers, dry_run=False)
    if not report.committed:
        claimed.rename(path)
        messages.error(request, "未导入：确认时发现问题，请查看下面的最新检查结果")
        return redirect("attendance_import_preview", token=token)
    # The upload holds personal data; what it said is now in the records and the audit trail.
    claimed.unlink(missing_ok=True)
    _forget(request, token)
    skipped = f"，跳过不是在校日的 {len(report.skipped)} 行" if report.skipped else ""
    messages.success(request, f"已导入 {filename}：{len(report.dates)} 天，缺勤/迟到/早退记录 {report.records} 条，"
                              f"出勤 {report.present} 行{skipped}")
    return redirect("attendance_import")


@login_required
@require_POST
def import_cancel(request, token):
    _import_schools(request.user)
    path, filename, _ = _stored(request, token)
    path.unlink(missing_ok=True)
    _forget(request, token)
    messages.info(request, f"已取消导入 {filename}")
    return redirect("attendance_import")
