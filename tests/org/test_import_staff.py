"""baoxue import-staff: accounts and roles from a sheet, all or nothing."""

import openpyxl
import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from baoxue.org.models import Membership, SchoolClass
from baoxue.org.selectors import students_for_user

HEADERS = ["用户名", "姓名", "角色", "学校标识码", "乡镇", "区县代码", "年级", "班级", "初始密码"]


def write(path, rows):
    wb = openpyxl.Workbook()
    wb.active.append(HEADERS)
    for r in rows:
        wb.active.append(r)
    wb.save(path)
    return str(path)


def test_it_creates_accounts_roles_and_head_teachers(school, townships, students, tmp_path, capsys):
    path = write(tmp_path / "staff.xlsx", [
        ["zhao", "赵老师", "班主任", "4109990001", "", "", "七年级", "(1)班", "Init-pass-1"],
        ["qian", "钱主任", "控辍保学办公室", "4109990001", "", "", "", "", ""],
        ["sun", "孙干部", "乡镇政府", "", "城关镇", "", "", "", ""],
        ["li", "李科长", "县教体局", "", "", "410999", "", "", ""],
    ])
    call_command("import_staff", path)
    out = capsys.readouterr().out
    assert "新账号 4 个" in out and "qian" in out
    zhao = get_user_model().objects.get(username="zhao")
    assert zhao.check_password("Init-pass-1")
    assert SchoolClass.objects.get(name="(1)班").head_teacher == zhao
    assert [s.name for s in students_for_user(zhao)] == ["张三"]
    assert Membership.objects.filter(user__username="sun", role="township", township=townships["城关镇"]).exists()
    call_command("import_staff", path)  # again: nothing new
    assert Membership.objects.filter(user__username__in=["zhao", "qian", "sun", "li"]).count() == 4


def test_a_bad_row_writes_nothing(school, tmp_path, capsys):
    path = write(tmp_path / "staff.xlsx", [
        ["zhou", "周老师", "班主任", "4109990001", "", "", "七年级", "(1)班", ""],
        ["wu", "吴老师", "校工", "4109990001", "", "", "", "", ""],
    ])
    users = get_user_model().objects.count()
    with pytest.raises(CommandError):
        call_command("import_staff", path)
    assert "第3行“角色”列" in capsys.readouterr().out
    assert get_user_model().objects.count() == users
