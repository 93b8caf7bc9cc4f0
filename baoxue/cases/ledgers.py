"""The two ledgers of 13510 (台账): which cases they hold, their rows, and their .xlsx files.

- 疑似辍学学生台账: every case that reached 第5天 (纳入疑似辍学学生台账), also those later
  closed or moved on to the dropout ledger.
- 辍学学生劝返台账: every case that reached the dropout ledger (失踪失联, or not back when the
  persuasion period ran out), also those closed later (复学 or another outcome).

Entries are never deleted: a closed case stays with its 销账日期 and result. The columns are
those of `docs/domain.md`; dates in files are ISO (2025-10-09).
"""


from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from baoxue.cases.models import Case, Report, Stage
from baoxue.cases.selectors import attempt_standing, with_attempt_counts
from baoxue.lib import xlsx
from baoxue.lib.idcard import mask_id, mask_phone
from baoxue.org.forms import current_key_group_q, mask_registry_no
from baoxue.org.models import FamilyMember, KeyGroupMembership

IDENTITY_HEADERS = ["序号", "学校", "年级班级", "姓名", "性别", "身份证件号", "全国学籍号", "重点群体", "监护人及电话",
                    "家庭住址（乡镇/村组）"]
SUSPECTED_HEADERS = IDENTITY_HEADERS + [
    "首次缺勤日", "连续缺勤天数", "第1天联系家长（日期、人员）", "第3天家访（日期、人员）", "第5天纳入台账日期", "疑似原因",
    "劝返责任人", "劝返截止日", "劝返次数", "状态", "结果", "销账日期",
]
DROPOUT_HEADERS = IDENTITY_HEADERS + [
    "辍学日期", "辍学原因（类别）", "辍学原因（说明）", "去向", "帮扶措施", "劝返记录", "是否复学", "复学日期", "报告乡镇日期",
    "报告教体局日期", "销账日期",
]
# Columns written as text (an 18-digit number in Excel loses its last digits).
TEXT_COLUMNS = {"身份证件号", "全国学籍号"}


def suspected_ledger(cases: QuerySet[Case]) -> QuerySet[Case]:
    return cases.filter(suspected_on__isnull=False).order_by("suspected_on", "id")


def dropout_ledger(cases: QuerySet[Case]) -> QuerySet[Case]:
    return cases.filter(stage=Stage.DROPOUT).order_by("dropout_on", "id")


def with_ledger_data(cases: QuerySet[Case]) -> QuerySet[Case]:
    """Everything a ledger row shows, in a fixed number of queries whatever the number of cases;
    attempts toward N/3 and late ones counted by `selectors.with_attempt_counts`."""
    today = timezone.localdate()
    return with_attempt_counts(cases).select_related(
        "school", "student__school_class__grade", "student__residence_township", "rules", "form",
    ).prefetch_related(
        Prefetch("student__family", queryset=FamilyMember.objects.order_by("-is_guardian", "id"), to_attr="ledger_family"),
        Prefetch("student__key_groups", queryset=KeyGroupMembership.objects.filter(current_key_group_q(today)),
                 to_attr="ledger_groups"),
        "contacts__recorded_by", "home_visits", "persuaders", "attempts", "reports",
    )


def _iso(day) -> str:
    return day.isoformat() if day else ""


def _person(user) -> str:
    return (user.get_full_name() or user.get_username()) if user else ""


def _class_label(student) -> str:
    cls = student.school_class
    return f"{cls.grade.name}{cls.name}" if cls else "未分班"


def _guardians(student, full_phones) -> str:
    """full_phones: True/False for every row, or the set of student ids whose phones are shown."""
    full = full_phones if isinstance(full_phones, bool) else student.pk in full_phones
    family = [m for m in student.ledger_family if m.is_guardian] or student.ledger_family
    return "；".join(f"{m.relation} {m.name} {m.phone if full else mask_phone(m.phone)}".strip()
                    for m in family)


def _address(student) -> str:
    parts = [student.residence_township.name if student.residence_township_id else "", student.residence_village]
    return "/".join(p for p in parts if p) or student.address


def _identity(n: int, case: Case, *, full_ids: bool, full_phones) -> list:
    s = case.student
    return [
        n, case.school.name, _class_label(s), s.name, s.get_sex_display(),
        s.id_number if full_ids else mask_id(s.id_number),
        s.registry_no if full_ids else mask_registry_no(s.registry_no),
        "、".join(str(g) for g in s.ledger_groups), _guardians(s, full_phones), _address(s),
    ]


def _first_contact(case: Case) -> str:
    contacts = list(case.contacts.all())
    if not contacts:
        return "未记录"
    c = contacts[0]
    who = _person(c.recorded_by)
    return f"{timezone.localdate(c.at).isoformat()} {who}（{c.get_method_display()}，联系到{c.reached}）".replace("  ", " ")


def _first_visit(case: Case) -> str:
    visits = list(case.home_visits.all())
    if not visits:
        return "未记录"
    v = visits[0]
    return f"{v.date.isoformat()} {v.visitors}（见到{v.met}）"


def persuaders_text(case: Case) -> str:
    return "、".join(str(p) for p in case.persuaders.all())


def attempt_text(a, case: Case | None = None) -> str:
    """第1次 2025-10-09 家访 李老师（学校）、王支书（村委会）：家长同意下周一送回; an attempt
    dated after the deadline before the dropout ledger (逾期记录) says so after its date."""
    people = "、".join(f"{p['name']}（{p['unit']}）" if p.get("unit") else p["name"] for p in a.participants)
    late = "（截止日后，逾期记录）" if case is not None and attempt_standing(case, a) == "late" else ""
    text = f"第{a.number}次 {a.date.isoformat()}{late} {a.get_method_display()} {people}：{a.result}"
    return text + (f"；下一步：{a.next_step}" if a.next_step else "")


def attempts_count_cell(case: Case):
    """劝返次数 in the 疑似 ledger: the attempts toward N/3 (a number); late ones, not counted,
    are named after it."""
    if case.n_late_attempts:
        return f"{case.n_attempts}（另有截止日后逾期记录{case.n_late_attempts}次，不计入）"
    return case.n_attempts


def state_text(case: Case) -> str:
    if not case.is_open:
        return "已销账"
    return "辍学劝返中" if case.stage == Stage.DROPOUT else "疑似辍学劝返中"


def result_text(case: Case) -> str:
    if case.is_open:
        return "已转入辍学学生劝返台账" if case.stage == Stage.DROPOUT else ""
    return "，".join(p for p in [case.get_outcome_display(), case.close_note] if p)


def _suspected_reason(case: Case) -> str:
    if case.suspected_reason:
        return case.suspected_reason
    heard = [c.reason_given for c in case.contacts.all() if c.reason_given]
    return heard[-1] if heard else ""


def suspected_rows(qs: QuerySet[Case], *, full_ids: bool = False, full_phones=False) -> list[list]:
    """疑似辍学学生台账, one row per case; ID numbers and phones masked unless told otherwise."""
    rows = []
    for n, case in enumerate(with_ledger_data(qs), start=1):
        rows.append(_identity(n, case, full_ids=full_ids, full_phones=full_phones) + [
            _iso(case.first_absent_on), case.unexcused_days, _first_contact(case), _first_visit(case),
            _iso(case.suspected_on), _suspected_reason(case), persuaders_text(case), _iso(case.persuasion_due),
            attempts_count_cell(case), state_text(case), result_text(case), _iso(case.closed_on),
        ])
    return rows


def _form_value(case: Case, key: str, fallback: str) -> str:
    """The 一生一表 is edited by the office; its text wins over the case's (often empty) field."""
    form = getattr(case, "form", None)  # no form yet: the reverse accessor raises an AttributeError
    return (form.data.get(key) if form else "") or fallback


def dropout_rows(qs: QuerySet[Case], *, full_ids: bool = False, full_phones=False) -> list[list]:
    """辍学学生劝返台账, one row per case, every attempt in one cell (one line each)."""
    rows = []
    for n, case in enumerate(with_ledger_data(qs), start=1):
        reports = {r.recipient: r for r in case.reports.all()}
        resumed = not case.is_open and case.outcome == "resumed"
        rows.append(_identity(n, case, full_ids=full_ids, full_phones=full_phones) + [
            _iso(case.dropout_on), case.get_dropout_cause_display(),
            _form_value(case, "dropout_reason", case.dropout_reason), _form_value(case, "whereabouts", case.whereabouts),
            _form_value(case, "support", case.support), "\n".join(attempt_text(a, case) for a in case.attempts.all()),
            "是" if resumed else "否", _iso(case.closed_on) if resumed else "",
            _iso(reports[Report.Recipient.TOWNSHIP].sent_on) if Report.Recipient.TOWNSHIP in reports else "",
            _iso(reports[Report.Recipient.COUNTY].sent_on) if Report.Recipient.COUNTY in reports else "",
            _iso(case.closed_on),
        ])
    return rows


def ledger_xlsx(title: str, headers: list[str], rows: list[list], *, unit: str = "") -> bytes:
    """One sheet named `title`, printable (`lib.xlsx`): title and unit rows, the header frozen with
    the identity columns and repeated on every printed page, A4 landscape, one page wide;
    identifiers as text, long cells wrapped."""
    widths = {"序号": 5, "学校": 18, "姓名": 8, "性别": 5, "身份证件号": 21, "全国学籍号": 22, "监护人及电话": 26,
              "劝返记录": 50, "帮扶措施": 24, "第1天联系家长（日期、人员）": 26, "第3天家访（日期、人员）": 26}
    return xlsx.single_sheet(title, title=title, unit=unit, headers=headers, rows=rows, text_columns=TEXT_COLUMNS,
                             widths=widths, freeze_columns=4)
