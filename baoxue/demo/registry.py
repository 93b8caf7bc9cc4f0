"""Demo files for 人籍一致, written by `baoxue demo` under var/demo/ so a new user can try the
reconciliation at once:

- `国网学籍名册-4109990001.xlsx`: the registry system's roster export of 示范县第一初级中学, built
  from its students with the 国网 columns (identifiers as text), with a few planted discrepancies
  of each kind: people registered who are not students (名在人不在), students left out (人在籍不在),
  a name typo, a wrong class and a birth date that differ, one person registered twice, a bad
  check digit and an ID cell stored as a number;
- `小学毕业生名单-<year>.xlsx`: the graduates of 城关镇中心小学 and two village primary schools;
  most are now in 七年级 of the county's junior schools (a few recorded with another ID number, so
  they are found by name and birth date only), and eight are found nowhere.

Deterministic for a seed: choices come from one `random.Random(seed)` drawn in a fixed order over
rows read in a fixed order, and the workbooks carry a fixed creation date.
"""

from __future__ import annotations

import datetime
import random
from collections import defaultdict
from pathlib import Path

from django.conf import settings

from baoxue.demo.people import VILLAGES, People
from baoxue.org.models import (
    FamilyMember,
    KeyGroup,
    KeyGroupMembership,
    RegistryStatus,
    School,
    Sex,
    Stage,
    Student,
)

ROSTER_SCHOOL = "4109990001"  # 示范县第一初级中学
ROSTER_FILE = "国网学籍名册-{code}.xlsx"
GRADUATES_FILE = "小学毕业生名单-{year}.xlsx"

# The registry system's roster columns (domain.md; spellings of one template version).
STUDENT_COLUMNS = [
    "学校标识码", "姓名", "曾用名", "性别", "出生日期", "出生地", "籍贯", "民族", "国籍/地区", "身份证件类型", "身份证件号",
    "港澳台侨外", "健康状况", "户口所在地", "户口性质", "全国学籍号", "学籍辅号", "班内学号", "年级", "班级", "入学年月",
    "入学方式", "就读方式", "学生来源", "现住址", "通信地址", "家庭地址", "联系电话", "是否独生子女", "是否留守儿童",
    "是否进城务工人员随迁子女", "是否孤儿", "是否烈士或优抚子女", "是否需要申请资助", "是否享受一补", "随班就读", "残疾类型",
    "上下学距离", "上下学方式", "是否需要乘坐校车",
]
FAMILY_FIELDS = ["姓名", "关系", "现住址", "户口所在地", "联系电话", "是否监护人", "身份证件类型", "身份证件号", "民族",
                 "工作单位", "职务"]
ROSTER_COLUMNS = STUDENT_COLUMNS + [f"家庭成员{n}{f}" for n in (1, 2) for f in FAMILY_FIELDS]
# Columns written with the text format: Excel must never turn them into numbers.
TEXT_COLUMNS = {"学校标识码", "身份证件号", "全国学籍号", "学籍辅号", "联系电话", "家庭成员1身份证件号", "家庭成员2身份证件号",
                "家庭成员1联系电话", "家庭成员2联系电话"}
GRADUATE_COLUMNS = ["姓名", "身份证件号", "毕业小学", "乡镇", "村"]

# Typos a clerk makes with a pinyin input method: the same sound, another character.
HOMOPHONES = {"浩": "皓", "轩": "宣", "涵": "含", "怡": "宜", "宇": "雨", "杰": "洁", "萱": "宣", "博": "搏", "琪": "淇",
              "欣": "心", "梓": "子", "雨": "语", "思": "斯", "佳": "家", "嘉": "佳", "俊": "峻", "明": "铭", "鑫": "新",
              "婷": "亭", "静": "靖", "豪": "毫", "阳": "杨", "晨": "辰", "瑶": "遥", "妍": "研", "雪": "学"}
CENTRAL_PRIMARY = "城关镇中心小学"
# Village primary schools and the villages they serve.
VILLAGE_PRIMARIES = {
    "留固镇李庄小学": ("留固镇", ("李庄村", "张营村", "东胡村", "前屯村", "后屯村")),
    "白道口镇杨庄小学": ("白道口镇", ("杨庄村", "高营村", "赵庄村", "东庄村")),
}
NOT_FOUND = 8
ID_DIFFERS = 3


def write_demo_files(*, seed: int, out_dir: Path | None = None) -> dict[str, Path]:
    """Write the roster export and the graduate list (by default to var/demo/); returns
    {"roster": path, "graduates": path}."""
    out_dir = Path(out_dir) if out_dir is not None else _default_dir()
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    people = People(rng)
    known_ids = set(Student.objects.exclude(id_number="").values_list("id_number", flat=True))
    school = School.objects.select_related("county").get(code=ROSTER_SCHOOL)
    roster = out_dir / ROSTER_FILE.format(code=school.code)
    _write_roster(roster, school, rng, people, known_ids)
    year, rows = _graduate_rows(rng, people, known_ids)
    graduates = out_dir / GRADUATES_FILE.format(year=year)
    for older in out_dir.glob(GRADUATES_FILE.format(year="*")):
        if older != graduates:  # a rebuild on another date: only the current demo's list stays
            older.unlink()
    _write_xlsx(graduates, "小学毕业生名单", GRADUATE_COLUMNS, rows, text_columns={"身份证件号"}, year=year)
    return {"roster": roster, "graduates": graduates}


def _default_dir() -> Path:
    """var/demo/, beside the database the demo was built in."""
    return Path(settings.VAR_DIR) / "demo"


# ---------------------------------------------------------------- the roster export

def _students(school: School) -> list[Student]:
    """The school's students as the registry system lists them, class by class. A 休学 or 辍学
    student keeps the 学籍; those who left (转出, 毕业, 死亡 …) are not in the export."""
    keep = (RegistryStatus.IN_SCHOOL, RegistryStatus.SUSPENDED, RegistryStatus.DROPPED_OUT)
    return list(Student.objects.filter(school=school, status__in=keep, school_class__isnull=False)
                .select_related("school_class__grade")
                .order_by("school_class__grade__order", "school_class__name", "name_initials", "registry_no"))


def _write_roster(path: Path, school: School, rng: random.Random, people: People, known_ids: set[str]) -> None:
    students = _students(school)
    family: dict[int, list[FamilyMember]] = defaultdict(list)
    for m in FamilyMember.objects.filter(student__in=students).order_by("student_id", "-is_guardian", "id"):
        family[m.student_id].append(m)
    groups: dict[int, dict[str, KeyGroupMembership]] = defaultdict(dict)
    for g in KeyGroupMembership.objects.filter(student__in=students, ended_on__isnull=True).order_by("id"):
        groups[g.student_id][g.group] = g

    in_school = [s for s in students if s.status == RegistryStatus.IN_SCHOOL]
    typo = [s for s in in_school if any(ch in HOMOPHONES for ch in s.name[1:])]
    digit_end = [s for s in in_school if s.id_number[-1].isdigit()]
    chosen: set[int] = set()

    def pick(pool: list[Student]) -> Student:
        s = rng.choice([s for s in pool if s.pk not in chosen])
        chosen.add(s.pk)
        return s

    left_out = {pick(in_school).pk for _ in range(3)}
    renamed, moved, born_other, doubled, bad_digit, numeric = (
        pick(typo), pick(in_school), pick(in_school), pick(in_school), pick(in_school), pick(digit_end))
    classes_of_grade = defaultdict(list)
    for s in students:
        if s.school_class.name not in classes_of_grade[s.school_class.grade.name]:
            classes_of_grade[s.school_class.grade.name].append(s.school_class.name)

    rows: list[dict] = []
    numbers: dict[str, int] = defaultdict(int)
    for s in students:
        numbers[s.school_class_id] += 1
        if s.pk in left_out:
            continue  # 人在籍不在: in class, never registered (a transfer in not yet done in 国网)
        row = _student_row(school, s, numbers[s.school_class_id], family[s.pk], groups[s.pk])
        row["_order"] = s.school_class.grade.order
        if s.pk == renamed.pk:
            at = next(i for i, ch in enumerate(s.name) if i > 0 and ch in HOMOPHONES)
            row["姓名"] = s.name[:at] + HOMOPHONES[s.name[at]] + s.name[at + 1:]
        elif s.pk == moved.pk:
            others = [c for c in classes_of_grade[s.school_class.grade.name] if c != s.school_class.name]
            row["班级"] = rng.choice(others)
        elif s.pk == born_other.pk:
            # The 国网 record lacks the ID number, so nothing in the row contradicts the date typed
            # there: only the comparison with the school's record finds it.
            wrong = s.birth_date.replace(month=s.birth_date.month % 12 + 1, day=min(s.birth_date.day, 28))
            row["出生日期"], row["身份证件号"] = wrong.isoformat(), ""
        elif s.pk == bad_digit.pk:
            last = s.id_number[-1]
            row["身份证件号"] = s.id_number[:-1] + ("1" if last != "1" else "7")
        elif s.pk == numeric.pk:
            row["身份证件号"] = float(s.id_number)  # what Excel keeps of an 18-digit number: 15 digits
        rows.append(row)
        if s.pk == doubled.pk:
            # 一人两籍: registered again in another class after a class change.
            twin = dict(row)
            others = [c for c in classes_of_grade[s.school_class.grade.name] if c != s.school_class.name]
            twin["班级"], twin["班内学号"] = rng.choice(others), "50"
            rows.append(twin)
    # 名在人不在: registered here, not among the students (left without the 国网 transfer).
    for _ in range(3):
        template = rng.choice(in_school)
        rows.append(_stranger_row(school, template, rng, people, known_ids))
    rows.sort(key=lambda r: (r["_order"], r["班级"], int(r["班内学号"])))
    year = max(s.enrolled_on for s in students).year
    _write_xlsx(path, "学生信息", ROSTER_COLUMNS, [[r.get(c, "") for c in ROSTER_COLUMNS] for r in rows],
                text_columns=TEXT_COLUMNS, year=year)


def _place(address: str) -> str:
    """河南省示范县城关镇东关社区 → 河南省示范县: 出生地 and 籍贯 as the registry writes them."""
    at = address.find("县")
    return address[:at + 1] if at >= 0 else address


def _student_row(school: School, s: Student, number: int, family: list[FamilyMember],
                 groups: dict[str, KeyGroupMembership]) -> dict:
    left_behind = groups.get(KeyGroup.LEFT_BEHIND)
    disabled = groups.get(KeyGroup.DISABLED)
    poor = KeyGroup.POOR in groups
    row = {
        "学校标识码": school.code, "姓名": s.name, "曾用名": s.former_name, "性别": s.get_sex_display(),
        "出生日期": s.birth_date.isoformat() if s.birth_date else "", "出生地": _place(s.hukou_address),
        "籍贯": _place(s.hukou_address), "民族": s.ethnicity, "国籍/地区": "中国", "身份证件类型": s.get_id_type_display(),
        "身份证件号": s.id_number, "港澳台侨外": "否", "健康状况": "残疾" if disabled else "健康或良好",
        "户口所在地": s.hukou_address, "户口性质": "非农业户口" if "社区" in s.hukou_address else "农业户口",
        "全国学籍号": s.registry_no, "学籍辅号": s.aux_registry_no, "班内学号": str(number),
        "年级": s.school_class.grade.name, "班级": s.school_class.name,
        "入学年月": s.enrolled_on.strftime("%Y-%m") if s.enrolled_on else "", "入学方式": "就近入学",
        "就读方式": "住校" if s.boarding else "走读", "学生来源": "正常入学", "现住址": s.address, "通信地址": s.address,
        "家庭地址": s.address, "联系电话": s.phone, "是否独生子女": "否",
        "是否留守儿童": left_behind.subtype if left_behind else "非",
        "是否进城务工人员随迁子女": "是" if KeyGroup.MIGRANT in groups else "否",
        "是否孤儿": "是" if KeyGroup.ORPHAN in groups else "否", "是否烈士或优抚子女": "否",
        "是否需要申请资助": "是" if poor else "否", "是否享受一补": "是" if poor and s.boarding else "否",
        "随班就读": "是" if disabled and disabled.placement == "mainstream" else "否",
        "残疾类型": disabled.subtype if disabled else "无残疾",
        "上下学距离": f"{s.distance_km}" if s.distance_km is not None else "", "上下学方式": s.commute,
        "是否需要乘坐校车": "是" if s.commute == "校车" else "否",
    }
    for n, m in enumerate(family[:2], start=1):
        row |= {
            f"家庭成员{n}姓名": m.name, f"家庭成员{n}关系": m.relation, f"家庭成员{n}现住址": m.address,
            f"家庭成员{n}户口所在地": s.hukou_address, f"家庭成员{n}联系电话": m.phone,
            f"家庭成员{n}是否监护人": "是" if m.is_guardian else "否", f"家庭成员{n}身份证件类型": m.get_id_type_display(),
            f"家庭成员{n}身份证件号": m.id_number, f"家庭成员{n}民族": s.ethnicity,
            f"家庭成员{n}工作单位": m.works_away_place or m.employer, f"家庭成员{n}职务": "",
        }
    return row


def _new_id(people: People, birth: datetime.date, sex: str, known_ids: set[str]) -> str:
    while True:
        number = people.resident_id(birth, sex)
        if number not in known_ids:
            known_ids.add(number)
            return number


def _stranger_row(school: School, template: Student, rng: random.Random, people: People, known_ids: set[str]) -> dict:
    """Someone registered in the template's class who is not a student of the school."""
    sex = Sex.MALE if rng.random() < 0.5 else Sex.FEMALE
    surname = people.surname()
    name = people.child_name(surname, sex)
    birth = template.birth_date + datetime.timedelta(days=rng.randint(-120, 120))
    number = _new_id(people, birth, sex, known_ids)
    stranger = Student(school=school, school_class=template.school_class, name=name, sex=sex, birth_date=birth,
                       ethnicity="汉族", id_number=number, registry_no="G" + number, enrolled_on=template.enrolled_on,
                       hukou_address=template.hukou_address, address=template.address, phone=people.phone(),
                       distance_km=template.distance_km, commute=template.commute)
    father = FamilyMember(name=people.adult_name(surname, Sex.MALE), relation="父亲", phone=people.phone(),
                          is_guardian=True, address=template.address, employer="务农")
    row = _student_row(school, stranger, rng.randint(45, 49), [father], {})
    row["_order"] = template.school_class.grade.order
    return row


# ---------------------------------------------------------------- the graduate list

def _graduate_rows(rng: random.Random, people: People, known_ids: set[str]) -> tuple[int, list[list[str]]]:
    """(graduation year, rows): this year's 七年级 came out of the primary schools last summer."""
    seventh = list(Student.objects.filter(school__stage__in=(Stage.JUNIOR, Stage.NINE_YEAR), school_class__grade__order=7,
                                          status=RegistryStatus.IN_SCHOOL)
                   .select_related("school", "residence_township").order_by("school__code", "registry_no"))
    year = seventh[0].enrolled_on.year if seventh and seventh[0].enrolled_on else datetime.date.today().year
    same_name_birth = defaultdict(int)
    for s in Student.objects.values_list("name", "birth_date"):
        same_name_birth[s] += 1

    def township(s: Student) -> str:
        return s.residence_township.name if s.residence_township_id else ""

    chosen: list[tuple[str, Student]] = []
    central = [s for s in seventh if township(s) == "城关镇" and s.school.code == ROSTER_SCHOOL]
    chosen += [(CENTRAL_PRIMARY, s) for s in rng.sample(central, min(42, len(central)))]
    for school_name, (town, villages) in VILLAGE_PRIMARIES.items():
        pool = [s for s in seventh if township(s) == town and s.residence_village in villages]
        chosen += [(school_name, s) for s in rng.sample(pool, min(18, len(pool)))]

    # Recorded with another ID number by the primary school: found by name and birth date only.
    unique = [i for i, (_, s) in enumerate(chosen) if same_name_birth[(s.name, s.birth_date)] == 1]
    other_id = set(rng.sample(unique, min(ID_DIFFERS, len(unique))))
    rows = []
    for i, (primary, s) in enumerate(chosen):
        number = _new_id(people, s.birth_date, s.sex, known_ids) if i in other_id else s.id_number
        rows.append([primary, s.name, number, township(s), s.residence_village])

    # Found in no junior school of the county: 小学毕业学籍未接续, to be investigated one by one.
    schools = [CENTRAL_PRIMARY, *VILLAGE_PRIMARIES]
    for n in range(NOT_FOUND):
        primary = schools[n % len(schools)]
        town, villages = ("城关镇", VILLAGES["城关镇"]) if primary == CENTRAL_PRIMARY else VILLAGE_PRIMARIES[primary]
        sex = Sex.MALE if rng.random() < 0.55 else Sex.FEMALE
        birth = datetime.date(year - 13, 9, 1) + datetime.timedelta(days=rng.randrange(365))
        rows.append([primary, people.child_name(people.surname(), sex), _new_id(people, birth, sex, known_ids), town,
                     rng.choice(villages)])

    order = {name: i for i, name in enumerate(schools)}
    rows.sort(key=lambda r: (order[r[0]], r[4], r[1]))
    return year, [[name, number, primary, town, village] for primary, name, number, town, village in rows]


# ---------------------------------------------------------------- writing

def _write_xlsx(path: Path, sheet: str, headers: list[str], rows: list[list], *, text_columns: set[str],
                year: int) -> None:
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False, "strings_to_urls": False,
                                         "strings_to_numbers": False})
    # A fixed creation date: the same seed gives the same bytes.
    wb.set_properties({"created": datetime.datetime(year, 9, 1), "author": "示范县演示数据"})
    ws = wb.add_worksheet(sheet)
    bold = wb.add_format({"bold": True})
    text = wb.add_format({"num_format": "@"})
    ws.write_row(0, 0, headers, bold)
    is_text = [h in text_columns for h in headers]
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row):
            if isinstance(value, float):
                ws.write_number(r, c, value)
            elif is_text[c]:
                ws.write_string(r, c, value, text)
            elif value != "":
                ws.write_string(r, c, value)
    ws.freeze_panes(1, 0)
    ws.set_column(0, len(headers) - 1, 14)
    wb.close()
