"""人籍一致: compare the registry system's roster export with the students really in school.

Every person lands in exactly one category:
- consistent: same person (by 全国学籍号, else ID number), same name, sex, birth date, grade, class;
- registered_not_present (名在人不在): in the file, not among the school's students in school
  (or confirmed 未到校 by the latest on-site check) → a suspected-dropout check item;
- present_not_registered (人在籍不在): in school, not in the file → a registry work item;
- mismatched: the same person with different key data (the differing fields are listed);
- duplicates: an ID or 全国学籍号 appearing more than once in the file;
- invalid: rows that fail validation, with the reason.
Each discrepancy becomes a work item (`Discrepancy`) that stays open until a newer export no
longer shows it or someone closes it with a reason.
"""

import datetime
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from baoxue.audit.models import Action
from baoxue.audit.services import audit_record
from baoxue.lib import cells, idcard
from baoxue.lib.headers import match_headers
from baoxue.lib.rows import too_long
from baoxue.lib.sheets import SheetError, read_table
from baoxue.org.imports import REQUIRED, SEXES, STUDENT_HEADERS, grade_order, normalise_class_name
from baoxue.org.models import Grade, RegistryStatus, School, Student
from baoxue.registry.models import (
    Category,
    Discrepancy,
    ItemStatus,
    OnsiteCheck,
    OnsiteEntry,
    OnsiteResult,
    RosterUpload,
)

CATEGORIES = [c.value for c in Category]
# What a roster row may hold: the columns a work item (Discrepancy) or a student keeps it in.
ROSTER_LIMITS = {"name": Discrepancy._meta.get_field("name").max_length,
                 "registry_no": Discrepancy._meta.get_field("registry_no").max_length,
                 "id_number": Student._meta.get_field("id_number").max_length,
                 "grade": Grade._meta.get_field("name").max_length}
COMPARED = {"name": "姓名", "sex": "性别", "birth_date": "出生日期", "id_number": "身份证件号", "grade": "年级",
            "class": "班级"}


class ReconcileError(ValueError):
    """The file as a whole cannot be reconciled (not a roster, another school's, empty …)."""


@dataclass
class RosterRow:
    row: int
    name: str
    sex: str | None
    birth_date: datetime.date | None
    id_number: str
    registry_no: str
    grade: str
    school_class: str
    reason: str = ""  # non-empty: the row is invalid


@dataclass
class Person:
    category: str
    registry_no: str
    name: str
    row: int | None
    fields: list[str] | None = None
    reason: str | None = None
    student_id: int | None = None
    grade: str = ""

    id_number: str = ""

    @property
    def key(self) -> str:
        if self.registry_no:
            return self.registry_no
        if self.row:
            return f"row:{self.row}:{self.name}"[:60]  # Discrepancy.key
        if self.student_id:
            return f"student:{self.student_id}"
        return f"added:{self.id_number or self.name}"  # present in class, not on any list

    def as_json(self) -> dict:
        item = {"registry_no": self.registry_no, "name": self.name, "row": self.row}
        if self.category == Category.MISMATCHED:
            item["fields"] = self.fields or []
        if self.category == Category.INVALID:
            item["reason"] = self.reason or ""
        return item


@dataclass
class Reconciliation:
    school: School
    filename: str
    rows: int = 0
    people: dict[str, list[Person]] = field(default_factory=lambda: {c: [] for c in CATEGORIES})
    upload: RosterUpload | None = None
    new_items: int = 0
    resolved_items: int = 0
    still_open_items: int = 0

    @property
    def counts(self) -> dict[str, int]:
        return {c: len(self.people[c]) for c in CATEGORIES}

    def as_json(self) -> dict:
        out = {c: [p.as_json() for p in self.people[c]] for c in CATEGORIES}
        out["counts"] = self.counts
        return out


def read_roster(source, filename: str, school: School) -> list[RosterRow]:
    """Read and validate every row the way the student import does; bad rows carry a reason."""
    try:
        table = read_table(source, filename)  # limits: the IMPORT_MAX_* settings
    except SheetError as e:
        raise ReconcileError(str(e))
    columns, _ = match_headers(table.headers, STUDENT_HEADERS)
    col = {key: i for i, key in columns.items()}
    missing = [STUDENT_HEADERS[k][0] for k in REQUIRED if k not in col]
    if missing:
        raise ReconcileError(f"第1行：缺少必需的列：{'、'.join(missing)}。请上传学籍系统导出的学生名册。")
    if not table.rows:
        raise ReconcileError("文件只有表头，没有学生数据行")
    if "school_code" in col:
        codes = Counter(cells.text(r[col["school_code"]]) for _, r in table.rows)
        codes.pop("", None)
        if codes and school.code not in codes:
            other = codes.most_common(1)[0][0]
            raise ReconcileError(f"“{table.headers[col['school_code']]}”列是 {other}：这是另一所学校的名册，"
                                 f"不是{school.name}（{school.code}）的。请选择正确的学校或文件。")
    get = {key: (lambda r, i=i: r[i]) for key, i in col.items()}
    none = lambda r: None  # noqa: E731 - a column the file does not have
    rows = []
    for number, r in table.rows:
        problems = []

        def conv(key, convert, r=r, problems=problems):
            try:
                return convert(get.get(key, none)(r))
            except cells.CellError as e:
                problems.append(f"“{table.headers[col[key]]}”列{e}")
                return None

        name = conv("name", cells.text) or ""
        sex_text = conv("sex", cells.text) or ""
        birth = conv("birth_date", cells.date_value)
        id_type = conv("id_type", cells.text) or ""
        id_number = idcard.normalise_id(conv("id_number", cells.identifier) or "")
        registry_no = idcard.normalise_id(conv("registry_no", cells.identifier) or "")
        grade = conv("grade", cells.text) or ""
        class_raw = conv("class", cells.text) or ""
        sex = SEXES.get(sex_text)
        if not name:
            problems.append("姓名为空")
        if sex is None:
            problems.append(f"性别“{sex_text}”无法识别")
        if id_number and id_type in ("", "居民身份证", "身份证"):
            try:
                info = idcard.check_resident_id(id_number, birth_date=birth, sex=sex)
                birth = birth or info.birth_date
            except idcard.IdNumberError as e:
                problems.append(str(e))
        if not id_number and not registry_no and not problems:
            problems.append("全国学籍号和身份证件号都为空")
        if not grade or not class_raw:
            problems.append("年级或班级为空")
        for key, value in (("name", name), ("id_number", id_number), ("registry_no", registry_no), ("grade", grade)):
            message = too_long(value, ROSTER_LIMITS[key])
            if message:
                problems.append(f"“{table.headers[col[key]]}”列{message}")
        # An invalid row still becomes a work item: what it keeps must fit the columns.
        name, registry_no, grade = (name[:ROSTER_LIMITS["name"]], registry_no[:ROSTER_LIMITS["registry_no"]],
                                    grade[:ROSTER_LIMITS["grade"]])
        rows.append(RosterRow(number, name, sex, birth, id_number, registry_no, grade,
                              normalise_class_name(class_raw, grade), "；".join(problems)))
    return rows


def reconcile_rows(school: School, roster: list[RosterRow], filename: str = "") -> Reconciliation:
    result = Reconciliation(school=school, filename=filename, rows=len(roster))
    put = lambda category, person: result.people[category].append(person)  # noqa: E731

    valid = [r for r in roster if not r.reason]
    for r in roster:
        if r.reason:
            put(Category.INVALID, Person(Category.INVALID, r.registry_no, r.name, r.row, reason=r.reason, grade=r.grade))
    reg_count = Counter(r.registry_no for r in valid if r.registry_no)
    id_count = Counter(r.id_number for r in valid if r.id_number)
    unique = []
    for r in valid:
        if reg_count.get(r.registry_no, 0) > 1 or id_count.get(r.id_number, 0) > 1:
            put(Category.DUPLICATES, Person(Category.DUPLICATES, r.registry_no, r.name, r.row, grade=r.grade))
        else:
            unique.append(r)

    students = list(Student.objects.filter(school=school).values(
        "id", "name", "sex", "birth_date", "registry_no", "id_number", "status",
        "school_class__name", "school_class__grade__name"))
    by_reg = {s["registry_no"]: s for s in students if s["registry_no"]}
    by_id = {s["id_number"]: s for s in students if s["id_number"]}
    onsite = latest_onsite(school)
    absent_ids = {e["student_id"] for e in onsite if e["result"] == OnsiteResult.ABSENT and not e["valid_reason"]}

    matched: set[int] = set()
    for r in unique:
        s = by_reg.get(r.registry_no) if r.registry_no else None
        s = s or (by_id.get(r.id_number) if r.id_number else None)
        if s is None or s["status"] != RegistryStatus.IN_SCHOOL or s["id"] in absent_ids:
            if s is not None:
                matched.add(s["id"])
            put(Category.REGISTERED_NOT_PRESENT, Person(Category.REGISTERED_NOT_PRESENT, r.registry_no, r.name, r.row,
                                                        student_id=s["id"] if s else None, grade=r.grade))
            continue
        matched.add(s["id"])
        differing = [label for key, label in COMPARED.items() if _differs(key, r, s)]
        category = Category.MISMATCHED if differing else Category.CONSISTENT
        put(category, Person(category, r.registry_no or s["registry_no"], r.name, r.row, fields=differing or None,
                             student_id=s["id"], grade=r.grade))

    # Identifiers of every file row, valid or not: such a student is accounted for already.
    in_file = {r.registry_no for r in roster if r.registry_no} | {r.id_number for r in roster if r.id_number}
    for s in students:
        if s["status"] != RegistryStatus.IN_SCHOOL or s["id"] in matched:
            continue
        if s["registry_no"] in in_file or s["id_number"] in in_file:
            continue
        put(Category.PRESENT_NOT_REGISTERED, Person(Category.PRESENT_NOT_REGISTERED, s["registry_no"], s["name"], None,
                                                    student_id=s["id"], grade=s["school_class__grade__name"] or ""))
    known = {s["id_number"] for s in students if s["id_number"]}
    for e in onsite:
        if e["result"] == OnsiteResult.ADDED and e["id_number"] not in in_file and e["id_number"] not in known:
            put(Category.PRESENT_NOT_REGISTERED, Person(Category.PRESENT_NOT_REGISTERED, "", e["name"], None,
                                                        id_number=e["id_number"], grade=e["school_class__grade__name"] or ""))
    return result


def _differs(key: str, r: RosterRow, s: dict) -> bool:
    if key == "name":
        return r.name != s["name"]
    if key == "sex":
        return r.sex != s["sex"]
    if key == "birth_date":
        return r.birth_date is not None and s["birth_date"] is not None and r.birth_date != s["birth_date"]
    if key == "id_number":
        return bool(r.id_number and s["id_number"]) and r.id_number != s["id_number"]
    if key == "grade":
        return r.grade != (s["school_class__grade__name"] or "")
    return r.school_class != (s["school_class__name"] or "")


def latest_onsite(school: School) -> list[dict]:
    check = OnsiteCheck.objects.filter(school=school).order_by("-date", "-id").first()
    if check is None:
        return []
    return list(OnsiteEntry.objects.filter(check_run=check).values(
        "student_id", "result", "valid_reason", "name", "id_number", "school_class__grade__name"))


def reconcile(*, actor, source, filename: str, school: School, dry_run: bool = False,
              actor_label: str = "") -> Reconciliation:
    """`baoxue reconcile`: read, compare and (unless dry_run) record the work items."""
    roster = read_roster(source, filename, school)
    result = reconcile_rows(school, roster, filename)
    if not dry_run:
        with transaction.atomic():
            _record(result, actor, actor_label)
    return result


def _record(result: Reconciliation, actor, actor_label: str) -> None:
    school = result.school
    today = timezone.localdate()
    user = actor if getattr(actor, "is_authenticated", False) else None
    upload = RosterUpload.objects.create(county_id=school.county_id, school=school, filename=result.filename[:200],
                                         rows=result.rows, counts=result.counts, uploaded_by=user)
    open_items = {(d.category, d.key): d for d in Discrepancy.objects.filter(school=school, status=ItemStatus.OPEN)}
    _before = {d.pk: (d.row, d.detail, d.name) for d in open_items.values()}
    seen, create, update = set(), [], []
    for category in CATEGORIES:
        if category == Category.CONSISTENT:
            continue
        for p in result.people[category]:
            k = (category, p.key)
            if k in seen:
                continue
            seen.add(k)
            detail = {"fields": p.fields} if p.fields else ({"reason": p.reason} if p.reason else {})
            item = open_items.get(k)
            if item is None:
                create.append(Discrepancy(county_id=school.county_id, school=school, category=category, key=p.key,
                                          student_id=p.student_id, name=p.name, registry_no=p.registry_no, row=p.row,
                                          detail=detail, first_upload=upload, last_upload=upload, owner=user))
            else:
                item.last_upload, item.row, item.detail, item.name = upload, p.row, detail, p.name
                update.append(item)
    resolved = [d for k, d in open_items.items() if k not in seen]
    Discrepancy.objects.bulk_create(create, batch_size=1000)
    # Still open: one UPDATE for all, and a row-by-row update only where the file changed them.
    Discrepancy.objects.filter(pk__in=[d.pk for d in update]).update(last_upload=upload)
    changed = [d for d in update if (d.row, d.detail, d.name) != _before[d.pk]]
    Discrepancy.objects.bulk_update(changed, ["row", "detail", "name"], batch_size=1000)
    for d in resolved:
        d.status, d.closed_on, d.last_upload = ItemStatus.RESOLVED, today, upload
        d.note = (d.note + "；" if d.note else "") + f"{result.filename} 中已不再出现"
    Discrepancy.objects.bulk_update(resolved, ["status", "closed_on", "last_upload", "note"], batch_size=1000)
    upload.new_items, upload.resolved_items, upload.still_open_items = len(create), len(resolved), len(update)
    upload.save(update_fields=["new_items", "resolved_items", "still_open_items"])
    result.upload = upload
    result.new_items, result.resolved_items, result.still_open_items = len(create), len(resolved), len(update)
    audit_record(actor=actor, actor_label=actor_label or ("" if user else "命令行"), action=Action.IMPORT, obj=upload,
                 scope_from=school, object_repr=f"学籍名册比对 {result.filename}",
                 note=f"一致 {result.counts['consistent']}；新发现 {len(create)}，已解决 {len(resolved)}，仍未解决 {len(update)}")


def summary_by_grade(result: Reconciliation) -> list[dict]:
    """底数清、情况明: per grade, the school's students in school and each category's count."""
    in_school = Counter(Student.objects.filter(school=result.school, status=RegistryStatus.IN_SCHOOL)
                        .values_list("school_class__grade__name", flat=True))
    per = defaultdict(Counter)
    for category, people in result.people.items():
        for p in people:
            per[p.grade or "（未填年级）"][category] += 1
    grades = sorted(set(per) | {g or "（未填年级）" for g in in_school}, key=lambda g: (grade_order(g), g))
    rows = []
    for g in grades:
        row = {"grade": g, "in_school": in_school.get(None if g == "（未填年级）" else g, 0)}
        row.update({c: per[g][c] for c in CATEGORIES})
        rows.append(row)
    return rows


def summary_xlsx(result: Reconciliation) -> bytes:
    import io

    import xlsxwriter

    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_formulas": False})
    bold = wb.add_format({"bold": True})
    ws = wb.add_worksheet("底数清、情况明")
    headers = ["年级", "在校学生（系统）"] + [Category(c).label for c in CATEGORIES]
    ws.write_row(0, 0, headers, bold)
    rows = summary_by_grade(result)
    for i, row in enumerate(rows, start=1):
        ws.write_row(i, 0, [row["grade"], row["in_school"]] + [row[c] for c in CATEGORIES])
    total = len(rows) + 1
    ws.write_row(total, 0, ["合计", sum(r["in_school"] for r in rows)] + [sum(r[c] for r in rows) for c in CATEGORIES], bold)
    ws.set_column(0, len(headers), 16)
    detail = wb.add_worksheet("明细")
    detail.write_row(0, 0, ["类别", "名册行号", "姓名", "全国学籍号", "年级", "不一致的项/原因"], bold)
    n = 1
    for category in CATEGORIES[1:]:
        for p in result.people[category]:
            detail.write_row(n, 0, [Category(category).label, p.row or "", p.name, p.registry_no, p.grade,
                                    "、".join(p.fields or []) or (p.reason or "")])
            n += 1
    detail.set_column(0, 5, 20)
    wb.close()
    return buf.getvalue()

