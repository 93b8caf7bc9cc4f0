"""Bounded input: hostile spreadsheets are refused with a Chinese message, in bounded memory and
time, and a reader that still breaks ends in a message, never in a dead process."""

import io
import resource
import time
import zipfile

import openpyxl
import pytest

from baoxue.lib import sandbox
from baoxue.lib.sandbox import SandboxError, run_isolated
from baoxue.lib.sheets import ReadLimits, SheetError, read_table

MB = 1024 * 1024
HINT = "请另存为标准的 .xlsx 后重试"

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    "</Types>")
_RELS = ('<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
         '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
         'Target="xl/workbook.xml"/></Relationships>')
_WORKBOOK = ('<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
             'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>'
             '<sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>')
_WORKBOOK_RELS = ('<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                  '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
                  'Target="worksheets/sheet1.xml"/></Relationships>')
_SHEET_HEAD = ('<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
               '<dimension ref="{dimension}"/><sheetData>')


def _cell(ref, text):
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


def write_xlsx_by_hand(path, sheet_xml):
    """A minimal .xlsx written with zipfile: sheet_xml is the whole of xl/worksheets/sheet1.xml,
    a str or an iterable of bytes chunks (streamed, so a huge member never sits in memory)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        archive.writestr("_rels/.rels", _RELS)
        archive.writestr("xl/workbook.xml", _WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        if isinstance(sheet_xml, str):
            archive.writestr("xl/worksheets/sheet1.xml", sheet_xml)
        else:
            with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as member:
                for chunk in sheet_xml:
                    member.write(chunk)
    return path


def sparse_sheet(dimension="A1:XFD1048576"):
    return (_SHEET_HEAD.format(dimension=dimension)
            + '<row r="1">' + _cell("A1", "姓名") + "</row>"
            + '<row r="1048576">' + _cell("XFD1048576", "x") + "</row></sheetData></worksheet>")


def peak_mb(who=resource.RUSAGE_SELF):
    return resource.getrusage(who).ru_maxrss / 1024


# ---------------------------------------------------------------- dimensions

def test_the_sparse_xfd1048576_sheet_is_refused_by_its_declared_dimension(tmp_path):
    path = write_xlsx_by_hand(tmp_path / "sparse.xlsx", sparse_sheet())
    with pytest.raises(SheetError) as excinfo:
        read_table(path, "sparse.xlsx")
    message = str(excinfo.value)
    assert "范围过大" in message and "A1:XFD1048576" in message and "1048576 行 × 16384 列" in message
    assert "另存为标准的 .xlsx" in message


def test_a_sheet_that_lies_about_its_dimension_is_refused_by_its_cells(tmp_path):
    path = write_xlsx_by_hand(tmp_path / "liar.xlsx", sparse_sheet(dimension="A1"))
    with pytest.raises(SheetError) as excinfo:
        read_table(path, "liar.xlsx")
    assert "单元格 XFD1048576 超出范围" in str(excinfo.value)


def test_a_cell_just_past_the_column_limit_is_refused(tmp_path):
    sheet = (_SHEET_HEAD.format(dimension="A1") + '<row r="1">' + _cell("A1", "姓名") + _cell("D1", "x")
             + "</row></sheetData></worksheet>")
    path = write_xlsx_by_hand(tmp_path / "wide.xlsx", sheet)
    with pytest.raises(SheetError) as excinfo:
        read_table(path, "wide.xlsx", limits=ReadLimits(max_columns=3))
    assert "单元格 D1 超出范围" in str(excinfo.value)
    assert read_table(path, "wide.xlsx", limits=ReadLimits(max_columns=4)).headers == ["姓名", "", "", "x"]


def test_when_every_check_is_lifted_the_crash_in_the_reader_is_a_message(tmp_path):
    """The checks off, calamine aborts (exit 134 in process): in the child it is a message."""
    path = write_xlsx_by_hand(tmp_path / "sparse.xlsx", sparse_sheet(dimension="A1"))
    limits = ReadLimits(max_rows=10_000_000, max_columns=100_000)
    with pytest.raises(SheetError) as excinfo:
        read_table(path, "sparse.xlsx", limits=limits)
    message = str(excinfo.value)
    assert message.startswith("文件无法读取：") and message.endswith(HINT)
    assert read_table(io.BytesIO(b"\xe5\xa7\x93\xe5\x90\x8d\n\xe5\xbc\xa0\xe4\xb8\x89\n"), "a.csv").rows == [(2, ["张三"])]


def test_rows_past_the_limit_are_refused(tmp_path):
    path = tmp_path / "long.csv"
    path.write_text("姓名\n" + "张三\n" * 20, encoding="utf-8")
    with pytest.raises(SheetError) as excinfo:
        read_table(path, "long.csv", limits=ReadLimits(max_rows=10))
    assert "超过 10 行" in str(excinfo.value)
    wb = openpyxl.Workbook()
    for i in range(20):
        wb.active.append([f"张{i}"])
    wb.save(tmp_path / "long.xlsx")
    with pytest.raises(SheetError) as excinfo:
        read_table(tmp_path / "long.xlsx", "long.xlsx", limits=ReadLimits(max_rows=10))
    assert "范围过大" in str(excinfo.value)


# ---------------------------------------------------------------- zip bombs

def _repeated(total, chunk=b"<row/>" * 10922):
    written = 0
    while written < total:
        part = chunk[: total - written]
        written += len(part)
        yield part


@pytest.mark.parametrize("isolated", [True, False])
def test_a_1_gb_zip_bomb_is_refused_in_bounded_memory(tmp_path, isolated):
    path = tmp_path / "bomb.xlsx"

    def sheet():
        yield _SHEET_HEAD.format(dimension="A1").encode()
        yield from _repeated(1024 * MB)

    write_xlsx_by_hand(path, sheet())
    assert path.stat().st_size < 5 * MB
    stats = {}
    started = time.monotonic()
    with pytest.raises(SheetError) as excinfo:
        read_table(path, "bomb.xlsx", isolated=isolated, stats=stats)
    assert time.monotonic() - started < 60  # refused from the zip directory, not after inflating it
    message = str(excinfo.value)
    assert "文件解压后过大" in message or "压缩比异常" in message
    assert message.endswith(HINT)
    assert peak_mb() < 500
    assert peak_mb(resource.RUSAGE_CHILDREN) < 500
    if isolated:  # the child is the fork server's: it reports its own peak
        assert 0 < stats["child_peak_mb"] < 500


def test_a_compression_ratio_past_the_limit_is_refused(tmp_path):
    path = write_xlsx_by_hand(tmp_path / "ratio.xlsx", (c for c in [_SHEET_HEAD.format(dimension="A1").encode(),
                                                                      *_repeated(20 * MB)]))
    with pytest.raises(SheetError) as excinfo:
        read_table(path, "ratio.xlsx")
    assert "压缩比异常" in str(excinfo.value) and "“xl/worksheets/sheet1.xml”" in str(excinfo.value)


def test_a_real_export_is_not_a_zip_bomb(tmp_path):
    wb = openpyxl.Workbook()
    wb.active.append(["姓名", "现住址"])
    for i in range(3000):
        wb.active.append([f"学生{i}", "河南省示范县城关镇东关社区"])
    wb.save(tmp_path / "ok.xlsx")
    assert len(read_table(tmp_path / "ok.xlsx", "ok.xlsx").rows) == 3000


# ---------------------------------------------------------------- cells

def test_a_1_mb_cell_is_cut_when_read(tmp_path):
    name = "张" * MB
    for filename in ("big.csv", "big.xlsx"):
        path = tmp_path / filename
        if filename.endswith(".csv"):
            path.write_text(f"姓名,性别\n{name},男\n", encoding="utf-8")
        else:
            wb = openpyxl.Workbook(write_only=True)
            ws = wb.create_sheet()
            ws.append(["姓名", "性别"])
            ws.append([name[:32767], "男"])  # Excel's own limit per cell
            wb.save(path)
        started = time.monotonic()
        table = read_table(path, filename)
        assert time.monotonic() - started < 60  # a guard against minutes, not a measurement
        ((row, (cell, sex)),) = table.rows
        assert row == 2 and sex == "男" and len(cell) == 1000


def test_isolated_and_in_process_reads_agree(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws["C3"], ws["D3"], ws["C5"], ws["D6"] = "姓名", "班级", "张三", 3
    wb.save(tmp_path / "offset.xlsx")
    isolated = read_table(tmp_path / "offset.xlsx", "offset.xlsx", isolated=True)
    in_process = read_table(tmp_path / "offset.xlsx", "offset.xlsx", isolated=False)
    assert isolated == in_process
    assert isolated.headers == ["", "", "姓名", "班级"]
    assert isolated.rows == [(5, ["", "", "张三", ""]), (6, ["", "", "", 3])]


# ---------------------------------------------------------------- the child process

def test_an_abort_in_the_child_is_a_message_and_this_process_lives_on():
    values = []
    with pytest.raises(SandboxError) as excinfo:
        for value in run_isolated(sandbox._hook_abort, memory_mb=512, seconds=30):
            values.append(value)
    assert values == ["before"]
    assert str(excinfo.value).startswith("文件无法读取：读取程序异常退出") and str(excinfo.value).endswith(HINT)
    assert list(run_isolated(sandbox._hook_values, 1, "二", [3])) == [1, "二", [3]]


def test_the_memory_limit_is_a_message():
    with pytest.raises(SandboxError) as excinfo:
        list(run_isolated(sandbox._hook_allocate, 1024, memory_mb=300, seconds=60))
    assert "内存超过 300 MB" in str(excinfo.value) and str(excinfo.value).endswith(HINT)
    assert peak_mb() < 500


def test_the_time_limit_kills_the_child():
    started = time.monotonic()
    with pytest.raises(SandboxError) as excinfo:
        list(run_isolated(sandbox._hook_sleep, 60, seconds=1))
    assert time.monotonic() - started < 45  # killed, not left to sleep its 60 s
    assert "读取超过 1 秒" in str(excinfo.value)


def test_expected_errors_keep_their_message_and_others_are_hidden(caplog):
    with pytest.raises(ValueError) as excinfo:
        list(run_isolated(sandbox._hook_raise, "value", expected=(ValueError,)))
    assert str(excinfo.value) == "一条中文说明" and not isinstance(excinfo.value, SandboxError)
    with pytest.raises(SandboxError) as excinfo:
        list(run_isolated(sandbox._hook_raise, "other", expected=(ValueError,)))
    assert str(excinfo.value) == f"文件无法读取：读取程序出错。{HINT}"
    assert "RuntimeError: unexpected" in caplog.text


def test_stopping_early_ends_the_child():
    stream = run_isolated(sandbox._hook_sleep, 60, seconds=120)
    assert next(stream) == "before"
    started = time.monotonic()
    stream.close()
    assert time.monotonic() - started < 45  # ended, not left to sleep its 60 s


def test_the_settings_give_the_limits(settings):
    settings.IMPORT_MAX_BYTES = 3 * MB
    settings.IMPORT_MAX_ROWS = 7
    limits = ReadLimits.from_settings()
    assert (limits.max_bytes, limits.max_rows) == (3 * MB, 7)
    assert ReadLimits.from_settings(max_bytes=10).max_bytes == 10
    with pytest.raises(SheetError) as excinfo:
        read_table(io.BytesIO(b"x" * (4 * MB)), "a.csv")
    assert str(excinfo.value) == "文件过大（4 MB），上限为 3 MB"
