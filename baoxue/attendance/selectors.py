"""What a school day was for each student: 旷课 or 原因不明 (unexcused), approved leave
(excused), at school, or unknown when nobody looked. Read in bulk: a few queries per school and
date range, never one per student."""

import datetime
from collections import defaultdict

from baoxue.attendance.models import EXCUSED, UNEXCUSED, AttendanceRecord, FileDay, LeaveRequest, RollCall

UNEXCUSED_DAY = "unexcused"
EXCUSED_DAY = "excused"
PRESENT_DAY = "present"
UNKNOWN_DAY = "unknown"


class DayBook:
    """Attendance of one school over a date range, answering `status(student_id, class_id, day)`."""

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
        self.roll_calls = set(RollCall.objects.filter(school=school, date__gte=start, date__lte=end)
                              .values_list("school_class_id", "date"))
        self.file_days = set(FileDay.objects.filter(school=school, date__gte=start, date__lte=end)
                             .values_list("date", flat=True))

    def on_leave(self, student_id: int, day: datetime.date) -> bool:
        return any(a <= day <= b for a, b in self.leaves.get(student_id, ()))

    def status(self, student_id: int, class_id: int | None, day: datetime.date) -> str:
        mark = self.marks.get((student_id, day))
        if mark in UNEXCUSED and not self.on_leave(student_id, day):
            return UNEXCUSED_DAY
        if mark in EXCUSED or self.on_leave(student_id, day):
            return EXCUSED_DAY
        # No absence: at school only if somebody looked that day.
        if day in self.file_days or (class_id, day) in self.roll_calls:
            return PRESENT_DAY
        return UNKNOWN_DAY

    def unexcused_students(self, day: datetime.date) -> set[int]:
        return {sid for (sid, d), mark in self.marks.items() if d == day and mark in UNEXCUSED
                and not self.on_leave(sid, d)}
