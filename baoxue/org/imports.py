"""Importing students from a registry-system export (.xlsx, .xls, .csv).

Upload → preview with every row's problems → confirm. A file with any bad row commits
nothing unless the user chooses "valid rows only". Rows upsert by 全国学籍号, else by ID
number; grades and classes are created as needed. The same code serves the web flow and
`baoxue import-students`.
"""

import datetime
import re
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from baoxue.lib.batches import chunks
from baoxue.audit.models import Action, AuditEntry
from baoxue.audit.services import audit_record
from baoxue.lib import cells, idcard
from baoxue.lib.headers import match_headers
from baoxue.lib.pinyin import initials
from baoxue.lib.rows import RowProblem, SheetRow, max_lengths, too_long
from baoxue.lib.sheets import SheetError, Table, read_table
from baoxue.org.models import (
    FamilyMember,
    Grade,
    IdType,
    KeyGroup,
    KeyGroupMembership,
    School,
    SchoolClass,
    Sex,
    Student,
    Township,
)

# Canonical field → header spellings seen in registry exports (国网 template versions differ).
STUDENT_HEADERS: dict[str, list[str]] = {
    "school_code": ["学校标识码", "学校代码"],
    "name": ["姓名", "学生姓名"],
    "former_name": ["曾用名"],
    "sex": ["性别"],
    "birth_date": ["出生日期", "出生年月日"],
    "ethnicity": ["民族"],
    "id_type": ["身份证件类型", "证件类型"],
    "id_number": ["身份证件号", "身份证件号码", "身份证号", "身份证号码", "证件号码", "证件号"],
    "registry_no": ["全国学籍号", "全国学籍号码", "学籍号", "学籍编号"],
    "aux_registry_no": ["学籍辅号"],
    "grade": ["年级", "年级名称"],
    "class": ["班级", "班级名称", "班号"],
    "enrolled_on": ["入学年月", "入学时间", "入学日期"],
    "hukou_address": ["户口所在地", "户籍所在地"],
    "address": ["现住址", "家庭住址", "家庭地址", "居住地址"],
    "township": ["现住址所在乡镇", "所在乡镇", "乡镇", "乡镇（街道）"],
    "village": ["现住址村", "村（社区）", "村社区", "所在村"],
    "phone": ["联系电话", "家庭电话"],
    "left_behind": ["是否留守儿童", "留守儿童"],
    "migrant": ["是否进城务工人员随迁子女", "是否随迁子女", "随迁子女"],
    "orphan": ["是否孤儿"],
    "disability_type": ["残疾类型"],
    "mainstream": ["随班就读"],
    # 家庭经济困难: the aid flag, and the poverty columns some exports carry (a kind, or one flag each).
    "aid": ["是否需要申请资助", "需要申请资助"],
    "poverty_kind": ["家庭经济困难类型", "家庭经济困难学生类型", "经济困难类型", "贫困类型", "困难类型"],
    "poor_lifted": ["是否脱贫户", "是否建档立卡贫困户", "是否建档立卡户"],
    "poor_monitored": ["是否监测户", "是否防返贫监测户", "是否防返贫监测对象"],
    "poor_dibao": ["是否低保户", "是否低保家庭", "是否低保"],
    "poor_tekun": ["是否特困供养", "是否特困供养人员", "是否特困户", "是否特困"],
    "distance": ["上下学距离", "上下学距离（公里）"],
    "commute": ["上下学方式"],
    "study_mode": ["就读方式"],
}
for _n in (1, 2):
    STUDENT_HEADERS |= {
        f"f{_n}_name": [f"家庭成员{_n}姓名", f"家庭成员或监护人{_n}姓名", f"成员{_n}姓名", f"监护人{_n}姓名"],
        f"f{_n}_relation": [f"家庭成员{_n}关系", f"家庭成员或监护人{_n}关系", f"成员{_n}关系", f"监护人{_n}关系"],
        f"f{_n}_phone": [f"家庭成员{_n}联系电话", f"家庭成员或监护人{_n}联系电话", f"成员{_n}联系电话", f"监护人{_n}联系电话"],
        f"f{_n}_guardian": [f"家庭成员{_n}是否监护人", f"家庭成员或监护人{_n}是否监护人", f"成员{_n}是否监护人"],
        f"f{_n}_id_type": [f"家庭成员{_n}身份证件类型", f"成员{_n}身份证件类型"],
        f"f{_n}_id_number": [f"家庭成员{_n}身份证件号", f"家庭成员或监护人{_n}身份证件号", f"成员{_n}身份证件号"],
        f"f{_n}_address": [f"家庭成员{_n}现住址", f"成员{_n}现住址"],
        f"f{_n}_employer": [f"家庭成员{_n}工作单位", f"成员{_n}工作单位"],
    }

REQUIRED = ["name", "sex", "id_number", "registry_no", "grade", "class"]
IDENTIFIER_FIELDS = {"id_number", "registry_no", "aux_registry_no", "f1_id_number", "f2_id_number", "school_code"}

# Text columns checked against the database's column lengths in the preview, before anything
# expensive (a 1 MB name used to spend minutes in the pinyin index, then fail at the write).
STUDENT_LIMITS = max_lengths({
    "school_code": (School, "code"), "name": (Student, "name"), "former_name": (Student, "former_name"),
    "ethnicity": (Student, "ethnicity"), "id_number": (Student, "id_number"), "registry_no": (Student, "registry_no"),
    "aux_registry_no": (Student, "aux_registry_no"), "grade": (Grade, "name"),
    "hukou_address": (Student, "hukou_address"), "address": (Student, "address"), "township": (Township, "name"),
    "village": (Student, "residence_village"), "phone": (Student, "phone"), "commute": (Student, "commute"),
    "disability_type": (KeyGroupMembership, "subtype"),
    **{f"f{n}_{key}": (FamilyMember, name) for n in (1, 2) for key, name in (
        ("name", "name"), ("relation", "relation"), ("phone", "phone"), ("id_number", "id_number"),
        ("address", "address"), ("employer", "employer"))},
})
CLASS_NAME_MAX = SchoolClass._meta.get_field("name").max_length

ID_TYPES = {label: value for value, label in IdType.choices} | {"身份证": IdType.RESIDENT, "": IdType.RESIDENT}
SEXES = {"男": Sex.MALE, "女": Sex.FEMALE, "1": Sex.MALE, "2": Sex.FEMALE, "男性": Sex.MALE, "女性": Sex.FEMALE}
NO_VALUES = {"", "无", "非", "否", "不是", "非残疾", "非留守", "0", "n", "N"}
CN_NUMERALS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}


@dataclass
class ImportReport:
    filename: str
    rows_total: int = 0
    to_create: int = 0
    to_update: int = 0
    unchanged: int = 0
    problems: list[RowProblem] = field(default_factory=list)
    ignored_headers: list[str] = field(default_factory=list)
    bad_rows: set[int] = field(default_factory=set)
    committed: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def valid_rows(self) -> int:
        return self.rows_total - len(self.bad_rows)

    def as_dict(self) -> dict:
        return {
            "filename": self.filename, "rows_total": self.rows_total, "valid_rows": self.valid_rows,
            "to_create": self.to_create, "to_update": self.to_update, "unchanged": self.unchanged,
            "committed": self.committed, "ignored_headers": self.ignored_headers,
            "problems": [{"row": p.row, "column": p.column, "message": p.message} for p in self.problems],
        }


@dataclass
class ParsedRow:
    row: int
    values: dict
    family: list[dict]
    key_groups: list[tuple[str, str, str]]  # (group, subtype, placement)


def grade_order(name: str) -> int:
    """七年级 → 7, 2023级 → 2023 (the later, the lower the grade, so negate for sorting)."""
    for ch, n in CN_NUMERALS.items():
        if name.startswith(ch):
            return n
    m = re.match(r"(\d{4})级", name)
    if m:
        return 3000 - int(m.group(1))
    m = re.match(r"(\d+)", name)
    return int(m.group(1)) if m else 99


def normalise_class_name(raw: str, grade: str) -> str:
    """'七年级(1)班', '(1)班', '1班', '1', '一班' → '(1)班'; anything else kept as given."""
    text = raw.strip().replace("（", "(").replace("）", ")")
    if grade and text.startswith(grade):
        text = text[len(grade):]
    m = re.fullmatch(r"\(?(\d{1,2})\)?班?", text)
    if m:
        return f"({int(m.group(1))})班"
    m = re.fullmatch(r"\(?([一二三四五六七八九])\)?班", text)
    if m:
        return f"({CN_NUMERALS[m.group(1)]})班"
    return text


def _township_from_address(address: str, townships: list[Township]) -> tuple[Township | None, str]:
    """Route by residence: find the county's township named in the address, and the village after it."""
    for township in townships:
        pos = address.find(township.name)
        if pos >= 0:
            rest = address[pos + len(township.name):]
            m = re.match(r"(.+?(?:村|社区|居委会))", rest)
            return township, (m.group(1) if m else "")
    return None, ""


# The 家庭经济困难 kinds as exports spell them (建档立卡贫困户 are 脱贫户 since 2021).
POVERTY_KINDS = {"脱贫": "脱贫户", "建档立卡": "脱贫户", "贫困户": "脱贫户", "监测": "监测户", "低保": "低保",
                 "特困": "特困"}
POVERTY_FLAGS = (("poor_tekun", "特困"), ("poor_dibao", "低保"), ("poor_monitored", "监测户"), ("poor_lifted", "脱贫户"))


def _poverty(r: SheetRow) -> str | None:
    """家庭经济困难 from the row: its kind ("" when only 是否需要申请资助 says so), or None."""
    kind = r.text("poverty_kind")
    if kind not in NO_VALUES:
        return next((v for k, v in POVERTY_KINDS.items() if k in kind), "")
    for key, label in POVERTY_FLAGS:
        if r.get(key, cells.yes_no):
            return label
    return "" if r.get("aid", cells.yes_no) else None


def _parse_row(r: SheetRow, school: School, townships: list[Township]) -> ParsedRow | None:
    v: dict = {}
    v["name"] = r.text("name")
    if not v["name"]:
        r.problem("name", "姓名不能为空")
    v["former_name"] = r.text("former_name")
    sex_text = r.text("sex")
    v["sex"] = SEXES.get(sex_text)
    if v["sex"] is None:
        r.problem("sex", f"性别“{sex_text}”无法识别：请填“男”或“女”")
    v["birth_date"] = r.get("birth_date", cells.date_value)
    v["ethnicity"] = r.text("ethnicity")
    id_type_text = r.text("id_type")
    v["id_type"] = ID_TYPES.get(id_type_text)
    if v["id_type"] is None:
        r.problem("id_type", f"身份证件类型“{id_type_text}”无法识别：请填“居民身份证”等学籍系统中的类型")
        v["id_type"] = IdType.OTHER
    v["id_number"] = idcard.normalise_id(r.text("id_number"))
    v["registry_no"] = idcard.normalise_id(r.text("registry_no"))
    if v["id_type"] == IdType.RESIDENT and v["id_number"]:
        try:
            info = idcard.check_resident_id(v["id_number"], birth_date=v["birth_date"], sex=v["sex"])
            v["birth_date"] = v["birth_date"] or info.birth_date
        except idcard.IdNumberError as e:
            r.problem("id_number", f"{e}：请核对证件原件后更正")
    if v["registry_no"] and not re.fullmatch(r"[GL][0-9A-Z]{9,28}", v["registry_no"]):
        r.problem("registry_no", f"全国学籍号“{v['registry_no']}”格式不对：应为 G + 身份证件号，或 L + 临时编号")
    if not v["registry_no"] and not v["id_number"] and not r.bad:
        r.problem("registry_no", "全国学籍号和身份证件号不能都为空")
    v["aux_registry_no"] = r.text("aux_registry_no")
    v["grade"] = r.text("grade")
    if not v["grade"]:
        r.problem("grade", "年级不能为空")
    class_raw = r.text("class")
    if not class_raw:
        r.problem("class", "班级不能为空")
    v["class"] = normalise_class_name(class_raw, v["grade"])
    if too_long(v["class"], CLASS_NAME_MAX):
        r.problem("class", too_long(v["class"], CLASS_NAME_MAX))
    v["enrolled_on"] = r.get("enrolled_on", cells.month_value)
    v["hukou_address"] = r.text("hukou_address")
    v["address"] = r.text("address")
    v["phone"] = r.text("phone")
    township_name = r.text("township")
    village = r.text("village")
    township = None
    if township_name:
        township = next((t for t in townships if t.name == township_name), None)
        if township is None:
            r.problem("township", f"乡镇“{township_name}”不在本县乡镇名单中：请核对名称")
    elif v["address"]:
        township, guessed_village = _township_from_address(v["address"], townships)
        village = village or guessed_village
    v["residence_township"] = township
    v["residence_village"] = village
    distance = r.get("distance", cells.decimal_value)
    v["distance_km"] = distance.quantize(Decimal("0.1")) if isinstance(distance, Decimal) else None
    v["commute"] = r.text("commute")
    v["boarding"] = r.text("study_mode") in ("住校", "寄宿")
    school_code = r.text("school_code")
    if school_code and school_code != school.code:
        r.problem("school_code", f"学校标识码 {school_code} 不是本校（{school.code} {school.name}）：请选择正确的学校或文件")

    groups: list[tuple[str, str, str]] = []
    left = r.text("left_behind")
    if left not in NO_VALUES:
        groups.append((KeyGroup.LEFT_BEHIND, left if left in ("单亲留守", "双亲留守") else "", ""))
    if r.get("migrant", cells.yes_no):
        groups.append((KeyGroup.MIGRANT, "", ""))
    if r.get("orphan", cells.yes_no):
        groups.append((KeyGroup.ORPHAN, "", ""))
    poor = _poverty(r)
    if poor is not None:
        groups.append((KeyGroup.POOR, poor, ""))
    disability = r.text("disability_type")
    if disability not in NO_VALUES:
        placement = "mainstream" if r.get("mainstream", cells.yes_no) or r.text("mainstream") == "随班就读" else ""
        groups.append((KeyGroup.DISABLED, disability, placement))

    family = []
    for n in (1, 2):
        name = r.text(f"f{n}_name")
        if not name:
            continue
        member = {
            "name": name, "relation": r.text(f"f{n}_relation") or "其他", "phone": r.text(f"f{n}_phone"),
            "is_guardian": bool(r.get(f"f{n}_guardian", cells.yes_no)),
            "id_type": ID_TYPES.get(r.text(f"f{n}_id_type"), IdType.OTHER),
            "id_number": idcard.normalise_id(r.text(f"f{n}_id_number")),
            "address": r.text(f"f{n}_address"), "employer": r.text(f"f{n}_employer"),
        }
        if member["id_type"] == IdType.RESIDENT and member["id_number"]:
            try:
                idcard.parse_resident_id(member["id_number"])
            except idcard.IdNumberError as e:
                r.problem(f"f{n}_id_number", f"{e}：请核对后更正，或留空")
        family.append(member)
    if r.bad:
        return None
    return ParsedRow(r.number, v, family, groups)


def _check_headers(table: Table, report: ImportReport) -> dict[str, int] | None:
    columns, unknown = match_headers(table.headers, STUDENT_HEADERS)
    report.ignored_headers = [h for h in unknown if h]
    found = set(columns.values())
    missing = [STUDENT_HEADERS[k][0] for k in REQUIRED if k not in found]
    if missing:
        hint = f"；文件中的表头有：{'、'.join(h for h in table.headers if h)[:200]}" if table.headers else ""
        report.problems.append(RowProblem(
            1, "", f"缺少必需的列：{'、'.join(missing)}。请使用学籍系统导出的学生名册（表头在第1行）{hint}"
        ))
        return None
    return {key: col for col, key in columns.items()}


def parse_students(table: Table, school: School, report: ImportReport) -> list[ParsedRow]:
    """Validate every row; problems go into the report, valid rows come back."""
    columns = _check_headers(table, report)
    if columns is None:
        return []
    townships = list(Township.objects.filter(county_id=school.county_id).order_by("-name"))
    headers = table.headers
    parsed: list[ParsedRow] = []
    seen_reg: dict[str, int] = {}
    seen_id: dict[str, int] = {}
    report.rows_total = len(table.rows)
    if not table.rows:
        report.problems.append(RowProblem(None, "", "文件只有表头，没有学生数据行"))
    for number, row_cells in table.rows:
        r = SheetRow(number, row_cells, columns, headers, report.problems, IDENTIFIER_FIELDS, STUDENT_LIMITS)
        result = _parse_row(r, school, townships)
        if result is None:
            report.bad_rows.add(number)
            continue
        dup = False
        if result.values["registry_no"]:
            first = seen_reg.setdefault(result.values["registry_no"], number)
            if first != number:
                r.problem("registry_no", f"全国学籍号与第{first}行重复：同一学生只能出现一次")
                dup = True
        if result.values["id_number"]:
            first = seen_id.setdefault(result.values["id_number"], number)
            if first != number:
                r.problem("id_number", f"身份证件号与第{first}行重复：同一学生只能出现一次，请核对两行")
                dup = True
        if dup:
            report.bad_rows.add(number)
            continue
        parsed.append(result)
    _collapse_other_school_file(report, "school_code" in columns and headers[columns["school_code"]])
    _check_other_schools(parsed, school, report, columns, headers)
    return [p for p in parsed if p.row not in report.bad_rows]


def _collapse_other_school_file(report: ImportReport, header: str | None) -> None:
    """A whole file of another school gets one message, not one per row."""
    if not header or not report.rows_total:
        return
    wrong = [p for p in report.problems if p.column == header and "不是本校" in p.message]
    if len(wrong) < report.rows_total:
        return
    first = wrong[0]
    report.problems = [RowProblem(first.row, header, f"{first.message.split('：')[0]}：全部{report.rows_total}行都是"
                                                      "另一所学校的名册，请选择正确的学校或文件")]


def _check_other_schools(parsed: list[ParsedRow], school: School, report: ImportReport, columns, headers) -> None:
    """A student registered at another school of the deployment is not moved by an import."""
    regs = [p.values["registry_no"] for p in parsed if p.values["registry_no"]]
    ids = [p.values["id_number"] for p in parsed if p.values["id_number"]]
    elsewhere: dict[str, str] = {}
    for chunk in chunks(regs):
        for reg, name in Student.objects.filter(registry_no__in=chunk).exclude(school=school).values_list("registry_no", "school__name"):
            elsewhere["R" + reg] = name
    for chunk in chunks(ids):
        for num, name in Student.objects.filter(id_number__in=chunk).exclude(school=school).values_list("id_number", "school__name"):
            elsewhere["I" + num] = name
    for p in parsed:
        other = elsewhere.get("R" + p.values["registry_no"]) or elsewhere.get("I" + p.values["id_number"])
        if other:
            key = "registry_no" if ("R" + p.values["registry_no"]) in elsewhere else "id_number"
            report.problems.append(RowProblem(
                p.row, headers[columns[key]], f"该学生的学籍在{other}：请先办理转学（学籍异动）后再导入",
            ))
            report.bad_rows.add(p.row)



def read_student_file(source, filename: str, school: School, report: ImportReport) -> list[ParsedRow]:
    try:
        table = read_table(source, filename)
    except SheetError as e:
        report.problems.append(RowProblem(None, "", str(e)))
        return []
    return parse_students(table, school, report)


STUDENT_IMPORT_FIELDS = [
    "name", "former_name", "sex", "birth_date", "ethnicity", "id_type", "id_number", "registry_no",
    "aux_registry_no", "enrolled_on", "hukou_address", "address", "residence_township", "residence_village",
    "phone", "distance_km", "commute", "boarding",
]


def _plan(rows: list[ParsedRow], school: School, report: ImportReport):
    """Match rows to existing students (one query per 500 rows), count creates/updates."""
    by_reg: dict[str, Student] = {}
    by_id: dict[str, Student] = {}
    regs = [p.values["registry_no"] for p in rows if p.values["registry_no"]]
    ids = [p.values["id_number"] for p in rows if p.values["id_number"]]
    for chunk in chunks(regs):
        for s in Student.objects.filter(school=school, registry_no__in=chunk).select_related("school_class__grade"):
            by_reg[s.registry_no] = s
    for chunk in chunks(ids):
        for s in Student.objects.filter(school=school, id_number__in=chunk).select_related("school_class__grade"):
            by_id[s.id_number] = s
    plan = []
    for p in rows:
        existing = by_reg.get(p.values["registry_no"]) or by_id.get(p.values["id_number"])
        plan.append((p, existing))
        if existing is None:
            report.to_create += 1
        elif _changes(existing, p):
            report.to_update += 1
        else:
            report.unchanged += 1
    return plan


def _changes(student: Student, p: ParsedRow) -> dict:
    changes = {}
    for f in STUDENT_IMPORT_FIELDS:
        new = p.values[f]
        old = getattr(student, f)
        if f in ("residence_township",):
            if (old.pk if old else None) != (new.pk if new else None):
                changes[f] = [str(old or ""), str(new or "")]
            continue
        if f in ("birth_date", "enrolled_on", "distance_km") and new is None:
            continue  # an empty optional cell does not erase what is known
        if old != new:
            changes[f] = [old, new]
    cls = student.school_class
    if cls is None or cls.grade.name != p.values["grade"] or cls.name != p.values["class"]:
        changes["school_class"] = [str(cls or ""), f"{p.values['grade']}{p.values['class']}"]
    return changes


def preview_students(source, filename: str, school: School) -> ImportReport:
    report = ImportReport(filename=filename)
    rows = read_student_file(source, filename, school, report)
    _plan(rows, school, report)
    return report


def import_students(*, actor, source, filename: str, school: School, valid_rows_only: bool = False,
                    dry_run: bool = False, actor_label: str = "") -> ImportReport:
    """Validate and, unless dry_run or any row is bad (without valid_rows_only), write all."""
    report = ImportReport(filename=filename)
    rows = read_student_file(source, filename, school, report)
    plan = _plan(rows, school, report)
    file_level = any(p.row is None or p.row == 1 for p in report.problems)
    if dry_run or file_level or (report.problems and not valid_rows_only) or not rows:
        return report
    with transaction.atomic():
        _write(plan, school, actor, actor_label, report)
    report.committed = True
    return report


def _write(plan, school: School, actor, actor_label: str, report: ImportReport) -> None:
    today = timezone.localdate()
    user = actor if getattr(actor, "is_authenticated", False) else None
    label = actor_label or ("" if user else "导入")
    grades = {g.name: g for g in Grade.objects.filter(school=school)}
    classes = {(c.grade.name, c.name): c for c in SchoolClass.objects.filter(school=school).select_related("grade")}
    for p, _ in plan:
        gname, cname = p.values["grade"], p.values["class"]
        if gname not in grades:
            grades[gname] = Grade.objects.create(school=school, name=gname, order=grade_order(gname))
        if (gname, cname) not in classes:
            classes[(gname, cname)] = SchoolClass.objects.create(school=school, grade=grades[gname], name=cname)

    audits: list[AuditEntry] = []
    new_students: list[tuple[ParsedRow, Student]] = []
    updated: list[Student] = []
    for p, existing in plan:
        cls = classes[(p.values["grade"], p.values["class"])]
        if existing is None:
            s = Student(school=school, county_id=school.county_id, school_class=cls, name_initials=initials(p.values["name"]),
                        **{f: p.values[f] for f in STUDENT_IMPORT_FIELDS})
            new_students.append((p, s))
            continue
        changes = _changes(existing, p)
        if not changes:
            continue
        for f in STUDENT_IMPORT_FIELDS:
            if p.values[f] is not None or f not in ("birth_date", "enrolled_on", "distance_km"):
                setattr(existing, f, p.values[f])
        existing.school_class = cls
        existing.name_initials = initials(existing.name)
        updated.append(existing)
        audits.append(AuditEntry(actor=user, actor_label=label, action=Action.UPDATE, object_type="student",
                                 object_id=str(existing.pk), object_repr=existing.name, county_id=school.county_id,
                                 school_id=school.pk, student_id=existing.pk, changes=_json(changes),
                                 note=f"导入 {report.filename} 第{p.row}行"))
    Student.objects.bulk_create([s for _, s in new_students], batch_size=500)
    if any(s.pk is None for _, s in new_students):  # backends without RETURNING
        ids = {s.registry_no or s.id_number: s for _, s in new_students}
        for pk, reg, num in Student.objects.filter(school=school).values_list("pk", "registry_no", "id_number"):
            s = ids.get(reg or num)
            if s is not None:
                s.pk = pk
    for p, s in new_students:
        audits.append(AuditEntry(actor=user, actor_label=label, action=Action.CREATE, object_type="student",
                                 object_id=str(s.pk), object_repr=s.name, county_id=school.county_id,
                                 school_id=school.pk, student_id=s.pk,
                                 changes=_json({f: [None, p.values[f]] for f in STUDENT_IMPORT_FIELDS if p.values[f] not in ("", None)}),
                                 note=f"导入 {report.filename} 第{p.row}行"))
    if updated:
        Student.objects.bulk_update(updated, STUDENT_IMPORT_FIELDS + ["school_class", "name_initials", "updated_at"], batch_size=500)

    students = [(p, s) for p, s in new_students] + [(p, e) for p, e in plan if e is not None]
    _write_family(students, school, user, label, audits, report.filename)
    _write_key_groups(students, school, user, label, audits, today, report.filename)
    AuditEntry.objects.bulk_create(audits, batch_size=1000)
    audit_record(actor=actor, actor_label=label, action=Action.IMPORT, obj=school, object_type="import",
                 object_repr=report.filename,
                 note=f"学生导入：新增{report.to_create}，更新{report.to_update}，未变{report.unchanged}，跳过问题行{len(report.bad_rows)}")


def _json(changes: dict) -> dict:
    out = {}
    for k, pair in changes.items():
        out[k] = [v.isoformat() if isinstance(v, datetime.date) else (str(v) if isinstance(v, (Decimal, Township)) else v) for v in pair]
    return out


def _write_family(students, school, user, label, audits, filename) -> None:
    pks = [s.pk for _, s in students]
    existing: dict[tuple[int, str, str], FamilyMember] = {}
    for chunk in chunks(pks):
        for m in FamilyMember.objects.filter(student_id__in=chunk):
            existing[(m.student_id, m.name, m.relation)] = m
    create, update = [], []
    fields = ["phone", "is_guardian", "id_type", "id_number", "address", "employer"]
    for p, s in students:
        for member in p.family:
            key = (s.pk, member["name"], member["relation"])
            old = existing.get(key)
            if old is None:
                m = FamilyMember(student_id=s.pk, school=school, **member)
                create.append(m)
                audits.append(AuditEntry(actor=user, actor_label=label, action=Action.CREATE, object_type="familymember",
                                         object_repr=f"{m.name}（{m.relation}）", county_id=school.county_id,
                                         school_id=school.pk, student_id=s.pk, note=f"导入 {filename}",
                                         changes={k: [None, member[k]] for k in ("name", "relation", "is_guardian")}))
                continue
            changes = {f: [getattr(old, f), member[f]] for f in fields if member[f] and getattr(old, f) != member[f]}
            if changes:
                for f, (_, new) in changes.items():
                    setattr(old, f, new)
                update.append(old)
                audits.append(AuditEntry(actor=user, actor_label=label, action=Action.UPDATE, object_type="familymember",
                                         object_id=str(old.pk), object_repr=str(old), county_id=school.county_id,
                                         school_id=school.pk, student_id=s.pk, changes=changes, note=f"导入 {filename}"))
    FamilyMember.objects.bulk_create(create, batch_size=500)
    if update:
        FamilyMember.objects.bulk_update(update, fields, batch_size=500)


def _write_key_groups(students, school, user, label, audits, today, filename) -> None:
    """Registry flags add key groups; ending one is a care decision, not an import's."""
    pks = [s.pk for _, s in students]
    open_groups: set[tuple[int, str]] = set()
    for chunk in chunks(pks):
        open_groups |= set(KeyGroupMembership.objects.filter(student_id__in=chunk, ended_on__isnull=True).values_list("student_id", "group"))
    create = []
    for p, s in students:
        for group, subtype, placement in p.key_groups:
            if (s.pk, group) in open_groups:
                continue
            create.append(KeyGroupMembership(student_id=s.pk, county_id=school.county_id, school=school, group=group,
                                             subtype=subtype, placement=placement, started_on=today, note="学籍名册导入"))
            audits.append(AuditEntry(actor=user, actor_label=label, action=Action.CREATE, object_type="keygroupmembership",
                                     object_repr=f"{KeyGroup(group).label} {subtype}".strip(), county_id=school.county_id,
                                     school_id=school.pk, student_id=s.pk, note=f"导入 {filename}",
                                     changes={"group": [None, group], "subtype": [None, subtype]}))
    KeyGroupMembership.objects.bulk_create(create, batch_size=500)


def report_xlsx(report: ImportReport) -> bytes:
    """The row report as an .xlsx for download: one line per problem."""
    import io

    import xlsxwriter

    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_formulas": False})
    ws = wb.add_worksheet("问题清单")
    bold = wb.add_format({"bold": True})
    ws.write_row(0, 0, ["行号", "列", "问题及改正方法"], bold)
    for i, p in enumerate(report.problems, start=1):
        ws.write_row(i, 0, [p.row if p.row is not None else "整个文件", p.column, p.message])
    ws.set_column(0, 0, 10)
    ws.set_column(1, 1, 18)
    ws.set_column(2, 2, 90)
    summary = wb.add_worksheet("汇总")
    for i, (k, v) in enumerate([
        ("文件", report.filename), ("数据行", report.rows_total), ("有效行", report.valid_rows),
        ("将新增", report.to_create), ("将更新", report.to_update), ("无变化", report.unchanged),
        ("问题数", len(report.problems)), ("已导入", "是" if report.committed else "否"),
        ("忽略的列", "、".join(report.ignored_headers)),
    ]):
        summary.write_row(i, 0, [k, v])
    summary.set_column(0, 1, 24)
    wb.close()
    return buf.getvalue()
