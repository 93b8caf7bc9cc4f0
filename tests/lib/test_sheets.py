"""Tests for baoxue.lib.sheets.read_table, using real files written to tmp_path."""

import io
import os
import time
from datetime import date, datetime

import openpyxl
import pytest

from baoxue.lib.sheets import SheetError, Table, read_table

MB = 1024 * 1024
UNREADABLE = "文件无法作为 Excel 读取（可能已损坏或不是表格文件）：请从学籍系统重新导出"
EMPTY = "文件是空的：没有表头和数据行"
HEADERS = ["姓名", "身份证件号", "出生日期", "班级", "是否寄宿"]


def write_xlsx(path, rows, *, start_row=1, text_columns=()):
    """Write rows starting at start_row; text_columns get the '@' (Text) format."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for offset, values in enumerate(rows):
        for column, value in enumerate(values, 1):
            if value is None:
                continue
            cell = sheet.cell(row=start_row + offset, column=column, value=value)
            if column - 1 in text_columns:
                cell.number_format = "@"
    workbook.save(path)
    return path


@pytest.fixture
def student_xlsx(tmp_path):
    return write_xlsx(
        tmp_path / "students.xlsx",
        [
            HEADERS,
            ["张三", "11010519491231002X", date(2012, 3, 5), 3, "是"],
            ["李四", 410105200803151234, datetime(2012, 3, 6, 0, 0), 4.0, None],
            [None, None, None, None, None],
            ["王五", "410105200803151234", "2012-03-07", "三班", "否"],
        ],
        text_columns={1},
    )


def test_xlsx_from_path(student_xlsx):
    table = read_table(student_xlsx, "students.xlsx")
    assert isinstance(table, Table)
    assert table.headers == HEADERS
    assert [number for number, _ in table.rows] == [2, 3, 5]
    first = table.rows[0][1]
    assert first[0] == "张三"
    assert first[1] == "11010519491231002X"
    assert first[2] == date(2012, 3, 5)
    assert first[3] == 3
    second = table.rows[1][1]
    # Identifier typed as a number: Excel keeps only 15 significant digits.
    assert isinstance(second[1], float)
    assert second[2] == datetime(2012, 3, 6, 0, 0) or second[2] == date(2012, 3, 6)
    assert second[4] in ("", None)
    assert all(len(cells) == len(HEADERS) for _, cells in table.rows)


def test_xlsx_from_file_objects(student_xlsx):
    data = student_xlsx.read_bytes()
    expected = read_table(student_xlsx, "students.xlsx")
    assert read_table(io.BytesIO(data), "students.xlsx") == expected
    with open(student_xlsx, "rb") as handle:
        handle.read()  # already consumed, e.g. by form validation
        assert read_table(handle, "STUDENTS.XLSX") == expected


def test_windows_style_filename(student_xlsx):
    table = read_table(student_xlsx, "C:\\fakepath\\学生名单.Xlsx")
    assert table.headers == HEADERS


def test_blank_rows_before_header_are_counted(tmp_path):
    path = write_xlsx(
        tmp_path / "offset.xlsx",
        [["姓名", "学籍号"], ["张三", "G1"], [None, None], ["李四", "G2"]],
        start_row=3,
    )
    table = read_table(path, "offset.xlsx")
    assert table.headers == ["姓名", "学籍号"]
    assert table.rows == [(4, ["张三", "G1"]), (6, ["李四", "G2"])]


def test_headers_are_stripped_and_trailing_blank_headers_dropped(tmp_path):
    path = write_xlsx(
        tmp_path / "wide.xlsx",
        [[" 姓名 ", "学籍号"], ["张三", "G1", None, "stray"]],
    )
    table = read_table(path, "wide.xlsx")
    assert table.headers == ["姓名", "学籍号"]
    assert table.rows == [(2, ["张三", "G1"])]


def test_row_with_data_only_outside_headers_is_blank(tmp_path):
    path = write_xlsx(tmp_path / "x.xlsx", [["姓名"], [None, "stray"], ["张三"]])
    assert read_table(path, "x.xlsx").rows == [(3, ["张三"])]


def test_header_only_gives_no_rows(tmp_path):
    path = write_xlsx(tmp_path / "header.xlsx", [HEADERS])
    table = read_table(path, "header.xlsx")
    assert table.headers == HEADERS
    assert table.rows == []


def test_hidden_first_sheet_is_skipped(tmp_path):
    workbook = openpyxl.Workbook()
    hidden = workbook.active
    hidden.title = "下拉选项"
    hidden.append(["男", "女"])
    hidden.sheet_state = "hidden"
    visible = workbook.create_sheet("学生")
    visible.append(["姓名"])
    visible.append(["张三"])
    workbook.active = 1
    path = tmp_path / "hidden.xlsx"
    workbook.save(path)
    table = read_table(path, "hidden.xlsx")
    assert table.headers == ["姓名"]
    assert table.rows == [(2, ["张三"])]


def test_empty_worksheet(tmp_path):
    path = tmp_path / "blank.xlsx"
    openpyxl.Workbook().save(path)
    with pytest.raises(SheetError) as excinfo:
        read_table(path, "blank.xlsx")
    assert str(excinfo.value) == EMPTY


@pytest.mark.parametrize("name", ["empty.xlsx", "empty.xls", "empty.csv"])
def test_zero_byte_file(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(b"")
    with pytest.raises(SheetError) as excinfo:
        read_table(path, name)
    assert str(excinfo.value) == EMPTY
    with pytest.raises(SheetError) as excinfo:
        read_table(io.BytesIO(b""), name)
    assert str(excinfo.value) == EMPTY


def test_csv_utf8_with_bom(tmp_path):
    path = tmp_path / "utf8.csv"
    content = "姓名,身份证件号,出生日期\r\n张三,11010519491231002X,2012-03-05\r\n,,\r\n李四,,2012-03-06\r\n"
    path.write_bytes(content.encode("utf-8-sig"))
    table = read_table(path, "utf8.csv")
    assert table.headers == ["姓名", "身份证件号", "出生日期"]
    assert table.rows == [
        (2, ["张三", "11010519491231002X", "2012-03-05"]),
        (4, ["李四", None, "2012-03-06"]),
    ]


def test_csv_gbk(tmp_path):
    path = tmp_path / "gbk.csv"
    content = "姓名,民族,班级\r\n欧阳娜娜,汉族,三年级（2）班\r\n"
    path.write_bytes(content.encode("gbk"))
    table = read_table(path, "gbk.csv")
    assert table.headers == ["姓名", "民族", "班级"]
    assert table.rows == [(2, ["欧阳娜娜", "汉族", "三年级（2）班"])]


def test_csv_from_file_object_pads_and_truncates():
    content = "\n\n姓名,学籍号,备注\n张三\n李四,G2,x,extra\n\"王\n五\",G3,\n".encode("utf-8")
    table = read_table(io.BytesIO(content), "list.CSV")
    assert table.headers == ["姓名", "学籍号", "备注"]
    assert table.rows == [
        (4, ["张三", None, None]),
        (5, ["李四", "G2", "x"]),
        (6, ["王\n五", "G3", None]),
    ]


def test_csv_cells_are_strings():
    table = read_table(io.BytesIO("a,b\n 1 ,2.50\n".encode()), "n.csv")
    assert table.rows == [(2, [" 1 ", "2.50"])]


def test_utf16_tab_separated_txt():
    content = "姓名\t学籍号\r\n张三\tG1\r\n".encode("utf-16")
    table = read_table(io.BytesIO(content), "unicode.txt")
    assert table.headers == ["姓名", "学籍号"]
    assert table.rows == [(2, ["张三", "G1"])]


def test_csv_with_only_blank_lines(tmp_path):
    path = tmp_path / "blank.csv"
    path.write_bytes(b"\r\n,,\r\n  \r\n")
    with pytest.raises(SheetError) as excinfo:
        read_table(path, "blank.csv")
    assert str(excinfo.value) == EMPTY


def test_xlsx_renamed_to_csv(student_xlsx):
    with pytest.raises(SheetError) as excinfo:
        read_table(io.BytesIO(student_xlsx.read_bytes()), "students.csv")
    assert str(excinfo.value).startswith("文件不是有效的CSV文本")
    assert ".xlsx" in str(excinfo.value)


def test_random_bytes_named_xlsx(tmp_path):
    path = tmp_path / "junk.xlsx"
    path.write_bytes(os.urandom(4096))
    with pytest.raises(SheetError) as excinfo:
        read_table(path, "junk.xlsx")
    assert str(excinfo.value) == UNREADABLE


def test_truncated_xlsx(student_xlsx):
    data = student_xlsx.read_bytes()
    with pytest.raises(SheetError) as excinfo:
        read_table(io.BytesIO(data[: len(data) // 2]), "students.xlsx")
    assert str(excinfo.value) == UNREADABLE


@pytest.mark.parametrize("name", ["fake.xls", "fake.ods", "fake.xlsm"])
def test_text_named_as_other_excel_formats(name):
    with pytest.raises(SheetError) as excinfo:
        read_table(io.BytesIO("姓名,学籍号\n张三,G1\n".encode()), name)
    assert str(excinfo.value) == UNREADABLE


def test_pdf_is_unsupported(tmp_path):
    path = tmp_path / "名单.pdf"
    path.write_bytes(b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\n%%EOF\n")
    with pytest.raises(SheetError) as excinfo:
        read_table(path, "名单.PDF")
    assert str(excinfo.value) == "不支持的文件类型 .pdf：请上传 .xlsx、.xls 或 .csv 文件"


def test_missing_extension_is_unsupported():
    with pytest.raises(SheetError) as excinfo:
        read_table(io.BytesIO(b"a,b\n"), "名单")
    assert str(excinfo.value).startswith("不支持的文件类型")


@pytest.mark.parametrize("name", ["big.xlsx", "big.csv"])
def test_ten_megabytes_of_random_bytes_fails_fast(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(os.urandom(10 * MB))
    for source in (path, io.BytesIO(path.read_bytes())):
        started = time.perf_counter()
        with pytest.raises(SheetError) as excinfo:
            read_table(source, name)
        assert time.perf_counter() - started < 2.0
        if name.endswith(".xlsx"):
            assert str(excinfo.value) == UNREADABLE
        else:
            assert str(excinfo.value).startswith("文件不是有效的CSV文本")


@pytest.mark.parametrize("name", ["huge.xlsx", "huge.csv"])
def test_file_over_default_limit(tmp_path, name):
    path = tmp_path / name
    with open(path, "wb") as handle:
        handle.truncate(int(45.3 * MB))  # sparse: no 45 MB actually written
    with pytest.raises(SheetError) as excinfo:
        read_table(path, name)
    assert str(excinfo.value) == "文件过大（45.3 MB），上限为 40 MB"


def test_max_bytes_for_file_object(student_xlsx):
    data = student_xlsx.read_bytes()
    with pytest.raises(SheetError) as excinfo:
        read_table(io.BytesIO(data), "students.xlsx", max_bytes=1000)
    assert str(excinfo.value) == f"文件过大（{-(-len(data) // 1024)} KB），上限为 1 KB"
    assert read_table(io.BytesIO(data), "students.xlsx", max_bytes=len(data)).headers == HEADERS


class _Stream:
    """A non-seekable upload stream, like a raw socket body."""

    def __init__(self, data: bytes) -> None:
        self._buffer = io.BytesIO(data)

    def read(self, size: int = -1) -> bytes:
        return self._buffer.read(size)


def test_non_seekable_stream():
    assert read_table(_Stream("姓名\n张三\n".encode()), "s.csv").rows == [(2, ["张三"])]
    with pytest.raises(SheetError) as excinfo:
        read_table(_Stream(b"x" * (3 * MB)), "s.csv", max_bytes=2 * MB)
    assert str(excinfo.value) == "文件过大（3 MB），上限为 2 MB"


def test_size_just_over_limit_is_not_shown_as_equal(tmp_path):
    path = tmp_path / "edge.csv"
    with open(path, "wb") as handle:
        handle.truncate(40 * MB + 1)
    with pytest.raises(SheetError) as excinfo:
        read_table(path, "edge.csv")
    assert str(excinfo.value) == "文件过大（40.1 MB），上限为 40 MB"
