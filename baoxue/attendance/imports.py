"""`baoxue import-attendance FILE`: attendance from gate or face-recognition systems.

Columns 日期, 全国学籍号 (or 身份证件号), 状态 (出勤, 旷课, 原因不明, 病假, 事假, 迟到, 早退), 原因.
Attendance is by exception: a student with no absence on a school day was at school, and the
file covers every date it has a row for (for the schools of its students). Unknown students,
dates outside any term and unknown statuses are reported per row; nothing is written when any
row is bad.
"""

import datetime
from collections import defaultdict
from dataclasses import dataclass, field

from django.db import transaction

from baoxue.attendance.models import AttendanceRecord, FileDay, Mark
from baoxue.audit.models import Action, AuditEntry
from baoxue.audit.services import audit_record
from baoxue.calendar import workdays
from baoxue.lib import cells, idcard
from baoxue.lib.headers import match_headers
from baoxue.lib.sheets import SheetError, read_table
from baoxue.org.imports import RowProblem, _chunks
from baoxue.org.models import School, Student

HEADERS = {
    "date": ["日期", "考勤日期"],
    "registry_no": ["全国学籍号", "学籍号"],
    "id_number": ["身份证件号", "身份证号", "身份证号码", "证件号码"],
    "status": ["状态", "考勤状态"],
    "reason": ["原因", "备注", "说明"],
}
PRESENT = "出勤"
STATUSES = {label: value for value, label in Mark.choices}


@dataclass
class AttendanceImportReport:
    filename: str
    rows_total: int = 0
    records: int = 0
    present: int = 0
    dates: list = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)
    committed: bool = False


def import_attendance(*, actor, source, filename: str, dry_run: bool = False, actor_label: str = "") -> AttendanceImportReport:
    report = AttendanceImportReport(filename=filename)
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
        reg = idcard.normalise_id(get("registry_no", cells.identifier) or "")
        num = idcard.normalise_id(get("id_number", cells.identifier) or "")
        if not reg and not num and len(report.problems) == bad:
            problem("registry_no" if "registry_no" in col else "id_number", "全国学籍号和身份证件号不能都为空")
        status_text = get("status", cells.text) or ""
        if status_text != PRESENT and status_text not in STATUSES:
            problem("status", f"状态“{status_text}”无法识别：应为 出勤、旷课、原因不明、病假、事假、迟到 或 早退")
        reason = get("reason", cells.text) or ""
        if len(report.problems) == bad:
            parsed.append((number, day, reg, num, status_text, reason))
            keys_reg.add(reg) if reg else keys_id.add(num)

    students_by_reg, students_by_id = {}, {}
    for chunk in _chunks(sorted(keys_reg)):
        for s in Student.objects.filter(registry_no__in=chunk).select_related("school"):
            students_by_reg[s.registry_no] = s
    for chunk in _chunks(sorted(keys_id)):
        for s in Student.objects.filter(id_number__in=chunk).select_related("school"):
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
                report.problems.append(RowProblem(number, table.headers[col["date"]], str(e)))
                continue
        if day not in school_days_cache[cache_key]:
            report.problems.append(RowProblem(number, table.headers[col["date"]],
                                              f"{day} 不是{student.school.name}的在校日（不在学期内、节假日或停课）：请核对日期"))
            continue
        first = seen.setdefault((student.pk, day), number)
        if first != number:
            report.problems.append(RowProblem(number, header, f"与第{first}行是同一学生同一天：每人每天只能有一行"))
            continue
        rows.append((student, day, status_text, reason))

    report.dates = sorted({d for _, d, _, _ in rows})
    report.present = sum(1 for r in rows if r[2] == PRESENT)
    report.records = len(rows) - report.present
    if report.problems or dry_run:
        return report
    with transaction.atomic():
        _write(rows, report, actor, actor_label)
    report.committed = True
    return report


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
            if status_text == PRESENT:
                if old is None:
                    continue
                old.delete()
                new_label = "到校"
            else:
                mark = STATUSES[status_text]
                if old is not None and (old.mark, old.reason) == (mark, reason):
                    continue
                AttendanceRecord.objects.update_or_create(
                    student=student, date=day,
                    defaults={"county_id": student.county_id, "school_id": student.school_id, "mark": mark,
                              "reason": reason, "source": AttendanceRecord.Source.IMPORT, "recorded_by": user},
                )
                new_label = status_text
            audits.append(AuditEntry(actor=user, actor_label=label, action=Action.UPDATE if old else Action.CREATE,
                                     object_type="attendancerecord", object_repr=f"{student.name} {day} 考勤",
                                     county_id=student.county_id, school_id=student.school_id, student_id=student.pk,
                                     changes={"mark": [old.get_mark_display() if old else "到校", new_label]},
                                     note=f"导入 {report.filename}"))
            touched.setdefault(student.pk, (student.school, day))
        for school_id, county_id in {(s.school_id, s.county_id) for s, *_ in day_rows}:
            FileDay.objects.get_or_create(school_id=school_id, date=day,
                                          defaults={"county_id": county_id, "filename": report.filename[:200]})
    AuditEntry.objects.bulk_create(audits, batch_size=1000)
    audit_record(actor=actor, actor_label=label, action=Action.IMPORT, object_type="attendance_import",
                 object_repr=report.filename,
                 note=f"考勤导入：{len(report.dates)} 天，缺勤等记录 {report.records}，出勤 {report.present}")
    # Dates the daily job already evaluated: replay the students whose attendance changed, and
    # those with open runs (the file is new evidence that they were, or were not, at school).
    from baoxue.attendance.services import _replay
    from baoxue.cases.models import Case

    first_day: dict[int, datetime.date] = {}
    schools: dict[int, School] = {}
    for student, day, _, _ in rows:
        schools[student.school_id] = student.school
        first_day[student.school_id] = min(day, first_day.get(student.school_id, day))
    for school_id, school in schools.items():
        ids = {sid for sid, (s, _) in touched.items() if s.pk == school_id}
        ids |= set(Case.objects.filter(school_id=school_id, is_open=True).values_list("student_id", flat=True))
        _replay(school, first_day[school_id], ids)
