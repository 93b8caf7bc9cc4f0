import datetime
import io

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from baoxue.audit.models import AuditEntry
from baoxue.lib.idcard import make_resident_id
from baoxue.org.models import ImportBatch, SchoolClass, Student

HEADERS = ["姓名", "性别", "身份证件号", "全国学籍号", "年级", "班级", "现住址"]


def xlsx(rows, headers=HEADERS) -> SimpleUploadedFile:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(headers)
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return SimpleUploadedFile("名册.xlsx", buf.getvalue(),
                              content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


def new_row(name, seq, sex="F", grade="八年级", klass="1班"):
    number = make_resident_id("410999", datetime.date(2011, 5, 6), seq, sex)
    return [name, "女" if sex == "F" else "男", number, "G" + number, grade, klass, "示范县留固镇南村"]


def upload(client, org, file, **extra):
    return client.post(reverse("import_upload", args=[org.school.code]), {"file": file, **extra})


@pytest.mark.parametrize("role", ["admin", "office", "registrar"])
def test_it_opens_for_those_who_import(login, org, media, role):
    assert login(getattr(org, role)).get(reverse("import_upload", args=[org.school.code])).status_code == 200


@pytest.mark.parametrize("role", ["leader", "head_teacher_1", "county_official", "township_official", "outsider"])
def test_it_is_not_found_for_others(login, org, media, role):
    assert login(getattr(org, role)).get(reverse("import_upload", args=[org.school.code])).status_code == 404


def test_upload_preview_confirm_creates_the_students(login, org, media):
    client = login(org.registrar)
    r = upload(client, org, xlsx([new_row("王五", 11), new_row("赵六", 12)]))
    assert r.status_code == 302
    batch = ImportBatch.objects.get()
    assert batch.state == "previewed"
    assert Student.objects.count() == 2  # nothing written yet

    html = client.get(r["Location"]).content.decode()
    assert "将新增" in html
    assert batch.summary["to_create"] == 2 and batch.summary["problems"] == []
    assert "disabled" not in html.split("确认导入")[0].rsplit("<button", 1)[-1]

    r = client.post(reverse("import_confirm", args=[org.school.code, batch.pk]))
    assert r.status_code == 302
    assert set(Student.objects.filter(school_class__grade__name="八年级").values_list("name", flat=True)) == {"王五", "赵六"}
    assert SchoolClass.objects.filter(grade__name="八年级", name="(1)班").exists()
    batch.refresh_from_db()
    assert batch.state == "committed"
    assert AuditEntry.objects.filter(action="import", actor=org.registrar).exists()
    # A second click does not import again.
    r = client.post(reverse("import_confirm", args=[org.school.code, batch.pk]))
    assert r.status_code == 302
    assert Student.objects.count() == 4


def test_a_bad_file_writes_nothing_and_explains(login, org, media):
    client = login(org.office)
    bad = new_row("王五", 11)
    bad[2] = bad[2][:17] + ("0" if bad[2][17] != "0" else "1")
    bad[3] = "G" + bad[2]
    upload(client, org, xlsx([bad, new_row("赵六", 12)]))
    batch = ImportBatch.objects.get()
    r = client.get(reverse("import_preview", args=[org.school.code, batch.pk]))
    html = r.content.decode()
    assert "文件有问题行：改正后重新上传，或勾选“仅导入有效行”" in html
    assert "校验位错误" in html
    assert r.context["blocked"]
    # The disabled button is only a hint: the server refuses too.
    client.post(reverse("import_confirm", args=[org.school.code, batch.pk]))
    assert Student.objects.count() == 2
    assert not AuditEntry.objects.filter(action="import").exists()

    problems = client.get(reverse("import_problems", args=[org.school.code, batch.pk]))
    assert problems.status_code == 200
    ws = openpyxl.load_workbook(io.BytesIO(problems.content))["问题清单"]
    assert ws.cell(2, 1).value == 2 and "校验位" in ws.cell(2, 3).value

    # Choosing "valid rows only" on the preview page imports the good row.
    client.post(reverse("import_preview", args=[org.school.code, batch.pk]), {"valid_rows_only": "1"})
    client.post(reverse("import_confirm", args=[org.school.code, batch.pk]))
    assert list(Student.objects.filter(name__in=["王五", "赵六"]).values_list("name", flat=True)) == ["赵六"]


def test_a_file_without_the_required_columns_cannot_be_imported(login, org, media):
    client = login(org.office)
    upload(client, org, xlsx([["王五", "女"]], headers=["姓名", "性别"]), valid_rows_only="on")
    batch = ImportBatch.objects.get()
    r = client.get(reverse("import_preview", args=[org.school.code, batch.pk]))
    assert "缺少必需的列" in r.content.decode()
    assert r.context["blocked"].startswith("文件无法导入")


def test_cancel_forgets_the_upload(login, org, media):
    client = login(org.office)
    upload(client, org, xlsx([new_row("王五", 11)]))
    batch = ImportBatch.objects.get()
    r = client.post(reverse("import_cancel", args=[org.school.code, batch.pk]))
    assert r.status_code == 302
    batch.refresh_from_db()
    assert batch.state == "cancelled"
    assert not list((media / "imports").iterdir())
    assert client.post(reverse("import_confirm", args=[org.school.code, batch.pk])).status_code == 302
    assert Student.objects.count() == 2


def test_an_unsupported_file_type_is_refused_at_upload(login, org, media):
    r = upload(login(org.office), org, SimpleUploadedFile("名册.docx", b"x"))
    assert r.status_code == 200
    assert "不支持的文件类型" in r.content.decode()
    assert not ImportBatch.objects.exists()
