"""Demo data: a fictional county (示范县, 410999) with four schools, about 1,500 students,
their families and key groups, terms, leadership groups and one account per role.

Deterministic for a seed: every random choice comes from one `random.Random(seed)` drawn in a
fixed order, and the only date it depends on is `today`. The region code 410999 does not exist
(41 09 is 濮阳市, which has no 99), so no generated ID number can be a real person's.

Then about five weeks of roll calls and the 13510 cases they lead to (`baoxue.demo.attendance`):
every stage, both ledgers, the 一生一表 and every inbox have something to show.

Everything is written in one transaction with bulk inserts, and the bulk part (people, roll
calls) is logged as one audit row ("演示数据", import) instead of one per student. The steps
that go through their service function (roles, leadership groups, the daily job, contacts,
home visits, persuaders, attempts, 失踪失联, 复学) keep their own audit rows.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import NamedTuple

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import check_password, make_password
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from baoxue.demo.attendance import AttendanceDemo, build_attendance_demo
from baoxue.audit.models import Action
from baoxue.audit.services import audit_record
from baoxue.calendar.services import calendar_seed
from baoxue.demo.people import COUNTY_CODE, VILLAGES, People, day_between
from baoxue.lib.pinyin import initials
from baoxue.org import services
from baoxue.org.models import (
    County,
    DisabilityPlacement,
    FamilyMember,
    Grade,
    KeyGroup,
    KeyGroupMembership,
    LeadershipMember,
    LeadershipPosition,
    Membership,
    Mentorship,
    RegistryStatus,
    Role,
    School,
    SchoolClass,
    Sex,
    Stage,
    Student,
    Term,
    Township,
)

User = get_user_model()

DEMO_PASSWORD = "baoxue2025"
COUNTY_NAME = "示范县"
PROVINCE = "河南省"
TOWNSHIPS = ("城关镇", "留固镇", "白道口镇")
# The township official's account serves this township.
OFFICIAL_TOWNSHIP = "留固镇"

CN_DIGITS = "零一二三四五六七八九"


@dataclass(frozen=True)
class SchoolPlan:
    suffix: int  # 1..4: the last digit of the code and of the usernames (principal2, t2_81)
    name: str
    township: str
    stage: str
    # (grade number, number of classes, smallest and largest class)
    grades: tuple[tuple[int, int, tuple[int, int]], ...]
    left_behind: float  # share of 留守儿童: higher in the villages
    migrant: float  # share of 随迁子女: in the county town

    @property
    def code(self) -> str:
        return f"{COUNTY_CODE}{self.suffix:04d}"

    @property
    def first_grade(self) -> int:
        """The grade a student enters this school in (七年级 for a junior school)."""
        return self.grades[0][0]


SCHOOLS: tuple[SchoolPlan, ...] = (
    SchoolPlan(1, "示范县第一初级中学", "城关镇", Stage.JUNIOR,
               ((7, 5, (37, 44)), (8, 5, (37, 44)), (9, 5, (36, 43))), left_behind=0.20, migrant=0.08),
    SchoolPlan(2, "留固镇初级中学", "留固镇", Stage.JUNIOR,
               ((7, 3, (36, 42)), (8, 3, (36, 42)), (9, 3, (35, 41))), left_behind=0.30, migrant=0.02),
    SchoolPlan(3, "白道口镇九年一贯制学校", "白道口镇", Stage.NINE_YEAR,
               tuple((g, 1, (24, 30)) for g in range(1, 7)) + tuple((g, 2, (28, 34)) for g in range(7, 10)),
               left_behind=0.32, migrant=0.02),
    SchoolPlan(4, "城关镇中心小学", "城关镇", Stage.PRIMARY,
               tuple((g, 2, (18, 24)) for g in range(1, 7)), left_behind=0.22, migrant=0.08),
)

# Where the families of 随迁子女 come from (户口所在地).
MIGRANT_HOMES = (
    "安徽省临泉县城关镇", "安徽省太和县旧县镇", "山东省曹县青堌集镇", "河南省郸城县汲冢镇",
    "河南省太康县马厂镇", "河北省大名县龙王庙镇", "河南省范县龙王庄镇",
)
MIGRANT_HOME_VILLAGES = ("王庄村", "张庄村", "李楼村", "后寨村", "前营村", "刘集村")
MIGRANT_JOBS = ("示范县城关镇农贸市场个体经营", "示范县产业集聚区电子厂", "示范县城关镇餐馆", "示范县建筑工地",
                "示范县物流园", "示范县城关镇超市")
WORK_AWAY_PLACES = ("广东东莞", "广东深圳", "广东佛山", "浙江义乌", "浙江宁波", "江苏苏州", "江苏昆山", "郑州",
                    "上海", "北京", "福建晋江", "天津")
HOME_JOBS = ("务农", "务农", "务农", "个体经营", "示范县产业集聚区", "乡镇企业", "")
COMMUTES_NEAR = ("步行", "步行", "自行车", "电动车", "家长接送")
COMMUTES_FAR = ("电动车", "家长接送", "家长接送", "校车", "自行车")
COMMUTES_BOARDING = ("家长接送", "校车", "电动车")

# 春节 dates: the spring term starts about two weeks after, the autumn term ends before.
SPRING_FESTIVAL = {
    2016: date(2016, 2, 8), 2017: date(2017, 1, 28), 2018: date(2018, 2, 16), 2019: date(2019, 2, 5),
    2020: date(2020, 1, 25), 2021: date(2021, 2, 12), 2022: date(2022, 2, 1), 2023: date(2023, 1, 22),
    2024: date(2024, 2, 10), 2025: date(2025, 1, 29), 2026: date(2026, 2, 17), 2027: date(2027, 2, 6),
    2028: date(2028, 1, 26), 2029: date(2029, 2, 13), 2030: date(2030, 2, 3), 2031: date(2031, 1, 23),
    2032: date(2032, 2, 11), 2033: date(2033, 1, 31), 2034: date(2034, 2, 19), 2035: date(2035, 2, 8),
}

ROLE_ORDER = [Role.ADMIN, Role.COUNTY, Role.TOWNSHIP, Role.LEADER, Role.OFFICE, Role.REGISTRAR,
              Role.HEAD_TEACHER, Role.MENTOR]
# Head teachers of all classes but 七年级(1)班/(2)班 of the first school: listed in full only on demand.
BULK_HEAD_TEACHER = re.compile(r"t\d+_\d+")


class DemoError(Exception):
    """The demo cannot be built here; str(error) is a Chinese message for the operator."""


class Login(NamedTuple):
    username: str
    password: str
    role: str
    scope: str


@dataclass
class DemoResult:
    seed: int
    today: date
    county: str
    current_term: str
    terms: list[str]
    # (code, name, stage label, township, classes, students)
    schools: list[tuple[str, str, str, str, int, int]]
    counts: dict[str, int]
    # current memberships per key group label, in KeyGroup order
    key_groups: dict[str, int]
    logins: list[Login] = field(default_factory=list)
    # roll calls and 13510 cases
    attendance: AttendanceDemo = field(default_factory=AttendanceDemo)
    # the registry export and graduate list written for 人籍一致 ({"roster": path, "graduates": path})
    demo_files: dict = field(default_factory=dict)
    # 休学 applications in each step (baoxue.demo.suspensions.SuspensionDemo)
    suspensions: object = None
    # last month's 学校一月一报告 and their states (baoxue.demo.reports)
    reports: list[str] = field(default_factory=list)


# --- calendar ---------------------------------------------------------------------------------

def school_year_of(day: date) -> int:
    """The school year a day belongs to, named by its autumn: July and August still count
    with the year that has just ended."""
    return day.year if day.month >= 9 else day.year - 1


def _friday_on_or_before(day: date) -> date:
    return day - timedelta(days=(day.weekday() - 4) % 7)


def _monday_on_or_after(day: date) -> date:
    return day + timedelta(days=(-day.weekday()) % 7)


def school_year_terms(year: int) -> list[tuple[str, date, date]]:
    """The two terms of school year `year`/`year+1`: 1 from September 1 to a Friday before the
    winter holiday, 2 from a Monday about twelve days after 春节 to early July."""
    festival = SPRING_FESTIVAL.get(year + 1, date(year + 1, 2, 5))
    autumn_end = _friday_on_or_before(min(date(year + 1, 1, 22), festival - timedelta(days=10)))
    spring_start = _monday_on_or_after(festival + timedelta(days=12))
    spring_end = _friday_on_or_before(date(year + 1, 7, 3))
    return [
        (f"{year}-{year + 1}-1", date(year, 9, 1), autumn_end),
        (f"{year}-{year + 1}-2", spring_start, spring_end),
    ]


def demo_terms(today: date) -> list[tuple[str, date, date]]:
    """The previous and the current school year's terms, so that the term containing `today`
    (or, in a holiday, the most recent one) exists, with one school year of history."""
    year = school_year_of(today)
    return school_year_terms(year - 1) + school_year_terms(year)


def current_term_name(today: date) -> str:
    """The term containing `today`, or the most recent one before it."""
    return [name for name, start, _ in demo_terms(today) if start <= today][-1]


# --- small generators -------------------------------------------------------------------------

def _grade_name(number: int) -> str:
    return f"{CN_DIGITS[number]}年级"


# --- the build --------------------------------------------------------------------------------

@dataclass
class _Draft:
    """A student before saving, with what decides their family and key groups."""

    student: Student
    surname: str
    plan: SchoolPlan
    groups: list[KeyGroupMembership] = field(default_factory=list)
    family: list[FamilyMember] = field(default_factory=list)

    def current(self, group: str) -> KeyGroupMembership | None:
        return next((m for m in self.groups if m.group == group and m.ended_on is None), None)


def build_demo(*, seed: int = 2025, today: date | None = None) -> DemoResult:
    """Build the demo county in an empty database (no schools yet) and return what was made."""
    today = today or timezone.localdate()
    if School.objects.exists():
        raise DemoError(f"数据库中已有 {School.objects.count()} 所学校：演示数据只能生成在没有学校的数据库中。")
    usernames = [u for u in _planned_usernames() if User.objects.filter(username=u).exists()]
    if usernames:
        raise DemoError(f"账号 {'、'.join(usernames[:5])} 已存在：演示账号无法创建，请先清空数据库。")
    with transaction.atomic():
        # A flushed database has lost the working-day table that the migration seeded.
        calendar_seed(actor=None)
        result = _Builder(seed=seed, today=today).build()
    # 人籍一致: a 国网 roster export and a graduate list to try the reconciliation with (var/demo/).
    # Imported here: baoxue.demo.registry imports this module.
    from baoxue.demo.registry import write_demo_files
    from baoxue.demo.suspensions import plant_suspensions

    from baoxue.demo.reports import plant_reports

    with transaction.atomic():
        result.suspensions = plant_suspensions(today)
    with transaction.atomic():
        result.reports = plant_reports(today)
    result.demo_files = write_demo_files(seed=seed)
    return result


def _planned_usernames() -> list[str]:
    names = ["admin", "county", "township"]
    for plan in SCHOOLS:
        names += [_username(role, plan) for role in ("principal", "office", "registrar", "mentor")]
        names += [_head_teacher_username(plan, g, c) for g, classes, _ in plan.grades for c in range(1, classes + 1)]
    return names


def _username(role: str, plan: SchoolPlan) -> str:
    return role if plan.suffix == 1 else f"{role}{plan.suffix}"


def _head_teacher_username(plan: SchoolPlan, grade: int, number: int) -> str:
    if plan.suffix == 1 and grade == 7 and number in (1, 2):
        return f"teacher7{number}"
    return f"t{plan.suffix}_{grade}{number}"


class _Builder:
    def __init__(self, *, seed: int, today: date):
        self.seed = seed
        self.today = today
        self.rng = random.Random(seed)
        self.people = People(self.rng)
        self.year = school_year_of(today)
        self.yesterday = today - timedelta(days=1)

    # -- organisation --

    def build(self) -> DemoResult:
        self.county, _ = County.objects.get_or_create(code=COUNTY_CODE, defaults={"name": COUNTY_NAME})
        self.townships = {}
        for name in TOWNSHIPS:
            self.townships[name], _ = Township.objects.get_or_create(county=self.county, name=name)
        self.schools = School.objects.bulk_create([
            School(code=p.code, name=p.name, county=self.county, township=self.townships[p.township], stage=p.stage)
            for p in SCHOOLS
        ])
        terms = demo_terms(self.today)
        self.current_term = current_term_name(self.today)
        term_rows = Term.objects.bulk_create([
            Term(school=school, name=name, start=start, end=end)
            for school in self.schools for name, start, end in terms
        ])
        self.term_by_school = {(t.school_id, t.name): t for t in term_rows}
        self.current_term_start = next(start for name, start, _ in terms if name == self.current_term)

        grades = Grade.objects.bulk_create([
            Grade(school=school, name=_grade_name(g), order=g)
            for school, plan in zip(self.schools, SCHOOLS) for g, _, _ in plan.grades
        ])
        grade_by_key = {(g.school_id, g.order): g for g in grades}

        # Accounts first, so that every class is created with its head teacher.
        self.password_hash = make_password(DEMO_PASSWORD)
        self.users: list = []
        self.roles: list[tuple] = []  # (user, role, scope object) for membership_add
        admin = self._user("admin", "系统管理员", superuser=True)
        self.roles.append((admin, Role.ADMIN, None))
        self.roles.append((self._user("county", self.people.staff_name()), Role.COUNTY, self.county))
        self.roles.append((self._user("township", self.people.staff_name()), Role.TOWNSHIP,
                           self.townships[OFFICIAL_TOWNSHIP]))
        self.staff: dict[int, dict[str, object]] = {}
        classes: list[SchoolClass] = []
        for school, plan in zip(self.schools, SCHOOLS):
            staff = {role: self._user(_username(role, plan), self.people.staff_name())
                     for role in ("principal", "office", "registrar", "mentor")}
            self.staff[school.pk] = staff
            for role, key in ((Role.LEADER, "principal"), (Role.OFFICE, "office"), (Role.REGISTRAR, "registrar"),
                              (Role.MENTOR, "mentor")):
                self.roles.append((staff[key], role, school))
            for g, count, _ in plan.grades:
                for number in range(1, count + 1):
                    teacher = self._user(_head_teacher_username(plan, g, number), self.people.staff_name())
                    self.roles.append((teacher, Role.HEAD_TEACHER, school))
                    classes.append(SchoolClass(school=school, grade=grade_by_key[(school.pk, g)],
                                               name=f"({number})班", head_teacher=teacher))
        # bulk_create sets primary keys on SQLite and PostgreSQL; every foreign key below relies on it.
        User.objects.bulk_create(self.users)
        self.classes = SchoolClass.objects.bulk_create(classes)
        for user, role, scope in self.roles:
            services.membership_add(
                actor=None, user=user, role=role,
                county=scope if isinstance(scope, County) else None,
                township=scope if isinstance(scope, Township) else None,
                school=scope if isinstance(scope, School) else None,
            )

        # -- people --
        drafts = self._students()
        self._key_groups(drafts)
        for draft in drafts:
            self._family(draft)
        Student.objects.bulk_create([d.student for d in drafts])
        family = [m for d in drafts for m in d.family]
        memberships = [m for d in drafts for m in d.groups]
        for d in drafts:
            for row in d.family + d.groups:
                row.student_id = d.student.pk
        FamilyMember.objects.bulk_create(family)
        KeyGroupMembership.objects.bulk_create(memberships)
        mentorships = self._mentorships(drafts)
        self._leadership_groups()
        attendance = build_attendance_demo(
            seed=self.seed, today=self.today, county=self.county, schools=self.schools,
            offices={school.pk: self.staff[school.pk]["office"] for school in self.schools})

        counts = {
            "区县": 1,
            "乡镇": len(self.townships),
            "学校": len(self.schools),
            "学期": len(term_rows),
            "年级": len(grades),
            "班级": len(self.classes),
            "学生": len(drafts),
            "家庭成员": len(family),
            "重点群体记录": len(memberships),
            "帮扶关系": len(mentorships),
            "账号": len(self.users),
            "角色": len(self.roles),
            "领导小组": len(self.schools),
            "点名": attendance.roll_calls,
            "考勤记录": attendance.record_count,
            "请假": attendance.leaves,
            "13510个案": attendance.cases,
        }
        note = "演示数据（种子 {}，基准日 {}）：{}".format(
            self.seed, self.today.isoformat(), "，".join(f"{k} {v}" for k, v in counts.items()))
        audit_record(actor=None, actor_label="演示数据", action=Action.IMPORT, obj=self.county,
                     object_repr=f"{COUNTY_NAME}演示数据", note=note,
                     changes={"counts": [None, counts]})

        open_groups = Counter(m.group for m in memberships if m.ended_on is None)
        class_count = Counter(c.school_id for c in self.classes)
        student_count = Counter(d.student.school_id for d in drafts)
        return DemoResult(
            seed=self.seed,
            today=self.today,
            county=f"{COUNTY_NAME}（{COUNTY_CODE}）",
            current_term=self.current_term,
            terms=[name for name, _, _ in terms],
            schools=[(s.code, s.name, s.get_stage_display(), p.township, class_count[s.pk], student_count[s.pk])
                     for s, p in zip(self.schools, SCHOOLS)],
            counts=counts,
            key_groups={label: open_groups[value] for value, label in KeyGroup.choices if open_groups[value]},
            logins=demo_logins(password_hash=self.password_hash),
            attendance=attendance,
        )

    def _user(self, username: str, full_name: str, *, superuser: bool = False):
        # One hash for every demo account: hashing each would take most of the build's time.
        user = User(username=username, first_name=full_name, password=self.password_hash,
                    is_staff=superuser, is_superuser=superuser)
        self.users.append(user)
        return user

    # -- students --

    def _students(self) -> list[_Draft]:
        rng = self.rng
        drafts: list[_Draft] = []
        classes = iter(self.classes)
        for school, plan in zip(self.schools, SCHOOLS):
            for g, count, (smallest, largest) in plan.grades:
                entry_year = self.year - (g - plan.first_grade)
                for _ in range(count):
                    school_class = next(classes)
                    for _ in range(rng.randint(smallest, largest)):
                        drafts.append(self._student(school, plan, school_class, g, entry_year))
        return drafts

    def _student(self, school: School, plan: SchoolPlan, school_class: SchoolClass, grade: int,
                 entry_year: int) -> _Draft:
        rng, people = self.rng, self.people
        sex = Sex.MALE if rng.random() < 0.52 else Sex.FEMALE
        surname = people.surname()
        name = people.child_name(surname, sex)
        # Born September of (school year − grade − 6) to August a year later; a few are a year
        # older (late entry or a repeated year).
        born_from = self.year - grade - 6 - (1 if rng.random() < 0.04 else 0)
        birth = day_between(rng, date(born_from, 9, 1), date(born_from + 1, 8, 31))
        id_number = people.resident_id(birth, sex)

        home_township = plan.township
        if rng.random() < 0.15:
            home_township = rng.choice([t for t in TOWNSHIPS if t != plan.township])
        village = rng.choice(VILLAGES[home_township])
        group = "" if village.endswith("社区") else f"{rng.randint(1, 9)}组"
        address = f"{PROVINCE}{COUNTY_NAME}{home_township}{village}{group}"

        if home_township == plan.township:
            distance = rng.uniform(0.3, 2.5) if village.endswith("社区") else rng.uniform(0.8, 9.0)
        else:
            distance = rng.uniform(8.0, 26.0)
        junior = grade >= 7
        boarding = junior and distance > 4.0 and rng.random() < (0.4 if plan.township == "城关镇" else 0.65)
        if boarding:
            commute = rng.choice(COMMUTES_BOARDING)
        elif distance < 1.5:
            commute = rng.choice(COMMUTES_NEAR[:3] if junior else ("步行", "家长接送"))
        elif distance < 4.0:
            commute = rng.choice(COMMUTES_NEAR[1:] if junior else ("家长接送", "家长接送", "步行"))
        else:
            commute = rng.choice(COMMUTES_FAR if junior else ("家长接送", "校车"))

        enrolled = date(entry_year, 9, 1)
        student = Student(
            county=self.county, school=school, school_class=school_class, name=name,
            name_initials=initials(name), sex=sex, birth_date=birth,
            ethnicity="回族" if rng.random() < 0.03 else "汉族",
            id_number=id_number, registry_no="G" + id_number, enrolled_on=enrolled,
            status=RegistryStatus.IN_SCHOOL, status_since=enrolled,
            hukou_address=address, address=address,
            residence_township=self.townships[home_township], residence_village=village,
            boarding=boarding, distance_km=Decimal(f"{distance:.1f}"), commute=commute,
        )
        return _Draft(student=student, surname=surname, plan=plan)

    # -- key groups --

    def _membership(self, draft: _Draft, group: str, *, subtype: str = "", started_on: date | None = None,
                    ended_on: date | None = None, note: str = "", **extra) -> KeyGroupMembership:
        started = started_on or self._started(draft)
        membership = KeyGroupMembership(
            county=self.county, school=draft.student.school, group=group, subtype=subtype,
            started_on=started, ended_on=ended_on, note=note, **extra,
        )
        draft.groups.append(membership)
        return membership

    def _started(self, draft: _Draft) -> date:
        """Most groups were recorded at entry; some later in the student's time at school."""
        enrolled = draft.student.enrolled_on
        if self.rng.random() < 0.7:
            return min(enrolled, self.yesterday)
        return day_between(self.rng, min(enrolled, self.yesterday), self.yesterday)

    def _key_groups(self, drafts: list[_Draft]) -> None:
        rng = self.rng
        # The rare groups are drawn by count, so that every seed has a few of each.
        rare = rng.sample(range(len(drafts)), 8 + round(len(drafts) * 0.01))
        orphans, unsupported = set(rare[:3]), set(rare[3:8])
        disabled = [drafts[i] for i in rare[8:]]
        for i, d in enumerate(drafts):
            plan = d.plan
            if i in orphans:
                self._membership(d, KeyGroup.ORPHAN, note="父母双亡，由祖辈抚养")
            elif i in unsupported:
                self._membership(d, KeyGroup.UNSUPPORTED,
                                 note=rng.choice(["父亲服刑，母亲失联", "父亲去世，母亲改嫁后失联", "父母均重度残疾"]))
            elif rng.random() < plan.migrant:
                self._membership(d, KeyGroup.MIGRANT, note="父母在本县务工")
            elif rng.random() < plan.left_behind / (1 - plan.migrant):
                self._membership(d, KeyGroup.LEFT_BEHIND, subtype="双亲留守" if rng.random() < 0.4 else "单亲留守")

            cared_by_grandparents = d.current(KeyGroup.ORPHAN) or d.current(KeyGroup.UNSUPPORTED)
            if cared_by_grandparents:
                self._membership(d, KeyGroup.POOR, subtype=rng.choice(["特困", "低保"]))
                self._membership(d, KeyGroup.DISTRESSED, note="监护缺失")
            elif rng.random() < 0.095:
                self._membership(d, KeyGroup.POOR,
                                 subtype=rng.choices(["脱贫户", "监测户", "低保", "特困"], weights=[45, 20, 27, 8])[0])
            learning_rate = 0.05 if d.current(KeyGroup.LEFT_BEHIND) else 0.035
            if rng.random() < learning_rate:
                self._membership(d, KeyGroup.LEARNING, note=rng.choice(["数学基础薄弱", "厌学情绪", "多科不及格", ""]))
            self._history(d)

        for n, d in enumerate(disabled):
            if n < 2:  # 送教上门 for the first two, 随班就读 for the rest
                self._membership(d, KeyGroup.DISABLED, subtype=rng.choice(["肢体残疾", "多重残疾", "智力残疾"]),
                                 disability_level=rng.choice(["一级", "二级"]),
                                 placement=DisabilityPlacement.HOME_TEACHING, note="送教上门，每周两次")
                d.student.boarding, d.student.commute = False, ""
                self._membership(d, KeyGroup.DISTRESSED, note="重度残疾")
            else:
                self._membership(d, KeyGroup.DISABLED,
                                 subtype=rng.choice(["视力残疾", "听力残疾", "言语残疾", "肢体残疾", "智力残疾"]),
                                 disability_level=rng.choice(["三级", "四级", "四级"]),
                                 placement=DisabilityPlacement.MAINSTREAM)

        # A few students on 休学 this term (illness), and a few more 困境儿童 among the poorest.
        candidates = [d for d in drafts if not d.groups]
        for d in rng.sample(candidates, 3):
            d.student.status = RegistryStatus.SUSPENDED
            d.student.status_since = day_between(rng, self.current_term_start, self.yesterday)
        poorest = [d for d in drafts if (m := d.current(KeyGroup.POOR)) and m.subtype == "特困"
                   and not d.current(KeyGroup.DISTRESSED)]
        for d in rng.sample(poorest, min(4, len(poorest))):
            self._membership(d, KeyGroup.DISTRESSED, note=rng.choice(["家庭成员重病", "父母一方重度残疾"]))

    def _history(self, d: _Draft) -> None:
        """Memberships that have ended: parents came home, a family left the monitoring list."""
        enrolled = d.student.enrolled_on
        if (self.today - enrolled).days < 200 or self.rng.random() >= 0.04:
            return
        started = enrolled
        ended = day_between(self.rng, started + timedelta(days=60), self.today - timedelta(days=30))
        parents_around = not any(d.current(g) for g in (KeyGroup.ORPHAN, KeyGroup.UNSUPPORTED, KeyGroup.MIGRANT))
        if parents_around and not d.current(KeyGroup.LEFT_BEHIND) and self.rng.random() < 0.5:
            self._membership(d, KeyGroup.LEFT_BEHIND, subtype="单亲留守", started_on=started, ended_on=ended,
                             note="父亲返乡就业")
        elif not d.current(KeyGroup.POOR):
            self._membership(d, KeyGroup.POOR, subtype="监测户", started_on=started, ended_on=ended,
                             note="风险消除，退出监测")
        elif not d.current(KeyGroup.LEARNING):
            self._membership(d, KeyGroup.LEARNING, started_on=started, ended_on=ended, note="成绩提升，结束帮扶")

    # -- families --

    def _family(self, d: _Draft) -> None:
        rng, people = self.rng, self.people
        student = d.student
        child_year = student.birth_date.year
        father_year = min(max(child_year - rng.randint(22, 34), 1975), 1992)
        mother_year = min(max(father_year + rng.randint(-1, 3), 1975), 1992)
        mother_surname = people.surname(other_than=d.surname)

        def member(relation: str, *, guardian: bool, away: bool = False, employer: str = "") -> FamilyMember:
            if relation in ("父亲", "母亲"):
                sex = Sex.MALE if relation == "父亲" else Sex.FEMALE
                surname = d.surname if relation == "父亲" else mother_surname
                name = people.adult_name(surname, sex)
                birth = people.birth_in_year(father_year if relation == "父亲" else mother_year)
            else:
                sex = Sex.MALE if relation in ("祖父", "外祖父") else Sex.FEMALE
                surname = {"祖父": d.surname, "外祖父": mother_surname}.get(relation) or people.surname()
                name = people.adult_name(surname, sex, old=True)
                birth = people.birth_in_year(
                    (father_year if relation in ("祖父", "祖母") else mother_year) - rng.randint(22, 30))
            if not employer and not away and relation in ("父亲", "母亲"):
                employer = rng.choice(HOME_JOBS)
            row = FamilyMember(
                school=student.school, name=name, relation=relation, phone=people.phone(), is_guardian=guardian,
                works_away=away, works_away_place=rng.choice(WORK_AWAY_PLACES) if away else "",
                id_number=people.resident_id(birth, sex), address=student.address, employer=employer,
            )
            d.family.append(row)
            return row

        grandparent = rng.choice(["祖父", "祖母", "祖母", "外祖母", "外祖父"])
        left_behind = d.current(KeyGroup.LEFT_BEHIND)
        if d.current(KeyGroup.ORPHAN) or d.current(KeyGroup.UNSUPPORTED):
            member(grandparent, guardian=True)
            partner = {"祖父": "祖母", "祖母": "祖父", "外祖父": "外祖母", "外祖母": "外祖父"}[grandparent]
            if rng.random() < 0.5:
                member(partner, guardian=False)
        elif left_behind and left_behind.subtype == "双亲留守":
            member(grandparent, guardian=True)
            member("父亲", guardian=False, away=True)
            member("母亲", guardian=False, away=True)
        elif left_behind:
            away_parent = "父亲" if rng.random() < 0.75 else "母亲"
            home_parent = "母亲" if away_parent == "父亲" else "父亲"
            member(home_parent, guardian=True)
            member(away_parent, guardian=False, away=True)
            if rng.random() < 0.3:
                member(grandparent, guardian=False)
        elif d.current(KeyGroup.MIGRANT):
            home = rng.choice(MIGRANT_HOMES) + rng.choice(MIGRANT_HOME_VILLAGES)
            student.hukou_address = home
            member("父亲", guardian=True, employer=rng.choice(MIGRANT_JOBS))
            member("母亲", guardian=True, employer=rng.choice(MIGRANT_JOBS))
        else:
            shape = rng.random()
            if shape < 0.05:
                member("母亲", guardian=True)  # single-parent family
            elif shape < 0.10:
                member("父亲", guardian=True)
            else:
                member("父亲", guardian=True)
                member("母亲", guardian=True)
                if rng.random() < 0.15:
                    member(grandparent, guardian=False)
        student.phone = next(m.phone for m in d.family if m.is_guardian)

    # -- care and leadership --

    def _mentorships(self, drafts: list[_Draft]) -> list[Mentorship]:
        """Each school's mentor cares for 3-5 students, learning difficulties first."""
        rows = []
        for school in self.schools:
            mine = [d for d in drafts if d.student.school_id == school.pk]
            first = [d for d in mine if d.current(KeyGroup.LEARNING)]
            then = [d for d in mine if not d.current(KeyGroup.LEARNING) and d.groups]
            chosen = (first + then)[: self.rng.randint(3, 5)]
            for d in chosen:
                started = min(max(d.student.enrolled_on, self.current_term_start), self.yesterday)
                rows.append(Mentorship(mentor=self.staff[school.pk]["mentor"], student=d.student, school=school,
                                       started_on=started))
        return Mentorship.objects.bulk_create(rows)

    def _leadership_groups(self) -> None:
        """控辍保学工作领导小组 of the current term: 组长 the principal, 副组长 two vice principals,
        members the heads of the offices and the grades; 办公室设在政教处."""
        people = self.people
        for school, plan in zip(self.schools, SCHOOLS):
            staff = self.staff[school.pk]
            principal, office, registrar = staff["principal"], staff["office"], staff["registrar"]
            members = [
                (LeadershipPosition.LEADER, principal.first_name, "校长"),
                (LeadershipPosition.DEPUTY, people.staff_name(), "副校长"),
                (LeadershipPosition.DEPUTY, people.staff_name(), "副校长"),
                (LeadershipPosition.MEMBER, office.first_name, "政教处主任"),
                (LeadershipPosition.MEMBER, people.staff_name(), "教务处主任"),
                (LeadershipPosition.MEMBER, people.staff_name(), "总务处主任"),
            ]
            junior = [g for g, _, _ in plan.grades if g >= 7]
            if junior:
                members += [(LeadershipPosition.MEMBER, people.staff_name(), f"{_grade_name(g)}主任") for g in junior]
            else:
                members += [(LeadershipPosition.MEMBER, people.staff_name(), "低年级组长"),
                            (LeadershipPosition.MEMBER, people.staff_name(), "高年级组长")]
            members.append((LeadershipPosition.MEMBER, registrar.first_name, "学籍管理员"))
            term = self.term_by_school[(school.pk, self.current_term)]
            group = services.leadership_group_set(actor=None, school=school, term=term,
                                                  office_director=office.first_name, members=members)
            for user, title in ((principal, "校长"), (office, "政教处主任"), (registrar, "学籍管理员")):
                LeadershipMember.objects.filter(group=group, name=user.first_name, title=title).update(user=user)


# --- the logins table -------------------------------------------------------------------------

def demo_password_hash() -> str | None:
    """The password hash the demo accounts share, if they still exist.

    Every demo account got the same hash; real accounts never share one (each has its own
    salt), so a hash held by several accounts that verifies the demo password is the demo's."""
    shared = (User.objects.values("password").annotate(n=Count("id")).filter(n__gte=2)
              .order_by("-n", "password")[:5])
    for row in shared:
        if check_password(DEMO_PASSWORD, row["password"]):
            return row["password"]
    return None


def _natural(text: str) -> tuple:
    return tuple(int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text))


def demo_logins(*, password_hash: str | None = None) -> list[Login]:
    """(username, password, role, scope) of every account that still has the demo password,
    ordered admin, county, township, then school by school: leader, office, registrar, head
    teachers, mentor."""
    password_hash = password_hash or demo_password_hash()
    if not password_hash:
        return []
    users = {u.pk: u for u in User.objects.filter(password=password_hash)}
    classes: dict[tuple[int, int], list[SchoolClass]] = {}
    for cls in (SchoolClass.objects.filter(head_teacher_id__in=users).select_related("grade", "school")
                .order_by("school_id", "grade__order", "name")):
        classes.setdefault((cls.head_teacher_id, cls.school_id), []).append(cls)

    rows: list[tuple[tuple, Login]] = []
    listed: set[tuple[int, str, str]] = set()  # (user, role, school code)

    def add(user, role: str, school_code: str, scope: str) -> None:
        listed.add((user.pk, role, school_code))
        key = (school_code, ROLE_ORDER.index(role), _natural(user.username))
        rows.append((key, Login(user.username, DEMO_PASSWORD, Role(role).label, scope)))

    for m in Membership.objects.filter(user_id__in=users).select_related("county", "township", "school"):
        if m.role == Role.ADMIN:
            scope = "全系统"
        elif m.role == Role.COUNTY:
            scope = m.county.name
        elif m.role == Role.TOWNSHIP:
            scope = f"{m.county.name}{m.township.name}"
        else:
            scope = m.school.name
        if m.role == Role.HEAD_TEACHER and classes.get((m.user_id, m.school_id)):
            scope += " " + "、".join(str(c) for c in classes[(m.user_id, m.school_id)])
        add(users[m.user_id], m.role, m.school.code if m.school_id else "", scope)
    # Heading a class or being a superuser gives the role even without the membership row.
    for (user_id, school_id), mine in classes.items():
        school = mine[0].school
        if (user_id, Role.HEAD_TEACHER, school.code) not in listed:
            add(users[user_id], Role.HEAD_TEACHER, school.code, f"{school.name} " + "、".join(str(c) for c in mine))
    for user in users.values():
        if user.is_superuser and (user.pk, Role.ADMIN, "") not in listed:
            add(user, Role.ADMIN, "", "全系统")
    rows.sort(key=lambda pair: pair[0])
    return [login for _, login in rows]


def is_listed_by_default(login: Login) -> bool:
    """The short logins table leaves out the head teachers of the other classes (t2_81 …)."""
    return not BULK_HEAD_TEACHER.fullmatch(login.username)


__all__ = [
    "DEMO_PASSWORD", "DemoError", "DemoResult", "Login", "build_demo", "current_term_name", "demo_logins",
    "demo_password_hash", "demo_terms", "is_listed_by_default", "school_year_terms",
]
