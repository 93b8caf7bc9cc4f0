"""China resident identity card numbers (居民身份证号码, GB 11643-1999).

Schools type ID numbers by hand or copy them out of spreadsheets, so most
errors we see are typos, lost digits (Excel number formatting) and the
wrong person's number pasted into a row.  The checks here catch those
before they reach the database, and every error message is written for
the teacher who has to fix the spreadsheet, not for a developer.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime

__all__ = [
    "IdNumberError",
    "IdInfo",
    "check_digit",
    "parse_resident_id",
    "check_resident_id",
    "normalise_id",
    "make_resident_id",
    "mask_id",
    "mask_phone",
]

# Weights for the first 17 digits, from GB 11643 (2^(18-i) mod 11).
_WEIGHTS: tuple[int, ...] = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
# Check character indexed by (weighted sum mod 11).
_CHECK_CHARS = "10X98765432"

_SEX_NAMES = {"M": "男", "F": "女"}
# Callers may hold sex either as a code or as the Chinese word.
_SEX_CODES = {"M": "M", "F": "F", "男": "M", "女": "F"}

_WHITESPACE = re.compile(r"\s+")
_SHAPE = re.compile(r"[0-9]{17}[0-9X]")
_BAD_CHAR = re.compile(r"[^0-9X]")

_EARLIEST_BIRTH = date(1900, 1, 1)


class IdNumberError(ValueError):
    """An ID number is malformed; str(error) is a Chinese message for a person."""


@dataclass(frozen=True)
class IdInfo:
    """What an ID number tells us about its holder.

    region is the 6-digit administrative code of the place of first
    registration (not necessarily where the student lives now); sex is
    'M' or 'F'.
    """

    region: str
    birth_date: date
    sex: str


def check_digit(first17: str) -> str:
    """Return the 18th character ('0'-'9' or 'X') for the first 17 digits."""
    if len(first17) != 17 or not first17.isascii() or not first17.isdigit():
        raise ValueError("check_digit needs exactly 17 ASCII digits")
    total = sum(int(d) * w for d, w in zip(first17, _WEIGHTS))
    return _CHECK_CHARS[total % 11]


def normalise_id(number: str) -> str:
    """Canonical form used for storage and duplicate detection.

    Full-width digits (from Chinese input methods) become ASCII, all
    whitespace goes (people paste '4101 0520 ...'), and a lowercase x
    becomes X, so the same person always gets the same key.
    """
    text = unicodedata.normalize("NFKC", number or "")
    return _WHITESPACE.sub("", text).upper()


def parse_resident_id(number: str) -> IdInfo:
    """Validate an 18-character resident ID number and decode it.

    Raises IdNumberError with a message saying exactly what is wrong,
    checked in the order a person would fix things: characters, length,
    birth date, then the check digit.
    """
    value = normalise_id(number)
    if not value:
        raise IdNumberError("身份证件号为空")

    bad = _BAD_CHAR.search(value)
    if bad:
        raise IdNumberError(f"身份证件号含有非法字符“{bad.group()}”")
    if len(value) != 18:
        hint = "（15位旧号码请换成18位新号码）" if len(value) == 15 else ""
        raise IdNumberError(f"身份证件号应为18位，实际为{len(value)}位{hint}")
    if not _SHAPE.fullmatch(value):
        raise IdNumberError("身份证件号含有非法字符：字母 X 只能出现在最后一位")

    birth_text = value[6:14]
    try:
        birth = date(int(birth_text[:4]), int(birth_text[4:6]), int(birth_text[6:]))
    except ValueError:
        raise IdNumberError(f"身份证件号中的出生日期 {birth_text} 不存在") from None
    if birth < _EARLIEST_BIRTH:
        raise IdNumberError(f"身份证件号中的出生日期 {birth_text} 早于1900年")
    if birth > date.today():
        raise IdNumberError(f"身份证件号中的出生日期 {birth_text} 在未来")

    expected = check_digit(value[:17])
    if value[17] != expected:
        raise IdNumberError(
            f"身份证件号校验位错误：最后一位应为 {expected}，实际为 {value[17]}"
        )

    sex = "M" if int(value[16]) % 2 == 1 else "F"
    return IdInfo(region=value[:6], birth_date=birth, sex=sex)


def check_resident_id(
    number: str, *, birth_date: date | None = None, sex: str | None = None
) -> IdInfo:
    """Parse an ID number and check it agrees with the rest of the record.

    A valid number that disagrees with the recorded birth date or sex
    usually means another student's number was pasted into the row, which
    the check digit alone cannot catch.  sex may be 'M'/'F' or '男'/'女'.
    """
    info = parse_resident_id(number)
    if birth_date is not None:
        expected_birth = birth_date.date() if isinstance(birth_date, datetime) else birth_date
        if info.birth_date != expected_birth:
            raise IdNumberError(
                f"身份证件号中的出生日期 {info.birth_date.isoformat()} "
                f"与出生日期 {expected_birth.isoformat()} 不一致"
            )
    if sex is not None:
        code = _SEX_CODES.get(sex.strip().upper() if sex.isascii() else sex.strip())
        if code is None:
            raise ValueError(f"sex must be 'M', 'F', '男' or '女', got {sex!r}")
        if info.sex != code:
            raise IdNumberError(
                f"身份证件号显示性别为{_SEX_NAMES[info.sex]}，"
                f"与性别“{_SEX_NAMES[code]}”不一致"
            )
    return info


def make_resident_id(region: str, birth_date: date, seq: int, sex: str) -> str:
    """Build a valid ID number, for demo data and tests only.

    seq (0-99) fills digits 15-16; the 17th digit is derived from seq with
    the parity required by sex, so different seq values also vary the check
    digit (and some produce an X), which exercises more code paths.
    """
    if len(region) != 6 or not region.isascii() or not region.isdigit():
        raise ValueError("region must be 6 ASCII digits")
    if not 0 <= seq <= 99:
        raise ValueError("seq must be between 0 and 99")
    code = _SEX_CODES.get(sex)
    if code is None:
        raise ValueError(f"sex must be 'M', 'F', '男' or '女', got {sex!r}")
    sex_digit = (seq % 5) * 2 + (1 if code == "M" else 0)
    first17 = f"{region}{birth_date:%Y%m%d}{seq:02d}{sex_digit}"
    return first17 + check_digit(first17)


def mask_id(number: str) -> str:
    """Hide an ID number for lists, exports and logs: '41**************34'.

    Only the first 2 characters (the province, shared by every student of a
    county) and the last 2 (the sex digit, which the page shows as 男/女
    anyway, and the check digit) are kept.  The county code, the birth date
    and the 2-digit sequence stay hidden: with the birth year shown beside
    it, about 36,500 candidates remain (366 days x 100 sequences; the check
    digit leaves ~3,300), and only a search by the complete number can test
    one of them.  Keeping 4+4 characters, as before, left 2 guessable
    digits once the birth date was on the page.  Numbers shorter than 12
    characters (other document types) are fully starred.
    """
    value = (number or "").strip()
    if len(value) < 12:
        return "*" * len(value)
    return value[:2] + "*" * (len(value) - 4) + value[-2:]


def mask_phone(phone: str) -> str:
    """Hide the middle of a phone number: '13812345678' -> '138****5678'.

    Other formats (landlines, numbers with area codes) keep the first 3 and
    last 2 characters when there are at least 7; shorter ones are fully
    starred so nothing identifying is shown.
    """
    value = (phone or "").strip()
    if len(value) == 11:
        return value[:3] + "****" + value[-4:]
    if len(value) >= 7:
        return value[:3] + "*" * (len(value) - 5) + value[-2:]
    return "*" * len(value)


def mask_registry_no(number: str) -> str:
    """A G-number is G + the ID number, so it is masked like one; L-numbers are temporary."""
    return "G" + mask_id(number[1:]) if number.startswith("G") else number
