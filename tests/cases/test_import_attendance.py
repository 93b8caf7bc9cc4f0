"""baoxue import-attendance: gate files by exception, per-row problems, nothing half-written."""

import datetime as dt

import openpyxl
import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from baoxue.attendance import signals
from baoxue.attendance.imports import import_attendance
from baoxue.attendance.models import AttendanceRecord, FileDay, Mark
from baoxue.attendance.selectors import UNKNOWN_DAY, DayBook
from baoxue.cases.escalation import escalate
from baoxue.cases.models import Case
from baoxue.org.models import RegistryStatus, SchoolClass, Term

D = dt.date
MONDAY = D(2025, 9, 29)  # a school day; Wednesday 2025-10-01 is National Day


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
    with pytest.raises(CommandError, match="有 2 个问题，没有写入任何数据"):
        call_command("import_attendance", path)
    out = capsys.readouterr().out
    assert "第3行“全国学籍号”列：没有找到学生" in out
    assert "第5行“状态”列：状态“逃学”无法识别：应为 出勤、到校、旷课、原因不明、病假、事假、迟到 或 早退" in out
    # Outside the term and on a holiday: skipped, not problems.
    assert "第4行“日期”列：2025-08-20 不是示范县第一初级中学的在校日（节假日、周末、停课或学期外）：已跳过" in out
    assert "第6行“日期”列：2025-10-03 不是示范县第一初级中学的在校日" in out
    assert AttendanceRecord.objects.count() == 0 and FileDay.objects.count() == 0


def test_a_late_file_replays_evaluated_days(students, term, school, tmp_path):
    zs = students["zhangsan"]
    escalate(day=D(2025, 9, 24), through=True, schools=[school])  # days evaluated with no evidence at all
    path = write(tmp_path / "gate.xlsx", [[f"2025-09-{d}", zs.registry_no, "旷课", ""] for d in (22, 23, 24)])
    call_command("import_attendance", path)
    case = Case.objects.get(student=zs)
    assert (case.first_absent_on, case.unexcused_days, case.stage) == (D(2025, 9, 22), 3, "home_visit")


@pytest.fixture
def announced():
    """The class_ids of each `attendance_changed` the import sends."""
    sent = []

    def receiver(sender, class_ids, **kwargs):
        sent.append(class_ids)

    signals.attendance_changed.connect(receiver)
    yield sent
    signals.attendance_changed.disconnect(receiver)


def test_by_default_a_file_covers_only_the_classes_it_lists(students, people, term, school, tmp_path, announced):
    zs, ls = students["zhangsan"], students["lisi"]
    c71, c72 = people["c71"], people["c72"]
    call_command("import_attendance", write(tmp_path / "gate.xlsx", [[str(MONDAY), zs.registry_no, "旷课", ""]]))
    book = DayBook(school, MONDAY, MONDAY)
    assert book.covered(c71.pk, MONDAY) is True
    assert book.covered(c72.pk, MONDAY) is False  # 七(2)班 has no row: nobody looked
    assert book.status(ls.pk, c72.pk, MONDAY) == UNKNOWN_DAY  # so 李四 is not "present"
    assert list(FileDay.objects.values_list("school_class", "date")) == [(c71.pk, MONDAY)]
    assert announced == [{c71.pk}]


def test_whole_school_covers_every_class(students, people, term, school, tmp_path, announced):
    zs = students["zhangsan"]
    c73 = SchoolClass.objects.create(school=school, grade=people["grade"], name="(3)班")  # no students at all
    call_command("import_attendance", write(tmp_path / "gate.xlsx", [[str(MONDAY), zs.registry_no, "旷课", ""]]),
                 "--covers", "whole-school")
    book = DayBook(school, MONDAY, MONDAY)
    assert all(book.covered(c.pk, MONDAY) for c in (people["c71"], people["c72"], c73))
    assert list(FileDay.objects.values_list("school", "school_class", "date")) == [(school.pk, None, MONDAY)]
    assert announced == [{people["c71"].pk, people["c72"].pk, c73.pk}]


def test_an_unknown_covers_value_is_refused_by_the_command(students, term, tmp_path):
    path = write(tmp_path / "gate.xlsx", [[str(MONDAY), students["zhangsan"].registry_no, "旷课", ""]])
    with pytest.raises(CommandError, match="--covers"):
        call_command("import_attendance", path, "--covers", "some-classes")
    assert not FileDay.objects.exists()


def test_a_holiday_row_is_skipped_and_the_rest_imported(students, term, school, tmp_path, capsys):
    zs, ls = students["zhangsan"], students["lisi"]
    path = write(tmp_path / "gate.xlsx", [
        [str(MONDAY), zs.registry_no, "旷课", ""],
        ["2025-10-01", ls.registry_no, "旷课", ""],  # 国庆节
        [str(MONDAY), ls.registry_no, "出勤", ""],
    ])
    call_command("import_attendance", path)
    out = capsys.readouterr().out
    assert "第3行“日期”列：2025-10-01 不是示范县第一初级中学的在校日（节假日、周末、停课或学期外）：已跳过" in out
    assert "已导入" in out
    assert list(AttendanceRecord.objects.values_list("student", "date")) == [(zs.pk, MONDAY)]
    assert set(FileDay.objects.values_list("date", flat=True)) == {MONDAY}
    with open(path, "rb") as f:
        report = import_attendance(actor=None, source=f, filename="gate.xlsx", dry_run=True)
    assert [(p.row, p.column) for p in report.skipped] == [(3, "日期")]
    assert report.problems == [] and report.dates == [MONDAY]


def test_a_file_of_holidays_only_imports_nothing(students, term, tmp_path, capsys):
    path = write(tmp_path / "gate.xlsx", [["2025-10-01", students["zhangsan"].registry_no, "旷课", ""]])
    with pytest.raises(CommandError, match="没有写入任何数据"):
        call_command("import_attendance", path)
    assert "没有在校日的考勤行" in capsys.readouterr().out
    assert not AttendanceRecord.objects.exists() and not FileDay.objects.exists()


def test_a_future_row_is_refused_with_its_row_number(students, term, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: D(2025, 10, 10))
    zs, ls = students["zhangsan"], students["lisi"]
    path = write(tmp_path / "gate.xlsx", [
        ["2025-10-10", zs.registry_no, "旷课", ""],  # today is fine
        ["2025-10-13", ls.registry_no, "旷课", ""],
    ])
    with pytest.raises(CommandError, match="有 1 个问题"):
        call_command("import_attendance", path)
    assert "第3行“日期”列：日期 2025-10-13 晚于今天：不能导入将来的考勤" in capsys.readouterr().out
    assert not AttendanceRecord.objects.exists() and not FileDay.objects.exists()


def test_a_year_without_calendar_is_still_a_problem(students, school, tmp_path, capsys, monkeypatch):
    Term.objects.create(school=school, name="2026-2027-2", start=D(2027, 2, 20), end=D(2027, 7, 10))
    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: D(2027, 3, 1))
    path = write(tmp_path / "gate.xlsx", [["2027-02-22", students["zhangsan"].registry_no, "旷课", ""]])
    with pytest.raises(CommandError, match="没有写入任何数据"):
        call_command("import_attendance", path)
    out = capsys.readouterr().out
    assert "第2行“日期”列：2027年的工作日历尚未录入" in out and "已跳过" not in out


def test_a_dropout_seen_at_school_is_recorded_and_a_student_on_the_roll_is_not(students, term, tmp_path):
    zs, ls = students["zhangsan"], students["lisi"]
    ls.status = RegistryStatus.DROPPED_OUT
    ls.save(update_fields=["status"])
    call_command("import_attendance", write(tmp_path / "a.xlsx", [[str(MONDAY), zs.registry_no, "旷课", ""]]))
    call_command("import_attendance", write(tmp_path / "b.xlsx", [
        [str(MONDAY), zs.registry_no, "到校", ""], [str(MONDAY), ls.registry_no, "到校", "门禁刷卡"],
    ]))
    # 张三 is on the roll: at school is the default, his absence is gone and nothing replaces it.
    # 李四 dropped out: the file is the evidence he came to school that day.
    assert list(AttendanceRecord.objects.values_list("student", "mark", "reason")) == [
        (ls.pk, Mark.PRESENT, "门禁刷卡")]
