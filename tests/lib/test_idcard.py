"""Tests for baoxue.lib.idcard (GB 11643 resident ID numbers)."""

from datetime import date, datetime

import pytest

from baoxue.lib.idcard import (
    IdInfo,
    IdNumberError,
    check_digit,
    check_resident_id,
    make_resident_id,
    mask_id,
    mask_phone,
    normalise_id,
    parse_resident_id,
)

# Example number printed in GB 11643 (check digit X).
STANDARD_EXAMPLE = "11010519491231002X"


def test_check_digit_known_values():
    assert check_digit("11010519491231002") == "X"
    assert check_digit("44052418800101001") == "4"


def test_check_digit_rejects_bad_input():
    with pytest.raises(ValueError):
        check_digit("1234")
    with pytest.raises(ValueError):
        check_digit("1101051949123100a")


def test_parse_standard_example_with_x():
    info = parse_resident_id(STANDARD_EXAMPLE)
    assert info == IdInfo(region="110105", birth_date=date(1949, 12, 31), sex="F")


def test_parse_accepts_lowercase_x_and_spaces():
    info = parse_resident_id(" 110105 19491231 002x ")
    assert info.birth_date == date(1949, 12, 31)


def test_parse_accepts_full_width_digits():
    full_width = "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else c for c in STANDARD_EXAMPLE)
    assert parse_resident_id(full_width).region == "110105"


def test_generated_numbers_are_valid_and_cover_x():
    check_chars = set()
    for seq in range(100):
        for sex in ("M", "F"):
            number = make_resident_id("410105", date(2008, 3, 15), seq, sex)
            info = parse_resident_id(number)
            assert info == IdInfo("410105", date(2008, 3, 15), sex)
            assert number[14:16] == f"{seq:02d}"
            check_chars.add(number[-1])
    assert "X" in check_chars


def test_make_resident_id_accepts_chinese_sex():
    number = make_resident_id("110105", date(2010, 1, 2), 7, "女")
    assert parse_resident_id(number).sex == "F"


@pytest.mark.parametrize(
    "region, seq",
    [("11010", 1), ("1101a5", 1), ("110105", 100), ("110105", -1)],
)
def test_make_resident_id_rejects_bad_arguments(region, seq):
    with pytest.raises(ValueError):
        make_resident_id(region, date(2010, 1, 2), seq, "M")


def test_wrong_check_digit_names_the_right_one():
    with pytest.raises(IdNumberError) as excinfo:
        parse_resident_id("110105194912310025")
    assert str(excinfo.value) == "身份证件号校验位错误：最后一位应为 X，实际为 5"


def test_wrong_check_digit_numeric():
    good = make_resident_id("410105", date(2008, 3, 15), 12, "M")
    wrong = "0" if good[-1] != "0" else "1"
    with pytest.raises(IdNumberError) as excinfo:
        parse_resident_id(good[:17] + wrong)
    assert str(excinfo.value) == f"身份证件号校验位错误：最后一位应为 {good[-1]}，实际为 {wrong}"


@pytest.mark.parametrize(
    "number, length",
    [("11010519491231002", 17), ("1101051949123100200", 19), ("1", 1)],
)
def test_wrong_length(number, length):
    with pytest.raises(IdNumberError) as excinfo:
        parse_resident_id(number)
    assert str(excinfo.value) == f"身份证件号应为18位，实际为{length}位"


def test_fifteen_digit_number_gets_hint():
    with pytest.raises(IdNumberError) as excinfo:
        parse_resident_id("110105491231002")
    assert "实际为15位" in str(excinfo.value)
    assert "15位旧号码" in str(excinfo.value)


def test_empty_number():
    with pytest.raises(IdNumberError) as excinfo:
        parse_resident_id("  ")
    assert str(excinfo.value) == "身份证件号为空"


@pytest.mark.parametrize("number", ["1101051949123100-X", "11010519491231002Y", "11010519491X31002X"])
def test_illegal_characters(number):
    with pytest.raises(IdNumberError) as excinfo:
        parse_resident_id(number)
    assert str(excinfo.value).startswith("身份证件号含有非法字符")


def test_impossible_birth_date():
    first17 = "41010520230231001"  # 30/31 Feb does not exist
    number = first17 + check_digit(first17)
    with pytest.raises(IdNumberError) as excinfo:
        parse_resident_id(number)
    assert str(excinfo.value) == "身份证件号中的出生日期 20230231 不存在"


def test_february_30():
    first17 = "41010520120230001"
    with pytest.raises(IdNumberError) as excinfo:
        parse_resident_id(first17 + check_digit(first17))
    assert "20120230 不存在" in str(excinfo.value)


def test_birth_date_in_future():
    first17 = "41010520990101001"
    with pytest.raises(IdNumberError) as excinfo:
        parse_resident_id(first17 + check_digit(first17))
    assert str(excinfo.value) == "身份证件号中的出生日期 20990101 在未来"


def test_birth_date_before_1900():
    first17 = "41010518991231001"
    with pytest.raises(IdNumberError) as excinfo:
        parse_resident_id(first17 + check_digit(first17))
    assert "18991231" in str(excinfo.value)
    assert "1900" in str(excinfo.value)


def test_check_resident_id_agreeing_record():
    number = make_resident_id("410105", date(2012, 3, 5), 3, "M")
    info = check_resident_id(number, birth_date=date(2012, 3, 5), sex="M")
    assert info.sex == "M"
    assert check_resident_id(number, birth_date=datetime(2012, 3, 5, 0, 0), sex="男") == info


def test_check_resident_id_birth_date_disagrees():
    number = make_resident_id("410105", date(2012, 3, 5), 3, "M")
    with pytest.raises(IdNumberError) as excinfo:
        check_resident_id(number, birth_date=date(2012, 3, 6))
    assert str(excinfo.value) == "身份证件号中的出生日期 2012-03-05 与出生日期 2012-03-06 不一致"


def test_check_resident_id_sex_disagrees():
    number = make_resident_id("410105", date(2012, 3, 5), 3, "F")
    with pytest.raises(IdNumberError) as excinfo:
        check_resident_id(number, sex="M")
    assert str(excinfo.value) == "身份证件号显示性别为女，与性别“男”不一致"
    with pytest.raises(IdNumberError):
        check_resident_id(number, sex="男")


def test_check_resident_id_still_validates():
    with pytest.raises(IdNumberError):
        check_resident_id("110105194912310025", sex="F")


def test_check_resident_id_unknown_sex_code_is_programming_error():
    with pytest.raises(ValueError):
        check_resident_id(STANDARD_EXAMPLE, sex="X")


def test_id_number_error_is_value_error():
    assert issubclass(IdNumberError, ValueError)


def test_normalise_id():
    assert normalise_id(" 11010519491231002x\t") == STANDARD_EXAMPLE
    assert normalise_id("") == ""


def test_mask_id():
    assert mask_id("410105200803151234") == "41**************34"
    assert mask_id("") == ""
    assert mask_id("123") == "***"
    assert mask_id("1234") == "****"
    assert mask_id("E12345678") == "*********"
    assert mask_id("110105491231002") == "11***********02"


def test_mask_phone():
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("0371-1234567") == "037*******67"
    assert mask_phone("1234567") == "123**67"
    assert mask_phone("12345") == "*****"
    assert mask_phone("") == ""
