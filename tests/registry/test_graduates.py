"""小学毕业学籍未接续核查: the graduate list is checked like the student import, matched against
every junior school (by ID, then by name and birth date), and each graduate not found is closed
one by one with its investigation result; a dropout goes straight to the 辍学学生劝返台账."""

import datetime
import io
import json

import openpyxl
import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.utils import timezone

from baoxue.audit.models import AuditEntry
from baoxue.cases.models import Case, DropoutCause, DropoutForm, Report, Stage
from baoxue.lib.idcard import make_resident_id
from baoxue.org.models import RegistryStatus, School, Student
from baoxue.registry.graduates import (
    AMBIGUOUS_NOTE,
    graduate_counts,
    graduate_record_result,
    import_graduates,
)
from baoxue.registry.models import Graduate, GraduateResult, GraduateUpload
from tests.conftest import make_student

HEADERS = ["姓名", "身份证件号", "毕业小学", "村"]
BIRTH = datetime.date(2014, 6, 1)


def xlsx(rows, headers=HEADERS) -> io.BytesIO:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(headers)
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    buf.seek(0)
    return buf


def new_id(seq, sex="F", birth=BIRTH):
    return make_resident_id("410999", birth, seq, sex)


def run(county, rows, headers=HEADERS, *, year=2026, dry_run=False, actor=None):
    return import_graduates(actor=actor, source=xlsx(rows, headers), filename="毕业生.xlsx", county=county,
                            graduation_year=year, dry_run=dry_run)


# ---------------------------------------------------------------- matching

def test_a_graduate_in_a_junior_school_is_matched_by_id(county, students):
    zhangsan = students["zhangsan"]
    report = run(county, [["张三", zhangsan.id_number, "城关镇中心小学", "城关镇东村"]])
    assert report.committed and report.matched_by_id == 1
    g = Graduate.objects.get()
    assert g.matched_student == zhangsan and g.matched_by == "id"
    assert g.result == GraduateResult.ENROLLED_HERE and not g.is_open


def test_a_student_of_any_status_counts(county, students):
    lisi = students["lisi"]
    lisi.status = RegistryStatus.SUSPENDED
    lisi.save()
    run(county, [["李四", lisi.id_number, "留固镇中心小学", "南村"]])
    assert Graduate.objects.get().matched_student == lisi


def test_the_g_number_finds_a_student_without_id_number(county, students):
    zhangsan = students["zhangsan"]
    number = zhangsan.id_number
    Student.objects.filter(pk=zhangsan.pk).update(id_number="")
    run(county, [["张三", number, "城关镇中心小学", "东村"]])
    assert Graduate.objects.get().matched_by == "id"


def test_a_different_id_is_matched_by_name_and_birth_date(county, students):
    zhangsan = students["zhangsan"]  # born 2012-03-05
    other_id = make_resident_id("410999", zhangsan.birth_date, 41, "M")
    report = run(county, [["张三", other_id, "城关镇中心小学", "东村"]])
    assert report.matched_by_name_birth == 1
    g = Graduate.objects.get()
    assert g.matched_student == zhangsan and g.matched_by == "name_birth"
    assert "身份证件号与初中学籍不一致" in g.note


def test_a_missing_id_is_matched_by_name_and_birth_date(county, students):
    run(county, [["李四", "", "留固镇中心小学", "南村", "男", "2012-03-05"]],
        headers=HEADERS + ["性别", "出生日期"])
    g = Graduate.objects.get()
    assert g.matched_student == students["lisi"] and g.matched_by == "name_birth"
    assert g.sex == "M" and g.birth_date == datetime.date(2012, 3, 5)


def test_two_candidates_leave_the_graduate_unmatched_with_a_note(county, school, other_school, people):
    birth = datetime.date(2013, 9, 9)
    make_student(school, people["c71"], "王五", 21, birth=birth)
    make_student(other_school, None, "王五", 22, birth=birth)
    report = run(county, [["王五", "", "城关镇中心小学", "东村", birth.isoformat()]], headers=HEADERS + ["出生日期"])
    assert report.ambiguous == 1 and report.continued == 0
    g = Graduate.objects.get()
    assert g.matched_student is None and g.is_open
    assert g.note == AMBIGUOUS_NOTE == "同名同生日多人，请人工核对"


def test_primary_schools_are_not_searched(county, townships):
    primary = School.objects.create(code="4109990009", name="城关镇中心小学", county=county,
                                    township=townships["城关镇"], stage="primary")
    pupil = make_student(primary, None, "赵六", 30, birth=BIRTH)
    run(county, [["赵六", pupil.id_number, "城关镇中心小学", "东村"]])
    assert Graduate.objects.get().is_open


def test_a_nine_year_school_of_another_county_is_searched(county, students):
    from baoxue.org.models import County, Township

    far = County.objects.create(code="410888", name="邻县")
    town = Township.objects.create(county=far, name="邻镇")
    nine = School.objects.create(code="4108880001", name="邻县九年一贯制学校", county=far, township=town, stage="nine_year")
    moved = make_student(nine, None, "钱七", 31, birth=BIRTH)
    run(county, [["钱七", moved.id_number, "城关镇中心小学", "东村"]])
    assert Graduate.objects.get().matched_student == moved


def test_matching_takes_a_few_queries_whatever_the_size(county, students, django_assert_max_num_queries):
    rows = [[f"学生{i}", new_id(i % 100, birth=BIRTH + datetime.timedelta(days=i // 100)), "城关镇中心小学", "东村"]
            for i in range(300)]
    # Reads: townships, earlier lists, students by ID, students by name; SQLite then inserts in
    # batches of about 70 rows (a query per graduate would be 300 more).
    with django_assert_max_num_queries(20):
        report = run(county, rows)
    assert report.committed and report.unmatched == 300


# ---------------------------------------------------------------- reading the file

def test_bad_rows_are_named_by_row_and_column_and_nothing_is_written(county, students):
    good = new_id(1)
    bad_digit = good[:17] + ("0" if good[17] != "0" else "1")
    report = run(county, [
        ["孙一", good, "城关镇中心小学", "东村"],
        ["孙二", bad_digit, "城关镇中心小学", "东村"],
        ["", new_id(2), "城关镇中心小学", "东村"],
        ["孙四", new_id(4), "", "东村"],
        ["孙五", new_id(5), "城关镇中心小学", ""],
    ])
    assert not report.committed
    text = [str(p) for p in report.problems]
    assert any(t.startswith("第3行“身份证件号”列：身份证件号校验位错误") and "请核对证件原件后更正" in t for t in text)
    assert "第4行“姓名”列：姓名不能为空：请填写毕业生姓名" in text
    assert any(t.startswith("第5行“毕业小学”列：") for t in text)
    assert any(t.startswith("第6行“村”列：") for t in text)
    assert Graduate.objects.count() == 0 and GraduateUpload.objects.count() == 0


def test_a_numeric_id_cell_is_rejected(county):
    report = run(county, [["孙一", 410999201406010011, "城关镇中心小学", "东村"]])
    assert not report.committed
    (problem,) = report.problems
    assert (problem.row, problem.column) == (2, "身份证件号")
    assert "数字格式" in problem.message and "文本" in problem.message


def test_a_duplicate_in_the_file_is_reported(county):
    number = new_id(7)
    report = run(county, [["孙一", number, "城关镇中心小学", "东村"], ["孙一", number, "城关镇中心小学", "东村"]])
    (problem,) = report.problems
    assert str(problem).startswith("第3行“身份证件号”列：身份证件号与第2行重复")
    assert Graduate.objects.count() == 0


def test_missing_columns_are_a_problem_of_the_file(county):
    report = run(county, [["孙一", new_id(1)]], headers=["姓名", "身份证号"])
    (problem,) = report.problems
    assert problem.row == 1 and "毕业小学" in problem.message and "村" in problem.message


def test_headers_are_matched_tolerantly_and_birth_and_sex_come_from_the_id(county, townships):
    number = new_id(8, sex="M")
    run(county, [[number, "孙八", "城关镇中心小学", "示范县留固镇南村3组"]],
        headers=["身份证号码（文本）", "*姓名", "学校名称", "家庭住址"])
    g = Graduate.objects.get()
    assert (g.name, g.sex, g.birth_date) == ("孙八", "M", BIRTH)
    assert g.township == townships["留固镇"] and g.village == "南村"


def test_the_township_column_is_checked_against_the_county(county, townships):
    report = run(county, [["孙一", new_id(1), "城关镇中心小学", "东村", "留固"],
                          ["孙二", new_id(2), "城关镇中心小学", "西村", "火星镇"]],
                 headers=["姓名", "身份证件号", "小学", "村（社区）", "乡镇"])
    (problem,) = report.problems
    assert str(problem).startswith("第3行“乡镇”列：乡镇“火星镇”不在示范县的乡镇名单中")
    report = run(county, [["孙一", new_id(1), "城关镇中心小学", "东村", "留固"]],
                 headers=["姓名", "身份证件号", "小学", "村（社区）", "乡镇"])
    assert Graduate.objects.get().township == townships["留固镇"]


def test_a_row_without_id_and_birth_date_cannot_be_checked(county):
    report = run(county, [["孙一", "", "城关镇中心小学", "东村"]])
    (problem,) = report.problems
    assert problem.column == "身份证件号" and "出生日期" in problem.message


def test_a_dry_run_writes_nothing(county, students):
    report = run(county, [["张三", students["zhangsan"].id_number, "城关镇中心小学", "东村"]], dry_run=True)
    assert report.ok and report.matched_by_id == 1 and not report.committed
    assert Graduate.objects.count() == 0


def test_a_graduate_already_listed_for_the_year_is_skipped(county):
    run(county, [["孙一", new_id(1), "城关镇中心小学", "东村"]])
    report = run(county, [["孙一", new_id(1), "城关镇中心小学", "东村"], ["孙二", new_id(2), "城关镇中心小学", "东村"]])
    assert report.committed and len(report.already_listed) == 1 and report.new_rows == 1
    assert Graduate.objects.count() == 2
    report = run(county, [["孙一", new_id(1), "城关镇中心小学", "东村"]])
    assert not report.committed and "无需重复上传" in report.problems[0].message


def test_the_import_is_audited(county, people):
    run(county, [["孙一", new_id(1), "城关镇中心小学", "东村"]], actor=people["users"]["registrar"])
    entry = AuditEntry.objects.get(action="import")
    assert entry.actor == people["users"]["registrar"] and "待核查 1" in entry.note


# ---------------------------------------------------------------- 逐一销账

@pytest.fixture
def open_graduate(county, townships):
    """孙九, not found in any junior school, lives in 留固镇."""
    run(county, [["孙九", new_id(9, sex="M"), "留固镇中心小学", "留固镇北村"]])
    g = Graduate.objects.get(name="孙九")
    assert g.is_open and g.township == townships["留固镇"]
    return g


def test_a_dropout_is_enrolled_and_enters_the_dropout_ledger(open_graduate, other_school, people, townships):
    registrar = people["users"]["registrar"]
    g = graduate_record_result(actor=registrar, graduate=open_graduate, result=GraduateResult.DROPPED_OUT,
                               note="在家务农，家长不愿送学")
    today = timezone.localdate()
    assert g.result == "dropped_out" and g.closed_on == today and g.closed_by == registrar
    student = g.matched_student
    # The default responsible school is the junior school of the township the child lives in.
    assert student.school == other_school and student.school_class is None
    assert student.status == RegistryStatus.DROPPED_OUT and student.residence_township == townships["留固镇"]
    assert (student.name, student.sex, student.birth_date) == ("孙九", "M", BIRTH)
    case = Case.objects.get(student=student)
    assert case.stage == Stage.DROPOUT and case.is_open and case.dropout_on == today
    assert case.dropout_cause == DropoutCause.NOT_ENROLLED and case.dropout_reason == "在家务农，家长不愿送学"
    assert DropoutForm.objects.filter(case=case).exists()
    reports = {r.recipient: r for r in Report.objects.filter(case=case)}
    assert set(reports) == {"township", "county"} and reports["township"].township == townships["留固镇"]
    assert g.matched_by == "" and graduate_counts(g.county, 2026)["by_result"]["dropped_out"] == 1
    logged = set(AuditEntry.objects.filter(actor=registrar).values_list("object_type", flat=True))
    assert {"student", "case", "dropoutform", "report", "graduate"} <= logged


def test_a_dropout_can_be_given_to_another_junior_school(open_graduate, school, people):
    g = graduate_record_result(actor=people["users"]["county"], graduate=open_graduate,
                               result=GraduateResult.DROPPED_OUT, responsible_school=school)
    assert g.matched_student.school == school
    assert Case.objects.get(student=g.matched_student).dropout_reason == "小学毕业未升学"


def test_studying_elsewhere_needs_school_and_place(open_graduate, people, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    actor = people["users"]["office"]
    with pytest.raises(ValidationError) as e:
        graduate_record_result(actor=actor, graduate=open_graduate, result=GraduateResult.ELSEWHERE)
    assert set(e.value.message_dict) == {"result_school", "result_place"}
    open_graduate.refresh_from_db()
    assert open_graduate.is_open
    proof = SimpleUploadedFile("在读证明.pdf", b"%PDF-1.4", content_type="application/pdf")
    g = graduate_record_result(actor=actor, graduate=open_graduate, result=GraduateResult.ELSEWHERE,
                               result_school="宁波市鄞州区实验中学", result_place="浙江省宁波市", proof=proof)
    assert g.closed_on == timezone.localdate() and g.proof.name.endswith(".pdf")
    assert not Student.objects.filter(name="孙九").exists()
    entry = AuditEntry.objects.get(object_type="graduate")
    assert entry.changes["result"] == [None, "elsewhere"] and entry.actor == actor


def test_other_rules_of_the_results(open_graduate, people):
    actor = people["users"]["office"]
    for result, key in ((GraduateResult.OTHER_SCHOOL_COUNTY, "result_school"), (GraduateResult.OTHER, "note"),
                        (GraduateResult.ENROLLED_HERE, "result"), ("nonsense", "result")):
        with pytest.raises(ValidationError) as e:
            graduate_record_result(actor=actor, graduate=open_graduate, result=result)
        assert key in e.value.message_dict
    graduate_record_result(actor=actor, graduate=open_graduate, result=GraduateResult.ABROAD)
    with pytest.raises(ValidationError) as e:  # 逐一销账: once
        graduate_record_result(actor=actor, graduate=open_graduate, result=GraduateResult.DECEASED)
    assert "已于" in e.value.message_dict["result"][0]


def test_a_matched_graduate_needs_no_result(county, students, people):
    run(county, [["张三", students["zhangsan"].id_number, "城关镇中心小学", "东村"]])
    with pytest.raises(ValidationError):
        graduate_record_result(actor=people["users"]["office"], graduate=Graduate.objects.get(),
                               result=GraduateResult.ABROAD)


def test_the_counts_of_yingshang_jinshang(county, students, people):
    run(county, [
        ["张三", students["zhangsan"].id_number, "城关镇中心小学", "东村"],
        ["孙一", new_id(1), "城关镇中心小学", "东村"],
        ["孙二", new_id(2), "城关镇中心小学", "东村"],
        ["孙三", new_id(3), "留固镇中心小学", "南村"],
    ])
    run(county, [["周一", new_id(11), "城关镇中心小学", "东村"]], year=2025)
    actor = people["users"]["office"]
    graduate_record_result(actor=actor, graduate=Graduate.objects.get(name="孙一"), result=GraduateResult.ELSEWHERE,
                           result_school="某中学", result_place="广东省东莞市")
    graduate_record_result(actor=actor, graduate=Graduate.objects.get(name="孙二"), result=GraduateResult.DEFERRED)
    counts = graduate_counts(county, 2026)
    assert {k: counts[k] for k in ("total", "continued", "open", "closed", "studying")} == {
        "total": 4, "continued": 1, "open": 1, "closed": 2, "studying": 2}
    assert counts["by_result"]["elsewhere"] == 1 and counts["by_result"]["deferred"] == 1
    assert counts["rate"] == 50.0
    assert graduate_counts(county, 2025)["total"] == 1 and graduate_counts(county, None)["total"] == 5


# ---------------------------------------------------------------- the command

def test_the_command_imports_and_refuses_bad_files(county, students, tmp_path, capsys):
    path = tmp_path / "毕业生.xlsx"
    path.write_bytes(xlsx([["张三", students["zhangsan"].id_number, "城关镇中心小学", "东村"],
                           ["孙一", new_id(1), "城关镇中心小学", "东村"]]).getvalue())
    call_command("import_graduates", str(path), county="410999", year=2026, dry_run=True)
    assert Graduate.objects.count() == 0
    capsys.readouterr()
    call_command("import_graduates", str(path), county="410999", year=2026, format="json")
    out = json.loads(capsys.readouterr().out)
    assert out["committed"] and out["matched_by_id"] == 1 and out["unmatched"] == 1
    assert Graduate.objects.count() == 2
    bad = tmp_path / "bad.csv"
    bad.write_text("姓名,身份证件号,毕业小学,村\n孙二,123,城关镇中心小学,东村\n", encoding="utf-8")
    with pytest.raises(CommandError, match="未导入"):
        call_command("import_graduates", str(bad), county="410999", year=2026)
    with pytest.raises(CommandError, match="没有行政区划代码"):
        call_command("import_graduates", str(path), county="999999", year=2026)
