"""现场核查 (plan §1): at term start the office opens a check; each head teacher confirms each
student of the class on a phone — 在校, 未到校 (with reason), 不在本班 (where) — and adds the
students present but not on the list.

学校政教处依据学籍及在校生名册对实际在校学生进行现场核查，做到“底数清、情况明”。

The results feed the registry reconciliation (`reconcile.latest_onsite`), and a confirmed 未到校
without a valid reason starts the 13510 flow: it is written into attendance as 原因不明 on the
check's date, and the daily job (`baoxue escalate`) takes it from there.

Services (writes) and reads of the on-site check live here; who may do what is decided by the
`may_*` and `get_*_for_user` helpers below, which the views call.
"""

import datetime
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Max, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from baoxue.attendance.models import UNEXCUSED, AttendanceRecord, Mark, RollCall
from baoxue.attendance.services import not_listed_students, roll_call_students
from baoxue.audit.models import Action, AuditEntry
from baoxue.audit.services import audit_record
from baoxue.calendar import workdays
from baoxue.cases import replay
from baoxue.lib import idcard
from baoxue.org import selectors
from baoxue.org.models import RegistryStatus, Role, School, SchoolClass, Term
from baoxue.registry.models import OnsiteCheck, OnsiteEntry, OnsiteResult

# What the head teacher picks for a listed student (ADDED is for people typed in).
CONFIRM_RESULTS = (OnsiteResult.PRESENT, OnsiteResult.ABSENT, OnsiteResult.NOT_IN_CLASS)
# An absence the on-site check wrote into attendance carries this prefix, so that a corrected
# confirmation can take back its own records and leave the head teacher's roll call alone.
ATTENDANCE_PREFIX = "现场核查："
# Who opens and closes a check (besides admins).
RUNNING_ROLES = (Role.OFFICE, Role.LEADER)
# Who may confirm a class for its head teacher (besides admins).
CONFIRMING_ROLES = (Role.OFFICE,)


# ---------------------------------------------------------------- access

def may_run(user, school: School) -> bool:
    """Opening and closing a check is the office's and the leaders' work."""
    if selectors.is_admin(user):
        return True
    return any(m.role in RUNNING_ROLES and m.school_id == school.pk for m in selectors.memberships(user))


def may_confirm(user, school_class: SchoolClass) -> bool:
    """The class's head teacher confirms it; the office may do it for them."""
    if selectors.is_admin(user) or school_class.head_teacher_id == user.pk:
        return True
    return any(m.role in CONFIRMING_ROLES and m.school_id == school_class.school_id
               for m in selectors.memberships(user))


def checks_for_user(user) -> QuerySet[OnsiteCheck]:
    """Checks of the schools the user sees whole, and of the schools where they head a class."""
    if not user.is_authenticated:
        return OnsiteCheck.objects.none()
    if selectors.is_admin(user):
        return OnsiteCheck.objects.all()
    q = Q(school__classes__head_teacher=user)
    for m in selectors.memberships(user):
        if m.role == Role.COUNTY:
            q |= Q(county_id=m.county_id)
        elif m.role in selectors.WHOLE_SCHOOL_ROLES:
            q |= Q(school_id=m.school_id)
    return OnsiteCheck.objects.filter(q).distinct()


def get_check_for_user(user, pk) -> OnsiteCheck:
    try:
        return checks_for_user(user).select_related("school", "term", "opened_by").get(pk=pk)
    except (OnsiteCheck.DoesNotExist, ValueError):
        raise Http404("没有找到该现场核查")


def get_check_class_for_user(user, check: OnsiteCheck, class_pk) -> SchoolClass:
    """A class of the check's school that the user may confirm, or see as the school's staff.
    Head teachers see only their own classes (anything else is a 404)."""
    school_class = selectors.get_class_for_user(user, class_pk)
    if school_class.school_id != check.school_id:
        raise Http404("没有找到该班级")
    if not (may_confirm(user, school_class) or selectors.sees_whole_school(user, check.school)):
        raise Http404("没有找到该班级")
    return school_class


def open_check(school: School) -> OnsiteCheck | None:
    return OnsiteCheck.objects.filter(school=school, closed_on__isnull=True).select_related("term").first()


# ---------------------------------------------------------------- services

@transaction.atomic
def onsite_open(*, actor, school: School, term: Term, date: datetime.date) -> OnsiteCheck:
    """开学初，政教处组织现场核查: one open check per school at a time (the database holds
    the rule too); its date is a school day of the term."""
    if term.school_id != school.pk:
        raise ValidationError({"term": "学期不属于该学校"})
    if not term.start <= date <= term.end:
        raise ValidationError({"date": f"核查日期应在学期 {term.name}（{term.start}–{term.end}）之内"})
    try:
        school_day = workdays.is_school_day(school, date)
    except workdays.CalendarMissing as e:
        raise ValidationError({"date": str(e)})
    if not school_day:
        raise ValidationError({"date": f"{workdays.cn_date(date)} 不是本校在校日：现场核查要在学生到校的日子进行"})
    current = open_check(school)
    if current is not None:
        raise ValidationError(f"{school.name}已有进行中的现场核查（{workdays.cn_date(current.date, weekday=False)}），"
                              f"请先结束它再开始新的核查")
    user = actor if getattr(actor, "is_authenticated", False) else None
    try:
        with transaction.atomic():
            check = OnsiteCheck.objects.create(county_id=school.county_id, school=school, term=term, date=date,
                                               opened_by=user)
    except IntegrityError:
        # Someone opened one a moment ago: the unique constraint on open checks said no.
        raise ValidationError(f"{school.name}已有进行中的现场核查，请先结束它再开始新的核查")
    audit_record(actor=actor, action=Action.CREATE, obj=check, changes={"date": [None, date], "term": [None, term]},
                 note="开始现场核查")
    return check


@dataclass
class Confirmation:
    """What a class confirmation did: its entries, and the absences it wrote into attendance."""

    entries: list[OnsiteEntry]
    recorded: list[int] = field(default_factory=list)  # students now 原因不明 on the check's date
    withdrawn: list[int] = field(default_factory=list)  # earlier 现场核查 absences taken back
    attendance_note: str = ""  # why nothing went into attendance, when that is the case

    def count(self, result: str) -> int:
        return sum(1 for e in self.entries if e.result == result)

    @property
    def unexcused(self) -> int:
        return sum(1 for e in self.entries if e.result == OnsiteResult.ABSENT and not e.valid_reason)


@transaction.atomic
def onsite_confirm_class(*, actor, check: OnsiteCheck, school_class: SchoolClass,
                         results: dict[int, tuple[str, str, bool]],
                         added: list[tuple[str, str, str]]) -> Confirmation:
    """The head teacher confirms the class: every in-school student gets an entry, 在校 unless
    `results` says 未到校 or 不在本班 (with the reason or where); `added` are the people present
    but not on the list (name, resident ID number or empty, note). Re-confirming replaces the
    class's entries.

    确认“未到校”且无正当原因的学生，启动13510机制: recorded as 原因不明 on the check's date.

    Errors are keyed by the row they belong to — r_<student id> (the reason), a_name_<i> and
    a_id_<i> (the i-th added person) — so that a form can show each at its row."""
    check = OnsiteCheck.objects.select_for_update().select_related("school").get(pk=check.pk)
    school = check.school
    if check.closed_on is not None:
        raise ValidationError(f"本次现场核查已于{workdays.cn_date(check.closed_on, weekday=False)}结束，不能再确认或修改")
    if school_class.school_id != school.pk:
        raise ValidationError("该班级不属于本次核查的学校")
    if check.date > timezone.localdate():
        raise ValidationError(f"核查日期是{workdays.cn_date(check.date)}，当天起才能确认")

    students = {s.pk: s for s in roll_call_students(school_class)}
    if set(results) - set(students):
        raise ValidationError("名单中有不属于本班（或已不在校）的学生")
    errors: dict[str, str] = {}
    clean: dict[int, tuple[str, str, bool]] = {}
    for sid in students:
        result, reason, valid = results.get(sid, (OnsiteResult.PRESENT, "", False))
        reason = (reason or "").strip()
        if result not in CONFIRM_RESULTS:
            raise ValidationError(f"核查结果“{result}”无法识别")
        if result == OnsiteResult.PRESENT:
            reason, valid = "", False
        elif result == OnsiteResult.NOT_IN_CLASS:
            valid = False
            if not reason:
                errors[f"r_{sid}"] = f"{students[sid].name}：请写明去向（在哪个班或在哪里）"
        elif valid and not reason:
            errors[f"r_{sid}"] = f"{students[sid].name}：有正当原因时请写明原因"
        clean[sid] = (result, reason[:200], bool(valid))

    listed_ids = {s.id_number for s in students.values() if s.id_number}
    people: list[tuple[str, str, str]] = []
    seen: dict[str, int] = {}
    for i, (name, id_number, note) in enumerate(added):
        name, note = (name or "").strip(), (note or "").strip()
        id_number = idcard.normalise_id(id_number or "")
        if not name:
            errors[f"a_name_{i}"] = f"添加的第{i + 1}人：请填写姓名"
        if id_number:
            try:
                idcard.parse_resident_id(id_number)
            except idcard.IdNumberError as e:
                errors[f"a_id_{i}"] = f"添加的第{i + 1}人（{name or '未填姓名'}）：{e}"
            else:
                if id_number in listed_ids:
                    errors[f"a_id_{i}"] = f"添加的第{i + 1}人（{name}）已在本班名单上，请在名单中确认"
                elif id_number in seen:
                    errors[f"a_id_{i}"] = f"添加的第{i + 1}人与第{seen[id_number] + 1}人身份证件号相同"
                seen.setdefault(id_number, i)
        people.append((name[:50], id_number, note[:200]))
    if errors:
        raise ValidationError(errors)

    user = actor if getattr(actor, "is_authenticated", False) else None
    old = list(OnsiteEntry.objects.filter(check_run=check, school_class=school_class))
    old_by_student = {e.student_id: e for e in old if e.student_id}
    OnsiteEntry.objects.filter(check_run=check, school_class=school_class).delete()
    scope = {"check_run": check, "county_id": school.county_id, "school": school, "school_class": school_class,
             "confirmed_by": user}
    entries = OnsiteEntry.objects.bulk_create(
        [OnsiteEntry(student_id=sid, result=r, reason=reason, valid_reason=valid, **scope)
         for sid, (r, reason, valid) in clean.items()]
        + [OnsiteEntry(result=OnsiteResult.ADDED, name=name, id_number=id_number, reason=note, **scope)
           for name, id_number, note in people])

    # Each listed student whose result changed gets a line in their own history.
    audits = []
    for sid, (r, reason, valid) in clean.items():
        before = old_by_student.get(sid)
        if before is not None and (before.result, before.reason, before.valid_reason) == (r, reason, valid):
            continue
        if before is None and r == OnsiteResult.PRESENT:
            continue
        audits.append(AuditEntry(
            actor=user, actor_label="" if user else "系统", action=Action.UPDATE if before else Action.CREATE,
            object_type="onsiteentry", object_repr=f"{students[sid].name} {check.date} 现场核查",
            county_id=school.county_id, school_id=school.pk, student_id=sid,
            changes={"result": [OnsiteResult(before.result).label if before else None, OnsiteResult(r).label]},
            note=(reason + ("（有正当原因）" if valid else ""))[:300],
        ))
    AuditEntry.objects.bulk_create(audits)

    confirmation = Confirmation(entries=entries)
    _absences_to_attendance(actor=user, check=check, school_class=school_class, students=students, clean=clean,
                            confirmation=confirmation)

    before_counts = Counter(e.result for e in old)
    after_counts = Counter(e.result for e in entries)
    changes = {OnsiteResult(r).label: [before_counts[r] if old else None, after_counts[r]] for r in OnsiteResult.values
               if before_counts[r] != after_counts[r] or not old}
    absent = [f"{students[sid].name}（{reason or '原因不明'}）" for sid, (r, reason, _) in clean.items()
              if r == OnsiteResult.ABSENT]
    audit_record(actor=actor, action=Action.UPDATE if old else Action.CREATE, obj=check,
                 object_repr=f"{school_class} {check.date} 现场核查", changes=changes,
                 note=(f"{'重新确认' if old else '确认'}{school_class}：全班 {len(students)} 人"
                       + (f"；未到校：{'、'.join(absent)}" if absent else "")
                       + (f"；记入考勤（原因不明）{len(confirmation.recorded)} 人" if confirmation.recorded else "")))
    return confirmation


def _absences_to_attendance(*, actor, check: OnsiteCheck, school_class: SchoolClass, students: dict,
                            clean: dict[int, tuple[str, str, bool]], confirmation: Confirmation) -> None:
    """未到校 without a valid reason → 原因不明 on the check's date, unless the day already has a
    record for the student (the head teacher's own roll call wins). An earlier confirmation's
    record that no longer holds is taken back. Days the daily job evaluated are replayed."""
    school = check.school
    try:
        if not workdays.is_school_day(school, check.date):
            confirmation.attendance_note = f"{workdays.cn_date(check.date)} 不是在校日，未到校不记入考勤"
            return
    except workdays.CalendarMissing as e:
        confirmation.attendance_note = str(e)
        return
    unexcused = {sid: reason for sid, (r, reason, valid) in clean.items() if r == OnsiteResult.ABSENT and not valid}
    existing = {r.student_id: r for r in AttendanceRecord.objects.filter(student_id__in=students, date=check.date)}
    changed: set[int] = set()
    audits = []

    def audit(sid, action, old_label, new_label, note):
        audits.append(AuditEntry(
            actor=actor, actor_label="" if actor else "系统", action=action, object_type="attendancerecord",
            object_repr=f"{students[sid].name} {check.date} 考勤", county_id=school.county_id, school_id=school.pk,
            student_id=sid, changes={"mark": [old_label, new_label]}, note=note))

    for sid, reason in unexcused.items():
        text = (ATTENDANCE_PREFIX + (reason or "原因不明"))[:200]
        record = existing.get(sid)
        if record is None:
            AttendanceRecord.objects.create(county_id=school.county_id, school=school, student_id=sid, date=check.date,
                                            mark=Mark.UNKNOWN, reason=text, source=AttendanceRecord.Source.ROLL_CALL,
                                            recorded_by=actor)
            audit(sid, Action.CREATE, "到校", Mark.UNKNOWN.label, "现场核查确认未到校")
            changed.add(sid)
        elif _from_onsite(record) and record.reason != text:
            record.reason, record.recorded_by = text, actor
            record.save(update_fields=["reason", "recorded_by", "recorded_at"])
        elif record.mark not in UNEXCUSED:
            continue  # the head teacher recorded leave (or late arrival) that day: theirs stands
        confirmation.recorded.append(sid)
    for sid, record in existing.items():
        if sid not in unexcused and _from_onsite(record):
            record.delete()
            audit(sid, Action.DELETE, Mark.UNKNOWN.label, "到校", "现场核查更正：不再是无正当原因未到校")
            changed.add(sid)
            confirmation.withdrawn.append(sid)
    AuditEntry.objects.bulk_create(audits)
    if not changed:
        return
    # The check is the day's evidence: the class was looked at, so the others were there.
    roll_call, created = RollCall.objects.get_or_create(
        school_class=school_class, date=check.date,
        defaults={"county_id": school.county_id, "school_id": school.pk, "taken_by": actor,
                  "not_listed": not_listed_students(school_class)})
    if created:
        audit_record(actor=actor, action=Action.CREATE, obj=roll_call, scope_from=school, note="现场核查代替当天点名")
    # Like a late roll call: a newly evidenced day may also close open cases of the class.
    replay.attendance_changed(school=school, since=check.date, student_ids=changed,
                              class_ids={school_class.pk} if created else ())


def _from_onsite(record: AttendanceRecord) -> bool:
    return record.mark == Mark.UNKNOWN and record.reason.startswith(ATTENDANCE_PREFIX)


@transaction.atomic
def onsite_close(*, actor, check: OnsiteCheck, on: datetime.date) -> OnsiteCheck:
    """The office ends the check; its results stay what the reconciliation reads."""
    check = OnsiteCheck.objects.select_for_update().get(pk=check.pk)
    if check.closed_on is not None:
        raise ValidationError(f"本次现场核查已于{workdays.cn_date(check.closed_on, weekday=False)}结束")
    if on < check.date:
        raise ValidationError({"on": "结束日期不能早于核查日期"})
    if on > timezone.localdate():
        raise ValidationError({"on": "结束日期不能在将来"})
    check.closed_on = on
    check.save(update_fields=["closed_on"])
    rows = onsite_progress(check)
    waiting = [r for r in rows if not r.confirmed and r.students]
    audit_record(actor=actor, action=Action.UPDATE, obj=check, changes={"closed_on": [None, on]},
                 note=f"结束现场核查：{sum(1 for r in rows if r.confirmed)} 个班已确认"
                      + (f"，{len(waiting)} 个班未确认" if waiting else ""))
    return check


# ---------------------------------------------------------------- reads

@dataclass
class ClassProgress:
    school_class: SchoolClass
    head_teacher: object | None
    students: int  # in school now
    confirmed: bool = False
    present: int = 0
    absent: int = 0
    unexcused: int = 0  # 未到校 without a valid reason
    not_in_class: int = 0
    added: int = 0
    confirmed_at: datetime.datetime | None = None
    confirmed_by: str = ""


def onsite_progress(check: OnsiteCheck) -> list[ClassProgress]:
    """One row per class of the school: confirmed or not, and the counts of each result.
    Three queries whatever the number of classes."""
    classes = (SchoolClass.objects.filter(school_id=check.school_id).select_related("grade", "head_teacher")
               .annotate(n=Count("students", filter=Q(students__status=RegistryStatus.IN_SCHOOL), distinct=True))
               .order_by("grade__order", "grade__name", "name"))
    rows = {c.pk: ClassProgress(school_class=c, head_teacher=c.head_teacher, students=c.n) for c in classes}
    who: dict[int, int] = {}
    for class_id, result, valid, by, n, last in (
            OnsiteEntry.objects.filter(check_run=check)
            .values_list("school_class_id", "result", "valid_reason", "confirmed_by_id")
            .annotate(n=Count("pk"), last=Max("confirmed_at")).order_by()):
        row = rows.get(class_id)
        if row is None:
            continue
        row.confirmed = True
        if result == OnsiteResult.PRESENT:
            row.present += n
        elif result == OnsiteResult.ABSENT:
            row.absent += n
            row.unexcused += 0 if valid else n
        elif result == OnsiteResult.NOT_IN_CLASS:
            row.not_in_class += n
        else:
            row.added += n
        if row.confirmed_at is None or last > row.confirmed_at:
            row.confirmed_at = last
            if by:
                who[class_id] = by
    names = {u.pk: u.get_full_name() or u.get_username()
             for u in get_user_model().objects.filter(pk__in=set(who.values()))}
    for class_id, user_id in who.items():
        rows[class_id].confirmed_by = names.get(user_id, "")
    return list(rows.values())


def progress_totals(rows: list[ClassProgress]) -> dict:
    with_students = [r for r in rows if r.students or r.confirmed]
    return {
        "classes": len(with_students),
        "confirmed": sum(1 for r in with_students if r.confirmed),
        "waiting": sum(1 for r in with_students if not r.confirmed),
        **{k: sum(getattr(r, k) for r in rows) for k in ("present", "absent", "unexcused", "not_in_class", "added")},
    }


def onsite_exceptions(check: OnsiteCheck) -> dict[str, list[OnsiteEntry]]:
    """The entries the office follows up: 未到校, 不在本班 and the people not on the list."""
    out: dict[str, list[OnsiteEntry]] = defaultdict(list)
    for e in (OnsiteEntry.objects.filter(check_run=check).exclude(result=OnsiteResult.PRESENT)
              .select_related("student", "school_class__grade", "confirmed_by")
              .order_by("school_class__grade__order", "school_class__name", "student__name", "name")):
        out[e.result].append(e)
    return {r: out[r] for r in (OnsiteResult.ABSENT, OnsiteResult.NOT_IN_CLASS, OnsiteResult.ADDED)}


def in_attendance(check: OnsiteCheck, student_ids) -> set[int]:
    """Of these students, those with an unexcused absence on the check's date (in the 13510 flow)."""
    return set(AttendanceRecord.objects.filter(student_id__in=student_ids, date=check.date, mark__in=UNEXCUSED)
               .values_list("student_id", flat=True))


def checks_summary(checks: list[OnsiteCheck]) -> dict[int, dict]:
    """For the list of checks: confirmed classes out of the classes with students, and the
    counts of each result, per check. A few queries for the whole list."""
    ids = [c.pk for c in checks]
    out: dict[int, dict] = {pk: {"confirmed": 0, "classes": 0, **{r: 0 for r in OnsiteResult.values}} for pk in ids}
    for check_id, result, n in (OnsiteEntry.objects.filter(check_run_id__in=ids).values_list("check_run_id", "result")
                                .annotate(n=Count("pk")).order_by()):
        out[check_id][result] = n
    for check_id, n in (OnsiteEntry.objects.filter(check_run_id__in=ids).values_list("check_run_id")
                        .annotate(n=Count("school_class_id", distinct=True)).order_by()):
        out[check_id]["confirmed"] = n
    schools = {c.school_id for c in checks}
    per_school = dict(SchoolClass.objects.filter(school_id__in=schools, students__status=RegistryStatus.IN_SCHOOL)
                      .values_list("school_id").annotate(n=Count("pk", distinct=True)).order_by())
    for c in checks:
        out[c.pk]["classes"] = per_school.get(c.school_id, 0)
    return out


def head_teacher_open_classes(user) -> list[dict]:
    """A head teacher's classes in a school with an open check: {c, check, done}."""
    classes = list(SchoolClass.objects.filter(head_teacher=user).select_related("school", "grade")
                   .order_by("school__code", "grade__order", "grade__name", "name"))
    checks = {c.school_id: c for c in OnsiteCheck.objects.filter(school_id__in={c.school_id for c in classes},
                                                                 closed_on__isnull=True)}
    done = set(OnsiteEntry.objects.filter(check_run__in=checks.values(), school_class__in=classes)
               .values_list("check_run_id", "school_class_id").distinct())
    return [{"c": c, "check": checks[c.school_id], "done": (checks[c.school_id].pk, c.pk) in done}
            for c in classes if c.school_id in checks]


def class_entries(check: OnsiteCheck, school_class: SchoolClass) -> list[OnsiteEntry]:
    return list(OnsiteEntry.objects.filter(check_run=check, school_class=school_class)
                .select_related("confirmed_by", "student").order_by("id"))
