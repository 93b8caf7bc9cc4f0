"""一生一表 (义务教育阶段辍学学生登记表): its content, filled from the records, and its Word file.

No official field list was found; schools keep it as a Word table holding the identity block,
family and guardians, key groups, dropout date and reason, whereabouts, support given, every
persuasion attempt and sign-off lines. The content is stored as data when the case reaches the
dropout ledger (so later edits of the student do not rewrite history) and stays editable.
"""

import datetime

from django.utils import timezone

from baoxue.attendance.models import AttendanceRecord
from baoxue.cases.selectors import attempt_standing
from baoxue.lib.word import new_document, to_bytes

# Editable free-text fields of the form, in display order.
EDITABLE_FIELDS = [
    ("dropout_reason", "辍学原因"),
    ("whereabouts", "去向"),
    ("support", "帮扶措施"),
    ("remarks", "备注"),
]


def local_minutes(value: str) -> str:
    """A stored contact time as "2025-09-22 23:30" in local time (settings.TIME_ZONE). Times are
    stored with their offset; an older form may hold one in UTC."""
    try:
        moment = datetime.datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return str(value or "")[:16].replace("T", " ")
    if timezone.is_aware(moment):
        moment = timezone.localtime(moment)
    return f"{moment:%Y-%m-%d %H:%M}"


def build_form_data(case) -> dict:
    student = case.student
    family = [
        {"name": m.name, "relation": m.relation, "phone": m.phone, "is_guardian": m.is_guardian,
         "works_away": m.works_away, "works_away_place": m.works_away_place, "employer": m.employer}
        for m in student.family.all()
    ]
    groups = [str(g) for g in student.key_groups.filter(ended_on__isnull=True)]
    absences = [
        {"date": r.date.isoformat(), "mark": r.get_mark_display(), "reason": r.reason}
        for r in AttendanceRecord.objects.filter(student=student, date__gte=case.first_absent_on).order_by("date")
    ]
    contacts = [
        # Local time (settings.TIME_ZONE) with its offset: the form is read where it was written.
        {"at": timezone.localtime(c.at).isoformat(timespec="minutes"), "method": c.get_method_display(),
         "reached": c.reached, "reason_given": c.reason_given, "result": c.result}
        for c in case.contacts.all()
    ]
    visits = [{"date": v.date.isoformat(), "visitors": v.visitors, "met": v.met, "findings": v.findings}
              for v in case.home_visits.all()]
    attempts = [
        {"number": a.number, "date": a.date.isoformat(), "method": a.get_method_display(),
         "participants": "、".join(f"{p['name']}（{p['unit']}）" if p.get("unit") else p["name"] for p in a.participants),
         "reason_heard": a.reason_heard, "result": a.result, "next_step": a.next_step,
         "late": attempt_standing(case, a) == "late"}
        for a in case.attempts.all()
    ]
    return {
        "school": student.school.name,
        "class": student.class_label,
        "name": student.name,
        "sex": student.get_sex_display(),
        "birth_date": student.birth_date.isoformat() if student.birth_date else "",
        "ethnicity": student.ethnicity,
        "id_number": student.id_number,
        "registry_no": student.registry_no,
        "hukou_address": student.hukou_address,
        "address": student.address,
        "township": str(student.residence_township or ""),
        "village": student.residence_village,
        "family": family,
        "key_groups": groups,
        "first_absent_on": case.first_absent_on.isoformat(),
        "suspected_on": case.suspected_on.isoformat() if case.suspected_on else "",
        "dropout_on": case.dropout_on.isoformat() if case.dropout_on else "",
        "dropout_cause": case.get_dropout_cause_display(),
        "dropout_reason": case.dropout_reason,
        "whereabouts": case.whereabouts,
        "support": case.support,
        "remarks": "",
        "absences": absences,
        "contacts": contacts,
        "home_visits": visits,
        "attempts": attempts,
        "persuaders": [f"{p.name}（{p.unit}）" for p in case.persuaders.all()],
    }


def form_docx(data: dict) -> bytes:
    """The form as an editable Word document (python-docx)."""
    doc = new_document("义务教育阶段辍学学生登记表")
    doc.add_paragraph(f"学校：{data['school']}        班级：{data['class']}")

    table = doc.add_table(rows=0, cols=4)
    table.style = "Table Grid"
    for pair in [
        ("姓名", data["name"], "性别", data["sex"]),
        ("出生日期", data["birth_date"], "民族", data["ethnicity"]),
        ("身份证件号", data["id_number"], "全国学籍号", data["registry_no"]),
        ("户口所在地", data["hukou_address"], "现住址", data["address"]),
        ("所在乡镇", data["township"], "村（社区）", data["village"]),
        ("重点群体", "、".join(data["key_groups"]) or "无", "首次缺勤日", data["first_absent_on"]),
        ("纳入疑似辍学台账", data["suspected_on"], "辍学日期", data["dropout_on"]),
        ("纳入辍学台账原因", data["dropout_cause"], "辍学原因", data["dropout_reason"]),
        ("去向", data["whereabouts"], "劝返责任人", "、".join(data["persuaders"])),
    ]:
        cells = table.add_row().cells
        for cell, text in zip(cells, pair):
            cell.text = str(text or "")

    doc.add_paragraph("家庭成员及监护人")
    fam = doc.add_table(rows=1, cols=5)
    fam.style = "Table Grid"
    for cell, text in zip(fam.rows[0].cells, ["姓名", "关系", "联系电话", "监护人", "外出务工"]):
        cell.text = text
    for m in data["family"]:
        cells = fam.add_row().cells
        for cell, text in zip(cells, [m["name"], m["relation"], m["phone"], "是" if m["is_guardian"] else "否",
                                      m["works_away_place"] if m["works_away"] else "否"]):
            cell.text = text

    doc.add_paragraph("联系家长与家访")
    for c in data["contacts"]:
        doc.add_paragraph(f"{local_minutes(c['at'])} {c['method']} 联系 {c['reached']}：{c['reason_given']} {c['result']}",
                          style="List Bullet")
    for v in data["home_visits"]:
        doc.add_paragraph(f"{v['date']} 家访（{v['visitors']}，见到 {v['met']}）：{v['findings']}", style="List Bullet")

    doc.add_paragraph("劝返记录")
    att = doc.add_table(rows=1, cols=6)
    att.style = "Table Grid"
    for cell, text in zip(att.rows[0].cells, ["次数", "日期", "方式", "参与人员", "了解到的原因", "结果及下一步"]):
        cell.text = text
    for a in data["attempts"]:
        cells = att.add_row().cells
        date = a["date"] + ("（截止日后，逾期记录）" if a.get("late") else "")
        for cell, text in zip(cells, [str(a["number"]), date, a["method"], a["participants"], a["reason_heard"],
                                      f"{a['result']}；{a['next_step']}".strip("；")]):
            cell.text = text

    doc.add_paragraph(f"帮扶措施：{data['support']}")
    doc.add_paragraph(f"备注：{data.get('remarks', '')}")
    doc.add_paragraph("")
    doc.add_paragraph("班主任（签字）：__________    控辍保学办公室主任（签字）：__________")
    doc.add_paragraph("校长（签字）：__________      学校（盖章）              年    月    日")
    return to_bytes(doc)
