"""Writes to attendance: the head teacher's roll call, leave, re-classifying an absence, and
corrections. A change to a day the daily job already evaluated replays the affected students,
so that the cases are what daily runs on the corrected attendance would have given."""

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from baoxue.attendance import signals
from baoxue.attendance.models import AttendanceRecord, LeaveRequest, Mark, RollCall
from baoxue.audit.models import Action, AuditEntry
from baoxue.audit.services import audit_record
from baoxue.calendar import workdays
from baoxue.org.models import RegistryStatus, SchoolClass, Student

# How many school days back a head teacher may still correct a roll call.
CORRECTION_SCHOOL_DAYS = 5


def correctable_days(school, today: datetime.date) -> list[datetime.date]:
    """Today and the recent school days a head teacher may still fill in or correct."""
    days = workdays.school_days(school, today - datetime.timedelta(days=40), today)
    return days[-CORRECTION_SCHOOL_DAYS:]


def roll_call_students(school_class: SchoolClass):
    return Student.objects.filter(school_class=school_class, status=RegistryStatus.IN_SCHOOL).order_by("name")


def not_listed_students(school_class: SchoolClass) -> list[int]:
    """Students of the class the roll call does not list (no longer 在校)."""
    return sorted(Student.objects.filter(school_class=school_class).exclude(status=RegistryStatus.IN_SCHOOL)
                  .values_list("pk", flat=True))


@transaction.atomic
def roll_call_submit(*, actor, school_class: SchoolClass, date: datetime.date,
                     marks: dict[int, tuple[str, str]], seen: set[int] | None = None) -> RollCall:
    """点名: everyone present by default; `marks` maps the absentees (and late/early) to
    (mark, reason). Re-submitting a day replaces that day's marks of the class.

    `seen`: students of the class off the list (a dropout, a pending transfer) whom the head
    teacher saw at school that day; nobody else is taken to have seen them. None leaves what was
    recorded for them as it is."""
    school = school_class.school
    if date > timezone.localdate():
        raise ValidationError("不能为将来的日期点名")
    if not workdays.is_school_day(school, date):
        raise ValidationError(f"{workdays.cn_date(date)} 不是本校在校日，无需点名")
    students = {s.pk: s for s in roll_call_students(school_class)}
    unknown = set(marks) - set(students)
    if unknown:
        raise ValidationError("名单中有不属于本班的学生")
    for sid, (mark, _) in marks.items():
        if mark not in Mark.values:
            raise ValidationError(f"考勤状态“{mark}”无法识别")
    user = actor if getattr(actor, "is_authenticated", False) else None
    not_listed = not_listed_students(school_class)
    roll_call, created = RollCall.objects.get_or_create(
        school_class=school_class, date=date,
        defaults={"county_id": school.county_id, "school_id": school.pk, "taken_by": user, "not_listed": not_listed},
    )
    # Who was off the list changed (a dropout came back, a transfer was cancelled): their day changed.
    changed: set[int] = set() if created else set(roll_call.not_listed or ()) ^ set(not_listed)
    if not created:
        roll_call.taken_by = user or roll_call.taken_by
        roll_call.not_listed = not_listed
        roll_call.save(update_fields=["taken_by", "not_listed", "updated_at"])
    existing = {r.student_id: r for r in AttendanceRecord.objects.filter(student_id__in=students, date=date)}
    audits = []
    for sid in students:
        old = existing.get(sid)
        new = marks.get(sid)
        old_value = (old.mark, old.reason) if old else None
        if old_value == (tuple(new) if new else None):
            continue
        changed.add(sid)
        if new is None:
            old.delete()
        elif old is None:
            AttendanceRecord.objects.create(county_id=school.county_id, school=school, student_id=sid, date=date,
                                            mark=new[0], reason=new[1], recorded_by=user)
        else:
            old.mark, old.reason, old.recorded_by = new[0], new[1], user
            old.source = AttendanceRecord.Source.CORRECTION if not created else old.source
            old.save()
        audits.append(AuditEntry(
            actor=user, actor_label="" if user else "系统", action=Action.UPDATE if old else Action.CREATE,
            object_type="attendancerecord", object_repr=f"{students[sid].name} {date} 考勤",
            county_id=school.county_id, school_id=school.pk, student_id=sid,
            changes={"mark": [old.get_mark_display() if old else "到校", Mark(new[0]).label if new else "到校"]},
            note="更正点名" if not created else "点名",
        ))
    if seen is not None:
        changed |= _record_seen(school_class=school_class, date=date, not_listed=not_listed, seen=seen, user=user,
                                audits=audits)
    AuditEntry.objects.bulk_create(audits)
    audit_record(actor=actor, action=Action.CREATE if created else Action.UPDATE, obj=roll_call, scope_from=school,
                 note=f"{school_class} {date} 点名：缺勤/迟到早退 {len(marks)} 人")
    # A late roll call is new evidence for the whole class that day; a corrected one only for
    # the students whose marks changed.
    signals.announce(school=school, since=date, student_ids=changed, class_ids={school_class.pk} if created else ())
    return roll_call


def _record_seen(*, school_class: SchoolClass, date: datetime.date, not_listed: list[int], seen: set[int], user,
                 audits: list) -> set[int]:
    """到校 records of the students off the list whom the head teacher saw (and none for the others)."""
    school = school_class.school
    unknown = set(seen) - set(not_listed)
    if unknown:
        raise ValidationError("勾选“今天到校”的学生不是本班名单外的学生")
    existing = {r.student_id: r for r in AttendanceRecord.objects.filter(student_id__in=not_listed, date=date)
                .select_related("student")}
    names = dict(Student.objects.filter(pk__in=not_listed).values_list("pk", "name"))
    changed = set()
    for sid in not_listed:
        old = existing.get(sid)
        if sid in seen and old is None:
            AttendanceRecord.objects.create(county_id=school.county_id, school=school, student_id=sid, date=date,
                                            mark=Mark.PRESENT, recorded_by=user)
        elif sid not in seen and old is not None and old.mark == Mark.PRESENT:
            old.delete()
        else:
            continue
        changed.add(sid)
        audits.append(AuditEntry(
            actor=user, actor_label="" if user else "系统", action=Action.UPDATE, object_type="attendancerecord",
            object_repr=f"{names[sid]} {date} 考勤", county_id=school.county_id, school_id=school.pk, student_id=sid,
            changes={"mark": ["—", Mark.PRESENT.label] if sid in seen else [Mark.PRESENT.label, "—"]},
            note="点名名单外的学生：班主任见到到校" if sid in seen else "点名名单外的学生：取消“到校”"))
    return changed


@transaction.atomic
def leave_approve(*, actor, student: Student, kind: str, start: datetime.date, end: datetime.date,
                  reason: str) -> LeaveRequest:
    """请假, recorded and approved by the head teacher: its days count as excused."""
    if end < start:
        raise ValidationError({"end": "结束日期不能早于开始日期"})
    if not reason.strip():
        raise ValidationError({"reason": "请填写请假事由"})
    leave = LeaveRequest.objects.create(
        county_id=student.county_id, school_id=student.school_id, student=student, kind=kind, start=start, end=end,
        reason=reason.strip(), approved_by=actor if getattr(actor, "is_authenticated", False) else None,
        approved_at=timezone.now(),
    )
    audit_record(actor=actor, action=Action.CREATE, obj=leave, scope_from=student,
                 changes={"kind": [None, kind], "start": [None, start], "end": [None, end]})
    signals.announce(school=student.school, since=start, student_ids={student.pk})
    return leave


@transaction.atomic
def absence_excuse(*, actor, record: AttendanceRecord, mark: str, reason: str) -> AttendanceRecord:
    """A valid reason with proof re-classifies an unexcused absence as excused; the run ends."""
    if mark not in (Mark.SICK, Mark.PERSONAL):
        raise ValidationError("只能改为病假或事假")
    if not reason.strip():
        raise ValidationError("请填写正当原因及证明")
    old = record.mark
    record.mark, record.reason, record.source = mark, reason.strip(), AttendanceRecord.Source.CORRECTION
    record.recorded_by = actor if getattr(actor, "is_authenticated", False) else None
    record.save()
    audit_record(actor=actor, action=Action.UPDATE, obj=record, scope_from=record.student,
                 changes={"mark": [Mark(old).label, Mark(mark).label]}, note=f"正当原因：{reason.strip()}")
    signals.announce(school=record.school, since=record.date, student_ids={record.student_id})
    return record
