"""人籍一致 pages: the school's reconciliation, upload → preview (nothing written) → confirm, and
the work items' assign and 销账 forms. Head teachers, mentors, townships and outsiders get 404."""

import datetime
import io

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from baoxue.audit.models import AuditEntry
from baoxue.lib.idcard import make_resident_id
from baoxue.org.models import School
from baoxue.registry.models import Discrepancy, RosterUpload

HEADERS = ["学校标识码", "姓名", "性别", "出生日期", "身份证件类型", "身份证件号", "全国学籍号", "年级", "班级"]
HOME = reverse("reconcile_home")
UPLOAD = reverse("reconcile_upload")


def row_for(s, **over):
    r = {"学校标识码": s.school.code, "姓名": s.name, "性别": s.get_sex_display(), "出生日期": s.birth_date.isoformat(),
         "身份证件类型": "居民身份证", "身份证件号": s.id_number, "全国学籍号": s.registry_no,
         "年级": s.school_class.grade.name, "班级": s.school_class.name}
    r.update(over)
    return [r[h] for h in HEADERS]


def stranger(seq, name, code="4109990001"):
    number = make_resident_id("410999", datetime.date(2011, 6, 1), seq, "M")
    return [code, name, "男", "2011-06-01", "居民身份证", number, "G" + number, "七年级", "(1)班"]


def xlsx(rows, name="国网名册.xlsx") -> SimpleUploadedFile:
    wb = openpyxl.Workbook()
    wb.active.append(HEADERS)
    for r in rows:
        wb.active.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return SimpleUploadedFile(name, buf.getvalue())


@pytest.fixture
def roster(org):
    """张三 consistent; 李四 in the wrong class; 王五 registered but not a student."""
    return xlsx([row_for(org.student_1), row_for(org.student_2, 班级="(1)班"), stranger(25, "王五")])


def upload(client, org, file):
    return client.post(f"{UPLOAD}?school={org.school.code}", {"file": file})


def stored(media):
    folder = media / "roster_uploads"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


@pytest.mark.parametrize("role", ["registrar", "office", "leader", "county_official", "admin"])
def test_it_opens_for_the_school_and_the_bureau(login, org, media, role):
    r = login(getattr(org, role)).get(HOME)
    assert r.status_code == 200
    html = r.content.decode()
    assert "人籍一致" in html and org.school.name in html and "还没有比对过国网学籍名册" in html


@pytest.mark.parametrize("role", ["head_teacher_1", "mentor", "township_official", "outsider"])
def test_it_is_not_found_for_others(login, org, media, role):
    client = login(getattr(org, role))
    assert client.get(HOME).status_code == 404
    assert client.get(f"{HOME}?school={org.school.code}").status_code == 404
    assert client.get(UPLOAD).status_code == 404


@pytest.mark.parametrize("role,sees", [("registrar", True), ("county_official", True), ("head_teacher_1", False),
                                       ("township_official", False)])
def test_the_navigation_links_it_for_those_who_see_it(login, org, media, role, sees):
    html = login(getattr(org, role)).get(reverse("home")).content.decode()
    assert (f'href="{HOME}"' in html) is sees


@pytest.mark.parametrize("role,status", [("registrar", 200), ("office", 200), ("admin", 200), ("leader", 404),
                                         ("county_official", 404)])
def test_uploading_is_for_those_who_import_students(login, org, media, role, status):
    assert login(getattr(org, role)).get(f"{UPLOAD}?school={org.school.code}").status_code == status


def test_a_county_user_chooses_among_the_schools(login, org, media):
    School.objects.create(code="4109990002", name="留固镇初级中学", county=org.county, township=org.liugu)
    client = login(org.county_official)
    html = client.get(HOME).content.decode()
    assert "示范县第一初级中学" in html and "留固镇初级中学" in html and "未比对" in html
    r = client.get(f"{HOME}?school=4109990002")
    assert r.status_code == 200 and r.context["school"].code == "4109990002"
    assert client.get(f"{HOME}?school=9999999999").status_code == 404


def test_an_admin_uploads_for_any_school(login, org, media, roster):
    School.objects.create(code="4109990002", name="留固镇初级中学", county=org.county, township=org.liugu)
    client = login(org.admin)
    r = client.get(UPLOAD)
    assert r.status_code == 200 and 'name="school"' in r.content.decode() and len(r.context["schools"]) == 2
    # The school chosen in the form wins over the one in the address.
    r = client.post(f"{UPLOAD}?school={org.school.code}", {"file": roster, "school": "4109990002"})
    preview = client.get(r["Location"])
    assert preview.context["school"].code == "4109990002" and "另一所学校" in preview.context["error"]


def test_upload_preview_confirm_records_the_work_items(login, org, media, roster):
    client = login(org.registrar)
    r = upload(client, org, roster)
    assert r.status_code == 302
    preview = client.get(r["Location"])
    html = preview.content.decode()
    assert preview.status_code == 200
    assert "信息不一致" in html and "班级：名册 <strong>(1)班</strong>，本系统 <strong>(2)班</strong>" in html
    assert "王五" in html and "新发现 2 条" in html
    assert org.student_2.registry_no not in html  # a whole roster on screen stays masked
    assert org.student_2.registry_no[:3] + "*" * 14 + org.student_2.registry_no[-2:] in html
    assert not RosterUpload.objects.exists() and not Discrepancy.objects.exists()  # a dry run

    token = preview.context["token"]
    r = client.post(reverse("reconcile_confirm", args=[token]))
    assert r.status_code == 302 and r["Location"] == f"{HOME}?school={org.school.code}"
    upload_row = RosterUpload.objects.get()
    assert (upload_row.new_items, upload_row.uploaded_by) == (2, org.registrar)
    assert set(Discrepancy.objects.values_list("category", "name")) == {
        ("mismatched", "李四"), ("registered_not_present", "王五")}
    assert AuditEntry.objects.filter(action="import", actor=org.registrar).exists()
    # The roster (every family's data) is not kept; the summary sheet is.
    assert stored(media) == [f"summary-{upload_row.pk}.xlsx"]

    home = client.get(r["Location"])
    html = home.content.decode()
    assert "新发现 2 条" in html  # the message
    assert home.context["latest"] == upload_row and home.context["open_total"] == 2
    assert "王五" in html and "李四" in html
    # A second click records nothing more.
    client.post(reverse("reconcile_confirm", args=[token]))
    assert RosterUpload.objects.count() == 1

    sheet = client.get(reverse("reconcile_summary", args=[upload_row.pk]))
    assert sheet.status_code == 200
    wb = openpyxl.load_workbook(io.BytesIO(sheet.content))
    assert wb.sheetnames == ["底数清、情况明", "明细"]
    assert AuditEntry.objects.filter(action="export", actor=org.registrar).exists()


def test_a_newer_upload_shows_what_was_resolved(login, org, media, roster):
    client = login(org.registrar)
    for file in (roster, xlsx([row_for(org.student_1), row_for(org.student_2), stranger(25, "王五")], "新名册.xlsx")):
        preview = client.get(upload(client, org, file)["Location"])
        client.post(reverse("reconcile_confirm", args=[preview.context["token"]]))
    latest = RosterUpload.objects.first()
    assert (latest.filename, latest.new_items, latest.resolved_items, latest.still_open_items) == ("新名册.xlsx", 0, 1, 1)
    html = client.get(HOME).content.decode()
    assert "已解决（新名册中已一致）" in html
    resolved = client.get(f"{HOME}?status=resolved")
    assert [d.name for g in resolved.context["groups"] for d in g["items"]] == ["李四"]


@pytest.mark.parametrize("bad,words", [
    ([stranger(25, "王五", code="4109990002")], "另一所学校"),
    (None, "Excel"),
])
def test_a_bad_file_shows_why_and_writes_nothing(login, org, media, bad, words):
    client = login(org.office)
    file = xlsx(bad) if bad else SimpleUploadedFile("国网名册.xlsx", b"%PDF-1.4 not a roster" * 50)
    r = client.get(upload(client, org, file)["Location"])
    assert r.status_code == 200 and words in r.context["error"]
    assert "没有记录任何内容" in r.content.decode()
    assert not RosterUpload.objects.exists() and not Discrepancy.objects.exists()
    assert stored(media) == []


def test_an_unsupported_file_type_is_refused_at_upload(login, org, media):
    r = upload(login(org.registrar), org, SimpleUploadedFile("名册.docx", b"x"))
    assert r.status_code == 200 and "不支持的文件类型" in r.content.decode()
    assert stored(media) == []


def test_cancel_forgets_the_upload(login, org, media, roster):
    client = login(org.registrar)
    preview = client.get(upload(client, org, roster)["Location"])
    token = preview.context["token"]
    assert client.post(reverse("reconcile_cancel", args=[token])).status_code == 302
    assert stored(media) == []
    assert client.get(reverse("reconcile_preview", args=[token])).status_code == 404
    assert client.post(reverse("reconcile_confirm", args=[token])).status_code == 404
    assert not RosterUpload.objects.exists()


def test_another_user_cannot_confirm_someone_elses_upload(login, org, media, roster, client):
    preview = login(org.registrar).get(upload(login(org.registrar), org, roster)["Location"])
    token = preview.context["token"]
    other = login(org.office)
    assert other.post(reverse("reconcile_confirm", args=[token])).status_code == 404
    assert not RosterUpload.objects.exists()


@pytest.fixture
def items(login, org, media, roster):
    client = login(org.registrar)
    preview = client.get(upload(client, org, roster)["Location"])
    client.post(reverse("reconcile_confirm", args=[preview.context["token"]]))
    return {d.name: d for d in Discrepancy.objects.all()}


def test_the_close_form_needs_a_reason(login, org, items):
    client = login(org.registrar)
    wang = items["王五"]
    r = client.post(reverse("reconcile_item_close", args=[wang.pk]), {"note": ""}, follow=True)
    assert "未销账" in r.content.decode()
    wang.refresh_from_db()
    assert wang.status == "open"

    r = client.post(reverse("reconcile_item_close", args=[wang.pk]), {"note": "已在国网办理转出", "next": f"{HOME}?status=all"})
    assert r.status_code == 302 and r["Location"] == f"{HOME}?status=all"
    wang.refresh_from_db()
    assert (wang.status, wang.note, wang.closed_by) == ("closed", "已在国网办理转出", org.registrar)
    html = client.get(f"{HOME}?status=closed").content.decode()
    assert "已销账" in html and "已在国网办理转出" in html
    # An outside address is never followed.
    r = client.post(reverse("reconcile_item_close", args=[items["李四"].pk]), {"note": "已更正", "next": "https://evil.example/"})
    assert r["Location"].startswith(HOME)


def test_the_assign_form(login, org, items):
    client = login(org.office)
    li = items["李四"]
    client.post(reverse("reconcile_item_assign", args=[li.pk]), {"owner": org.registrar.pk})
    li.refresh_from_db()
    assert li.owner == org.registrar
    client.post(reverse("reconcile_item_assign", args=[li.pk]), {"owner": org.head_teacher_1.pk})
    li.refresh_from_db()
    assert li.owner == org.registrar  # not a choice: a head teacher does not own registry work
    assert "孙老师" in client.get(HOME).content.decode()


@pytest.mark.parametrize("role", ["leader", "county_official", "head_teacher_1", "outsider"])
def test_only_those_who_work_on_it_close_or_assign(login, org, items, role):
    client = login(getattr(org, role))
    wang = items["王五"]
    assert client.post(reverse("reconcile_item_close", args=[wang.pk]), {"note": "x"}).status_code == 404
    assert client.post(reverse("reconcile_item_assign", args=[wang.pk]), {"owner": ""}).status_code == 404
    wang.refresh_from_db()
    assert wang.status == "open"


def test_the_filters(login, org, items):
    client = login(org.leader)
    r = client.get(f"{HOME}?category=mismatched")
    assert [g["category"] for g in r.context["groups"]] == ["mismatched"]
    assert "销账" not in "".join(str(g) for g in r.context["groups"]) and not r.context["can_work"]
    assert client.get(f"{HOME}?category=nonsense").context["category"] == ""


def test_the_page_shows_an_upload_made_on_the_command_line(login, org, roster, tmp_path):
    from django.core.management import call_command

    path = tmp_path / "名册.xlsx"
    path.write_bytes(roster.read() if hasattr(roster, "read") else open(roster, "rb").read())
    call_command("reconcile", str(path), "--school", org.school.code)
    page = login(org.registrar).get(f"{HOME}?school={org.school.code}")
    assert page.status_code == 200 and "命令行" in page.content.decode()
