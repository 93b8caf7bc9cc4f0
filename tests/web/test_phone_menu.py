"""On a phone the menu bar shows each role its own daily work first (the items marked "mine",
ordered first by the phone style sheet), and the rest after them."""

import re

import pytest
from django.urls import reverse


def mine(html: str) -> list[str]:
    return [re.sub(r"<[^>]+>", "", m) for m in re.findall(r'<li class="mine"><a[^>]*>.*?</a>', html)]


@pytest.mark.parametrize("role, first, not_first", [
    ("registrar", ["学籍异动", "休学申请", "人籍一致"], "13510 待办"),
    ("office", ["13510 待办", "疑似辍学台账", "辍学劝返台账"], "学籍异动"),
    ("county_official", ["全县总览", "学校月报告"], "学籍异动"),
])
def test_each_role_gets_its_own_work_first(login, org, role, first, not_first):
    html = login(getattr(org, role)).get(reverse("home")).content.decode()
    found = mine(html)
    assert all(item in found for item in first), found
    assert not_first not in found
    assert "首页" in html and "学生" in html  # the rest stays in the menu


def test_the_phone_style_sheet_puts_them_first():
    from pathlib import Path

    import baoxue

    css = (Path(baoxue.__file__).parent / "static" / "baoxue" / "baoxue.css").read_text(encoding="utf-8")
    assert re.search(r"@media \(max-width: 599px\)[^@]*\.sidenav li\.mine \{ order: -1; \}", css)
