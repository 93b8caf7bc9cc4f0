"""The `baoxue` command: hyphenated project commands and Django's own."""

import subprocess
import sys

import openpyxl
import pytest
from django.core.management import CommandError, call_command

from baoxue.__main__ import main
from baoxue.lib.idcard import make_resident_id
from baoxue.org.models import School, Student


def test_it_translates_hyphenated_names(monkeypatch):
    seen = []
    monkeypatch.setattr("django.core.management.execute_from_command_line", seen.append)
    main(["/usr/bin/baoxue", "import-students", "f.xlsx", "--dry-run"])
    assert seen == [["baoxue", "import_students", "f.xlsx", "--dry-run"]]


def run(*argv):
    """Run a command as `baoxue` would, in this process (keeps the test database connection)."""
    call_command(argv[0].replace("-", "_"), *argv[1:])


def test_it_adds_a_school(db, capsys):
    run("school", "add", "--code", "4109990007", "--name", "新区初级中学", "--township", "城关镇",
          "--county-code", "410999", "--county", "示范县")
    assert "已新建学校" in capsys.readouterr().out
    assert School.objects.get(code="4109990007").township.name == "城关镇"


def test_import_students_dry_run_then_real(db, tmp_path, capsys):
    run("school", "add", "--code", "4109990007", "--name", "新区初级中学", "--township", "城关镇",
        "--county-code", "410999", "--county", "示范县")
    wb = openpyxl.Workbook()
    wb.active.append(["姓名", "性别", "身份证件号", "全国学籍号", "年级", "班级"])
    number = make_resident_id("410999", __import__("datetime").date(2012, 1, 9), 5, "F")
    wb.active.append(["林小雨", "女", number, "G" + number, "七年级", "1班"])
    path = tmp_path / "roster.xlsx"
    wb.save(path)
    run("import-students", str(path), "--school", "4109990007", "--dry-run")
    assert "新增 1" in capsys.readouterr().out and Student.objects.count() == 0
    run("import-students", str(path), "--school", "4109990007")
    assert "已导入" in capsys.readouterr().out and Student.objects.get().name == "林小雨"


def test_a_bad_file_exits_non_zero_with_the_row_and_column(db, tmp_path, capsys):
    run("school", "add", "--code", "4109990007", "--name", "新区初级中学", "--township", "城关镇",
        "--county-code", "410999", "--county", "示范县")
    wb = openpyxl.Workbook()
    wb.active.append(["姓名", "性别", "身份证件号", "全国学籍号", "年级", "班级"])
    wb.active.append(["林小雨", "女", 410999201201090052, "G1", "七年级", "1班"])
    path = tmp_path / "roster.xlsx"
    wb.save(path)
    with pytest.raises(CommandError, match="没有写入任何数据"):
        run("import-students", str(path), "--school", "4109990007")
    assert "第2行“身份证件号”列" in capsys.readouterr().out


def test_the_console_script_shows_project_commands():
    out = subprocess.run([sys.executable, "-m", "baoxue", "help"], capture_output=True, text=True,
                         env={"PATH": "/usr/bin:/bin", "SECRET_KEY": "x"}, check=True).stdout
    for name in ("import_students", "import_staff", "school"):
        assert name in out
