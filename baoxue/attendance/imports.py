"""`baoxue import-attendance FILE [--covers listed-classes|whole-school]`: attendance from gate or
face-recognition systems.

Columns 日期, 全国学籍号 (or 身份证件号), 状态 (出勤 or 到校, 旷课, 原因不明, 病假, 事假, 迟到, 早退), 原因.
Attendance is by exception: a student with no record on a school day was at school, in the classes
the file covers. Whoever imports says what that is (`covers`):

- "listed-classes" (the default): on each date, only the classes with at least one row on that
  date — one `FileDay` per class and date;
- "whole-school": every class of the schools of its students, on each date of the file — one
  `FileDay` per school and date. Meant for gate and face-recognition exports of exceptions.

出勤 and 到校 mean seen at school. For a student on the roll (在校) that is the default: any record of
the day is deleted. For a student no longer 在校 (a dropout, a pending transfer) nobody marks them
present by default, so the row is kept as a `Mark.PRESENT` record: the evidence they came back.

Rows dated on a day that is not a school day of the student's school (weekend, holiday, closure,
outside term) are skipped and listed in `report.skipped`; the other rows still import. Unknown
students, dates after today, years without a calendar and unknown statuses are problems, reported
per row; nothing is written when any row has a problem.
"""

import datetime
from collections import defaultdict
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from baoxue.attendance import signals
from baoxue.attendance.models import AttendanceRecord, FileDay, Mark
from baoxue.audit.models import Action, AuditEntry
from baoxue.audit.services import audit_record
from baoxue.calendar import workdays
from baoxue.lib import cells, idcard
from baoxue.lib.headers import match_headers
from baoxue.lib.rows import too_long
from baoxue.lib.sheets import SheetError, read_table
from baoxue.lib.batches import chunks
from baoxue.org.imports import RowProblem
from baoxue.org.models import RegistryStatus, School, SchoolClass, Student

HEADERS = {
    "date": ["日期", "考勤日期"],
    "registry_no": ["全国学籍号", "学籍号"],
    "id_number": ["身份证件号", "身份证号", "身份证号码", "证件号码"],
    "status": ["状态", "考勤状态"],
    "reason": ["原因", "备注", "说明"],
}
# Seen at school. 到校 is also the label of Mark.PRESENT, which is written only for students off the roll.
PRESENT_WORDS = ("出勤", Mark.PRESENT.label)
# The other statuses a file may say, by label: 旷课 → Mark.TRUANT, …
STATUSES = {label: value for value, label in Mark.choices if value != Mark.PRESENT}
_ALLOWED = list(PRESENT_WORDS) + list(STATUSES)
ALLOWED_STATUSES = f"{'、'.join(_ALLOWED[:-1])} 或 {_ALLOWED[-1]}"

REASON_MAX = AttendanceRecord._meta.get_field("reason").max_length

LISTED_CLASSES = "listed-classes"
WHOLE_SCHOOL = "whole-school"
# What a file covers, in the words of the upload page.
COVERS = {
    LISTED_CLASSES: "只有文件中出现的班级（这些班级当天没有记录的学生算到校）",
    WHOLE_SCHOOL: "全校所有班级（门禁、人脸识别导出的异常名单：全校当天没有记录的学生都算到校）",
}


@dataclass
class AttendanceImportReport:
    filename: str
    covers: str = LISTED_CLASSES
    rows_total: int = 0
    records: int = 0  # absent, late, early leave
    present: int = 0  # rows saying 出勤 or 到校
    seen_off_roll: int = 0  # of those, students no longer 在校: kept as 到校 records
    dates: list = field(default_factory=list)
    covered: list[str] = field(default_factory=list)  # the classes (or schools) the file covers
    problems: list[RowProblem] = field(default_factory=list)
    skipped: list[RowProblem] = field(default_factory=list)  # rows on days that are not school days
    committed: bool = False

    @property
    def covers_label(self) -> str:
        return COVERS[self.covers]


def import_attendance(*, actor, source, filename: str, dry_run: bool = False, actor_label: str = "",
                      covers: str = LISTED_CLASSES) -> AttendanceImportReport:
    if covers not in COVERS:
        raise ValueError(f"covers must be one of {', '.join(COVERS)}, not {covers!r}")
    report = AttendanceImportReport(filename=filename, covers=covers)
    try:
        table = read_table(source, filename)
    except SheetError as e:
        report.problems.append(RowProblem(None, "", str(e)))
        return report
    columns, _ = match_headers(table.headers, HEADERS)
    col = {k: i for i, k in columns.items()}
    missing = [HEADERS[k][0] for k in ("date", "status") if k not in col]
    if "registry_no" not in col and "id_number" not in col:
        missing.append("全国学籍号（或身份证件号）")
    if missing:
        report.problems.append(RowProblem(1, "", f"缺少必需的列：{'、'.join(missing)}"))
        return report
    report.rows_total = len(table.rows)
    if not table.rows:
        report.problems.append(RowProblem(None, "", "文件只有表头，没有考勤数据行"))
        return report

    today = timezone.localdate()
    date_header = table.headers[col["date"]]
    parsed = []
    keys_reg, keys_id = set(), set()
    for number, row in table.rows:
        def problem(key, message):
            report.problems.append(RowProblem(number, table.headers[col[key]] if key in col else "", message))

        def get(key, convert):
            if key not in col:
                return None
            try:
                return convert(row[col[key]])
            except cells.CellError as e:
                problem(key, str(e))
                return None

        bad = len(report.problems)
        day = get("date", cells.date_value)
        if day is None and len(report.problems) == bad:
            problem("date", "日期不能为空")
        elif day is not None and day > today:
            problem("date", f"日期 {day} 晚于今天：不能导入将来的考勤")
        reg = idcard.normalise_id(get("registry_no", cells.identifier) or "")
        num = idcard.normalise_id(get("id_number", cells.identifier) or "")
        if not reg and not num and len(report.problems) == bad:
            problem("registry_no" if "registry_no" in col else "id_number", "全国学籍号和身份证件号不能都为空")
        status_text = get("status", cells.text) or ""
        if status_text not in PRESENT_WORDS and status_text not in STATUSES:
            problem("status", f"状态“{status_text}”无法识别：应为 {ALLOWED_STATUSES}")
        reason = get("reason", cells.text) or ""
        if too_long(reason, REASON_MAX):
            problem("reason", too_long(reason, REASON_MAX))
        if len(report.problems) == bad:
            parsed.append((number, day, reg, num, status_text, reason))
            keys_reg.add(reg) if reg else keys_id.add(num)

    students_by_reg, students_by_id = {}, {}
    for chunk in chunks(sorted(keys_reg)):
        for s in Student.objects.filter(registry_no__in=chunk).select_related("school", "school_class__grade"):
            students_by_reg[s.registry_no] = s
    for chunk in chunks(sorted(keys_id)):
        for s in Student.objects.filter(id_number__in=chunk).select_related("school", "school_class__grade"):
            students_by_id[s.id_number] = s

    school_days_cache: dict[tuple[int, int], set] = {}
    rows = []
    seen: dict[tuple[int, datetime.date], int] = {}
    for number, day, reg, num, status_text, reason in parsed:
        student = students_by_reg.get(reg) if reg else students_by_id.get(num)
        key_col = "registry_no" if reg else "id_number"
        header = table.headers[col[key_col]]
        if student is None:
            report.problems.append(RowProblem(number, header, f"没有找到学生 {reg or num}：请核对号码，或先导入学生名册"))
            continue
        cache_key = (student.school_id, day.year)
        if cache_key not in school_days_cache:
            try:
                school_days_cache[cache_key] = set(workdays.school_days(
                    student.school, datetime.date(day.year, 1, 1), datetime.date(day.year, 12, 31)))
            except workdays.CalendarMissing as e:
                report.problems.append(RowProblem(number, date_header, str(e)))
                continue
        if day not in school_days_cache[cache_key]:
            report.skipped.append(RowProblem(number, date_header,
                                             f"{day} 不是{student.school.name}的在校日（节假日、周末、停课或学期外）：已跳过"))
            continue
        first = seen.setdefault((student.pk, day), number)
        if first != number:
            report.problems.append(RowProblem(number, header, f"与第{first}行是同一学生同一天：每人每天只能有一行"))
            continue
        rows.append((student, day, status_text, reason))

    if not rows and report.skipped and not report.problems:
        report.problems.append(RowProblem(None, date_header, "文件中没有在校日的考勤行，没有可导入的数据：请核对日期"))
    report.dates = sorted({d for _, d, _, _ in rows})
    present = [s for s, _, status_text, _ in rows if status_text in PRESENT_WORDS]
    report.present = len(present)
    report.seen_off_roll = sum(1 for s in present if s.status != RegistryStatus.IN_SCHOOL)
    report.records = len(rows) - report.present
    report.covered = _covered(rows, covers)
    if report.problems or dry_run:
        return report
    with transaction.atomic():
        _write(rows, report, actor, actor_label)
    report.committed = True
    return report


def _covered(rows, covers: str) -> list[str]:
    """The names of what the file covers: its schools, or the classes with rows (named with their
    school when the file has more than one)."""
    schools = {s.school_id: s.school for s, *_ in rows}
    if covers == WHOLE_SCHOOL:
        return [f"{school.name}全校" for school in sorted(schools.values(), key=lambda s: s.code)]
    classes = {s.school_class_id: s for s, *_ in rows if s.school_class_id}
    names = []
    for s in sorted(classes.values(), key=lambda s: (s.school.code, s.school_class.grade.order,
                                                           s.school_class.grade.name, s.school_class.name)):
        names.append(f"{s.school.name}{s.school_class}" if len(schools) > 1 else str(s.school_class))
    return names


def _write(rows, report: AttendanceImportReport, actor, actor_label: str) -> None:
    user = actor if getattr(actor, "is_authenticated", False) else None
    label = actor_label or ("" if user else "考勤导入")
    by_day: dict[datetime.date, list] = defaultdict(list)
    for row in rows:
        by_day[row[1]].append(row)
    audits = []
    touched: dict[int, tuple[School, datetime.date]] = {}
    for day, day_rows in sorted(by_day.items()):
        existing = {r.student_id: r for r in AttendanceRecord.objects.filter(
            date=day, student_id__in=[s.pk for s, *_ in day_rows])}
        for student, _, status_text, reason in day_rows:
            old = existing.get(student.pk)
            on_roll = student.status == RegistryStatus.IN_SCHOOL
            present = status_text in PRESENT_WORDS
            if present and on_roll:
                # At school is the default for a student on the roll: no record.
                if old is None:
                    continue
                old.delete()
                new_label = Mark.PRESENT.label
            else:
                mark = Mark.PRESENT if present else Mark(STATUSES[status_text])
                if old is not None and (old.mark, old.reason) == (mark, reason):
                    continue
                AttendanceRecord.objects.update_or_create(
                    student=student, date=day,
                    defaults={"county_id": student.county_id, "school_id": student.school_id, "mark": mark,
                              "reason": reason, "source": AttendanceRecord.Source.IMPORT, "recorded_by": user},
                )
                new_label = mark.label
            old_label = old.get_mark_display() if old else (Mark.PRESENT.label if on_roll else "无记录")
            audits.append(AuditEntry(actor=user, actor_label=label, action=Action.UPDATE if old else Action.CREATE,
                                     object_type="attendancerecord", object_repr=f"{student.name} {day} 考勤",
                                     county_id=student.county_id, school_id=student.school_id, student_id=student.pk,
                                     changes={"mark": [old_label, new_label]},
                                     note=f"导入 {report.filename}"))
            touched.setdefault(student.pk, (student.school, day))
        defaults = {"filename": report.filename[:200]}
        if report.covers == WHOLE_SCHOOL:
            for school_id, county_id in {(s.school_id, s.county_id) for s, *_ in day_rows}:
                FileDay.objects.get_or_create(school_id=school_id, date=day, school_class=None,
                                              defaults={"county_id": county_id, **defaults})
        else:
            for class_id, school_id, county_id in {(s.school_class_id, s.school_id, s.county_id)
                                                   for s, *_ in day_rows if s.school_class_id}:
                FileDay.objects.get_or_create(school_id=school_id, school_class_id=class_id, date=day,
                                              defaults={"county_id": county_id, **defaults})
    AuditEntry.objects.bulk_create(audits, batch_size=1000)
    audit_record(actor=actor, actor_label=label, action=Action.IMPORT, object_type="attendance_import",
                 object_repr=report.filename,
                 note=f"考勤导入：{len(report.dates)} 天，缺勤等记录 {report.records}，出勤 {report.present}，"
                      f"跳过 {len(report.skipped)} 行；覆盖{COVERS[report.covers]}")
    # Dates the daily job already evaluated: the students whose attendance changed are
    # replayed, and the file is new evidence for the classes it covers.
    first_day: dict[int, datetime.date] = {}
    schools: dict[int, School] = {}
    classes: dict[int, set[int]] = defaultdict(set)
    for student, day, _, _ in rows:
        schools[student.school_id] = student.school
        first_day[student.school_id] = min(day, first_day.get(student.school_id, day))
        if student.school_class_id:
            classes[student.school_id].add(student.school_class_id)
    for school_id, school in schools.items():
        ids = {sid for sid, (s, _) in touched.items() if s.pk == school_id}
        if report.covers == WHOLE_SCHOOL:
            class_ids = set(SchoolClass.objects.filter(school_id=school_id).values_list("pk", flat=True))
        else:
            class_ids = classes[school_id]
        signals.announce(school=school, since=first_day[school_id], student_ids=ids, class_ids=class_ids)
