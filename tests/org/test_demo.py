"""The demo county (示范县): built once per module (rolled back afterwards), then checked the
way a reviewer would look at it: IDs valid, grades and ages fit, key-group shares plausible,
one account per role, every class with a head teacher, the same data for the same seed."""

import hashlib
import re
from collections import Counter
from datetime import date
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import check_password
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction

from tests.conftest import delete_everything
from baoxue.attendance.models import RollCall
from baoxue.audit.models import AuditEntry
from baoxue.cases.models import Case
from baoxue.lib import idcard
from baoxue.demo.county import DEMO_PASSWORD, DemoError, build_demo, current_term_name, demo_logins, demo_terms
from baoxue.org.models import (
    County,
    FamilyMember,
    Grade,
    KeyGroup,
    KeyGroupMembership,
    LeadershipGroup,
    LeadershipMember,
    Membership,
    Mentorship,
    Role,
    School,
    SchoolClass,
    Student,
    Township,
)

pytestmark = pytest.mark.django_db

TODAY = date(2025, 11, 20)  # a Thursday in 2025-2026-1
User = get_user_model()


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """One build for the whole module, undone at the end."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield build_demo(seed=2025, today=TODAY)
        transaction.set_rollback(True)


def _fingerprint() -> str:
    """Everything the seed decides, independent of primary keys and insertion order."""
    rows = []
    for s in Student.objects.select_related("school", "school_class__grade", "residence_township"):
        rows.append(("student", s.school.code, str(s.school_class), s.name, s.name_initials, s.sex,
                     s.birth_date.isoformat(), s.id_number, s.registry_no, s.ethnicity, s.status, s.address,
                     s.hukou_address, s.residence_township.name, s.residence_village, s.phone, s.boarding,
                     str(s.distance_km), s.commute))
    for f in FamilyMember.objects.select_related("student"):
        rows.append(("family", f.student.id_number, f.name, f.relation, f.id_number, f.phone, f.is_guardian,
                     f.works_away, f.works_away_place, f.employer))
    for k in KeyGroupMembership.objects.select_related("student"):
        rows.append(("group", k.student.id_number, k.group, k.subtype, k.placement, k.disability_level,
                     k.started_on.isoformat(), str(k.ended_on), k.note))
    for u in User.objects.all():
        rows.append(("user", u.username, u.first_name, u.is_superuser))
    for m in Mentorship.objects.select_related("mentor", "student"):
        rows.append(("mentorship", m.mentor.username, m.student.id_number, m.started_on.isoformat()))
    for m in LeadershipMember.objects.select_related("group__school"):
        rows.append(("leadership", m.group.school.code, m.position, m.name, m.title))
    return hashlib.sha256(repr(sorted(rows, key=repr)).encode()).hexdigest()


def _current(group: str):
    return KeyGroupMembership.objects.filter(group=group, ended_on__isnull=True)


def test_it_builds_about_1500_students_in_four_schools(demo):
    students = Student.objects.count()
    assert 1300 <= students <= 1700
    assert demo.counts["学生"] == students
    assert sorted(School.objects.values_list("code", flat=True)) == [f"410999000{n}" for n in (1, 2, 3, 4)]
    assert set(Township.objects.values_list("name", flat=True)) == {"城关镇", "留固镇", "白道口镇"}
    assert County.objects.get().code == "410999"
    assert not Student.objects.exclude(county_id=School.objects.get(code="4109990001").county_id).exists()
    assert not Student.objects.filter(name_initials="").exists()
    assert not Student.objects.filter(school_class__isnull=True).exists()


def test_grades_and_classes_are_named_like_the_registry(demo):
    for grade in Grade.objects.all():
        assert grade.name == "一二三四五六七八九"[grade.order - 1] + "年级"
    for cls in SchoolClass.objects.all():
        assert re.fullmatch(r"\(\d\)班", cls.name)
    junior = School.objects.get(code="4109990001")
    assert list(junior.grades.values_list("name", flat=True)) == ["七年级", "八年级", "九年级"]
    primary = School.objects.get(code="4109990004")
    assert primary.grades.count() == 6


def test_every_resident_id_is_valid_and_agrees_with_the_record(demo):
    numbers = []
    for s in Student.objects.all():
        info = idcard.check_resident_id(s.id_number, birth_date=s.birth_date, sex=s.sex)
        assert info.region == "410999"
        assert s.registry_no == "G" + s.id_number
        numbers.append(s.id_number)
    for f in FamilyMember.objects.all():
        info = idcard.parse_resident_id(f.id_number)
        expected_sex = "M" if f.relation in ("父亲", "祖父", "外祖父") else "F"
        assert info.sex == expected_sex
        numbers.append(f.id_number)
    assert len(numbers) == len(set(numbers))


def test_birth_dates_and_entry_fit_the_grade(demo):
    school_year = 2025
    for s in Student.objects.select_related("school_class__grade", "school"):
        grade = s.school_class.grade.order
        youngest = date(school_year - grade - 5, 8, 31)
        oldest = date(school_year - grade - 7, 9, 1)  # a year older: late entry or a repeated year
        assert oldest <= s.birth_date <= youngest, (s.name, grade, s.birth_date)
        first_grade = 7 if s.school.stage == "junior" else 1
        assert s.enrolled_on == date(school_year - (grade - first_grade), 9, 1)


def test_addresses_route_to_the_residence_township(demo):
    townships = dict(Township.objects.values_list("pk", "name"))
    away = 0
    for s in Student.objects.select_related("school"):
        name = townships[s.residence_township_id]
        assert s.address.startswith(f"河南省示范县{name}{s.residence_village}")
        away += s.residence_township_id != s.school.township_id
    assert 0.08 <= away / Student.objects.count() <= 0.22


def test_key_group_shares_are_those_of_a_rural_county(demo):
    n = Student.objects.count()

    def share(group):
        return _current(group).count() / n

    assert 0.18 <= share(KeyGroup.LEFT_BEHIND) <= 0.32
    assert 0.03 <= share(KeyGroup.MIGRANT) <= 0.08
    assert 0.07 <= share(KeyGroup.POOR) <= 0.14
    assert 0.005 <= share(KeyGroup.DISABLED) <= 0.02
    assert 0.025 <= share(KeyGroup.LEARNING) <= 0.06
    assert 1 <= _current(KeyGroup.ORPHAN).count() <= 10
    assert 1 <= _current(KeyGroup.UNSUPPORTED).count() <= 10
    assert 3 <= _current(KeyGroup.DISTRESSED).count() <= 30
    placements = Counter(_current(KeyGroup.DISABLED).values_list("placement", flat=True))
    assert 1 <= placements["home_teaching"] <= 2
    assert placements["mainstream"] > placements["home_teaching"]
    subtypes = set(_current(KeyGroup.LEFT_BEHIND).values_list("subtype", flat=True))
    assert subtypes == {"单亲留守", "双亲留守"}
    assert set(_current(KeyGroup.POOR).values_list("subtype", flat=True)) <= {"脱贫户", "监测户", "低保", "特困"}


def test_memberships_are_in_the_past_and_some_have_ended(demo):
    assert not KeyGroupMembership.objects.filter(started_on__gte=TODAY).exists()
    ended = KeyGroupMembership.objects.filter(ended_on__isnull=False)
    assert ended.exists()
    assert not ended.filter(ended_on__gte=TODAY).exists()
    for m in KeyGroupMembership.objects.select_related("student"):
        assert (m.county_id, m.school_id) == (m.student.county_id, m.student.school_id)


def test_families_fit_the_key_groups(demo):
    left_behind = dict(_current(KeyGroup.LEFT_BEHIND).values_list("student_id", "subtype"))
    no_parents = set(_current(KeyGroup.ORPHAN).values_list("student_id", flat=True))
    family: dict[int, list[FamilyMember]] = {}
    for f in FamilyMember.objects.all():
        family.setdefault(f.student_id, []).append(f)
    assert set(family) == set(Student.objects.values_list("pk", flat=True))
    for student_id, members in family.items():
        assert 1 <= len(members) <= 3
        assert any(m.is_guardian for m in members)
        parents_away = sum(m.works_away for m in members if m.relation in ("父亲", "母亲"))
        expected = {"双亲留守": 2, "单亲留守": 1}.get(left_behind.get(student_id), 0)
        assert parents_away == expected, student_id
        if student_id in no_parents:
            assert not any(m.relation in ("父亲", "母亲") for m in members)
        for m in members:
            assert bool(m.works_away_place) == m.works_away


def test_terms_cover_today_and_the_term_before(demo):
    for school in School.objects.all():
        names = list(school.terms.values_list("name", flat=True))
        assert names == ["2024-2025-1", "2024-2025-2", "2025-2026-1", "2025-2026-2"]
        assert school.terms.filter(start__lte=TODAY, end__gte=TODAY).get().name == "2025-2026-1"
    assert demo.current_term == "2025-2026-1"


@pytest.mark.parametrize("today, current", [
    (date(2025, 9, 1), "2025-2026-1"),
    (date(2026, 1, 30), "2025-2026-1"),  # winter holiday: the most recent term
    (date(2026, 3, 10), "2025-2026-2"),
    (date(2026, 8, 15), "2025-2026-2"),  # summer holiday
    (date(2026, 10, 1), "2026-2027-1"),
])
def test_the_current_term_is_the_one_containing_today_or_the_last(today, current):
    terms = demo_terms(today)
    assert current_term_name(today) == current
    assert current in [name for name, _, _ in terms]
    for name, start, end in terms:
        assert re.fullmatch(r"[0-9]{4}-[0-9]{4}-[12]", name)
        assert start <= end
    assert ("2026-2027-1", date(2026, 9, 1), date(2027, 1, 22)) in demo_terms(date(2026, 11, 1))


def test_each_school_has_its_leadership_group_for_the_current_term(demo):
    for school in School.objects.all():
        group = LeadershipGroup.objects.get(school=school, term__name="2025-2026-1")
        positions = Counter(group.members.values_list("position", flat=True))
        assert positions["leader"] == 1 and positions["deputy"] == 2 and positions["member"] >= 3
        assert group.office_location == "政教处"
        principal = Membership.objects.get(school=school, role=Role.LEADER).user
        leader = group.members.get(position="leader")
        assert (leader.name, leader.user) == (principal.first_name, principal)
        office = Membership.objects.get(school=school, role=Role.OFFICE).user
        assert group.office_director == office.first_name


def test_every_role_has_an_account(demo):
    for role in Role:
        assert Membership.objects.filter(role=role).exists(), role
    by_name = {login.username: login for login in demo.logins}
    for username in ("admin", "county", "township", "principal", "office", "registrar", "teacher71", "teacher72",
                     "mentor", "principal2", "office4", "registrar3"):
        assert by_name[username].password == DEMO_PASSWORD
    assert {login.role for login in demo.logins} == {role.label for role in Role}
    admin = User.objects.get(username="admin")
    assert admin.is_superuser and admin.is_staff
    assert check_password(DEMO_PASSWORD, admin.password)
    assert Membership.objects.get(user__username="township").township.name == "留固镇"
    first = School.objects.get(code="4109990001")
    for username, cls in (("teacher71", "(1)班"), ("teacher72", "(2)班")):
        user = User.objects.get(username=username)
        assert SchoolClass.objects.get(head_teacher=user, school=first, grade__name="七年级").name == cls
        assert Membership.objects.filter(user=user, role=Role.HEAD_TEACHER, school=first).exists()
    mentor = User.objects.get(username="mentor")
    cared = Mentorship.objects.filter(mentor=mentor, ended_on__isnull=True)
    assert 3 <= cared.count() <= 5
    assert not cared.exclude(student__school=first).exists()
    assert all(u.first_name for u in User.objects.all())


def test_every_class_has_a_head_teacher(demo):
    assert not SchoolClass.objects.filter(head_teacher__isnull=True).exists()
    heads = list(SchoolClass.objects.values_list("head_teacher", flat=True))
    assert len(heads) == len(set(heads))
    assert User.objects.get(username="t2_81").head_of_classes.get().grade.name == "八年级"


def test_the_bulk_part_is_one_audit_row(demo):
    entry = AuditEntry.objects.get(action="import")
    assert entry.actor is None and entry.actor_label == "演示数据"
    assert str(Student.objects.count()) in entry.note
    assert f"点名 {RollCall.objects.count()}" in entry.note
    # Only the 13510 steps and the 休学 applications (through their services) write rows about
    # single students.
    from baoxue.registry.models import Application

    audited = set(AuditEntry.objects.filter(student_id__isnull=False).values_list("student_id", flat=True))
    assert audited <= (set(Case.objects.values_list("student_id", flat=True))
                       | set(Application.objects.values_list("student_id", flat=True)))


def test_it_is_deterministic_for_a_seed(demo):
    delete_everything()
    build_demo(seed=7, today=TODAY)
    first = _fingerprint()
    delete_everything()
    build_demo(seed=7, today=TODAY)
    assert _fingerprint() == first
    delete_everything()
    build_demo(seed=8, today=TODAY)
    assert _fingerprint() != first


def test_it_refuses_a_database_with_schools(demo):
    with pytest.raises(DemoError):
        build_demo(seed=1, today=TODAY)
    with pytest.raises(CommandError, match="已有 4 所学校"):
        call_command("demo")


def test_the_command_skips_with_if_empty_and_lists_logins(demo):
    out = StringIO()
    call_command("demo", "--if-empty", stdout=out)
    assert "不生成演示数据" in out.getvalue()
    assert "teacher71" in out.getvalue()
    quiet = StringIO()
    call_command("demo", "--if-empty", "--no-logins", stdout=quiet)  # make run lists them once, itself
    assert "不生成演示数据" in quiet.getvalue() and "teacher71" not in quiet.getvalue()
    assert Student.objects.count() == demo.counts["学生"]

    out = StringIO()
    call_command("demo", "--logins", stdout=out)
    text = out.getvalue()
    assert "密码均为 baoxue2025" in text and "admin" in text and "t2_81" not in text
    out = StringIO()
    call_command("demo", "--logins", "--all", stdout=out)
    assert "t2_81" in out.getvalue()
    assert len(demo_logins()) == len(demo.logins)


def test_the_command_builds_and_prints_the_logins(demo):
    delete_everything()
    out = StringIO()
    call_command("demo", "--seed", "3", stdout=out)
    text = out.getvalue()
    assert "已生成演示数据" in text
    assert text.index("已生成演示数据") < text.index("演示账号（密码均为 baoxue2025）")
    for username in ("admin", "county", "township", "principal", "office", "registrar", "teacher71", "mentor"):
        assert re.search(rf"^  {username}\s+baoxue2025", text, re.M), username
