"""The student import maps the registry export's key-group columns, including 是否需要申请资助
and the poverty columns."""

import datetime
import os

import openpyxl

from baoxue.lib.idcard import make_resident_id
from baoxue.org.imports import import_students
from baoxue.org.models import KeyGroupMembership

HEADERS = ["姓名", "性别", "身份证件类型", "身份证件号", "全国学籍号", "年级", "班级", "是否留守儿童",
           "是否进城务工人员随迁子女", "是否孤儿", "是否需要申请资助", "家庭经济困难类型", "是否低保户", "残疾类型", "随班就读"]


def row(name, seq, *, left="非", migrant="否", orphan="否", aid="否", kind="", dibao="", disability="无", mainstream=""):
    number = make_resident_id("410999", datetime.date(2012, 5, 1), seq, "M")
    return [name, "男", "居民身份证", number, "G" + number, "七年级", "1班", left, migrant, orphan, aid, kind, dibao,
            disability, mainstream]


def groups(name):
    return sorted((m.group, m.subtype, m.placement) for m in KeyGroupMembership.objects.filter(student__name=name))


def test_the_key_group_columns_become_memberships(org, tmp_path):
    path = tmp_path / "名册.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(HEADERS)
    for r in [row("甲", 1, left="双亲留守", aid="是"),
              row("乙", 2, migrant="是", kind="监测户"),
              row("丙", 3, orphan="是", dibao="是"),
              row("丁", 4, kind="建档立卡贫困户", disability="肢体残疾", mainstream="是"),
              row("戊", 5)]:
        ws.append(r)
    wb.save(path)
    with open(path, "rb") as f:
        report = import_students(actor=None, source=f, filename=os.path.basename(path), school=org.school)
    assert report.ok and report.committed, [str(p) for p in report.problems]
    assert groups("甲") == [("left_behind", "双亲留守", ""), ("poor", "", "")]
    assert groups("乙") == [("migrant", "", ""), ("poor", "监测户", "")]
    assert groups("丙") == [("orphan", "", ""), ("poor", "低保", "")]
    assert groups("丁") == [("disabled", "肢体残疾", "mainstream"), ("poor", "脱贫户", "")]
    assert groups("戊") == []
    assert report.ignored_headers == []
