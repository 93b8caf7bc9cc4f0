"""Loading staff accounts and their roles from a sheet (`baoxue import-staff`).

One row per role of a person: 用户名, 姓名, 角色, 学校标识码 (school roles), 乡镇 (township role),
区县代码 (county role), 年级 and 班级 (head teachers), 初始密码 (optional: generated when empty).
All rows are checked first; nothing is written when any row is bad. A given password must pass
the password validators (at least 10 characters, not a common one, not all digits); every new
account must change its initial password at its first sign-in.
"""

import secrets
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction

from baoxue.audit.models import Action
from baoxue.audit.services import audit_record
from baoxue.lib import cells
from baoxue.lib.headers import match_headers
from baoxue.lib.rows import max_lengths, too_long
from baoxue.lib.sheets import SheetError, read_table
from baoxue.org.imports import RowProblem, grade_order, normalise_class_name
from baoxue.org.models import County, Grade, Membership, Role, School, SchoolClass, Township
from baoxue.org.services import membership_add
from baoxue.org.signin import require_password_change

STAFF_HEADERS = {
    "username": ["用户名", "账号", "登录名"],
    "name": ["姓名"],
    "role": ["角色"],
    "school_code": ["学校标识码", "学校代码"],
    "township": ["乡镇", "乡镇（街道）", "所在乡镇"],
    "county_code": ["区县代码", "行政区划代码"],
    "grade": ["年级"],
    "class": ["班级"],
    "password": ["初始密码", "密码"],
}

ROLE_NAMES = {label: value for value, label in Role.choices} | {
    "管理员": Role.ADMIN, "教体局": Role.COUNTY, "县教育局": Role.COUNTY, "乡镇": Role.TOWNSHIP,
    "乡镇政府": Role.TOWNSHIP, "组长": Role.LEADER, "副组长": Role.LEADER, "学校领导": Role.LEADER,
    "校长": Role.LEADER, "控辍保学办公室": Role.OFFICE, "政教处": Role.OFFICE, "学籍管理员": Role.REGISTRAR,
    "班主任": Role.HEAD_TEACHER, "帮扶教师": Role.MENTOR, "送教教师": Role.MENTOR,
}


def staff_limits() -> dict[str, int]:
    """Text columns checked against the database's column lengths before anything is written."""
    return max_lengths({"username": (get_user_model(), "username"), "name": (get_user_model(), "first_name"),
                        "grade": (Grade, "name"), "class": (SchoolClass, "name"), "township": (Township, "name")})


@dataclass
class StaffRow:
    row: int
    username: str
    name: str
    role: str
    county: County | None = None
    township: Township | None = None
    school: School | None = None
    grade: str = ""
    class_name: str = ""
    password: str = ""


@dataclass
class StaffReport:
    filename: str
    rows: list[StaffRow] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)
    new_accounts: list[tuple[str, str, str]] = field(default_factory=list)  # username, name, password
    memberships_added: int = 0
    committed: bool = False


def _parse(table, report: StaffReport) -> None:
    columns, _ = match_headers(table.headers, STAFF_HEADERS)
    col = {key: i for i, key in columns.items()}
    missing = [STAFF_HEADERS[k][0] for k in ("username", "name", "role") if k not in col]
    if missing:
        report.problems.append(RowProblem(1, "", f"缺少必需的列：{'、'.join(missing)}"))
        return
    schools = {s.code: s for s in School.objects.select_related("county")}
    townships = {t.name: t for t in Township.objects.select_related("county")}
    counties = {c.code: c for c in County.objects.all()}

    limits = staff_limits()
    for number, row in table.rows:
        def get(key, convert=cells.text):
            if key not in col:
                return ""
            try:
                value = convert(row[col[key]]) or ""
            except cells.CellError as e:
                report.problems.append(RowProblem(number, table.headers[col[key]], str(e)))
                return ""
            message = too_long(value, limits[key]) if key in limits else None
            if message:
                report.problems.append(RowProblem(number, table.headers[col[key]], message))
                return value[:limits[key]]
            return value

        def problem(key, message):
            report.problems.append(RowProblem(number, table.headers[col[key]] if key in col else "", message))

        r = StaffRow(number, get("username", cells.identifier).lower(), get("name"), "")
        role_text = get("role")
        r.role = ROLE_NAMES.get(role_text, "")
        if not r.username:
            problem("username", "用户名不能为空")
        if not r.name:
            problem("name", "姓名不能为空")
        if not r.role:
            problem("role", f"角色“{role_text}”无法识别：可填 {'、'.join(label for _, label in Role.choices)}")
            continue
        r.password = get("password")
        if r.password:
            try:
                validate_password(r.password, user=get_user_model()(username=r.username, first_name=r.name))
            except ValidationError as e:
                problem("password", "初始密码不符合要求：" + "".join(e.messages))
        if r.role == Role.COUNTY:
            code = get("county_code", cells.identifier)
            r.county = counties.get(code) or (next(iter(counties.values())) if len(counties) == 1 and not code else None)
            if r.county is None:
                problem("county_code", f"区县代码“{code}”不存在：请填系统中的6位行政区划代码")
        elif r.role == Role.TOWNSHIP:
            name = get("township")
            r.township = townships.get(name)
            if r.township is None:
                problem("township", f"乡镇“{name}”不存在：请填系统中的乡镇名称")
        elif r.role != Role.ADMIN:
            code = get("school_code", cells.identifier)
            r.school = schools.get(code)
            if r.school is None:
                problem("school_code", f"学校标识码“{code}”不存在：请先用 baoxue school add 新建学校")
            if r.role == Role.HEAD_TEACHER:
                r.grade = get("grade")
                r.class_name = normalise_class_name(get("class"), r.grade)
                if not r.grade or not r.class_name:
                    problem("class", "班主任须填写年级和班级")
        report.rows.append(r)


def import_staff(*, actor, source, filename: str, dry_run: bool = False, actor_label: str = "") -> StaffReport:
    report = StaffReport(filename=filename)
    try:
        table = read_table(source, filename)
    except SheetError as e:
        report.problems.append(RowProblem(None, "", str(e)))
        return report
    _parse(table, report)
    if report.problems or dry_run:
        return report
    with transaction.atomic():
        _write(report, actor, actor_label)
    report.committed = True
    return report


def _write(report: StaffReport, actor, actor_label: str) -> None:
    User = get_user_model()
    users = {u.username: u for u in User.objects.filter(username__in={r.username for r in report.rows})}
    for r in report.rows:
        user = users.get(r.username)
        if user is None:
            password = r.password or secrets.token_urlsafe(9)  # 12 characters
            user = User.objects.create_user(username=r.username, password=password, first_name=r.name,
                                            is_staff=r.role == Role.ADMIN, is_superuser=r.role == Role.ADMIN)
            users[r.username] = user
            report.new_accounts.append((r.username, r.name, password))
            require_password_change(user, "导入教职工的初始密码")
            audit_record(actor=actor, actor_label=actor_label, action=Action.CREATE, object_type="user",
                         object_id=str(user.pk), object_repr=f"{r.username} {r.name}", note=f"导入 {report.filename} 第{r.row}行")
        before = Membership.objects.filter(user=user).count()
        membership_add(actor=actor, user=user, role=r.role, county=r.county, township=r.township, school=r.school)
        report.memberships_added += Membership.objects.filter(user=user).count() - before
        if r.role == Role.HEAD_TEACHER:
            grade, _ = Grade.objects.get_or_create(school=r.school, name=r.grade, defaults={"order": grade_order(r.grade)})
            cls, _ = SchoolClass.objects.get_or_create(school=r.school, grade=grade, name=r.class_name)
            if cls.head_teacher_id != user.pk:
                old = cls.head_teacher
                cls.head_teacher = user
                cls.save(update_fields=["head_teacher"])
                audit_record(actor=actor, actor_label=actor_label, action=Action.UPDATE, obj=cls, scope_from=r.school,
                             changes={"head_teacher": [str(old or ""), r.name]})
