import io

import openpyxl
import pytest
from django.urls import reverse

from baoxue.audit.models import AuditEntry

LIST = reverse("student_list")
EXPORT = reverse("student_export")


def names(response):
    return [s.name for s in response.context["page"].object_list]


def sheet(response):
    wb = openpyxl.load_workbook(io.BytesIO(response.content))
    rows = list(wb.active.iter_rows(values_only=True))
    header = rows[0]
    return [dict(zip(header, row)) for row in rows[1:]]


@pytest.mark.parametrize("role, expected", [
    ("admin", ["张三", "李四"]), ("county_official", ["张三", "李四"]), ("leader", ["张三", "李四"]),
    ("office", ["张三", "李四"]), ("registrar", ["张三", "李四"]), ("head_teacher_1", ["张三"]),
    ("head_teacher_2", ["李四"]), ("mentor", ["李四"]), ("township_official", ["李四"]), ("outsider", []),
])
def test_it_lists_the_students_in_scope(login, org, role, expected):
    r = login(getattr(org, role)).get(LIST)
    assert r.status_code == 200
    assert names(r) == expected


def test_search_finds_nothing_outside_scope(login, org):
    client = login(org.head_teacher_1)
    assert names(client.get(LIST, {"q": "李四"})) == []
    assert names(client.get(LIST, {"q": org.student_2.registry_no})) == []
    assert names(client.get(LIST, {"q": "zs"})) == ["张三"]


def test_search_by_id_number_ending(login, org):
    r = login(org.office).get(LIST, {"q": org.student_2.id_number[-6:]})
    assert names(r) == ["李四"]


def test_it_filters_by_class_key_group_and_status(login, org):
    client = login(org.office)
    assert names(client.get(LIST, {"klass": org.class_2.pk})) == ["李四"]
    assert names(client.get(LIST, {"group": "left_behind"})) == ["李四"]
    assert names(client.get(LIST, {"status": "dropped_out"})) == []
    assert names(client.get(LIST, {"grade": "七年级"})) == ["张三", "李四"]


def test_a_filter_outside_scope_matches_nobody(login, org):
    client = login(org.head_teacher_1)
    assert names(client.get(LIST, {"klass": org.class_2.pk})) == []
    assert sheet(client.get(EXPORT, {"klass": org.class_2.pk})) == []
    assert names(client.get(LIST, {"klass": "abc"})) == []


def test_a_township_official_filters_residents_by_grade(login, org):
    assert names(login(org.township_official).get(LIST, {"grade": "七年级"})) == ["李四"]


def test_it_masks_id_numbers_and_registry_numbers_for_a_head_teacher(login, org):
    html = login(org.head_teacher_1).get(LIST).content.decode()
    number = org.student_1.id_number
    assert number not in html
    assert number[:2] + "*" * 14 + number[-2:] in html
    assert number[6:14] not in html  # nor the birth date (the list shows none)


def test_the_export_holds_only_the_head_teachers_class_and_is_masked(login, org):
    r = login(org.head_teacher_1).get(EXPORT)
    assert r.status_code == 200
    rows = sheet(r)
    assert [row["姓名"] for row in rows] == ["张三"]
    assert rows[0]["身份证件号"] != org.student_1.id_number
    assert rows[0]["身份证件号"] == org.student_1.id_number[:2] + "*" * 14 + org.student_1.id_number[-2:]
    assert rows[0]["出生日期"] == str(org.student_1.birth_date.year)  # the year only, beside a masked number
    assert rows[0]["联系电话"] == "13812345678"  # a head teacher calls their own class's families
    entry = AuditEntry.objects.get(action="export")
    assert "证件号已遮盖" in entry.note


def test_the_township_export_is_masked_phones_too(login, org):
    rows = sheet(login(org.township_official).get(EXPORT))
    assert [row["姓名"] for row in rows] == ["李四"]
    assert rows[0]["联系电话"] == "139****4321"


def test_the_office_exports_full_numbers_and_it_is_logged(login, org):
    r = login(org.office).get(EXPORT, {"klass": org.class_1.pk})
    rows = sheet(r)
    assert [row["姓名"] for row in rows] == ["张三"]
    assert rows[0]["身份证件号"] == org.student_1.id_number
    assert rows[0]["全国学籍号"] == org.student_1.registry_no
    entry = AuditEntry.objects.get(action="export")
    assert entry.note == "导出学生名册 1 人（含完整证件号）"
    assert entry.actor == org.office and entry.school_id == org.school.pk


def test_a_county_export_is_logged_in_the_county(login, org):
    login(org.county_official).get(EXPORT)
    entry = AuditEntry.objects.get(action="export")
    assert entry.county_id == org.county.pk


def test_the_export_never_writes_formulas(login, org):
    org.student_1.name = '=HYPERLINK("http://example.com","点我")'
    org.student_1.save()
    r = login(org.office).get(EXPORT)
    ws = openpyxl.load_workbook(io.BytesIO(r.content)).active
    cell = next(c for c in ws["D"] if c.value and str(c.value).startswith("=HYPERLINK"))
    assert cell.data_type == "s"
