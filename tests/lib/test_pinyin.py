"""Tests for baoxue.lib.pinyin.initials."""

import pytest

from baoxue.lib.pinyin import initials


@pytest.mark.parametrize(
    "name, expected",
    [
        ("张三", "zs"),
        ("欧阳娜娜", "oynn"),
        ("李四", "ls"),
        ("单田芳", "stf"),
        ("曾小贤", "zxx"),
        ("解缙", "xj"),
        ("仇英", "qy"),
        ("朴槿惠", "pjh"),
        ("查良镛", "zly"),
        ("区家麟", "ojl"),
        ("尉迟恭", "ycg"),
        ("万俟卨", "mqx"),
        ("长孙无忌", "zswj"),
        ("阿依古丽·买买提", "ayglmmt"),
        ("张Tom", "ztom"),
        ("  王五 ", "ww"),
        ("", ""),
    ],
)
def test_initials(name, expected):
    assert initials(name) == expected


def test_override_only_applies_to_surname():
    # 曾 as a given-name character keeps pypinyin's ordinary reading (ceng).
    assert initials("王曾") == "wc"
    assert initials("曾") == "z"
