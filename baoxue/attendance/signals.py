"""What the attendance app announces to the apps above it (it imports none of them).

`attendance_changed(sender, school, since, student_ids, class_ids)`: sent inside the writing
transaction after attendance of `student_ids` changed from `since` on, or after somebody looked
at `class_ids` (a roll call taken, a file covering the class) from `since` on. The 13510 job
(`baoxue.cases.replay`) listens and replays what it had already evaluated, in the same
transaction: a correction and its consequences commit together or not at all.
"""

import datetime

from django.dispatch import Signal

attendance_changed = Signal()
# Asked by the roll-call page for the day's unexcused absentees (`school_class`, `day`, `today`,
# `student_ids`): each receiver returns {student_id: {"days", "step", "contact", "case_id"}}.
absence_advice = Signal()
# Asked by a student's attendance page: the student's open case, if any (an object with pk and
# a label), or None.
open_case_asked = Signal()
# Asked by the roll-call page for banners beside students (`student_ids`): each receiver returns
# {student_id: text}, such as 休学期满未复学 from the registry.
roll_notes_asked = Signal()


def announce(*, school, since: datetime.date, student_ids=(), class_ids=()) -> None:
    if student_ids or class_ids:
        attendance_changed.send(sender=None, school=school, since=since, student_ids=set(student_ids),
                                class_ids=set(class_ids))


def advice(*, school_class, day: datetime.date, today: datetime.date, student_ids) -> dict[int, dict]:
    found: dict[int, dict] = {}
    for _, answer in absence_advice.send(sender=None, school_class=school_class, day=day, today=today,
                                         student_ids=list(student_ids)):
        found.update(answer or {})
    return found


def open_case(*, student):
    return next((answer for _, answer in open_case_asked.send(sender=None, student=student) if answer), None)


def roll_notes(*, student_ids) -> dict[int, str]:
    found: dict[int, str] = {}
    for _, answer in roll_notes_asked.send(sender=None, student_ids=list(student_ids)):
        for sid, text in (answer or {}).items():
            found[sid] = f"{found[sid]}；{text}" if sid in found else text
    return found
