"""A monthly report as the county asks for it on paper: .xlsx (A4 landscape, fit to the page's
width, title and header rows repeated on every printed page) and .docx (A4, through the shared
`baoxue.lib.word`): title, unit, month, the tables, the remarks and the signature lines."""

import io

from baoxue.lib.idcard import mask_registry_no
from baoxue.reports import monthly

SIGNATURES = ["填报人：", "校长签字：", "学校盖章：", "日期：    年  月  日"]
CASE_HEADERS = ["序号", "姓名", "全国学籍号", "班级", "首次缺勤日", "月末阶段", "纳入疑似辍学台账日", "辍学日期"]
LIST_HEADERS = ["序号", "类别", "姓名", "全国学籍号", "班级", "日期", "说明"]


def title(report) -> str:
    return f"控辍保学学校月报告（{monthly.month_label(report.month)}）"


def _state_line(report) -> str:
    parts = [f"状态：{report.get_state_display()}"]
    if report.signed_at:
        parts.append(f"校长签字：{_name(report.signed_by)} {report.signed_at:%Y-%m-%d}")
    if report.submitted_at:
        parts.append(f"提交：{report.submitted_at:%Y-%m-%d}")
    return "  ".join(parts)


def _name(user) -> str:
    return (user.get_full_name() or user.get_username()) if user is not None else ""


def _case_rows(figures: dict) -> list[list]:
    # A G-number is the ID number: a paper that travels (to the bureau, in e-mail) carries it masked.
    return [[n, c["name"], mask_registry_no(c["registry_no"]), c["class"], c["first_absent_on"] or "", c["stage_label"],
             c["suspected_on"] or "", c["dropout_on"] or ""]
            for n, c in enumerate(figures.get("open_cases", []), start=1)]


def _list_rows(figures: dict) -> list[list]:
    rows = []
    for key, label in monthly.LISTS:
        for item in (figures.get("lists") or {}).get(key, []):
            rows.append([len(rows) + 1, label, item["name"], mask_registry_no(item["registry_no"]), item["class"], item["date"] or "",
                         item.get("note", "")])
    return rows


def monthly_xlsx(report) -> bytes:
    """Three sheets (月报告, 未销账个案, 变动名单), each with its title rows (title; unit and month)
    and a header row frozen on screen and repeated on every printed page."""
    import xlsxwriter

    figures = report.figures
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False})
    fmt_title = wb.add_format({"bold": True, "font_size": 16, "align": "center", "valign": "vcenter"})
    fmt_unit = wb.add_format({"font_size": 11})
    fmt_head = wb.add_format({"bold": True, "bg_color": "#EEF2F6", "border": 1, "text_wrap": True,
                              "align": "center", "valign": "vcenter"})
    fmt_cell = wb.add_format({"border": 1, "valign": "top", "text_wrap": True})
    fmt_text = wb.add_format({"border": 1, "valign": "top", "num_format": "@"})
    fmt_section = wb.add_format({"bold": True, "font_size": 12})
    unit = f"填报单位：{report.school.name}（{report.school.code}）    月份：{monthly.month_label(report.month)}"

    def sheet(name: str, headers: list[str], widths: list[int], sheet_title: str):
        ws = wb.add_worksheet(name)
        ws.set_paper(9)  # A4
        ws.set_landscape()
        ws.fit_to_pages(1, 0)  # one page wide, as many long as it takes
        ws.set_margins(left=0.5, right=0.5, top=0.6, bottom=0.6)
        ws.repeat_rows(0, 2)
        ws.merge_range(0, 0, 0, len(headers) - 1, sheet_title, fmt_title)
        ws.set_row(0, 28)
        ws.merge_range(1, 0, 1, len(headers) - 1, unit, fmt_unit)
        ws.write_row(2, 0, headers, fmt_head)
        ws.freeze_panes(3, 0)
        for c, w in enumerate(widths):
            ws.set_column(c, c, w)
        return ws

    main = title(report)
    ws = sheet("月报告", ["项目", "人数"], [30, 14], main)
    r = 3
    for key, label in monthly.NUMBERS:
        ws.write_string(r, 0, label, fmt_cell)
        ws.write_number(r, 1, figures.get(key, 0), fmt_cell)
        r += 1
    r += 1
    ws.write_string(r, 0, "月末在校生（按年级）", fmt_section)
    r += 1
    for g in figures.get("enrolled_by_grade", []):
        ws.write_string(r, 0, g["grade"], fmt_cell)
        ws.write_number(r, 1, g["n"], fmt_cell)
        r += 1
    r += 1
    ws.write_string(r, 0, "重点群体（月末在校生）", fmt_section)
    r += 1
    for g in figures.get("key_groups", []):
        ws.write_string(r, 0, g["label"], fmt_cell)
        ws.write_number(r, 1, g["n"], fmt_cell)
        r += 1
    r += 1
    ws.write_string(r, 0, "情况说明", fmt_section)
    r += 1
    ws.merge_range(r, 0, r, 1, report.remarks or "（无）", fmt_cell)
    ws.set_row(r, max(30, 15 * (1 + len(report.remarks) // 30)))
    r += 2
    ws.write_string(r, 0, _state_line(report), fmt_unit)
    r += 2
    for line in SIGNATURES:
        ws.write_string(r, 0, line, fmt_unit)
        r += 2

    ws = sheet("未销账个案", CASE_HEADERS, [6, 10, 24, 14, 13, 12, 18, 13], f"{main} 月末未销账个案")
    for r, row in enumerate(_case_rows(figures), start=3):
        for c, value in enumerate(row):
            if c == 0:
                ws.write_number(r, c, value, fmt_cell)
            else:
                ws.write_string(r, c, str(value), fmt_text if c == 2 else fmt_cell)

    ws = sheet("变动名单", LIST_HEADERS, [6, 14, 10, 24, 14, 13, 24], f"{main} 变动名单")
    for r, row in enumerate(_list_rows(figures), start=3):
        for c, value in enumerate(row):
            if c == 0:
                ws.write_number(r, c, value, fmt_cell)
            else:
                ws.write_string(r, c, str(value), fmt_text if c == 3 else fmt_cell)
    wb.close()
    return buf.getvalue()


def monthly_docx(report) -> bytes:
    from docx.shared import Pt

    from baoxue.lib.word import new_document, table_rows, to_bytes

    figures = report.figures
    doc = new_document(title(report))
    doc.add_paragraph(f"填报单位：{report.school.name}（学校标识码 {report.school.code}）")
    doc.add_paragraph(f"报告月份：{monthly.month_label(report.month)}    {_state_line(report)}")

    def heading(text: str) -> None:
        run = doc.add_paragraph().add_run(text)
        run.bold = True
        run.font.size = Pt(12)

    def table(headers: list[str], rows: list) -> None:
        t = table_rows(doc, [tuple(headers), *[tuple(r) for r in rows]], len(headers))
        for cell in t.rows[0].cells:
            for p in cell.paragraphs:
                for run in p.runs:
                    run.bold = True

    heading("一、本月情况")
    table(["项目", "人数"], [(label, figures.get(key, 0)) for key, label in monthly.NUMBERS])
    heading("二、月末在校生（按年级）")
    table(["年级", "人数"], [(g["grade"], g["n"]) for g in figures.get("enrolled_by_grade", [])])
    heading("三、重点群体（月末在校生）")
    table(["重点群体", "人数"], [(g["label"], g["n"]) for g in figures.get("key_groups", [])])
    heading("四、月末未销账个案")
    cases = _case_rows(figures)
    if cases:
        table(CASE_HEADERS, cases)
    else:
        doc.add_paragraph("无")
    heading("五、变动名单")
    changes = _list_rows(figures)
    if changes:
        table(LIST_HEADERS, changes)
    else:
        doc.add_paragraph("无")
    heading("六、情况说明")
    for line in (report.remarks or "（无）").splitlines() or ["（无）"]:
        doc.add_paragraph(line)
    doc.add_paragraph()
    doc.add_paragraph("填报人：____________        校长签字：____________")
    doc.add_paragraph("学校盖章：                    日期：______年____月____日")
    return to_bytes(doc)
