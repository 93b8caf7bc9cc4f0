"""IDs stay masked unless revealed (issue 9): a mask that cannot be completed from what the page
shows, searches that confirm no more than a complete number, graduate pages with the audited
reveal, the admin site masked and audited, and phones in full only where a call is the purpose."""

import io

import openpyxl
import pytest
from django.urls import reverse

from baoxue.audit.models import AuditEntry
from baoxue.lib.idcard import mask_id
from baoxue.org.models import Membership, Mentorship, Role
from baoxue.org.selectors import search_students
from tests.web.test_cases_helpers import FIRST_WEEK, absent, dropout, suspected  # noqa: F401 (fixtures)
from tests.web.test_registry_graduates import listed, new_id  # noqa: F401 (fixture)

LIST = reverse("student_list")
EXPORT = reverse("student_export")


def names(qs):
    return sorted(s.name for s in qs)


def sheet(response):
    rows = list(openpyxl.load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    # A printable list starts with its title rows (a title alone on the first row; unit and date).
    start = 2 if rows and sum(1 for c in rows[0] if c) == 1 else 0
    return [dict(zip(rows[start], row)) for row in rows[start + 1:]]


# ---------------------------------------------------------------- the mask and the search

def test_the_mask_keeps_the_province_and_the_last_two_only():
    number = "410105200803151234"
    assert mask_id(number) == "41**************34"
    assert "4101" not in mask_id(number) and "20080315" not in mask_id(number)


@pytest.mark.parametrize("role, student", [("head_teacher_1", "student_1"), ("mentor", "student_2"),
                                           ("township_official", "student_2")])
def test_a_non_revealing_role_cannot_complete_an_id_by_search(org, role, student):
    """Every ending (3 to 17 characters) and every G-number prefix finds nothing; the whole number
    finds the student, which confirms no more than the number typed."""
    user, s = getattr(org, role), getattr(org, student)
    assert names(search_students(user, s.name)) == [s.name]  # the student is in scope
    number = s.id_number
    for n in range(3, 18):
        assert names(search_students(user, number[-n:])) == [], (role, n)
        assert names(search_students(user, "G" + number[:n])) == [], (role, n)
    assert names(search_students(user, number)) == [s.name]
    assert names(search_students(user, number.lower())) == [s.name]
    assert names(search_students(user, s.registry_no)) == [s.name]
    # One digit wrong: nothing, so a guess is confirmed or refuted only whole.
    wrong = number[:10] + str((int(number[10]) + 1) % 10) + number[11:]
    assert names(search_students(user, wrong)) == []


def test_the_search_page_answers_the_same(login, org):
    client = login(org.head_teacher_1)
    number = org.student_1.id_number
    assert [s.name for s in client.get(LIST, {"q": number[-6:]}).context["page"].object_list] == []
    assert [s.name for s in client.get(LIST, {"q": number}).context["page"].object_list] == ["张三"]


def test_roles_that_may_reveal_still_search_by_the_last_digits(org):
    for role in ("office", "registrar", "leader", "county_official", "admin"):
        user = getattr(org, role)
        assert names(search_students(user, org.student_1.id_number[-4:])) == ["张三"], role
        assert names(search_students(user, org.student_1.registry_no[:8])) == ["张三", "李四"], role


def test_a_mixed_user_searches_endings_only_where_they_may_reveal(org):
    """The office of another school who is also 李四's mentor here: endings find nothing here."""
    from baoxue.org.models import School

    other = School.objects.create(code="4109990002", name="示范县第二初级中学", county=org.county, township=org.liugu)
    Membership.objects.create(user=org.mentor, role=Role.OFFICE, county=org.county, school=other)
    assert names(search_students(org.mentor, org.student_2.id_number[-4:])) == []
    assert names(search_students(org.mentor, org.student_2.id_number)) == ["李四"]


def test_no_full_birth_date_beside_a_masked_id(login, org):
    s = org.student_1  # born 2012-03-05
    html = login(org.head_teacher_1).get(reverse("student_detail", args=[s.pk])).content.decode()
    assert mask_id(s.id_number) in html
    assert "2012年3月5日" not in html and "2012年" in html and s.id_number[6:14] not in html
    html = login(org.registrar).get(reverse("student_detail", args=[s.pk])).content.decode()
    assert "2012年3月5日" in html  # those who may reveal the number anyway see the date


def test_the_export_gives_the_birth_year_only_with_masked_ids(login, org):
    rows = sheet(login(org.township_official).get(EXPORT))
    assert rows[0]["出生日期"] == "2012" and rows[0]["身份证件号"] == mask_id(org.student_2.id_number)
    rows = sheet(login(org.office).get(EXPORT, {"klass": org.class_1.pk}))
    assert rows[0]["出生日期"] == "2012-03-05" and rows[0]["身份证件号"] == org.student_1.id_number


# ---------------------------------------------------------------- graduates

def test_graduate_pages_are_masked_for_everyone(login, org, listed):  # noqa: F811
    for role in ("registrar", "office", "county_official"):
        client = login(getattr(org, role))
        html = client.get("/registry/graduates/").content.decode()
        assert new_id(1) not in html and new_id(2) not in html and mask_id(new_id(2)) in html, role
        html = client.get(reverse("graduate_detail", args=[listed["孙二"].pk])).content.decode()
        assert new_id(2) not in html and mask_id(new_id(2)) in html and "显示完整证件号" in html, role


def test_a_graduate_reveal_shows_the_number_once_and_is_audited(login, org, listed):  # noqa: F811
    client = login(org.registrar)
    g = listed["孙二"]
    r = client.post(reverse("graduate_reveal_id", args=[g.pk]))
    assert r.status_code == 200 and new_id(2) in r.content.decode()
    entry = AuditEntry.objects.get(action="reveal")
    assert entry.actor == org.registrar and entry.object_type == "graduate" and entry.object_id == str(g.pk)
    assert entry.county_id == org.county.pk
    assert new_id(2) not in client.get(reverse("graduate_detail", args=[g.pk])).content.decode()


def test_a_township_official_cannot_reveal_a_graduate(login, org, listed):  # noqa: F811
    client = login(org.township_official)
    g = listed["孙二"]
    html = client.get(reverse("graduate_detail", args=[g.pk])).content.decode()
    assert new_id(2) not in html and "显示完整证件号" not in html
    assert "2014年6月1日" not in html  # the birth year only, beside a masked number
    assert client.post(reverse("graduate_reveal_id", args=[g.pk])).status_code == 404
    assert not AuditEntry.objects.filter(action="reveal").exists()
    rows = sheet(client.get("/registry/graduates/export.xlsx"))
    assert rows and all(r["身份证件号"] != new_id(2) for r in rows)
    assert all(r["出生日期"] in ("2014", "2012", None) for r in rows)


# ---------------------------------------------------------------- the admin site

def test_the_admin_lists_students_masked_and_searches_whole_numbers_only(login, org):
    client = login(org.admin)
    number = org.student_1.id_number
    html = client.get(reverse("admin:org_student_changelist")).content.decode()
    assert number not in html and mask_id(number) in html
    html = client.get(reverse("admin:org_student_change", args=[org.student_1.pk])).content.decode()
    assert number not in html and "13812345678" not in html and mask_id(number) in html
    r = client.get(reverse("admin:org_student_changelist"), {"q": number[-6:]})
    assert list(r.context["cl"].result_list) == []
    r = client.get(reverse("admin:org_student_changelist"), {"q": number})
    assert [s.name for s in r.context["cl"].result_list] == ["张三"]


def test_an_admin_change_of_a_role_is_audited_with_old_and_new(login, org):
    client = login(org.admin)
    m = Membership.objects.get(user=org.office)
    r = client.post(reverse("admin:org_membership_change", args=[m.pk]), {
        "user": org.office.pk, "role": Role.LEADER, "county": org.county.pk, "township": "", "school": org.school.pk})
    assert r.status_code == 302, r.content.decode()[:2000]
    entry = AuditEntry.objects.get(action="update", object_type="membership")
    assert entry.actor == org.admin and entry.object_id == str(m.pk)
    assert entry.changes == {"role": ["office", "leader"]}
    assert entry.school_id == org.school.pk and "系统管理" in entry.note


def test_an_admin_add_and_delete_of_a_mentorship_is_audited(login, org):
    client = login(org.admin)
    r = client.post(reverse("admin:org_mentorship_add"), {
        "mentor": org.head_teacher_2.pk, "student": org.student_1.pk, "school": org.school.pk,
        "started_on": "2025-09-01", "ended_on": ""})
    assert r.status_code == 302, r.content.decode()[:2000]
    ms = Mentorship.objects.get(mentor=org.head_teacher_2)
    created = AuditEntry.objects.get(action="create", object_type="mentorship")
    assert created.changes["student"] == [None, "张三"] and created.student_id == org.student_1.pk
    r = client.post(reverse("admin:org_mentorship_delete", args=[ms.pk]), {"post": "yes"})
    assert r.status_code == 302
    deleted = AuditEntry.objects.get(action="delete", object_type="mentorship")
    assert deleted.object_id == str(ms.pk) and deleted.changes["mentor"][0] == "t72"


def test_an_admin_change_of_a_user_is_audited_and_a_password_never_recorded(login, org):
    client = login(org.admin)
    u = org.head_teacher_1
    r = client.post(reverse("admin:auth_user_change", args=[u.pk]), {
        "username": u.username, "first_name": "李新", "last_name": "", "email": "", "is_active": "on",
        "date_joined_0": "2025-09-01", "date_joined_1": "08:00:00", "initial-date_joined_0": "2025-09-01",
        "initial-date_joined_1": "08:00:00"})
    assert r.status_code == 302, r.content.decode()[:3000]
    entry = AuditEntry.objects.get(action="update", object_type="user")
    assert entry.changes["first_name"] == ["李老师", "李新"] and entry.actor == org.admin
    r = client.post(reverse("admin:auth_user_password_change", args=[u.pk]), {
        "password1": "Xk9-new-secret-42", "password2": "Xk9-new-secret-42", "usable_password": "true"})
    assert r.status_code == 302, r.content.decode()[:3000]
    entry = AuditEntry.objects.filter(action="update", object_type="user").order_by("-id").first()
    assert "密码" in entry.note and entry.changes == {}
    assert not AuditEntry.objects.filter(changes__has_key="password").exists()


def test_the_admin_shows_audit_changes_masked(login, org):
    from baoxue.audit.services import audit_record

    number = org.student_1.id_number
    entry = audit_record(actor=org.office, action="update", obj=org.student_1,
                         changes={"id_number": ["", number], "phone": ["", "13812345678"]})
    html = login(org.admin).get(reverse("admin:audit_auditentry_change", args=[entry.pk])).content.decode()
    assert number not in html and mask_id(number) in html and "13812345678" not in html


# ---------------------------------------------------------------- phones

def test_the_office_export_masks_phones(login, org):
    rows = sheet(login(org.office).get(EXPORT))
    assert {r["姓名"]: r["联系电话"] for r in rows} == {"张三": "138****5678", "李四": "139****4321"}


def test_a_mentor_exports_their_mentees_phones_in_full(login, org):
    rows = sheet(login(org.mentor).get(EXPORT))
    assert [(r["姓名"], r["联系电话"]) for r in rows] == [("李四", "13987654321")]


def test_the_student_page_shows_the_phone_where_a_call_is_the_purpose(login, org):
    html = login(org.head_teacher_1).get(reverse("student_detail", args=[org.student_1.pk])).content.decode()
    assert "tel:13812345678" in html


def test_a_ledger_export_masks_guardian_phones_for_the_office(login, org, suspected):  # noqa: F811
    from baoxue.org.models import FamilyMember

    FamilyMember.objects.create(student=org.student_1, school=org.school, name="张父", relation="父亲",
                                phone="13700001111", is_guardian=True)
    ws = openpyxl.load_workbook(io.BytesIO(login(org.office).get(reverse("cases_ledger_suspected_xlsx")).content)).active
    cells = " ".join(str(c) for row in ws.iter_rows(values_only=True) for c in row if c)
    assert "13700001111" not in cells and "137****1111" in cells
    # The office clerk who is also 张三's head teacher sees the phone of their own class.
    org.class_1.head_teacher = org.office
    org.class_1.save()
    ws = openpyxl.load_workbook(io.BytesIO(login(org.office).get(reverse("cases_ledger_suspected_xlsx")).content)).active
    cells = " ".join(str(c) for row in ws.iter_rows(values_only=True) for c in row if c)
    assert "13700001111" in cells
