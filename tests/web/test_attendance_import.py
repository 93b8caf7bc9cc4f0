"""Attendance import in the web: /attendance/import/ → preview → confirm."""

import datetime
import io

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from baoxue.attendance.models import AttendanceRecord, FileDay
from baoxue.org.models import School, SchoolClass, Grade
from tests.web.conftest import _student

HEADERS = ["日期", "全国学籍号", "状态", "原因"]


def xlsx(rows, headers=HEADERS) -> SimpleUploadedFile:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(headers)
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return SimpleUploadedFile("门禁考勤.xlsx", buf.getvalue(),
                              content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


def upload(client, file, covers="listed-classes"):
    return client.post(reverse("attendance_import"), {"file": file, "covers": covers})


@pytest.mark.parametrize("role", ["office", "registrar", "admin"])
def test_it_opens_for_those_who_import(login, org, media, role):
    assert login(getattr(org, role)).get(reverse("attendance_import")).status_code == 200


@pytest.mark.parametrize("role", ["leader", "head_teacher_1", "county_official", "outsider"])
def test_it_is_not_found_for_others(login, org, media, role):
    assert login(getattr(org, role)).get(reverse("attendance_import")).status_code == 404


def test_preview_then_confirm_writes_the_records(login, org, media):
    client = login(org.office)
    r = upload(client, xlsx([["2025-09-29", org.student_1.registry_no, "旷课", ""],
                             ["2025-09-29", org.student_2.registry_no, "出勤", ""]]))
    assert r.status_code == 302
    stored = list((media / "attendance_imports").iterdir())
    assert len(stored) == 1
    html = client.get(r["Location"]).content.decode()
    assert "检查通过" in html and "2025年9月29日" in html
    assert "disabled" not in html.split(">确认导入</button>")[0].rsplit("<button", 1)[-1]
    assert not AttendanceRecord.objects.exists() and not FileDay.objects.exists()  # nothing written yet

    confirm = r["Location"] + "confirm/"
    r = client.post(confirm)
    assert r.status_code == 302
    record = AttendanceRecord.objects.get()
    assert (record.student, record.mark, record.source) == (org.student_1, "truant", "import")
    assert FileDay.objects.filter(school=org.school, date=datetime.date(2025, 9, 29)).exists()
    assert not list((media / "attendance_imports").iterdir())  # the upload is not kept
    # A second click imports nothing more.
    r = client.post(confirm)
    assert r.status_code in (302, 404)
    assert AttendanceRecord.objects.count() == 1


def test_a_bad_file_shows_rows_and_columns_and_writes_nothing(login, org, media):
    client = login(org.registrar)
    r = upload(client, xlsx([["2025-09-29", org.student_1.registry_no, "旷课", ""],
                             ["2025-09-29", "G410999000000000000", "旷课", ""],
                             ["2025-10-03", org.student_2.registry_no, "病假", ""],
                             ["2025-09-29", org.student_2.registry_no, "睡觉", ""]]))
    html = client.get(r["Location"]).content.decode()
    assert "文件有问题，不能导入" in html
    problems, skipped = html.split("问题清单")[1].split("跳过的行")
    assert '<td class="num">3</td><td class="nowrap">全国学籍号</td>' in problems
    assert '<td class="num">5</td><td class="nowrap">状态</td>' in problems and "睡觉" in problems
    # 2025-10-03 is a holiday: skipped, not a problem.
    assert '<td class="num">4</td>' not in problems
    assert '<td class="num">4</td><td class="nowrap">日期</td>' in skipped and "不是示范县第一初级中学的在校日" in skipped
    assert "disabled" in html.split(">确认导入</button>")[0].rsplit("<button", 1)[-1]
    # Even a forced confirm writes nothing.
    client.post(r["Location"] + "confirm/")
    assert not AttendanceRecord.objects.exists() and not FileDay.objects.exists()


def test_students_of_another_school_are_refused(login, org, media):
    other = School.objects.create(code="4109990002", name="留固镇初级中学", county=org.county, township=org.liugu)
    grade = Grade.objects.create(school=other, name="七年级", order=7)
    klass = SchoolClass.objects.create(school=other, grade=grade, name="(1)班")
    stranger = _student(other, klass, "钱七", 9, "M", org.liugu, "")
    client = login(org.office)
    r = upload(client, xlsx([["2025-09-29", org.student_1.registry_no, "旷课", ""],
                             ["2025-09-29", stranger.registry_no, "旷课", ""]]))
    html = client.get(r["Location"]).content.decode()
    assert f"没有找到学生 {stranger.registry_no}" in html
    client.post(r["Location"] + "confirm/")
    assert not AttendanceRecord.objects.exists()


def test_cancel_forgets_the_file(login, org, media):
    client = login(org.office)
    r = upload(client, xlsx([["2025-09-29", org.student_1.registry_no, "旷课", ""]]))
    client.post(r["Location"] + "cancel/")
    assert not list((media / "attendance_imports").iterdir())
    assert client.get(r["Location"]).status_code == 404


def test_another_session_cannot_open_the_upload(login, org, media, client):
    r = upload(login(org.office), xlsx([["2025-09-29", org.student_1.registry_no, "旷课", ""]]))
    client.logout()
    client.force_login(org.registrar)
    assert client.get(r["Location"]).status_code == 404


def test_a_wrong_file_type_is_refused(login, org, media):
    r = upload(login(org.office), SimpleUploadedFile("考勤.pdf", b"%PDF"))
    assert r.status_code == 200 and "不支持的文件类型" in r.content.decode()


def test_the_upload_asks_what_the_file_covers(login, org, media):
    client = login(org.office)
    html = client.get(reverse("attendance_import")).content.decode()
    assert "这个文件记录的是" in html and "只有文件中出现的班级" in html and "全校所有班级" in html
    r = client.post(reverse("attendance_import"), {"file": xlsx([["2025-09-29", org.student_1.registry_no, "旷课", ""]])})
    assert r.status_code == 200 and "请选择这个文件记录的是哪些班级" in r.content.decode()
    assert not (media / "attendance_imports").exists() or not list((media / "attendance_imports").iterdir())


@pytest.mark.parametrize("covers, label, school_class", [
    ("listed-classes", "只有文件中出现的班级", "class_1"),
    ("whole-school", "全校所有班级", None),
])
def test_the_choice_reaches_the_import(login, org, media, covers, label, school_class):
    client = login(org.office)
    r = upload(client, xlsx([["2025-09-29", org.student_1.registry_no, "旷课", ""]]), covers=covers)
    html = client.get(r["Location"]).content.decode()
    assert f"这个文件记录的是：<strong>{label}" in html
    client.post(r["Location"] + "confirm/")
    expected = getattr(org, school_class).pk if school_class else None
    assert list(FileDay.objects.values_list("school_class", flat=True)) == [expected]


def test_a_holiday_row_is_listed_as_skipped_and_the_rest_imports(login, org, media):
    client = login(org.office)
    r = upload(client, xlsx([["2025-09-29", org.student_1.registry_no, "旷课", ""],
                             ["2025-10-01", org.student_2.registry_no, "旷课", ""]]))
    html = client.get(r["Location"]).content.decode()
    assert "检查通过" in html and "问题清单" not in html
    skipped = html.split("跳过的行")[1]
    assert '<td class="num">3</td><td class="nowrap">日期</td>' in skipped
    assert "2025-10-01 不是示范县第一初级中学的在校日" in skipped
    r = client.post(r["Location"] + "confirm/", follow=True)
    assert "跳过不是在校日的 1 行" in r.content.decode()
    imported = list(AttendanceRecord.objects.values_list("student", "date"))
    assert imported == [(org.student_1.pk, datetime.date(2025, 9, 29))]
