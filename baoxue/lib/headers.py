"""Tolerant matching of spreadsheet column headers to field keys.

Registry exports and hand-made templates spell the same column many ways:
'身份证件号', '身份证号码（必填）', '*证件号码', full-width letters, stray
spaces and line breaks.  Headers are compared in a normalised form so that
schools do not have to edit their files before importing.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["normalise_header", "match_headers"]

_WHITESPACE = re.compile(r"\s+")
# After NFKC, full-width （） become ASCII (); 【】 and 〔〕 stay as they are.
_BRACKETED = re.compile(r"\([^()]*\)|\[[^\[\]]*\]|【[^【】]*】|〔[^〔〕]*〕")
_ASCII_LOWER = str.maketrans(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz"
)


def _normalise(text: str, *, drop_brackets: bool) -> str:
    """Shared normalisation; brackets are optional so exact spellings can win."""
    value = unicodedata.normalize("NFKC", text or "")
    value = _WHITESPACE.sub("", value)
    value = value.replace("*", "").replace("＊", "")
    if drop_brackets:
        # Repeat so nested hints like '(如(2023-09))' disappear completely.
        previous = None
        while previous != value:
            previous = value
            value = _BRACKETED.sub("", value)
    value = value.rstrip(":")
    return value.translate(_ASCII_LOWER)


def normalise_header(text: str) -> str:
    """Reduce a header to the form used for comparison.

    NFKC folds full-width characters, whitespace (including line breaks
    inside a cell) is removed, required-field stars and bracketed hints
    such as '(必填)' or '（文本格式）' are dropped, as is a trailing colon,
    and ASCII letters are lowercased.
    """
    return _normalise(text, drop_brackets=True)


def match_headers(
    headers: list[str], aliases: dict[str, list[str]]
) -> tuple[dict[int, str], list[str]]:
    """Map column indexes to field keys using the alias spellings.

    Returns (column index -> field key, unmatched header texts).  A header
    is first compared with its brackets kept, so an alias that really
    contains brackets (e.g. '家庭住址(省)') beats the hint-stripping match;
    then with bracketed hints removed.  The first column for a field wins;
    later columns for the same field are reported as unmatched so the user
    learns that one of them was ignored.  Blank headers are neither matched
    nor reported, as there is nothing to tell the user about them.  When two
    fields list the same spelling, the field listed first in aliases wins.
    """
    exact: dict[str, str] = {}
    loose: dict[str, str] = {}
    for field, spellings in aliases.items():
        for spelling in spellings:
            exact.setdefault(_normalise(spelling, drop_brackets=False), field)
            loose.setdefault(_normalise(spelling, drop_brackets=True), field)

    matched: dict[int, str] = {}
    used: set[str] = set()
    unmatched: list[str] = []
    for index, header in enumerate(headers):
        if not header or not header.strip():
            continue
        field = exact.get(_normalise(header, drop_brackets=False))
        if field is None:
            loose_key = normalise_header(header)
            field = loose.get(loose_key) if loose_key else None
        if field is None or field in used:
            unmatched.append(header)
            continue
        matched[index] = field
        used.add(field)
    return matched, unmatched
