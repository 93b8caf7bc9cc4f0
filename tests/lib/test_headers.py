"""Tests for baoxue.lib.headers (tolerant header matching)."""

import pytest

from baoxue.lib.headers import match_headers, normalise_header

ALIASES = {
    "id_number": ["身份证件号", "身份证件号码", "身份证号", "身份证号码", "证件号码"],
    "name": ["姓名", "学生姓名"],
    "registry_number": ["全国学籍号", "学籍号", "Registry No"],
    "province": ["家庭住址(省)"],
    "city": ["家庭住址(市)"],
}


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("姓名", "姓名"),
        (" 姓 名 ", "姓名"),
        ("*姓名", "姓名"),
        ("＊姓名", "姓名"),
        ("姓名(必填)", "姓名"),
        ("姓名（必填）", "姓名"),
        ("身份证件号（文本格式）", "身份证件号"),
        ("入学年月(选填)(如2023-09)", "入学年月"),
        ("姓名：", "姓名"),
        ("姓名:", "姓名"),
        ("姓名\n（必填）", "姓名"),
        ("ＩＤ　Ｎｏ", "idno"),
        ("Registry No", "registryno"),
        ("【必填】姓名", "姓名"),
        ("", ""),
    ],
)
def test_normalise_header(raw, expected):
    assert normalise_header(raw) == expected


def test_match_headers_basic():
    headers = ["序号", "*学生姓名", "身份证号码（文本格式）", "全国学籍号", "备注"]
    matched, unmatched = match_headers(headers, ALIASES)
    assert matched == {1: "name", 2: "id_number", 3: "registry_number"}
    assert unmatched == ["序号", "备注"]


def test_first_duplicate_wins_and_later_is_unmatched():
    headers = ["姓名", "身份证件号", "证件号码", "学生姓名"]
    matched, unmatched = match_headers(headers, ALIASES)
    assert matched == {0: "name", 1: "id_number"}
    assert unmatched == ["证件号码", "学生姓名"]


def test_ascii_headers_are_case_and_width_insensitive():
    matched, unmatched = match_headers(["registry no", "ＲＥＧＩＳＴＲＹ　ＮＯ"], ALIASES)
    assert matched == {0: "registry_number"}
    assert unmatched == ["ＲＥＧＩＳＴＲＹ　ＮＯ"]


def test_aliases_with_brackets_are_distinguished():
    matched, unmatched = match_headers(["家庭住址（省）", "家庭住址(市)"], ALIASES)
    assert matched == {0: "province", 1: "city"}
    assert unmatched == []


def test_blank_headers_are_ignored():
    matched, unmatched = match_headers(["", "姓名", "  "], ALIASES)
    assert matched == {1: "name"}
    assert unmatched == []


def test_no_headers():
    assert match_headers([], ALIASES) == ({}, [])
