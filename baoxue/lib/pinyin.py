"""Pinyin initials of Chinese names, for quick search ('zs' finds 张三).

pypinyin picks the most common reading of each character, which is wrong
for several surnames (单 is 'shan' as a surname, not 'dan').  Teachers
search by the reading they say aloud, so surnames are overridden.
"""

from __future__ import annotations

from pypinyin import Style, lazy_pinyin

__all__ = ["initials"]

# Surname readings that differ (in their first letter, or are worth being
# explicit about) from pypinyin's default reading of the character.
# Compound surnames come first so they are tried before single characters.
_SURNAMES: dict[str, tuple[str, ...]] = {
    "尉迟": ("yu", "chi"),
    "万俟": ("mo", "qi"),
    "长孙": ("zhang", "sun"),
    "单": ("shan",),
    "曾": ("zeng",),
    "解": ("xie",),
    "仇": ("qiu",),
    "朴": ("piao",),
    "查": ("zha",),
    "区": ("ou",),
    "翟": ("zhai",),
    "覃": ("qin",),
    "缪": ("miao",),
    "阚": ("kan",),
    "隗": ("wei",),
    "种": ("chong",),
    "召": ("shao",),
    "秘": ("bi",),
    "繁": ("po",),
    "乜": ("nie",),
}
_LONGEST_SURNAME = max(len(key) for key in _SURNAMES)


def _keep_ascii_letters(chunk: str) -> list[str]:
    """pypinyin error handler: keep Latin letters (e.g. 'Tom'), drop '·', digits, etc."""
    letters = "".join(ch for ch in chunk if ch.isascii() and ch.isalpha())
    return [letters.lower()] if letters else []


def _first_letters(text: str) -> str:
    """Lowercase first letters of every Chinese character in text."""
    if not text:
        return ""
    parts = lazy_pinyin(text, style=Style.FIRST_LETTER, errors=_keep_ascii_letters)
    return "".join(parts).lower()


def initials(name: str) -> str:
    """Lowercase pinyin initials: '张三' -> 'zs', '单田芳' -> 'stf'.

    The surname override applies only at the start of the name, because
    the same characters in a given name take their ordinary reading.
    """
    value = (name or "").strip()
    for length in range(min(_LONGEST_SURNAME, len(value)), 0, -1):
        reading = _SURNAMES.get(value[:length])
        if reading is not None:
            head = "".join(syllable[0] for syllable in reading)
            return head + _first_letters(value[length:])
    return _first_letters(value)
