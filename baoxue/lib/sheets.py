"""Reading uploaded spreadsheets (学籍系统 exports) into a plain table.

Schools upload whatever the registry system or Excel gave them: .xlsx,
old .xls, WPS/LibreOffice .ods, or CSV saved by Chinese Excel in GBK.
Everything is reduced to one shape, a header row plus numbered data rows,
and every failure becomes a SheetError whose message tells the teacher
what to do next.

Excel files are read with python-calamine (Rust), which is an order of
magnitude faster than openpyxl; per-cell Python work is avoided so that
large files take about as long as calamine itself.

Uploads are untrusted, so reading is bounded (`ReadLimits`): the file size;
for .xlsx/.ods the zip directory (total uncompressed size, compression ratio
of each member: zip bombs); the sheet's declared dimension (`<dimension
ref=...>`) and its real one (every cell reference, scanned from the
compressed stream) before calamine builds its dense grid, then calamine's
own dimension before any row becomes Python objects; rows and columns; and
the length of each cell (longer cells are cut to `max_cell_chars`, which is
longer than any database column, so the importer still reports them as too
long without spending time on megabytes of text).  The parse itself runs in
a child process with a memory and a time limit (`baoxue.lib.sandbox`), so a
file that still breaks the reader ends in a Chinese message, never in a
crashed web worker.
"""

from __future__ import annotations

import csv
import io
import math
import os
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from python_calamine import (
    CalamineError,
    CalamineWorkbook,
    PasswordError,
    SheetTypeEnum,
    SheetVisibleEnum,
)

__all__ = ["SheetError", "Table", "ReadLimits", "read_table", "DEFAULT_MAX_BYTES"]

_MB = 1024 * 1024
# A county's 国网 export (100,000 students × 62 columns) is about 21-30 MB.
DEFAULT_MAX_BYTES = 40 * _MB
DEFAULT_MAX_ROWS = 150_000
DEFAULT_MAX_COLUMNS = 200
# Longer than any text column of the database (the longest is 300): a longer cell is cut here
# and still reported as too long by the importer.
DEFAULT_MAX_CELL_CHARS = 1000
DEFAULT_MAX_UNCOMPRESSED = 1024 * _MB
# Real sheets compress 5-20 times; 100+ is a zip bomb (deflate reaches about 1,000).
DEFAULT_MAX_RATIO = 100
# Members smaller than this are never refused for their ratio (a blank sheet compresses well).
_RATIO_MIN_SIZE = _MB
_MAX_MEMBERS = 10_000
_BATCH_ROWS = 2000

_EXCEL_EXTENSIONS = frozenset({".xlsx", ".xlsm", ".xls", ".ods"})
_CSV_EXTENSIONS = frozenset({".csv", ".txt"})

_UNREADABLE_EXCEL = "文件无法作为 Excel 读取（可能已损坏或不是表格文件）：请从学籍系统重新导出"
_EMPTY = "文件是空的：没有表头和数据行"
_NOT_CSV = "文件不是有效的CSV文本"

Source = str | os.PathLike[str] | BinaryIO


class SheetError(ValueError):
    """The upload cannot be read as a table; str(error) is a Chinese message."""


@dataclass(frozen=True)
class ReadLimits:
    """What an upload may hold. `from_settings` reads the IMPORT_MAX_* settings."""

    max_bytes: int = DEFAULT_MAX_BYTES
    max_rows: int = DEFAULT_MAX_ROWS
    max_columns: int = DEFAULT_MAX_COLUMNS
    max_cell_chars: int = DEFAULT_MAX_CELL_CHARS
    max_uncompressed: int = DEFAULT_MAX_UNCOMPRESSED
    max_ratio: int = DEFAULT_MAX_RATIO

    @classmethod
    def from_settings(cls, **overrides: Any) -> "ReadLimits":
        values = {}
        try:
            from django.conf import settings

            if settings.configured:
                values = {
                    "max_bytes": getattr(settings, "IMPORT_MAX_BYTES", DEFAULT_MAX_BYTES),
                    "max_rows": getattr(settings, "IMPORT_MAX_ROWS", DEFAULT_MAX_ROWS),
                    "max_columns": getattr(settings, "IMPORT_MAX_COLUMNS", DEFAULT_MAX_COLUMNS),
                    "max_uncompressed": getattr(settings, "IMPORT_MAX_UNCOMPRESSED_MB", 1024) * _MB,
                    "max_ratio": getattr(settings, "IMPORT_MAX_ZIP_RATIO", DEFAULT_MAX_RATIO),
                }
        except ImportError:  # pragma: no cover - used without Django
            pass
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)


def _isolation() -> tuple[bool, int | None, float | None]:
    """(isolate?, memory MB, seconds) from the settings; isolated by default."""
    try:
        from django.conf import settings

        if settings.configured:
            return (bool(getattr(settings, "IMPORT_ISOLATED", True)),
                    getattr(settings, "IMPORT_MAX_MEMORY_MB", 2048), getattr(settings, "IMPORT_MAX_SECONDS", 120))
    except ImportError:  # pragma: no cover
        pass
    return True, 2048, 120


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


# ---------------------------------------------------------------- bounds of .xlsx/.ods files

_DIMENSION = re.compile(rb'<(?:\w+:)?dimension\s+ref="([A-Za-z$0-9:]+)"')
_REF = re.compile(r"\$?([A-Za-z]{1,4})\$?([0-9]{1,8})$")
_WORKSHEET_MEMBER = re.compile(r"xl/worksheets/[^/]+\.xml$", re.IGNORECASE)
_WORKSHEET_TARGET = re.compile(rb'<Relationship\b[^>]*?Type="[^"]*/worksheet"[^>]*>')
_TARGET = re.compile(rb'Target="([^"]+)"')


def _column_letters(number: int) -> str:
    letters = ""
    while number:
        number, remainder = divmod(number - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def _column_number(letters: str) -> int:
    number = 0
    for ch in letters.upper():
        number = number * 26 + ord(ch) - 64
    return number


def _greater_digits(limit: int) -> str:
    """Regex for decimal numbers (no leading zero) greater than limit."""
    text = str(limit)
    size = len(text)
    alternatives = [f"[1-9][0-9]{{{size},}}"]
    for i, ch in enumerate(text):
        if ch != "9":
            rest = size - i - 1
            alternatives.append(re.escape(text[:i]) + f"[{int(ch) + 1}-9]" + (f"[0-9]{{{rest}}}" if rest else ""))
    return "(?:" + "|".join(alternatives) + ")"


def _greater_letters(limit: int) -> str:
    """Regex for column letters after the limit-th column (A=1)."""
    text = _column_letters(limit)
    size = len(text)
    alternatives = [f"[A-Z]{{{size + 1},}}"]
    for i, ch in enumerate(text):
        if ch != "Z":
            rest = size - i - 1
            alternatives.append(re.escape(text[:i]) + f"[{chr(ord(ch) + 1)}-Z]" + (f"[A-Z]{{{rest}}}" if rest else ""))
    return "(?:" + "|".join(alternatives) + ")"


def _offending_cells(limits: ReadLimits) -> tuple[re.Pattern[bytes], re.Pattern[bytes]]:
    """Two searches for cell references past the limits: one for rows, one for columns.

    Two simple patterns scan faster than one alternation. Only cell references (letters then
    digits) count: a formatted empty `<row r="1048576">` does not enlarge calamine's grid.
    """
    rows = re.compile(('r="[A-Z]{1,3}' + _greater_digits(limits.max_rows) + '"').encode())
    columns = re.compile(('r="' + _greater_letters(limits.max_columns) + "[0-9]").encode())
    return rows, columns


def _too_wide(where: str, rows: int, columns: int, limits: ReadLimits) -> SheetError:
    return SheetError(
        f"表格的范围过大：{where}（{rows} 行 × {columns} 列），上限为 {limits.max_rows} 行 × "
        f"{limits.max_columns} 列。请只把有数据的区域复制到新的工作表，另存为标准的 .xlsx 后重试"
    )


def _ref_size(ref: str) -> tuple[int, int] | None:
    """(rows, columns) a reference such as 'A1:XFD1048576' or 'B2' reaches."""
    match = _REF.match(ref.split(":")[-1])
    if not match:
        return None
    return int(match.group(2)), _column_number(match.group(1))


def _worksheet_members(archive: zipfile.ZipFile) -> list[zipfile.ZipInfo]:
    """Worksheet parts: those under xl/worksheets/ and those the workbook's relations name."""
    names = {info.filename for info in archive.infolist() if _WORKSHEET_MEMBER.match(info.filename)}
    try:
        rels = archive.getinfo("xl/_rels/workbook.xml.rels")
        if rels.file_size <= _MB:
            for element in _WORKSHEET_TARGET.findall(archive.read(rels)):
                target = _TARGET.search(element)
                if target:
                    path = target.group(1).decode("utf-8", "replace")
                    names.add(path.lstrip("/") if path.startswith("/") else os.path.normpath("xl/" + path))
    except KeyError:
        pass
    members = []
    for name in sorted(names):
        try:
            members.append(archive.getinfo(name))
        except KeyError:
            continue
    return members


def _check_sheet_xml(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limits: ReadLimits) -> None:
    """Declared dimension, then every cell reference, streamed from the compressed member."""
    rows_past, columns_past = _offending_cells(limits)
    with archive.open(info) as stream:
        buffer = stream.read(64 * 1024)
        declared = _DIMENSION.search(buffer)
        if declared:
            ref = declared.group(1).decode("ascii", "replace")
            size = _ref_size(ref)
            if size and (size[0] > limits.max_rows or size[1] > limits.max_columns):
                raise _too_wide(f"工作表声明的范围是 {ref}", size[0], size[1], limits)
        while True:
            found = rows_past.search(buffer) or columns_past.search(buffer)
            if found:
                ref = buffer[found.start() + 3:found.end()].decode("ascii", "replace").strip('"')
                match = re.match(r"[A-Z]+[0-9]*", ref)
                cell = match.group(0) if match else ref
                letters = re.match(r"[A-Z]+", cell)
                digits = re.search(r"[0-9]+", cell)
                raise _too_wide(f"单元格 {cell} 超出范围", int(digits.group(0)) if digits else 0,
                                _column_number(letters.group(0)) if letters else 0, limits)
            chunk = stream.read(_MB)
            if not chunk:
                return
            buffer = buffer[-32:] + chunk


def _check_zip(source: str | bytes, extension: str, limits: ReadLimits) -> None:
    """Refuse zip bombs and over-large sheets from the zip directory, before calamine opens it.

    A file that is not a zip at all is left to calamine, which gives its own message.
    """
    try:
        archive = zipfile.ZipFile(source if isinstance(source, str) else io.BytesIO(source))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        return
    with archive:
        infos = archive.infolist()
        if len(infos) > _MAX_MEMBERS:
            raise SheetError(f"文件中有 {len(infos)} 个部件，不像是表格文件：请另存为标准的 .xlsx 后重试")
        total = sum(info.file_size for info in infos)
        if total > limits.max_uncompressed:
            raise SheetError(
                f"文件解压后过大（{_format_size(total)}），上限为 {_format_size(limits.max_uncompressed)}："
                "可能是恶意构造的压缩文件，或不是学籍系统导出的表格。请另存为标准的 .xlsx 后重试"
            )
        for info in infos:
            if info.file_size > _RATIO_MIN_SIZE and info.file_size > limits.max_ratio * max(info.compress_size, 1):
                ratio = info.file_size // max(info.compress_size, 1)
                raise SheetError(
                    f"文件中的部件“{info.filename}”压缩比异常（{ratio} 倍，上限 {limits.max_ratio} 倍）："
                    "可能是恶意构造的压缩文件（“zip 炸弹”），已拒绝。请另存为标准的 .xlsx 后重试"
                )
        if extension in (".xlsx", ".xlsm"):
            try:
                for info in _worksheet_members(archive):
                    _check_sheet_xml(archive, info, limits)
            except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, RuntimeError, NotImplementedError):
                # Bad CRC, unsupported compression, encryption: calamine cannot read it either.
                raise SheetError(_UNREADABLE_EXCEL) from None


def _excel_raw_rows(source: str | bytes, extension: str, limits: ReadLimits) -> Iterator[list[Any]]:
    """Rows of the first visible worksheet, from spreadsheet row 1 and column A."""
    if extension in (".xlsx", ".xlsm", ".ods"):
        _check_zip(source, extension, limits)
    try:
        if isinstance(source, str):
            workbook = CalamineWorkbook.from_path(source)
        else:
            workbook = CalamineWorkbook.from_filelike(io.BytesIO(source))
    except PasswordError:
        raise SheetError("文件设置了打开密码：请在Excel中取消密码后重新上传") from None
    except CalamineError:
        raise SheetError(_UNREADABLE_EXCEL) from None

    with workbook:
        if not workbook.sheet_names:
            raise SheetError(_EMPTY)
        try:
            sheet = workbook.get_sheet_by_index(_first_worksheet(workbook))
        except CalamineError:
            raise SheetError(_UNREADABLE_EXCEL) from None
        start, end = sheet.start, sheet.end
        if start is None or end is None:
            raise SheetError(_EMPTY)
        rows, columns = end[0] + 1, end[1] + 1
        if rows > limits.max_rows or columns > limits.max_columns:
            raise _too_wide(f"最后一个单元格是 {_column_letters(columns)}{rows}", rows, columns, limits)
        # iter_rows starts at row 1 but at the first used column: pad so that list positions
        # equal spreadsheet columns, as the header matching and row messages expect.
        padding = [""] * start[1]
        try:
            if padding:
                for cells in sheet.iter_rows():
                    yield padding + cells
            else:
                yield from sheet.iter_rows()
        except CalamineError:
            raise SheetError(_UNREADABLE_EXCEL) from None


def _capped(cells: list[Any], cap: int) -> list[Any]:
    """Cells longer than cap characters cut to cap (the importer reports them as too long)."""
    try:
        if max(map(len, cells), default=0) <= cap:
            return cells
    except TypeError:  # numbers, dates: look at the texts only
        for cell in cells:
            if cell.__class__ is str and len(cell) > cap:
                break
        else:
            return cells
    return [cell[:cap] if cell.__class__ is str and len(cell) > cap else cell for cell in cells]


def _table_stream(raw_rows: Iterator[list[Any]], blank: Any, limits: ReadLimits) -> Iterator[Any]:
    """Headers first, then batches of (row_number, cells) with exactly len(headers) cells.

    The header is the first row with any non-blank text; trailing blank header columns are
    dropped (data under a column without a header has no meaning). Fully blank rows are left
    out. Rows are only copied when they must be cut, padded or have an over-long cell.
    """
    cap = limits.max_cell_chars
    headers: list[str] | None = None
    width = 0
    padding: list[Any] = []
    batch: list[tuple[int, list[Any]]] = []
    append = batch.append
    for row_number, cells in enumerate(raw_rows, 1):
        if row_number > limits.max_rows:
            raise SheetError(f"表格超过 {limits.max_rows} 行：请分成几个文件上传，或删除多余的空白行后重试")
        if headers is None:
            candidate = [_header_text(cell)[:cap] for cell in cells[:limits.max_columns + 1]]
            while candidate and not candidate[-1]:
                candidate.pop()
            if candidate:
                if len(candidate) > limits.max_columns:
                    raise _too_wide("表头超出范围", row_number, len(cells), limits)
                headers = candidate
                width = len(headers)
                padding = [blank] * width
                yield headers
            continue
        length = len(cells)
        if length > width:
            cells = cells[:width]
        elif length < width:
            cells = cells + padding[length:]
        if cells.count(blank) == width:
            continue
        append((row_number, _capped(cells, cap)))
        if len(batch) >= _BATCH_ROWS:
            yield batch
            batch = []
            append = batch.append
    if headers is None:
        raise SheetError(_EMPTY)
    if batch:
        yield batch


def _excel_stream(source: str | bytes, extension: str, limits: ReadLimits) -> Iterator[Any]:
    return _table_stream(_excel_raw_rows(source, extension, limits), "", limits)



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


def _csv_records(text: str, limits: ReadLimits) -> Iterator[list[Any]]:
    """CSV records with blanks as None; a field longer than the file allows is a clear error."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    try:
        for record in reader:
            yield [cell if cell != "" else None for cell in record]
    except csv.Error as error:
        if "field larger than field limit" in str(error):
            raise SheetError(f"第{reader.line_num}行有一格内容过长：请核对是否把几列内容填在了一格里") from None
        raise SheetError(_NOT_CSV) from None


def _csv_stream(source: str | bytes, limits: ReadLimits) -> Iterator[Any]:
    """Table stream from CSV bytes (or a path); every cell is str, blanks become None."""
    if isinstance(source, str):
        with open(source, "rb") as handle:
            source = handle.read(limits.max_bytes + 1)
    if not source:
        raise SheetError(_EMPTY)
    text = _decode_csv(source)
    if csv.field_size_limit() < limits.max_bytes:
        # Over-long cells are cut and reported per cell; the file size bounds them already.
        csv.field_size_limit(limits.max_bytes)
    return _table_stream(_csv_records(text, limits), None, limits)


def _parse(source: str | bytes, extension: str, limits: ReadLimits) -> Iterator[Any]:
    """The whole untrusted part of reading: headers, then batches of rows (see _table_stream).

    Runs in the child process of `baoxue.lib.sandbox` (or in process when isolation is off).
    """
    if extension in _CSV_EXTENSIONS:
        yield from _csv_stream(source, limits)
    else:
        yield from _excel_stream(source, extension, limits)


def _payload(source: Source, extension: str, limits: ReadLimits) -> str | bytes:
    """What the child reads: a path (size checked here) or the bytes of a file object."""
    path = None
    if isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
    elif callable(getattr(source, "temporary_file_path", None)):
        path = source.temporary_file_path()  # Django's TemporaryUploadedFile: no copy
    if path is not None:
        size = os.path.getsize(path)
        if size > limits.max_bytes:
            raise _too_large(size, limits.max_bytes)
        if size == 0:
            raise SheetError(_EMPTY)
        return str(path)
    data = _read_bytes(source, limits.max_bytes)
    if not data:
        raise SheetError(_EMPTY)
    return data


def read_table(source: Source, filename: str, *, max_bytes: int | None = None,
               limits: ReadLimits | None = None, isolated: bool | None = None, stats: dict | None = None) -> Table:
    """Read the first worksheet (or the CSV) of an upload as a Table.

    source is a filesystem path or a binary file-like object such as a
    Django UploadedFile; filename is the name the user uploaded, used only
    for its extension (content is not sniffed to pick the format, so that
    the error message matches what the user thinks they uploaded).
    The header is the first non-blank row.  A header with no data rows
    gives a Table with empty rows; the caller decides whether that is an
    error.  Raises SheetError for unsupported, oversized, empty or
    unreadable files.

    Limits default to the IMPORT_MAX_* settings (max_bytes overrides one of them). The parse
    runs in a limited child process unless isolated is False or IMPORT_ISOLATED is off; stats,
    when given, receives the child's peak memory (see `baoxue.lib.sandbox.run_isolated`).
    """
    extension = _extension(filename)
    if extension not in _EXCEL_EXTENSIONS and extension not in _CSV_EXTENSIONS:
        shown = extension or "（无扩展名）"
        raise SheetError(f"不支持的文件类型 {shown}：请上传 .xlsx、.xls 或 .csv 文件")
    if limits is None:
        limits = ReadLimits.from_settings(max_bytes=max_bytes)
    elif max_bytes is not None:
        limits = ReadLimits(**{**limits.__dict__, "max_bytes": max_bytes})
    payload = _payload(source, extension, limits)
    isolate, memory_mb, seconds = _isolation()
    if isolated is not None:
        isolate = isolated
    if isolate:
        from baoxue.lib.sandbox import SandboxError, run_isolated

        stream = run_isolated(_parse, payload, extension, limits, memory_mb=memory_mb, seconds=seconds,
                              expected=(SheetError,), stats=stats)
    else:
        SandboxError = SheetError  # noqa: N806 - nothing else to catch in process
        stream = _parse(payload, extension, limits)
    try:
        headers = next(stream, None)
        if headers is None:
            raise SheetError(_EMPTY)
        rows: list[tuple[int, list[Any]]] = []
        for batch in stream:
            rows.extend(batch)
    except SandboxError as error:
        raise SheetError(str(error)) from None
    finally:
        close = getattr(stream, "close", None)
        if close:
            close()
    return Table(headers=headers, rows=rows)

