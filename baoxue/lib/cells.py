"""Conversion of raw spreadsheet cells into Python values.

Cells arrive as whatever calamine or the CSV reader produced: str, int,
float, bool, date, datetime, time, timedelta, or None/'' for blanks.  Each
function accepts all of these and raises CellError with a short Chinese
fix-it hint; the caller prefixes the location, e.g. "第5行“身份证件号”列：".
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

__all__ = [
    "CellError",
    "text",
    "identifier",
    "date_value",
    "month_value",
    "yes_no",
    "decimal_value",
]

_WHITESPACE = re.compile(r"\s+")
# '4.10105E+17', '4.10105e17', '4E+17' — what Excel shows for long numbers.
_SCIENTIFIC = re.compile(r"[0-9]+(?:\.[0-9]+)?E[+-]?[0-9]+")
# ="410105..." is a common CSV trick to stop Excel treating a number as numeric.
_FORMULA_TEXT = re.compile(r'="(.*)"')

_DATE_SEPARATED = re.compile(r"([0-9]{4})[-/.]([0-9]{1,2})[-/.]([0-9]{1,2})")
_DATE_COMPACT = re.compile(r"([0-9]{4})([0-9]{2})([0-9]{2})")
_DATE_CHINESE = re.compile(r"([0-9]{4})年([0-9]{1,2})月([0-9]{1,2})日?")
_MONTH_SEPARATED = re.compile(r"([0-9]{4})[-/.]([0-9]{1,2})")
_MONTH_COMPACT = re.compile(r"([0-9]{4})([0-9]{2})")
_MONTH_CHINESE = re.compile(r"([0-9]{4})年([0-9]{1,2})月?")
# A time part after a date, as written by CSV exports of datetime columns.
_TIME_SUFFIX = re.compile(r"(?:T|\s+)[0-9]{1,2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?$")

_YES = frozenset({"是", "Y", "YES", "TRUE", "1", "√"})
_NO = frozenset({"否", "N", "NO", "FALSE", "0", "×"})
_DISTANCE_UNITS = ("公里", "千米", "KM")

_DATE_HINT = "不是有效日期：请写成 2012-03-05"
_MONTH_HINT = "不是有效年月：请写成 2023-09"


class CellError(ValueError):
    """A cell cannot be converted; the message says how to fix it, without location."""


def _is_blank(value: Any) -> bool:
    """Blank cells are None (CSV, padding) or '' (Excel)."""
    return value is None or (isinstance(value, str) and not value.strip())


def _folded(value: str) -> str:
    """NFKC-fold (full-width digits/letters from Chinese IMEs) and drop whitespace."""
    return _WHITESPACE.sub("", unicodedata.normalize("NFKC", value))


def text(value: Any) -> str:
    """Cell as display text.

    Numbers typed into Excel come back as floats, so integral floats lose
    their '.0' (a class '3' must not become '3.0').  Dates render in ISO
    form so they read the same whatever the spreadsheet's date format.
    """
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return repr(value)
    if isinstance(value, datetime):
        if value.time() == time(0, 0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, (date, time)):
        return value.isoformat()
    return str(value).strip()


def identifier(value: Any) -> str:
    """Cell holding an ID or registry number, normalised for storage.

    Excel silently turns long numbers into floats with 15 significant
    digits, so an 18-digit ID stored as a number has already lost digits.
    Rather than guess, numeric cells are rejected with instructions to
    re-export the column as text.
    """
    if value is None:
        return ""
    if isinstance(value, bool) or isinstance(value, (int, float)):
        raise CellError(
            "是数字格式，长号码的末几位可能已丢失："
            "请在Excel中把此列设为“文本”格式后从学籍系统重新导出"
        )
    if isinstance(value, (date, time, timedelta)):
        raise CellError(
            "是日期或时间格式，不是号码："
            "请在Excel中把此列设为“文本”格式后从学籍系统重新导出"
        )
    result = _folded(str(value))
    formula = _FORMULA_TEXT.fullmatch(result)
    if formula:
        result = formula.group(1)
    # A leading apostrophe is how people force text in Excel; it is not data.
    result = result.lstrip("'").upper()
    if _SCIENTIFIC.fullmatch(result):
        raise CellError(
            "是科学计数法数字，末几位已丢失："
            "请在Excel中把此列设为“文本”格式后从学籍系统重新导出"
        )
    return result


def _make_date(year: str | int, month: str | int, day: str | int, hint: str) -> date:
    """date() with the user-facing hint instead of Python's message."""
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        raise CellError(hint) from None


def date_value(value: Any) -> date | None:
    """Cell as a date, accepting the formats teachers actually type.

    Besides real date cells: 2012-03-05, 2012/3/5, 2012.3.5, 20120305,
    2012年3月5日, a trailing time part, and 20120305 typed as a number
    (Excel keeps it as a number unless the cell is formatted as a date).
    """
    if _is_blank(value):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, bool):
        raise CellError(_DATE_HINT)
    if isinstance(value, (int, float)):
        if float(value).is_integer() and 19000101 <= value <= 99991231:
            digits = str(int(value))
            return _make_date(digits[:4], digits[4:6], digits[6:], _DATE_HINT)
        raise CellError(_DATE_HINT)
    if not isinstance(value, str):
        raise CellError(_DATE_HINT)

    # Drop a time part before removing whitespace, which separates it.
    raw = _TIME_SUFFIX.sub("", unicodedata.normalize("NFKC", value).strip())
    raw = _WHITESPACE.sub("", raw)
    for pattern in (_DATE_SEPARATED, _DATE_COMPACT, _DATE_CHINESE):
        match = pattern.fullmatch(raw)
        if match:
            return _make_date(*match.groups(), _DATE_HINT)
    raise CellError(_DATE_HINT)


def month_value(value: Any) -> date | None:
    """Cell as the first day of a month, for 入学年月 (enrolment month).

    Accepts date cells, 2023-09, 2023/9, 2023.9, 202309, 2023年9月, a full
    date, and 202309 typed as a number (here a number is a legitimate
    value, unlike identifier columns).
    """
    if _is_blank(value):
        return None
    if isinstance(value, datetime):
        return date(value.year, value.month, 1)
    if isinstance(value, date):
        return date(value.year, value.month, 1)
    if isinstance(value, bool):
        raise CellError(_MONTH_HINT)
    if isinstance(value, (int, float)):
        if not float(value).is_integer():
            # 2023.1 could mean January or October; refuse to guess.
            raise CellError(_MONTH_HINT)
        value = str(int(value))
    if not isinstance(value, str):
        raise CellError(_MONTH_HINT)

    raw = _folded(value)
    for pattern in (_MONTH_SEPARATED, _MONTH_COMPACT, _MONTH_CHINESE):
        match = pattern.fullmatch(raw)
        if match:
            year, month = match.groups()
            return _make_date(year, month, 1, _MONTH_HINT)
    try:
        full = date_value(value)
    except CellError:
        raise CellError(_MONTH_HINT) from None
    assert full is not None  # blank values returned above
    return date(full.year, full.month, 1)


def yes_no(value: Any) -> bool | None:
    """Cell as a yes/no flag (是否寄宿 etc.); blank means unknown (None)."""
    if _is_blank(value):
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        if value == 1:
            return True
        if value == 0:
            return False
        raise CellError("应填“是”或“否”")
    key = _folded(str(value)).upper()
    if key in _YES:
        return True
    if key in _NO:
        return False
    raise CellError("应填“是”或“否”")


def decimal_value(value: Any) -> Decimal | None:
    """Cell as a Decimal, e.g. a distance written '3.5', '3.5公里' or '3.5km'.

    Floats go through repr() so 3.5 stays Decimal('3.5') rather than the
    binary expansion.  Only kilometre units are stripped; other units would
    need a conversion the caller has not asked for.
    """
    if _is_blank(value):
        return None
    hint = "不是有效数字：请写成 3.5"
    if isinstance(value, bool):
        raise CellError(hint)
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        result = Decimal(repr(value))
    elif isinstance(value, str):
        raw = _folded(value).upper()
        for unit in _DISTANCE_UNITS:
            if raw.endswith(unit):
                raw = raw[: -len(unit)]
                break
        try:
            result = Decimal(raw)
        except InvalidOperation:
            raise CellError(hint) from None
    else:
        raise CellError(hint)
    if not result.is_finite():
        raise CellError(hint)
    return result
