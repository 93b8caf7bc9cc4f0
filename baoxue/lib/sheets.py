"""Reading uploaded spreadsheets (学籍系统 exports) into a plain table.

Schools upload whatever the registry system or Excel gave them: .xlsx,
old .xls, WPS/LibreOffice .ods, or CSV saved by Chinese Excel in GBK.
Everything is reduced to one shape, a header row plus numbered data rows,
and every failure becomes a SheetError whose message tells the teacher
what to do next.

Excel files are read with python-calamine (Rust), which is an order of
magnitude faster than openpyxl; per-cell Python work is avoided so that
large files take about as long as calamine itself.
"""

from __future__ import annotations

import csv
import io
import math
import os
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from python_calamine import (
    CalamineError,
    CalamineWorkbook,
    PasswordError,
    SheetTypeEnum,
    SheetVisibleEnum,
)

__all__ = ["SheetError", "Table", "read_table", "DEFAULT_MAX_BYTES"]

DEFAULT_MAX_BYTES = 20 * 1024 * 1024
_MB = 1024 * 1024

_EXCEL_EXTENSIONS = frozenset({".xlsx", ".xlsm", ".xls", ".ods"})
_CSV_EXTENSIONS = frozenset({".csv", ".txt"})

_UNREADABLE_EXCEL = "文件无法作为 Excel 读取（可能已损坏或不是表格文件）：请从学籍系统重新导出"
_EMPTY = "文件是空的：没有表头和数据行"
_NOT_CSV = "文件不是有效的CSV文本"

Source = str | os.PathLike[str] | BinaryIO


class SheetError(ValueError):
    """The upload cannot be read as a table; str(error) is a Chinese message."""


@dataclass
class Table:
    """Header texts plus data rows, each tagged with its spreadsheet row number.

    rows holds (row_number, cells): row_number is the 1-based row as the
    user sees it in Excel (blank rows above the header are counted), and
    cells has exactly len(headers) entries.  Cells are raw values: str,
    int, float, bool, date, datetime, time, timedelta or None.  A blank
    cell is '' in Excel files (as calamine returns it; converting every
    cell to None would cost ~25% of the read time) and None in CSV files;
    the baoxue.lib.cells helpers treat both as blank.  Fully blank rows
    are left out.
    """

    headers: list[str]
    rows: list[tuple[int, list[Any]]] = field(default_factory=list)


def _extension(filename: str) -> str:
    """Lowercase extension, tolerating Windows paths sent by old browsers."""
    base = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    return os.path.splitext(base)[1].lower()


def _format_size(size: int) -> str:
    """Human size for messages: '20 MB', '25.3 MB', '980 KB'.

    Rounded up, so a file just over the limit never displays as equal to it.
    """
    if size < _MB:
        return f"{math.ceil(size / 1024)} KB"
    tenths = math.ceil(size * 10 / _MB)
    return f"{tenths // 10} MB" if tenths % 10 == 0 else f"{tenths / 10:.1f} MB"


def _too_large(size: int, max_bytes: int) -> SheetError:
    return SheetError(f"文件过大（{_format_size(size)}），上限为 {_format_size(max_bytes)}")


def _read_bytes(source: BinaryIO, max_bytes: int) -> bytes:
    """Read a whole file-like object, refusing more than max_bytes.

    The size is measured before reading where possible so an oversized
    upload is rejected without loading it.  Django's UploadedFile may
    already have been read by form validation, so we rewind first.
    """
    size: int | None = None
    try:
        source.seek(0)
        size = source.seek(0, io.SEEK_END)
        source.seek(0)
    except (AttributeError, OSError, ValueError):
        declared = getattr(source, "size", None)
        size = declared if isinstance(declared, int) else None
    if size is not None and size > max_bytes:
        raise _too_large(size, max_bytes)

    data = source.read(max_bytes + 1)
    if len(data) > max_bytes:
        # Size unknown up front (non-seekable stream): count the rest.
        total = len(data)
        while chunk := source.read(_MB):
            total += len(chunk)
        raise _too_large(total, max_bytes)
    return bytes(data)


def _header_text(value: Any) -> str:
    """Header cell as text; integral floats (e.g. a year typed as a header) lose '.0'."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _find_header(
    raw_rows: list[list[Any]],
) -> tuple[int, list[str]]:
    """Index and texts of the first row with any non-blank header text.

    Trailing blank header columns are dropped: data under a column without
    a header has no meaning and would only widen every row.
    """
    for index, row in enumerate(raw_rows):
        headers = [_header_text(cell) for cell in row]
        while headers and not headers[-1]:
            headers.pop()
        if headers:
            return index, headers
    raise SheetError(_EMPTY)


def _first_worksheet(workbook: CalamineWorkbook) -> int:
    """Index of the first visible worksheet.

    Templates often carry hidden sheets holding dropdown lists; if one of
    those comes first we still want the sheet the user sees.
    """
    try:
        metadata = workbook.sheets_metadata
    except CalamineError:
        return 0
    for index, sheet in enumerate(metadata):
        if sheet.visible == SheetVisibleEnum.Visible and sheet.typ == SheetTypeEnum.WorkSheet:
            return index
    return 0


def _excel_rows(source: Source, max_bytes: int) -> list[list[Any]]:
    """All cells of the first worksheet, rows starting at spreadsheet row 1."""
    try:
        if isinstance(source, (str, os.PathLike)):
            size = os.path.getsize(source)
            if size > max_bytes:
                raise _too_large(size, max_bytes)
            if size == 0:
                raise SheetError(_EMPTY)
            workbook = CalamineWorkbook.from_path(source)
        else:
            data = _read_bytes(source, max_bytes)
            if not data:
                raise SheetError(_EMPTY)
            workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
    except PasswordError:
        raise SheetError("文件设置了打开密码：请在Excel中取消密码后重新上传") from None
    except CalamineError:
        raise SheetError(_UNREADABLE_EXCEL) from None

    with workbook:
        if not workbook.sheet_names:
            raise SheetError(_EMPTY)
        try:
            sheet = workbook.get_sheet_by_index(_first_worksheet(workbook))
            # skip_empty_area=False keeps leading blank rows/columns so that
            # list positions equal spreadsheet rows and columns.
            return sheet.to_python(skip_empty_area=False)
        except CalamineError:
            raise SheetError(_UNREADABLE_EXCEL) from None


def _excel_table(raw_rows: list[list[Any]]) -> Table:
    """Table from calamine rows, which are rectangular and use '' for blanks.

    Rows are only copied when they must be cut to the header width, so a
    typical file costs one list.count per row on top of calamine.
    """
    header_index, headers = _find_header(raw_rows)
    width = len(headers)
    rows: list[tuple[int, list[Any]]] = []
    append = rows.append
    padding = [""] * width
    for row_number in range(header_index + 2, len(raw_rows) + 1):
        cells = raw_rows[row_number - 1]
        length = len(cells)
        if length > width:
            cells = cells[:width]
        elif length < width:
            cells = cells + padding[length:]
        if cells.count("") == width:
            continue
        append((row_number, cells))
    return Table(headers=headers, rows=rows)


def _decode_csv(data: bytes) -> str:
    """Decode CSV bytes: UTF-16 with BOM (Excel 'Unicode 文本'), UTF-8, else GB18030.

    NUL bytes never occur in real 8-bit CSV text, so their presence means a
    binary file (often an .xlsx renamed to .csv) and we stop early instead
    of producing garbage rows.
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise SheetError(_NOT_CSV) from None
    if b"\x00" in data:
        if data.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):
            raise SheetError(
                _NOT_CSV + "：内容是 Excel 文件，请把扩展名改为 .xlsx 或 .xls 后重新上传"
            )
        raise SheetError(_NOT_CSV)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        raise SheetError(
            _NOT_CSV + "：无法识别文件编码，请在Excel中另存为“CSV UTF-8”格式后重新上传"
        ) from None


def _delimiter(text: str) -> str:
    """Comma unless the first non-blank line has more tabs or semicolons.

    Excel's 'Unicode 文本' export is tab-separated and some locales use ';'.
    """
    for line in text.splitlines():
        if line.strip():
            counts = {d: line.count(d) for d in (",", "\t", ";")}
            best = max(counts, key=lambda d: counts[d])
            return best if counts[best] > counts[","] else ","
    return ","


def _csv_table(data: bytes) -> Table:
    """Table from CSV bytes; every cell is str, blanks become None."""
    if not data:
        raise SheetError(_EMPTY)
    text = _decode_csv(data)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    headers: list[str] | None = None
    width = 0
    rows: list[tuple[int, list[Any]]] = []
    append = rows.append
    try:
        for row_number, record in enumerate(reader, 1):
            if headers is None:
                candidate = [cell.strip() for cell in record]
                while candidate and not candidate[-1]:
                    candidate.pop()
                if candidate:
                    headers = candidate
                    width = len(headers)
                continue
            cells: list[Any] = [cell if cell != "" else None for cell in record]
            length = len(cells)
            if length > width:
                del cells[width:]
            elif length < width:
                cells.extend([None] * (width - length))
            if cells.count(None) == width:
                continue
            append((row_number, cells))
    except csv.Error:
        raise SheetError(_NOT_CSV) from None
    if headers is None:
        raise SheetError(_EMPTY)
    return Table(headers=headers, rows=rows)


def read_table(source: Source, filename: str, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Table:
    """Read the first worksheet (or the CSV) of an upload as a Table.

    source is a filesystem path or a binary file-like object such as a
    Django UploadedFile; filename is the name the user uploaded, used only
    for its extension (content is not sniffed to pick the format, so that
    the error message matches what the user thinks they uploaded).
    The header is the first non-blank row.  A header with no data rows
    gives a Table with empty rows; the caller decides whether that is an
    error.  Raises SheetError for unsupported, oversized, empty or
    unreadable files.
    """
    extension = _extension(filename)
    if extension in _EXCEL_EXTENSIONS:
        return _excel_table(_excel_rows(source, max_bytes))
    if extension in _CSV_EXTENSIONS:
        if isinstance(source, (str, os.PathLike)):
            size = os.path.getsize(source)
            if size > max_bytes:
                raise _too_large(size, max_bytes)
            with open(source, "rb") as handle:
                data = handle.read()
        else:
            data = _read_bytes(source, max_bytes)
        return _csv_table(data)
    shown = extension or "（无扩展名）"
    raise SheetError(f"不支持的文件类型 {shown}：请上传 .xlsx、.xls 或 .csv 文件")
