"""baoxue import-students: the registry export in, every row's problem out, nothing half-written."""

import csv
import datetime
import os

import openpyxl
import pytest

from baoxue.audit.models import AuditEntry
from baoxue.lib.idcard import make_resident_id
from baoxue.org.imports import import_students, preview_students, report_xlsx
from baoxue.org.models import FamilyMember, KeyGroupMembership, SchoolClass, Student

HEADERS = ["学校标识码", "姓名", "性别", "出生日期", "民族", "身份证件类型", "身份证件号", "全国学籍号",
           "年级", "班级", "入学年月", "现住址", "是否留守儿童", "家庭成员1姓名", "家庭成员1关系",
           "家庭成员1联系电话", "家庭成员1是否监护人", "备注"]


def row(name, seq, cls="七年级(1)班", sex="男", birth=datetime.date(2012, 5, 1), left="非"):
    number = make_resident_id("410999", birth, seq, "M" if sex == "男" else "F")
    return ["4109990001", name, sex, birth.isoformat(), "汉族", "居民身份证", number, "G" + number,
            "七年级", cls, "2024-09", "河南省示范县留固镇李庄村", left, f"{name[0]}父", "父亲", "13812345678", "是", ""]


def write_xlsx(path, rows, headers=HEADERS):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(headers)
    for r in rows:
        ws.append(r)
    wb.save(path)
    return path


def run(school, path, **kw):
    with open(path, "rb") as f:
        return import_students(actor=None, source=f, filename=os.path.basename(path), school=school, **kw)


def snapshot():
    return (Student.objects.count(), FamilyMember.objects.count(), KeyGroupMembership.objects.count(),
            SchoolClass.objects.count(), AuditEntry.objects.count())


@pytest.fixture
def good_file(tmp_path):
    return write_xlsx(tmp_path / "名册.xlsx", [row("王小明", 1), row("刘芳", 2, sex="女", cls="(2)班", left="单亲留守"),
                                              row("陈大伟", 3, cls="2班")])


def test_it_imports_a_registry_export(school, townships, good_file):
    report = run(school, good_file)
    assert report.ok, [str(p) for p in report.problems]
    assert report.committed and report.to_create == 3
    s = Student.objects.get(name="刘芳")
    assert s.sex == "F" and str(s.school_class) == "七年级(2)班"
    assert s.residence_township == townships["留固镇"] and s.residence_village == "李庄村"
    assert s.enrolled_on == datetime.date(2024, 9, 1)
    assert s.name_initials == "lf"
    assert s.family.get().is_guardian
    assert s.key_groups.get().subtype == "单亲留守"
    # 七年级(1)班, (2)班 and 2班 map to two classes of one grade
    assert sorted(c.name for c in SchoolClass.objects.filter(school=school)) == ["(1)班", "(2)班"]
    assert report.ignored_headers == ["备注"]
    assert AuditEntry.objects.filter(action="create", object_type="student").count() == 3
    assert AuditEntry.objects.filter(action="import").count() == 1


def test_it_upserts_by_registry_no_and_is_idempotent(school, tmp_path, good_file):
    run(school, good_file)
    again = run(school, good_file)
    assert (again.to_create, again.to_update, again.unchanged) == (0, 0, 3)
    moved = [row("王小明", 1, cls="(2)班"), row("刘芳", 2, sex="女", cls="(2)班", left="单亲留守"), row("陈大伟", 3, cls="2班")]
    report = run(school, write_xlsx(tmp_path / "b.xlsx", moved))
    assert report.to_update == 1 and report.committed
    assert str(Student.objects.get(name="王小明").school_class) == "七年级(2)班"
    entry = AuditEntry.objects.filter(action="update", object_type="student").get()
    assert entry.changes["school_class"] == ["七年级(1)班", "七年级(2)班"]
    assert Student.objects.count() == 3 and FamilyMember.objects.count() == 3


def test_it_reads_csv_in_gbk(school, tmp_path):
    path = tmp_path / "名册.csv"
    with open(path, "w", encoding="gbk", newline="") as f:
        w = csv.writer(f)
        w.writerow(HEADERS)
        w.writerow(row("张伟", 5))
    report = run(school, path)
    assert report.committed and Student.objects.get().name == "张伟"


def test_it_matches_header_variants(school, tmp_path):
    headers = [" 姓 名 ", "性别*", "身份证号码", "学籍号（必填）", "年级", "班级名称"]
    r = row("赵敏", 7)
    report = run(school, write_xlsx(tmp_path / "v.xlsx", [[r[1], r[2], r[6], r[7], r[8], r[9]]], headers))
    assert report.committed, [str(p) for p in report.problems]


def assert_refused(school, path, *, row_no, column, words):
    before = snapshot()
    report = run(school, path)
    assert not report.committed
    assert snapshot() == before
    texts = [str(p) for p in report.problems]
    match = [p for p in report.problems if p.row == row_no and (column is None or p.column == column)]
    assert match, texts
    assert all(w in str(match[0]) for w in words), texts
    return report


def test_unknown_headers_name_the_missing_columns(school, tmp_path):
    path = write_xlsx(tmp_path / "x.xlsx", [["a", "b", "c"]], headers=["编号", "名称", "数量"])
    report = assert_refused(school, path, row_no=1, column=None, words=["缺少必需的列", "姓名", "全国学籍号"])
    assert "编号" in str(report.problems[0])


def test_a_numeric_id_cell_is_rejected(school, tmp_path):
    r = row("孙丽", 8)
    r[6] = int(r[6][:15])  # Excel kept it as a number
    assert_refused(school, write_xlsx(tmp_path / "n.xlsx", [row("周强", 9), r]),
                   row_no=3, column="身份证件号", words=["第3行", "“身份证件号”列", "数字", "文本"])


def test_a_duplicate_id_inside_the_file(school, tmp_path):
    first, second = row("吴刚", 10), row("吴刚", 10)
    second[7] = "G" + make_resident_id("410999", datetime.date(2012, 5, 2), 11, "M")
    assert_refused(school, write_xlsx(tmp_path / "d.xlsx", [first, second]),
                   row_no=3, column="身份证件号", words=["第2行", "重复"])


def test_a_bad_check_digit_names_the_right_one(school, tmp_path):
    r = row("郑洁", 12, sex="女")
    right = r[6][-1]
    wrong = "0" if right != "0" else "1"
    r[6] = r[6][:-1] + wrong
    assert_refused(school, write_xlsx(tmp_path / "c.xlsx", [r]), row_no=2, column="身份证件号", words=["校验", right])


def test_sex_disagreeing_with_the_id(school, tmp_path):
    r = row("冯磊", 13)
    r[2] = "女"
    assert_refused(school, write_xlsx(tmp_path / "s.xlsx", [r]), row_no=2, column="身份证件号", words=["性别"])


def test_an_empty_file(school, tmp_path):
    path = tmp_path / "empty.xlsx"
    path.write_bytes(b"")
    assert_refused(school, path, row_no=None, column=None, words=["空"])


def test_a_file_that_is_not_a_spreadsheet(school, tmp_path):
    path = tmp_path / "letter.xlsx"
    path.write_bytes(b"%PDF-1.4 this is a letter, not a roster\n" * 20)
    assert_refused(school, path, row_no=None, column=None, words=["Excel"])


def test_a_10_mb_random_file(school, tmp_path):
    path = tmp_path / "random.xlsx"
    path.write_bytes(os.urandom(10 * 1024 * 1024))
    assert_refused(school, path, row_no=None, column=None, words=["Excel"])
    csv_path = tmp_path / "random.csv"
    csv_path.write_bytes(os.urandom(10 * 1024 * 1024))
    assert_refused(school, csv_path, row_no=None, column=None, words=["CSV"])


def test_a_file_of_another_school_is_refused(school, tmp_path):
    r = row("褚红", 14)
    r[0] = "4109990002"
    other = row("韩梅", 18)
    other[0] = "4109990002"
    report = assert_refused(school, write_xlsx(tmp_path / "o.xlsx", [r, other]), row_no=2, column="学校标识码",
                            words=["不是本校", "另一所学校"])
    assert len(report.problems) == 1  # one clear message, not one per row


def test_valid_rows_only_imports_the_rest(school, tmp_path):
    bad = row("卫兵", 15)
    bad[1] = ""
    report = run(school, write_xlsx(tmp_path / "m.xlsx", [row("蒋勇", 16), bad]), valid_rows_only=True)
    assert report.committed and list(Student.objects.values_list("name", flat=True)) == ["蒋勇"]
    assert [p.row for p in report.problems] == [3]


def test_dry_run_and_preview_write_nothing(school, good_file):
    before = snapshot()
    with open(good_file, "rb") as f:
        preview = preview_students(f, "名册.xlsx", school)
    assert preview.to_create == 3 and not preview.committed
    assert run(school, good_file, dry_run=True).to_create == 3
    assert snapshot() == before


def test_the_row_report_downloads_as_xlsx(school, tmp_path):
    r = row("沈冰", 17)
    r[6] = r[6][:-2]
    report = run(school, write_xlsx(tmp_path / "r.xlsx", [r]))
    path = tmp_path / "report.xlsx"
    path.write_bytes(report_xlsx(report))
    ws = openpyxl.load_workbook(path).worksheets[0]
    assert ws.cell(2, 1).value == 2 and ws.cell(2, 2).value == "身份证件号"
    assert "18位" in ws.cell(2, 3).value


def test_a_student_of_another_school_is_not_moved(school, other_school, tmp_path, good_file):
    run(school, good_file)
    without_code = [r[1:] for r in [row("王小明", 1)]]
    report = run(other_school, write_xlsx(tmp_path / "t.xlsx", without_code, headers=HEADERS[1:]))
    assert not report.committed
    assert "请先办理转学" in str(report.problems[0])
    assert Student.objects.filter(school=other_school).count() == 0
