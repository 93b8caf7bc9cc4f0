"""Tests for baoxue.lib.cells (raw cell conversion)."""

from datetime import date, datetime, time
from decimal import Decimal

import pytest

from baoxue.lib.cells import (
    CellError,
    date_value,
    decimal_value,
    identifier,
    month_value,
    text,
    yes_no,
)


@pytest.mark.parametrize(
    "value, expected",
    [
        (None, ""),
        ("  张三 ", "张三"),
        ("", ""),
        (3, "3"),
        (3.0, "3"),
        (3.5, "3.5"),
        (True, "是"),
        (False, "否"),
        (date(2012, 3, 5), "2012-03-05"),
        (datetime(2012, 3, 5), "2012-03-05"),
        (datetime(2012, 3, 5, 8, 30), "2012-03-05 08:30:00"),
        (time(8, 30), "08:30:00"),
    ],
)
def test_text(value, expected):
    assert text(value) == expected


@pytest.mark.parametrize(
    "value, expected",
    [
        (None, ""),
        ("", ""),
        (" 11010519491231002x ", "11010519491231002X"),
        ("１１０１０５１９４９１２３１００２Ｘ", "11010519491231002X"),
        ("g410105200803151234", "G410105200803151234"),
        ("'410105200803151234", "410105200803151234"),
        ('="410105200803151234"', "410105200803151234"),
        ("\t410105200803151234", "410105200803151234"),
    ],
)
def test_identifier(value, expected):
    assert identifier(value) == expected


@pytest.mark.parametrize("value", ["4.10105E+17", "4.10105e+17", "4.10105200803151E+17", "4E17"])
def test_identifier_scientific_notation(value):
    with pytest.raises(CellError) as excinfo:
        identifier(value)
    assert str(excinfo.value).startswith("是科学计数法数字，末几位已丢失")
    assert "文本" in str(excinfo.value)


@pytest.mark.parametrize("value", [410105200803151234, 4.101052008031512e17, 12.0, 0])
def test_identifier_numeric_cell(value):
    with pytest.raises(CellError) as excinfo:
        identifier(value)
    assert str(excinfo.value) == (
        "是数字格式，长号码的末几位可能已丢失：请在Excel中把此列设为“文本”格式后从学籍系统重新导出"
    )


def test_identifier_date_cell():
    with pytest.raises(CellError):
        identifier(date(2012, 3, 5))


@pytest.mark.parametrize(
    "value",
    [
        date(2012, 3, 5),
        datetime(2012, 3, 5, 10, 0),
        "2012-03-05",
        "2012-3-5",
        "2012/3/5",
        "2012/03/05",
        "2012.3.5",
        "20120305",
        "2012年3月5日",
        "2012年03月05日",
        " 2012-03-05 ",
        "２０１２-０３-０５",
        "2012-03-05 00:00:00",
        "2012-03-05T10:20",
        "2012/3/5 0:00",
        20120305,
        20120305.0,
    ],
)
def test_date_value_accepts(value):
    assert date_value(value) == date(2012, 3, 5)


@pytest.mark.parametrize("value", [None, "", "  "])
def test_date_value_blank(value):
    assert date_value(value) is None


@pytest.mark.parametrize(
    "value", ["2012-02-30", "2012-13-01", "05/03/2012", "明年", "2012", 41000, 3.5, True, time(8, 0)]
)
def test_date_value_rejects(value):
    with pytest.raises(CellError) as excinfo:
        date_value(value)
    assert str(excinfo.value) == "不是有效日期：请写成 2012-03-05"


@pytest.mark.parametrize(
    "value",
    [
        date(2023, 9, 1),
        date(2023, 9, 15),
        datetime(2023, 9, 15, 8, 0),
        "2023-09",
        "2023-9",
        "2023/09",
        "2023.9",
        "202309",
        "2023年9月",
        "2023年09月",
        "2023-09-01",
        "2023-09-15",
        "2023年9月1日",
        202309,
        202309.0,
        20230901,
    ],
)
def test_month_value_accepts(value):
    assert month_value(value) == date(2023, 9, 1)


@pytest.mark.parametrize("value", [None, ""])
def test_month_value_blank(value):
    assert month_value(value) is None


@pytest.mark.parametrize("value", ["2023-13", "202313", "2023", "九月", 2023.1, True, "2023-02-30"])
def test_month_value_rejects(value):
    with pytest.raises(CellError) as excinfo:
        month_value(value)
    assert str(excinfo.value) == "不是有效年月：请写成 2023-09"


@pytest.mark.parametrize(
    "value, expected",
    [
        ("是", True),
        ("否", False),
        ("Y", True),
        ("n", False),
        ("1", True),
        ("0", False),
        (True, True),
        (False, False),
        (1, True),
        (0.0, False),
        (" 是 ", True),
        ("", None),
        (None, None),
    ],
)
def test_yes_no(value, expected):
    assert yes_no(value) is expected


@pytest.mark.parametrize("value", ["可能", "2", 2, "是的吧"])
def test_yes_no_rejects(value):
    with pytest.raises(CellError) as excinfo:
        yes_no(value)
    assert str(excinfo.value) == "应填“是”或“否”"


@pytest.mark.parametrize(
    "value, expected",
    [
        ("3.5", Decimal("3.5")),
        ("3.5公里", Decimal("3.5")),
        ("3.5km", Decimal("3.5")),
        ("3.5 KM", Decimal("3.5")),
        ("3.5千米", Decimal("3.5")),
        ("３.５", Decimal("3.5")),
        (3.5, Decimal("3.5")),
        (0.1, Decimal("0.1")),
        (3, Decimal("3")),
        ("", None),
        (None, None),
    ],
)
def test_decimal_value(value, expected):
    assert decimal_value(value) == expected


@pytest.mark.parametrize("value", ["三公里", "abc", "NaN", "Infinity", True, date(2020, 1, 1)])
def test_decimal_value_rejects(value):
    with pytest.raises(CellError):
        decimal_value(value)


def test_cell_error_is_value_error():
    assert issubclass(CellError, ValueError)
