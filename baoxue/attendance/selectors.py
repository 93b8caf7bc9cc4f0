"""What a school day was for each student: 旷课 or 原因不明 (unexcused), approved leave
(excused), at school, or unknown when nobody looked. Read in bulk: a few queries per school and
date range, never one per student."""

import datetime
from collections import defaultdict

from baoxue.attendance.models import AT_SCHOOL, EXCUSED, UNEXCUSED, AttendanceRecord, FileDay, LeaveRequest, RollCall

UNEXCUSED_DAY = "unexcused"
EXCUSED_DAY = "excused"
PRESENT_DAY = "present"
UNKNOWN_DAY = "unknown"
# A student not on the roll call (no longer 在校: a dropout, a pending transfer) in a class that
# was looked at, with no record: nobody saw them, and nobody could have marked them present.
NOT_SEEN_DAY = "not_seen"


class DayBook:
    """Attendance of one school over a date range, answering `status(student_id, class_id, day)`.

    Evidence that somebody looked is by class: the class's roll call, or a file that covers the
    class (or, when it says so, the whole school) on that date."""

    def __init__(self, school, start: datetime.date, end: datetime.date, student_ids=None):
        self.marks: dict[tuple[int, datetime.date], str] = {}
        records = AttendanceRecord.objects.filter(school=school, date__gte=start, date__lte=end)
        leaves = LeaveRequest.objects.filter(school=school, start__lte=end, end__gte=start, approved_at__isnull=False)
        if student_ids is not None:
            records = records.filter(student_id__in=student_ids)
            leaves = leaves.filter(student_id__in=student_ids)
        for sid, day, mark in records.values_list("student_id", "date", "mark"):
            self.marks[(sid, day)] = mark
        self.leaves: dict[int, list[tuple[datetime.date, datetime.date]]] = defaultdict(list)
        for sid, a, b in leaves.values_list("student_id", "start", "end"):
            self.leaves[sid].append((a, b))
        self.roll_calls: dict[tuple[int, datetime.date], frozenset | None] = {
            (class_id, day): (frozenset(not_listed) if not_listed is not None else None)
            for class_id, day, not_listed in RollCall.objects.filter(school=school, date__gte=start, date__lte=end)
            .values_list("school_class_id", "date", "not_listed")
        }
        self.file_school_days: set[datetime.date] = set()
        self.file_class_days: set[tuple[int, datetime.date]] = set()
        for class_id, day in (FileDay.objects.filter(school=school, date__gte=start, date__lte=end)
                              .values_list("school_class_id", "date")):
            if class_id is None:
                self.file_school_days.add(day)
            else:
                self.file_class_days.add((class_id, day))

    def on_leave(self, student_id: int, day: datetime.date) -> bool:
        return any(a <= day <= b for a, b in self.leaves.get(student_id, ()))

    def covered(self, class_id: int | None, day: datetime.date) -> bool:
        """Somebody looked at this class on this day."""
        return ((class_id, day) in self.roll_calls or (class_id, day) in self.file_class_days
                or day in self.file_school_days)

    def status(self, student_id: int, class_id: int | None, day: datetime.date, *, on_roll: bool = True) -> str:
        mark = self.marks.get((student_id, day))
        if mark in UNEXCUSED and not self.on_leave(student_id, day):
            return UNEXCUSED_DAY
        if mark in EXCUSED or self.on_leave(student_id, day):
            return EXCUSED_DAY
        if mark in AT_SCHOOL:
            return PRESENT_DAY
        # No record: at school only if somebody looked, with the student on the list.
        not_listed = self.roll_calls.get((class_id, day), False)
        if not_listed is not False and not_listed is not None:
            return NOT_SEEN_DAY if student_id in not_listed else PRESENT_DAY
        if not_listed is None or self.covered(class_id, day):
            return PRESENT_DAY if on_roll else NOT_SEEN_DAY
        return UNKNOWN_DAY

    def unexcused_students(self, day: datetime.date) -> set[int]:
        return {sid for (sid, d), mark in self.marks.items() if d == day and mark in UNEXCUSED
                and not self.on_leave(sid, d)}

    def recorded_students(self, day: datetime.date) -> set[int]:
        """Everyone with a record of the day (a dropout seen at school has one)."""
        return {sid for (sid, d) in self.marks if d == day}


def run_length(book: DayBook, student_id: int, class_id, school_days: list[datetime.date]) -> int:
    """Consecutive school days of unexcused absence ending on the last of `school_days` (days
    nobody looked are skipped): what the roll call shows beside an absentee."""
    n = 0
    for day in reversed(school_days):
        status = book.status(student_id, class_id, day)
        if status == UNEXCUSED_DAY:
            n += 1
        elif status != UNKNOWN_DAY:
            break
    return n
