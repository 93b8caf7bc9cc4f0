"""One spreadsheet row at a time: converting its cells and recording each problem under the
row number and the file's own header text, so that a person can find and fix it."""

from dataclasses import dataclass

from baoxue.lib import cells
from baoxue.lib.sheets import DEFAULT_MAX_CELL_CHARS


def max_lengths(fields: dict[str, tuple[type, str]]) -> dict[str, int]:
    """{key: the database column's max_length} for {key: (Model, field name)}."""
    return {key: model._meta.get_field(name).max_length for key, (model, name) in fields.items()}


def too_long(value: str, limit: int) -> str | None:
    """The row-problem message for a text longer than its database column, else None.

    Cells are cut to DEFAULT_MAX_CELL_CHARS when read, so a longer one is said to be "more than".
    """
    if len(value) <= limit:
        return None
    size = f"超过 {DEFAULT_MAX_CELL_CHARS}" if len(value) >= DEFAULT_MAX_CELL_CHARS else str(len(value))
    return (f"内容过长：本格有 {size} 个字，最多 {limit} 个字。请核对是否把几列内容填在了一格里，"
            f"删减到 {limit} 个字以内后重新上传")


@dataclass
class RowProblem:
    row: int | None  # spreadsheet row number, header = 1; None for the file as a whole
    column: str  # header text as in the file, or "" for the whole row/file
    message: str

    def __str__(self) -> str:
        where = []
        if self.row is not None:
            where.append(f"第{self.row}行")
        if self.column:
            where.append(f"“{self.column}”列")
        return ("".join(where) + "：" if where else "") + self.message


class SheetRow:
    """Cell access for one row; a cell that does not convert becomes a `RowProblem`."""

    def __init__(self, number: int, values: list, columns: dict[str, int], headers: list[str],
                 problems: list[RowProblem], identifiers=frozenset(), limits: dict[str, int] | None = None):
        self.number, self.cells, self.columns, self.headers, self.problems = number, values, columns, headers, problems
        self.identifiers = identifiers  # keys read with `cells.identifier` (text only, never a number)
        self.limits = limits or {}  # key → the database column's max_length: longer texts are problems
        self.bad = False

    def problem(self, key: str, message: str) -> None:
        col = self.columns.get(key)
        self.problems.append(RowProblem(self.number, self.headers[col] if col is not None else "", message))
        self.bad = True

    def get(self, key: str, convert=cells.text):
        col = self.columns.get(key)
        if col is None:
            return None
        try:
            return convert(self.cells[col])
        except cells.CellError as e:
            self.problem(key, str(e))
            return None

    def text(self, key: str) -> str:
        value = self.get(key, cells.identifier if key in self.identifiers else cells.text) or ""
        limit = self.limits.get(key)
        if limit is not None and len(value) > limit:
            self.problem(key, too_long(value, limit))
            return value[:limit]  # the row is bad: nothing is written, later checks stay cheap
        return value
