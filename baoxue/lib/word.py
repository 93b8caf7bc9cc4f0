"""Word files schools print: A4, 宋体, a centred title."""

import io


def new_document(title: str):
    """An empty A4 document (210 × 297 mm, 2.5 cm side margins) in 宋体 五号, with its title."""
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml.ns import qn
    from docx.shared import Cm, Mm, Pt

    doc = Document()
    for section in doc.sections:
        section.page_width, section.page_height = Mm(210), Mm(297)
        section.left_margin = section.right_margin = Cm(2.5)
        section.top_margin = section.bottom_margin = Cm(2.2)
    style = doc.styles["Normal"]
    style.font.name = "SimSun"
    style.element.rPr.rFonts.set(qn("w:eastAsia"), "宋体")
    style.font.size = Pt(10.5)
    paragraph = doc.add_paragraph()
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = paragraph.add_run(title)
    run.bold = True
    run.font.size = Pt(16)
    return doc


def table_rows(doc, rows: list[tuple], cols: int):
    """A bordered table of label/value cells."""
    table = doc.add_table(rows=0, cols=cols)
    table.style = "Table Grid"
    for row in rows:
        for cell, text in zip(table.add_row().cells, row):
            cell.text = str(text if text is not None else "")
    return table


def to_bytes(doc) -> bytes:
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()
