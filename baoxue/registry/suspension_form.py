"""The school's 休学申请表, prefilled from the application: a Word file on A4 and a print page.

学校加盖公章、班主任及校长签字同意的休学申请表两份(学校和教体局存档备查). The same rows feed the
.docx and the print page, so the two never disagree.
"""

from baoxue.lib.idcard import mask_registry_no
from baoxue.lib.word import new_document, table_rows, to_bytes
from baoxue.registry import suspensions
from baoxue.registry.models import Application


def _d(day) -> str:
    return f"{day.year}年{day.month}月{day.day}日" if day else ""


def title(app: Application) -> str:
    word = "续休" if app.kind == Application.Kind.EXTEND else "休学"
    return f"{app.school.name}学生{word}申请表"


def form_rows(app: Application, *, full_ids: bool = True) -> list[tuple[str, str, str, str]]:
    """Label, value, label, value: the rows of the form. Without `full_ids` (a head teacher, who
    may not reveal ID numbers) the 全国学籍号, which is G + the ID number, is masked and only the
    birth year is shown beside it; the school's office prints the form for the bureau in full."""
    s = app.student
    rules = suspensions.current_rules(app.county_id)
    guardians = [f"{m.name}（{m.relation}）{m.phone}" for m in s.family.all() if m.is_guardian]
    try:
        share = suspensions.rest_share(app, rules) if app.kind == Application.Kind.SUSPEND else None
        share_text = share.text if share else ""
    except Exception as e:  # a missing calendar year: say so on the form rather than fail
        share_text = str(e)
    bills = suspensions.bills_total(app)
    rows = [
        ("姓名", s.name, "性别", s.get_sex_display()),
        ("出生日期", _d(s.birth_date), "全国学籍号", s.registry_no) if full_ids else
        ("出生年份", f"{s.birth_date.year}年" if s.birth_date else "", "全国学籍号", mask_registry_no(s.registry_no)),
        ("年级班级", s.class_label, "监护人及电话", "；".join(guardians)),
        ("病名", app.illness, "诊断医院", f"{app.hospital}（{app.get_hospital_level_display()}）" if app.hospital else ""),
        ("诊断日期", _d(app.diagnosed_on), "住院或休息", f"{_d(app.rest_from)} 至 {_d(app.rest_to)}" if app.rest_from else ""),
    ]
    if app.kind == Application.Kind.SUSPEND:
        rows.append(("病休时间核算", share_text, "药费合计", f"{bills:,.2f} 元" if bills else ""))
    rows.append(("休学期限", f"{_d(app.start_on)} 至 {_d(app.ends_on)}" if app.start_on else "", "申请日期",
                 _d(app.submitted_on or app.created_at.date())))
    return rows


SIGNATURES = [
    ("学生或家长申请", "申请人（签字）：            年    月    日"),
    ("班主任意见", "班主任（签字）：            年    月    日"),
    ("学校意见", "校长（签字）：          学校（盖章）          年    月    日"),
    ("县教体局审批意见", "（盖章）                    年    月    日"),
]


def form_docx(app: Application, *, full_ids: bool = True) -> bytes:
    doc = new_document(title(app))
    doc.add_paragraph(f"学校：{app.school.name}        学校标识码：{app.school.code}")
    table_rows(doc, form_rows(app, full_ids=full_ids), 4)
    if app.detail:
        doc.add_paragraph(f"情况说明：{app.detail}")
    sign = doc.add_table(rows=0, cols=2)
    sign.style = "Table Grid"
    for label, line in SIGNATURES:
        cells = sign.add_row().cells
        cells[0].text = label
        cells[1].text = "\n\n\n" + line
    doc.add_paragraph("本表一式两份，学校和县教体局各存档一份。附：学生或家长申请、县级以上医院诊断证明、"
                      "住院或休息证明、药费清单及票据。")
    return to_bytes(doc)
