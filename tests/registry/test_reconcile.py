"""人籍一致: every person of the roster and of the school in exactly one category."""

import datetime as dt
import json

import openpyxl
import pytest
from django.core.management import CommandError, call_command

from baoxue.lib.idcard import make_resident_id
from baoxue.registry.models import Discrepancy, OnsiteCheck, OnsiteEntry, RosterUpload
from baoxue.registry.reconcile import ReconcileError, reconcile, summary_xlsx
from tests.conftest import make_student

HEADERS = ["学校标识码", "姓名", "性别", "出生日期", "身份证件类型", "身份证件号", "全国学籍号", "年级", "班级"]


def row_for(s, **over):
    r = {"学校标识码": s.school.code, "姓名": s.name, "性别": s.get_sex_display(), "出生日期": s.birth_date.isoformat(),
         "身份证件类型": "居民身份证", "身份证件号": s.id_number, "全国学籍号": s.registry_no,
         "年级": s.school_class.grade.name, "班级": s.school_class.name}
    r.update(over)
    return [r[h] for h in HEADERS]


def stranger(seq, name, sex="男"):
    number = make_resident_id("410999", dt.date(2011, 6, 1), seq, "M" if sex == "男" else "F")
    return ["4109990001", name, sex, "2011-06-01", "居民身份证", number, "G" + number, "七年级", "(1)班"]


def write(path, rows, headers=HEADERS):
    wb = openpyxl.Workbook()
    wb.active.append(headers)
    for r in rows:
        wb.active.append(r)
    wb.save(path)
    return path


@pytest.fixture
def roster(tmp_path, people, students, school):
    """张三 consistent; 李四 in the wrong class; 王五 registered only; a duplicate; a bad check digit;
    赵六 in school but missing from the file."""
    make_student(school, people["c71"], "赵六", 9)
    bad = stranger(21, "钱七")
    bad[5] = bad[5][:-1] + ("0" if bad[5][-1] != "0" else "1")
    dup = stranger(23, "孙八")
    return write(tmp_path / "国网名册.xlsx", [
        row_for(students["zhangsan"]), row_for(students["lisi"], 班级="(1)班"), stranger(25, "王五"), dup, dup, bad,
    ])


def run(school, path, **kw):
    with open(path, "rb") as f:
        return reconcile(actor=None, source=f, filename=path.name, school=school, **kw)


def test_every_person_in_exactly_one_category(school, roster):
    result = run(school, roster, dry_run=True).as_json()
    names = {c: sorted(p["name"] for p in result[c]) for c in result if c != "counts"}
    assert names == {
        "consistent": ["张三"], "mismatched": ["李四"], "registered_not_present": ["王五"],
        "present_not_registered": ["赵六"], "duplicates": ["孙八", "孙八"], "invalid": ["钱七"],
    }
    assert result["counts"] == {k: len(v) for k, v in names.items()}
    assert result["mismatched"][0]["fields"] == ["班级"] and result["mismatched"][0]["row"] == 3
    reason = result["invalid"][0]["reason"]
    assert "校验" in reason and "应为" in reason
    assert result["present_not_registered"][0]["row"] is None
    assert [p["row"] for p in result["duplicates"]] == [5, 6]


def test_the_json_command_keeps_the_contract(school, roster, capsys):
    call_command("reconcile", str(roster), "--school", school.code, "--format", "json")
    data = json.loads(capsys.readouterr().out)
    assert set(data) == {"consistent", "registered_not_present", "present_not_registered", "mismatched",
                         "duplicates", "invalid", "counts"}
    for items in (v for k, v in data.items() if k != "counts"):
        for item in items:
            assert {"registry_no", "name", "row"} <= set(item)


def test_discrepancies_become_work_items_and_a_reupload_shows_the_diff(school, roster, students, tmp_path):
    first = run(school, roster)
    assert first.new_items == 5 and Discrepancy.objects.filter(status="open").count() == 5
    # The clerk fixes 李四's class in the registry and 钱七's ID; 王五 is still there; 赵六 is added.
    zhao = students["zhangsan"].__class__.objects.get(name="赵六")
    fixed = stranger(21, "钱七")
    newer = write(tmp_path / "国网名册2.xlsx", [
        row_for(students["zhangsan"]), row_for(students["lisi"]), stranger(25, "王五"), stranger(23, "孙八"), fixed,
        row_for(zhao),
    ])
    second = run(school, newer)
    assert second.resolved_items == 4  # 李四, 赵六, the duplicate, the invalid row
    assert second.still_open_items == 1  # 王五
    assert second.new_items == 2  # 孙八 and 钱七 are registered but not among the students
    assert RosterUpload.objects.count() == 2
    resolved = Discrepancy.objects.filter(status="resolved")
    assert all(d.closed_on for d in resolved)


def test_an_onsite_absence_counts_as_registered_not_present(school, roster, students, people, term):
    check = OnsiteCheck.objects.create(county=school.county, school=school, term=term, date=dt.date(2025, 9, 1))
    OnsiteEntry.objects.create(check_run=check, county=school.county, school=school, school_class=people["c71"],
                               student=students["zhangsan"], result="absent", reason="去广东了")
    OnsiteEntry.objects.create(check_run=check, county=school.county, school=school, school_class=people["c71"],
                               result="added", name="借读生", id_number="410999201107010011")
    result = run(school, roster, dry_run=True).as_json()
    assert "张三" in [p["name"] for p in result["registered_not_present"]]
    assert "借读生" in [p["name"] for p in result["present_not_registered"]]


def test_a_file_of_another_school_is_refused(school, other_school, roster):
    with pytest.raises(ReconcileError, match="另一所学校"):
        run(other_school, roster)
    assert not RosterUpload.objects.exists()


@pytest.mark.parametrize("content,words", [
    (b"", "空"), (b"%PDF-1.4 not a roster" * 50, "Excel"),
])
def test_bad_files_are_refused_like_the_student_import(school, tmp_path, content, words):
    path = tmp_path / "x.xlsx"
    path.write_bytes(content)
    with pytest.raises(CommandError, match=words):
        call_command("reconcile", str(path), "--school", school.code)


def test_unknown_headers_name_the_missing_columns(school, tmp_path):
    path = write(tmp_path / "x.xlsx", [["1", "2"]], headers=["编号", "名称"])
    with pytest.raises(ReconcileError, match="第1行：缺少必需的列：姓名"):
        run(school, path)


def test_a_numeric_id_cell_is_invalid_with_the_reason(school, tmp_path, people, students):
    r = stranger(27, "周九")
    r[5] = int(r[5][:15])
    result = run(school, write(tmp_path / "n.xlsx", [r]), dry_run=True)
    assert "数字格式" in result.people["invalid"][0].reason


def test_the_summary_sheet_per_grade(school, roster, tmp_path):
    result = run(school, roster, dry_run=True)
    path = tmp_path / "s.xlsx"
    path.write_bytes(summary_xlsx(result))
    ws = openpyxl.load_workbook(path)["底数清、情况明"]
    header = [c.value for c in ws[1]]
    assert header[:3] == ["年级", "在校学生（系统）", "一致"]
    seventh = [c.value for c in ws[2]]
    assert seventh[0] == "七年级" and seventh[1] == 3
