"""小学毕业学籍未接续核查: every graduate of the feeder primary schools must be found in a junior
school, here or elsewhere, or explained; each entry is closed one by one (逐一销账).

- `import_graduates` reads the primary schools' graduate list the way the student import reads
  a roster (tolerant headers, identifiers as text, GB 11643 check, every problem naming the row,
  the column and the fix, all or nothing) and matches each graduate against every junior school
  of the deployment: by ID number first, then by name and birth date (exactly one candidate).
  Matched graduates count as 已接续; the others are work items.
- `graduate_record_result` records the investigation result of one item and closes it; a
  dropout (辍学) is enrolled in the responsible junior school and goes straight to the
  辍学学生劝返台账 with its 一生一表 and the reports to the township and the bureau.
- `graduate_counts` gives the "应上尽上" numbers of a county's graduation year.
- Who sees and does what is decided here too (`graduates_for_user` …): outsiders get a 404.
"""

import datetime
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from baoxue.lib.batches import chunks
from baoxue.audit.models import Action
from baoxue.audit.services import audit_record
from baoxue.lib import cells, idcard
from baoxue.lib.headers import match_headers
from baoxue.lib.sheets import SheetError, Table, read_table
from baoxue.lib.rows import RowProblem, SheetRow
from baoxue.org.imports import SEXES
from baoxue.org.models import County, IdType, RegistryStatus, Role, School, Stage, Student, Township
from baoxue.org.selectors import is_admin, memberships
from baoxue.registry.models import Graduate, GraduateResult, GraduateUpload

# Schools a primary graduate continues in.
JUNIOR_STAGES = (Stage.JUNIOR, Stage.NINE_YEAR)

# Canonical field → header spellings seen in primary schools' graduate lists.
GRADUATE_HEADERS: dict[str, list[str]] = {
    "name": ["姓名", "学生姓名", "毕业生姓名"],
    "id_type": ["身份证件类型", "证件类型"],
    "id_number": ["身份证件号", "身份证件号码", "身份证号", "身份证号码", "证件号码", "证件号"],
    "primary_school": ["毕业小学", "小学", "学校名称", "毕业学校", "小学名称", "学校"],
    "village": ["村", "村（社区）", "村社区", "所在村", "现住址村", "家庭住址", "家庭地址", "现住址", "居住地址", "住址"],
    "township": ["乡镇", "所在乡镇", "乡镇（街道）", "乡镇街道", "现住址所在乡镇"],
    "sex": ["性别"],
    "birth_date": ["出生日期", "出生年月日"],
}
REQUIRED = ["name", "id_number", "primary_school", "village"]
AMBIGUOUS_NOTE = "同名同生日多人，请人工核对"
ID_DIFFERS_NOTE = "按姓名和出生日期匹配，身份证件号与初中学籍不一致，请核对"
RESIDENT_TYPES = ("", "居民身份证", "身份证")
# Results a person records; ENROLLED_HERE is given by the matching only.
RECORDABLE_RESULTS = [(v, label) for v, label in GraduateResult.choices if v != GraduateResult.ENROLLED_HERE]
# Results under which the child is studying: "应上尽上" holds for them.
STUDYING_RESULTS = (GraduateResult.ELSEWHERE, GraduateResult.OTHER_SCHOOL_COUNTY)


@dataclass
class ParsedGraduate:
    row: int
    name: str
    id_number: str
    birth_date: datetime.date | None
    sex: str
    primary_school: str
    township: Township | None
    village: str
    matched_student_id: int | None = None
    matched_by: str = ""
    matched_school: str = ""
    note: str = ""


@dataclass
class GraduateReport:
    """What an import found (a dry run) or did; stored as a dict between preview and confirm."""

    filename: str
    county: str
    graduation_year: int
    rows_total: int = 0
    problems: list[RowProblem] = field(default_factory=list)
    ignored_headers: list[str] = field(default_factory=list)
    matched_by_id: int = 0
    matched_by_name_birth: int = 0
    ambiguous: int = 0
    unmatched: int = 0
    already_listed: list[dict] = field(default_factory=list)  # {"row", "name", "filename"}
    committed: bool = False
    upload_id: int | None = None

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def continued(self) -> int:
        return self.matched_by_id + self.matched_by_name_birth

    @property
    def to_check(self) -> int:
        """Work items the import opens (ambiguous ones included)."""
        return self.unmatched + self.ambiguous

    @property
    def new_rows(self) -> int:
        return self.continued + self.to_check

    def as_dict(self) -> dict:
        return {
            "filename": self.filename, "county": self.county, "graduation_year": self.graduation_year,
            "rows_total": self.rows_total, "matched_by_id": self.matched_by_id,
            "matched_by_name_birth": self.matched_by_name_birth, "continued": self.continued,
            "ambiguous": self.ambiguous, "unmatched": self.unmatched, "to_check": self.to_check,
            "new_rows": self.new_rows, "already_listed": self.already_listed, "committed": self.committed,
            "upload_id": self.upload_id, "ignored_headers": self.ignored_headers,
            "problems": [{"row": p.row, "column": p.column, "message": p.message} for p in self.problems],
        }


# ---------------------------------------------------------------- reading the list

def _find_township(text: str, townships: list[Township]) -> tuple[Township | None, str]:
    """The county's township named in a village or address text, and the village after it."""
    for township in townships:  # longest names first, so 城关镇 is not found inside 新城关镇
        pos = text.find(township.name)
        if pos >= 0:
            rest = text[pos + len(township.name):]
            m = re.match(r"(.+?(?:村|社区|居委会))", rest)
            return township, (m.group(1) if m else rest)
    return None, text


def _township_by_name(name: str, townships: list[Township]) -> Township | None:
    """乡镇 column: the full name, or the name without 镇/乡/街道 when that is unambiguous."""
    exact = [t for t in townships if t.name == name]
    if exact:
        return exact[0]
    short = [t for t in townships if re.sub(r"(镇|乡|街道|街道办事处)$", "", t.name) == name]
    return short[0] if len(short) == 1 else None


def _parse_row(r: SheetRow, county: County, townships: list[Township]) -> ParsedGraduate | None:
    name = r.text("name")
    if not name:
        r.problem("name", "姓名不能为空：请填写毕业生姓名")
    elif len(name) > 50:
        r.problem("name", "姓名超过50个字：请核对是否把几列内容填在了一格里")
    sex_text = r.text("sex")
    sex = SEXES.get(sex_text, "") if sex_text else ""
    if sex_text and not sex:
        r.problem("sex", f"性别“{sex_text}”无法识别：请填“男”或“女”")
    birth = r.get("birth_date", cells.date_value)
    id_type = r.text("id_type")
    id_number = idcard.normalise_id(r.text("id_number"))
    if id_number and id_type in RESIDENT_TYPES:
        try:
            info = idcard.check_resident_id(id_number, birth_date=birth, sex=sex or None)
            birth = birth or info.birth_date
            sex = sex or info.sex
        except idcard.IdNumberError as e:
            r.problem("id_number", f"{e}：请核对证件原件后更正")
    elif id_number and len(id_number) > 30:
        r.problem("id_number", "证件号超过30位：请核对后更正")
    if not id_number and birth is None and not r.bad:
        hint = "请补上身份证件号" + ("，或填写出生日期" if "birth_date" in r.columns else "，或增加“出生日期”列并填写")
        r.problem("id_number", f"身份证件号为空，又没有出生日期，无法核对该生是否已升入初中：{hint}")
    school = r.text("primary_school")
    if not school:
        r.problem("primary_school", "毕业小学不能为空：请填写该生毕业的小学名称")
    elif len(school) > 100:
        r.problem("primary_school", "毕业小学名称超过100个字：请核对")
    village_text = r.text("village")
    if not village_text:
        r.problem("village", "村（社区）不能为空：请填写学生家庭所在的村（社区）或家庭住址")
    township_name = r.text("township")
    township, village = None, village_text
    if township_name:
        township = _township_by_name(township_name, townships)
        if township is None:
            names = "、".join(sorted(t.name for t in townships))
            r.problem("township", f"乡镇“{township_name}”不在{county.name}的乡镇名单中：请核对名称"
                                  + (f"（本县乡镇：{names}）" if names and len(names) < 200 else ""))
        elif township.name in village_text:
            village = _find_township(village_text, [township])[1]
    elif village_text:
        township, village = _find_township(village_text, townships)
    if r.bad:
        return None
    return ParsedGraduate(row=r.number, name=name, id_number=id_number, birth_date=birth, sex=sex,
                          primary_school=school, township=township, village=(village or village_text)[:50])


def _check_headers(table: Table, report: GraduateReport) -> dict[str, int] | None:
    columns, unknown = match_headers(table.headers, GRADUATE_HEADERS)
    report.ignored_headers = [h for h in unknown if h]
    found = set(columns.values())
    missing = [GRADUATE_HEADERS[k][0] for k in REQUIRED if k not in found]
    if missing:
        hint = f"；文件中的表头有：{'、'.join(h for h in table.headers if h)[:200]}" if table.headers else ""
        report.problems.append(RowProblem(
            1, "", f"缺少必需的列：{'、'.join(missing)}。小学毕业生名单须有姓名、身份证件号、毕业小学、"
                   f"村（社区）或家庭住址四列（表头在第1行）{hint}"))
        return None
    return {key: col for col, key in columns.items()}



def parse_graduates(table: Table, county: County, report: GraduateReport) -> list[ParsedGraduate]:
    """Validate every row; problems go into the report, valid rows come back."""
    columns = _check_headers(table, report)
    if columns is None:
        return []
    report.rows_total = len(table.rows)
    if not table.rows:
        report.problems.append(RowProblem(None, "", "文件只有表头，没有毕业生数据行"))
        return []
    townships = sorted(Township.objects.filter(county=county), key=lambda t: -len(t.name))
    parsed: list[ParsedGraduate] = []
    seen_id: dict[str, int] = {}
    seen_person: dict[tuple, int] = {}
    for number, values in table.rows:
        r = SheetRow(number, values, columns, table.headers, report.problems, {"id_number"})
        g = _parse_row(r, county, townships)
        if g is None:
            continue
        if g.id_number:
            first = seen_id.setdefault(g.id_number, number)
            if first != number:
                r.problem("id_number", f"身份证件号与第{first}行重复：同一毕业生只能出现一次，请删除重复的行或更正证件号")
                continue
        else:
            first = seen_person.setdefault((g.name, g.birth_date, g.primary_school), number)
            if first != number:
                r.problem("name", f"与第{first}行的姓名、出生日期、毕业小学都相同：同一毕业生只能出现一次，请删除重复的行")
                continue
        parsed.append(g)
    return parsed


def _drop_already_listed(parsed: list[ParsedGraduate], county: County, year: int,
                         report: GraduateReport) -> list[ParsedGraduate]:
    """A graduate already on an earlier list of the same county and year is not listed twice."""
    earlier: dict[tuple, str] = {}
    listed = Graduate.objects.filter(county=county, upload__graduation_year=year)
    ids = [g.id_number for g in parsed if g.id_number]
    for chunk in chunks(ids):
        for number, filename in listed.filter(id_number__in=chunk).values_list("id_number", "upload__filename"):
            earlier[("id", number)] = filename
    names = sorted({g.name for g in parsed if not g.id_number})
    for chunk in chunks(names):
        for name, birth, filename in listed.filter(name__in=chunk, id_number="").values_list(
                "name", "birth_date", "upload__filename"):
            earlier[("nb", name, birth)] = filename
    kept = []
    for g in parsed:
        key = ("id", g.id_number) if g.id_number else ("nb", g.name, g.birth_date)
        if key in earlier:
            report.already_listed.append({"row": g.row, "name": g.name, "filename": earlier[key]})
        else:
            kept.append(g)
    return kept


def _birth_of(student: dict) -> datetime.date | None:
    if student["birth_date"]:
        return student["birth_date"]
    try:
        return idcard.parse_resident_id(student["id_number"]).birth_date
    except idcard.IdNumberError:
        return None


def match_graduates(parsed: list[ParsedGraduate], report: GraduateReport) -> None:
    """Find each graduate in every junior school of the deployment (students with any status):
    by ID number (or the G-number built from it) first, then by name and birth date when exactly
    one student fits. One query per 500 graduates, none per graduate."""
    juniors = Student.objects.filter(school__stage__in=JUNIOR_STAGES)
    fields = ("id", "name", "birth_date", "id_number", "registry_no", "school__name")
    by_id: dict[str, dict] = {}
    ids = [g.id_number for g in parsed if g.id_number]
    for chunk in chunks(ids):
        for s in juniors.filter(Q(id_number__in=chunk) | Q(registry_no__in=["G" + n for n in chunk])).values(*fields):
            if s["id_number"]:
                by_id.setdefault(s["id_number"], s)
            if s["registry_no"].startswith("G"):
                by_id.setdefault(s["registry_no"][1:], s)
    used: set[int] = set()
    rest: list[ParsedGraduate] = []
    for g in parsed:
        s = by_id.get(g.id_number) if g.id_number else None
        if s is None:
            rest.append(g)
            continue
        g.matched_student_id, g.matched_by, g.matched_school = s["id"], "id", s["school__name"]
        used.add(s["id"])
        report.matched_by_id += 1

    by_name_birth: dict[tuple, list[dict]] = defaultdict(list)
    for chunk in chunks(sorted({g.name for g in rest if g.birth_date})):
        for s in juniors.filter(name__in=chunk).values(*fields):
            if s["id"] not in used:
                by_name_birth[(s["name"], _birth_of(s))].append(s)
    same_person_rows = Counter((g.name, g.birth_date) for g in rest if g.birth_date)
    for g in rest:
        candidates = by_name_birth.get((g.name, g.birth_date), []) if g.birth_date else []
        if len(candidates) == 1 and same_person_rows[(g.name, g.birth_date)] == 1:
            s = candidates[0]
            g.matched_student_id, g.matched_by, g.matched_school = s["id"], "name_birth", s["school__name"]
            if g.id_number and s["id_number"] and s["id_number"] != g.id_number:
                g.note = ID_DIFFERS_NOTE
            report.matched_by_name_birth += 1
        elif candidates:
            g.note = AMBIGUOUS_NOTE
            report.ambiguous += 1
        else:
            report.unmatched += 1


def import_graduates(*, actor, source, filename: str, county: County, graduation_year: int,
                     dry_run: bool = False, actor_label: str = "") -> GraduateReport:
    """Read, check and match a graduate list; unless dry_run or any row is bad, store it all."""
    report = GraduateReport(filename=filename, county=county.name, graduation_year=graduation_year)
    this_year = timezone.localdate().year
    if not 2000 <= graduation_year <= this_year:
        report.problems.append(RowProblem(None, "", f"毕业年份 {graduation_year} 不对：请填写 2000 至 {this_year} 之间的年份"))
        return report
    try:
        table = read_table(source, filename)  # limits: the IMPORT_MAX_* settings
    except SheetError as e:
        report.problems.append(RowProblem(None, "", str(e)))
        return report
    parsed = parse_graduates(table, county, report)
    if report.problems:
        return report
    parsed = _drop_already_listed(parsed, county, graduation_year, report)
    if not parsed:
        report.problems.append(RowProblem(None, "", f"文件中的 {len(report.already_listed)} 名毕业生都已在此前上传的"
                                                    f"{graduation_year}年名单中：无需重复上传"))
        return report
    match_graduates(parsed, report)
    if dry_run:
        return report
    with transaction.atomic():
        _write(parsed, report, actor, actor_label, county, graduation_year)
    report.committed = True
    return report


def _write(parsed: list[ParsedGraduate], report: GraduateReport, actor, actor_label: str, county: County,
           year: int) -> None:
    user = actor if getattr(actor, "is_authenticated", False) else None
    upload = GraduateUpload.objects.create(county=county, filename=report.filename[:200], graduation_year=year,
                                           rows=len(parsed), uploaded_by=user)
    Graduate.objects.bulk_create([
        Graduate(county=county, upload=upload, row=g.row, name=g.name, id_number=g.id_number, birth_date=g.birth_date,
                 sex=g.sex, primary_school=g.primary_school, township=g.township, village=g.village,
                 matched_student_id=g.matched_student_id, matched_by=g.matched_by, note=g.note,
                 result=GraduateResult.ENROLLED_HERE if g.matched_by else "")
        for g in parsed
    ], batch_size=1000)
    report.upload_id = upload.pk
    audit_record(actor=actor, actor_label=actor_label or ("" if user else "命令行导入"), action=Action.IMPORT,
                 obj=upload, object_repr=f"{year}年小学毕业生名单 {report.filename}",
                 note=f"{len(parsed)}人：已接续 {report.continued}（按证件号 {report.matched_by_id}，按姓名和出生日期 "
                      f"{report.matched_by_name_birth}），待核查 {report.to_check}（其中同名同生日 {report.ambiguous}）"
                      + (f"；已在此前名单中跳过 {len(report.already_listed)}" if report.already_listed else ""))


# ---------------------------------------------------------------- 逐一销账

def default_responsible_school(graduate: Graduate) -> School | None:
    """The junior school that should enrol a child who did not continue: one in the township
    where the child lives (junior schools before nine-year schools)."""
    if graduate.township_id is None:
        return None
    return (School.objects.filter(county_id=graduate.county_id, township_id=graduate.township_id,
                                  stage__in=JUNIOR_STAGES).order_by("stage", "code").first())


def _id_type(number: str) -> str:
    try:
        idcard.parse_resident_id(number)
        return IdType.RESIDENT
    except idcard.IdNumberError:
        return IdType.OTHER


@transaction.atomic
def graduate_record_result(*, actor, graduate: Graduate, result: str, result_school: str = "", result_place: str = "",
                           note: str = "", proof=None, responsible_school: School | None = None) -> Graduate:
    """Record the investigation result of a graduate not found in a junior school and close the
    item (销账, today). 辍学: the child is enrolled in the responsible junior school and enters the
    辍学学生劝返台账 at once (一生一表, reports to the township and the county bureau)."""
    # Lock the row: two people closing the same item must not both succeed.
    graduate = Graduate.objects.select_for_update(of=("self",)).select_related("upload", "township").get(pk=graduate.pk)
    if graduate.matched_by:
        raise ValidationError({"result": "该毕业生已在初中就读（已匹配学籍），无需核查"})
    if graduate.closed_on:
        raise ValidationError({"result": f"该毕业生已于 {graduate.closed_on.year}年{graduate.closed_on.month}月{graduate.closed_on.day}日 销账"})
    result_school, result_place, note = result_school.strip(), result_place.strip(), note.strip()
    errors: dict[str, str] = {}
    if result not in dict(RECORDABLE_RESULTS):
        errors["result"] = "请选择核查结果"
    elif result == GraduateResult.ELSEWHERE:
        if not result_school:
            errors["result_school"] = "在外地就读：请填写就读学校"
        if not result_place:
            errors["result_place"] = "在外地就读：请填写就读地（省、市、县）"
    elif result == GraduateResult.OTHER_SCHOOL_COUNTY and not result_school:
        errors["result_school"] = "在本县其他学校就读：请填写学校名称"
    elif result == GraduateResult.OTHER and not note:
        errors["note"] = "选择“其他”时请写明具体情况"
    elif result == GraduateResult.DROPPED_OUT:
        responsible_school = responsible_school or default_responsible_school(graduate)
        if responsible_school is None:
            errors["responsible_school"] = "请选择负责该生入学和劝返的初中学校"
        elif responsible_school.county_id != graduate.county_id or responsible_school.stage not in JUNIOR_STAGES:
            errors["responsible_school"] = "负责劝返的学校须是本县的初中或九年一贯制学校"
        if not graduate.sex:
            errors["result"] = "名单中没有该生的性别和身份证件号，无法建立学生档案：请在名单中补上后重新上传"
        elif graduate.id_number:
            other = Student.objects.filter(id_number=graduate.id_number).select_related("school").first()
            if other is not None:
                errors["result"] = (f"身份证件号 {idcard.mask_id(graduate.id_number)} 已有学生档案（{other.school.name}，"
                                    f"{other.get_status_display()}）：请先核对该生的学籍")
    if errors:
        raise ValidationError(errors)

    today = timezone.localdate()
    user = actor if getattr(actor, "is_authenticated", False) else None
    before = {"result": graduate.result, "closed_on": None}
    student = None
    if result == GraduateResult.DROPPED_OUT:
        student = _enrol_dropout(actor=actor, graduate=graduate, school=responsible_school, today=today,
                                 reason=note or "小学毕业未升学")
        graduate.matched_student = student
        result_school = result_school or responsible_school.name
    graduate.result, graduate.result_school, graduate.result_place = result, result_school, result_place
    if note:
        graduate.note = note[:300]
    if proof:
        graduate.proof.save(proof.name, proof, save=False)
    graduate.closed_on, graduate.closed_by = today, user
    graduate.owner = graduate.owner or user
    graduate.save()
    changes = {"result": [before["result"] or None, result], "closed_on": [None, today]}
    for key, value in (("result_school", result_school), ("result_place", result_place), ("proof", graduate.proof.name)):
        if value:
            changes[key] = [None, value]
    audit_record(actor=actor, action=Action.UPDATE, obj=graduate, scope_from=student,
                 object_repr=f"小学毕业生核查 {graduate.name}（{graduate.primary_school}）",
                 changes=changes, note=f"销账：{GraduateResult(result).label}" + (f"；{note}" if note else ""))
    return graduate


def _enrol_dropout(*, actor, graduate: Graduate, school: School, today: datetime.date, reason: str) -> Student:
    from baoxue.cases.models import DropoutCause
    from baoxue.cases.services import case_open, case_to_dropout
    from baoxue.org.services import student_create

    student = Student(
        school=school, county_id=school.county_id, name=graduate.name, sex=graduate.sex,
        birth_date=graduate.birth_date, id_type=_id_type(graduate.id_number) if graduate.id_number else IdType.RESIDENT,
        id_number=graduate.id_number, status=RegistryStatus.IN_SCHOOL, status_since=today,
        residence_township=graduate.township, residence_village=graduate.village,
    )
    student_create(actor=actor, student=student,
                   note=f"小学毕业未升学：{graduate.upload.graduation_year}年{graduate.primary_school}毕业生，"
                        f"由小学毕业生核查建档")
    case = case_open(student_id=student.pk, school=school, run_days=[today])
    audit_record(actor=actor, action=Action.UPDATE, obj=case, scope_from=student,
                 note="个案来自小学毕业生核查：小学毕业未升学，直接纳入辍学学生劝返台账")
    case_to_dropout(case=case, on=today, cause=DropoutCause.NOT_ENROLLED, actor=actor, reason=reason[:200])
    student.refresh_from_db()
    return student


# ---------------------------------------------------------------- 应上尽上

def graduate_counts(county: County | None, year: int | None, *, graduates: QuerySet[Graduate] | None = None) -> dict:
    """"应上尽上" numbers of a county's graduation year (or of the given graduates): total,
    continued (found in a junior school), open work items, closed ones by result, and those
    known to be studying (continued, elsewhere, at another school of the county)."""
    qs = graduates if graduates is not None else Graduate.objects.filter(county=county)
    if year:
        qs = qs.filter(upload__graduation_year=year)
    totals = qs.aggregate(
        total=Count("pk"),
        continued=Count("pk", filter=~Q(matched_by="")),
        open=Count("pk", filter=Q(matched_by="", closed_on__isnull=True)),
        ambiguous=Count("pk", filter=Q(matched_by="", closed_on__isnull=True, note=AMBIGUOUS_NOTE)),
        closed=Count("pk", filter=Q(closed_on__isnull=False)),
    )
    by_result = dict(qs.filter(closed_on__isnull=False).values_list("result").annotate(n=Count("pk")))
    totals["by_result"] = {value: by_result.get(value, 0) for value, _ in RECORDABLE_RESULTS}
    totals["studying"] = totals["continued"] + sum(totals["by_result"][r] for r in STUDYING_RESULTS)
    totals["rate"] = round(100 * totals["studying"] / totals["total"], 1) if totals["total"] else None
    return totals


# ---------------------------------------------------------------- who sees and does what

SCHOOL_ROLES_SEEING = (Role.OFFICE, Role.REGISTRAR, Role.LEADER)
SCHOOL_ROLES_ACTING = (Role.OFFICE, Role.REGISTRAR)


def _junior_membership(m, roles) -> bool:
    return m.role in roles and m.school_id is not None and m.school.stage in JUNIOR_STAGES


def graduates_for_user(user) -> QuerySet[Graduate]:
    """The county and every junior school's office, registry clerk and leaders see the county's
    graduates (any of them may be the school the child should be in); a township official sees
    the graduates living in the township."""
    if not user.is_authenticated:
        return Graduate.objects.none()
    if is_admin(user):
        return Graduate.objects.all()
    q = Q(pk__in=[])
    for m in memberships(user):
        if m.role == Role.COUNTY or _junior_membership(m, SCHOOL_ROLES_SEEING):
            q |= Q(county_id=m.county_id)
        elif m.role == Role.TOWNSHIP:
            q |= Q(township_id=m.township_id)
    return Graduate.objects.filter(q)


def get_graduate_for_user(user, pk) -> Graduate:
    try:
        return graduates_for_user(user).select_related(
            "upload", "township", "matched_student__school", "closed_by", "county").get(pk=pk)
    except (Graduate.DoesNotExist, ValueError):
        raise Http404("没有找到该毕业生")


def graduate_counties_for_user(user) -> list[County]:
    """Counties whose graduates the user sees as a whole (a township official sees only part)."""
    if not user.is_authenticated:
        return []
    if is_admin(user):
        return list(County.objects.order_by("code"))
    ids = {m.county_id for m in memberships(user)
           if m.role in (Role.COUNTY, Role.TOWNSHIP) or _junior_membership(m, SCHOOL_ROLES_SEEING)}
    return list(County.objects.filter(pk__in=ids).order_by("code"))


def can_see_graduates(user) -> bool:
    return bool(graduate_counties_for_user(user))


def can_manage_graduates(user, county: County | int) -> bool:
    """Upload lists and close items: the bureau and every junior school's office and registry clerk."""
    county_id = county if isinstance(county, int) else county.pk
    if is_admin(user):
        return True
    return any((m.role == Role.COUNTY or _junior_membership(m, SCHOOL_ROLES_ACTING)) and m.county_id == county_id
               for m in memberships(user))


def can_see_full_ids(user, county: County | int) -> bool:
    """Who may reveal a graduate's ID number (an audited POST on its page) and export the list
    with full numbers (an audited export): those who do registry work on the list. Pages show
    every number masked; township officials never see one in full."""
    county_id = county if isinstance(county, int) else county.pk
    if is_admin(user):
        return True
    return any((m.role == Role.COUNTY or _junior_membership(m, SCHOOL_ROLES_SEEING)) and m.county_id == county_id
               for m in memberships(user))


# ---------------------------------------------------------------- export

EXPORT_HEADERS = ["序号", "毕业年份", "毕业小学", "姓名", "性别", "出生日期", "身份证件号", "乡镇", "村（社区）", "状态",
                  "匹配方式", "初中学校", "核查结果", "就读学校", "就读地", "说明", "销账日期"]
MATCHED_BY = {"id": "身份证件号", "name_birth": "姓名和出生日期"}


def status_text(g: Graduate) -> str:
    if g.matched_by:
        return "已接续"
    return "已销账" if g.closed_on else "待核查"


def graduates_xlsx(graduates, *, full_ids: bool) -> bytes:
    import io

    import xlsxwriter

    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_formulas": False, "strings_to_numbers": False})
    bold = wb.add_format({"bold": True})
    ws = wb.add_worksheet("小学毕业生核查")
    ws.write_row(0, 0, EXPORT_HEADERS, bold)
    sexes = {"M": "男", "F": "女"}
    for i, g in enumerate(graduates, start=1):
        ws.write_row(i, 0, [
            i, g.upload.graduation_year, g.primary_school, g.name, sexes.get(g.sex, ""),
            # Beside a masked number the full date would give away 8 of its hidden digits.
            (g.birth_date.isoformat() if full_ids else str(g.birth_date.year)) if g.birth_date else "",
            g.id_number if full_ids else idcard.mask_id(g.id_number), str(g.township or ""), g.village, status_text(g),
            MATCHED_BY.get(g.matched_by, ""), g.matched_student.school.name if g.matched_student_id else "",
            g.get_result_display(), g.result_school, g.result_place, g.note,
            g.closed_on.isoformat() if g.closed_on else "",
        ])
    ws.set_column(0, 1, 8)
    ws.set_column(2, 2, 22)
    ws.set_column(3, 16, 14)
    ws.set_column(6, 6, 21)
    ws.freeze_panes(1, 0)
    wb.close()
    return buf.getvalue()


def problems_xlsx(problems: list[dict]) -> bytes:
    """The preview's problem list for download: one line per problem."""
    import io

    import xlsxwriter

    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_formulas": False})
    ws = wb.add_worksheet("问题清单")
    bold = wb.add_format({"bold": True})
    ws.write_row(0, 0, ["行号", "列", "问题及改正方法"], bold)
    for i, p in enumerate(problems, start=1):
        ws.write_row(i, 0, [p["row"] if p["row"] is not None else "整个文件", p["column"], p["message"]])
    ws.set_column(0, 0, 10)
    ws.set_column(1, 1, 18)
    ws.set_column(2, 2, 90)
    wb.close()
    return buf.getvalue()
