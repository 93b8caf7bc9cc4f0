"""The content security policy allows scripts from our own files only (`script-src 'self'`), so
a template with an inline <script> or an on...= handler would silently stop working. None has one:
their behaviour lives in baoxue/static/baoxue/baoxue.js, driven by data- attributes."""

import re
from pathlib import Path

BAOXUE = Path(__file__).resolve().parents[2] / "baoxue"
TAG = re.compile(r"<[a-zA-Z][^>]*>", re.S)
INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc\s*=)[^>]*>", re.I)
HANDLER = re.compile(r"\son[a-z]+\s*=", re.I)
JS_URL = re.compile(r"""(href|src|action)\s*=\s*["']?\s*javascript:""", re.I)


def templates():
    found = sorted(BAOXUE.glob("**/templates/**/*.html"))
    assert len(found) > 20
    return found


def test_no_template_has_an_inline_script_or_handler():
    problems = []
    for path in templates():
        text = path.read_text(encoding="utf-8")
        where = path.relative_to(BAOXUE.parent)
        problems += [f"{where}: {m.group(0)}" for m in INLINE_SCRIPT.finditer(text)]
        problems += [f"{where}: {tag[:80]}" for tag in TAG.findall(text) if HANDLER.search(tag)]
        problems += [f"{where}: {m.group(0)}" for m in JS_URL.finditer(text)]
    assert problems == []


def test_the_scan_finds_what_it_looks_for():
    bad = '<button onclick="window.print()">打印</button><script>alert(1)</script><a href="javascript:x()">'
    assert INLINE_SCRIPT.search(bad) and JS_URL.search(bad)
    assert any(HANDLER.search(tag) for tag in TAG.findall(bad))
    good = '<script src="/static/baoxue/baoxue.js" defer></script><form data-confirm="删除？" class="inline">'
    assert not INLINE_SCRIPT.search(good) and not any(HANDLER.search(tag) for tag in TAG.findall(good))


def test_the_script_handles_every_data_attribute_the_templates_use():
    script = (BAOXUE / "static" / "baoxue" / "baoxue.js").read_text(encoding="utf-8")
    used = set()
    for path in templates():
        used |= set(re.findall(r"\b(data-(?:print|confirm|autosubmit))\b", path.read_text(encoding="utf-8")))
    assert used == {"data-print", "data-confirm", "data-autosubmit"}
    assert all(f"[{attr}]" in script or f'"{attr}"' in script for attr in used)
    base = (BAOXUE / "templates" / "base.html").read_text(encoding="utf-8")
    assert "<script src=\"{% static 'baoxue/baoxue.js' %}\" defer></script>" in base
