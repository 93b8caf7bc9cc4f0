"""baoxue import-attendance: gate files by exception, per-row problems, nothing half-written."""

import datetime as dt

import openpyxl
import pytest
from django.core.management import CommandError, call_command

from baoxue.attendance.models import AttendanceRecord, FileDay
from baoxue.cases.escalation import escalate
from baoxue.cases.models import Case

D = dt.date


def write(path, rows):
    wb = openpyxl.Workbook()
    wb.active.append(["日期", "全国学籍号", "状态", "原因"])
    for r in rows:
        wb.active.append(r)
    wb.save(path)
    return str(path)


def test_it_records_absences_and_covers_the_dates(students, term, school, tmp_path, capsys):
    zs, ls = students["zhangsan"], students["lisi"]
    path = write(tmp_path / "gate.xlsx", [
        ["2025-09-22", zs.registry_no, "旷课", ""], ["2025-09-22", ls.registry_no, "出勤", ""],
        ["2025-09-23", zs.registry_no, "出勤", ""],
    ])
    call_command("import_attendance", path)
    assert AttendanceRecord.objects.get().student == zs
    assert set(FileDay.objects.filter(school=school).values_list("date", flat=True)) == {D(2025, 9, 22), D(2025, 9, 23)}
    escalate(day=D(2025, 9, 23), through=True, schools=[school])
    case = Case.objects.get(student=zs)
    assert case.outcome == "returned" and case.closed_on == D(2025, 9, 23)  # the file is evidence of the return


def test_bad_rows_are_named_and_nothing_is_written(students, term, tmp_path, capsys):
    zs = students["zhangsan"]
    path = write(tmp_path / "gate.xlsx", [
        ["2025-09-22", zs.registry_no, "旷课", ""],
        ["2025-09-23", "G000000000000000000", "旷课", ""],
        ["2025-08-20", zs.registry_no, "旷课", ""],
        ["2025-09-24", zs.registry_no, "逃学", ""],
        ["2025-10-03", zs.registry_no, "旷课", ""],
    ])
    with pytest.raises(CommandError, match="没有写入任何数据"):
        call_command("import_attendance", path)
    out = capsys.readouterr().out
    assert "第3行“全国学籍号”列：没有找到学生" in out
    assert "第4行“日期”列" in out and "不是" in out
    assert "第5行“状态”列：状态“逃学”无法识别" in out
    assert "第6行“日期”列" in out
    assert AttendanceRecord.objects.count() == 0 and FileDay.objects.count() == 0


def test_a_late_file_replays_evaluated_days(students, term, school, tmp_path):
    zs = students["zhangsan"]
    escalate(day=D(2025, 9, 24), through=True, schools=[school])  # days evaluated with no evidence at all
    path = write(tmp_path / "gate.xlsx", [[f"2025-09-{d}", zs.registry_no, "旷课", ""] for d in (22, 23, 24)])
    call_command("import_attendance", path)
    case = Case.objects.get(student=zs)
    assert (case.first_absent_on, case.unexcused_days, case.stage) == (D(2025, 9, 22), 3, "home_visit")
