"""Excel lists that print as the offices expect: a title row (unit, title, date), the header row
frozen on screen and repeated on every printed page, A4 landscape, fitted to the page's width.

Cell text is data, never a formula or a link: a name typed as "=..." must not run in Excel. Columns
holding identifiers are written as text (an 18-digit ID number as a number loses its last digits).
"""

import datetime
import io

# Rows above the header: the title, then the unit and date.
TITLE_ROWS = 2


def workbook(buf):
    import xlsxwriter

    return xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False})


def printable_sheet(wb, name: str, *, title: str, unit: str, headers: list[str], rows, text_columns=(),
                    widths: dict | None = None, default_width: int = 12, freeze_columns: int = 0,
                    day: datetime.date | None = None, autofilter: bool = True):
    """Write one sheet and set it up for printing; returns the worksheet. `text_columns` are header
    names written as text; `widths` maps header names to column widths."""
    from django.utils import timezone

    day = day or timezone.localdate()
    ws = wb.add_worksheet(name[:31])
    fmt_title = wb.add_format({"bold": True, "font_size": 15, "align": "center", "valign": "vcenter"})
    fmt_unit = wb.add_format({"font_size": 10})
    head = wb.add_format({"bold": True, "bg_color": "#EEF2F6", "border": 1, "text_wrap": True, "valign": "vcenter"})
    cell = wb.add_format({"border": 1, "valign": "top", "text_wrap": True})
    text = wb.add_format({"border": 1, "valign": "top", "num_format": "@"})
    last_col = max(len(headers) - 1, 0)
    if last_col:
        ws.merge_range(0, 0, 0, last_col, title, fmt_title)
    else:
        ws.write(0, 0, title, fmt_title)
    ws.set_row(0, 26)
    ws.write(1, 0, f"填报单位：{unit}    制表日期：{day.year}年{day.month}月{day.day}日", fmt_unit)
    header_row = TITLE_ROWS
    ws.write_row(header_row, 0, headers, head)
    text_cols = {i for i, h in enumerate(headers) if h in set(text_columns)}
    n = 0
    for n, row in enumerate(rows, start=1):
        for c, value in enumerate(row):
            if c in text_cols:
                ws.write_string(header_row + n, c, "" if value is None else str(value), text)
            elif value is None:
                ws.write_blank(header_row + n, c, None, cell)
            else:
                ws.write(header_row + n, c, value, cell)
    widths = widths or {}
    for c, h in enumerate(headers):
        ws.set_column(c, c, widths.get(h, default_width))
    ws.freeze_panes(header_row + 1, freeze_columns)
    if autofilter and headers:
        ws.autofilter(header_row, 0, header_row + max(n, 1), last_col)
    ws.set_landscape()
    ws.set_paper(9)  # A4
    ws.fit_to_pages(1, 0)  # one page wide, as many long as needed
    ws.repeat_rows(header_row)
    ws.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.5)
    ws.set_footer("&C第 &P 页，共 &N 页")
    return ws


def single_sheet(name: str, **kwargs) -> bytes:
    """A workbook of one printable sheet (see `printable_sheet`), as bytes."""
    buf = io.BytesIO()
    wb = workbook(buf)
    printable_sheet(wb, name, **kwargs)
    wb.close()
    return buf.getvalue()
