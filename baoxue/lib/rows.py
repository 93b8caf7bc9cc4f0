"""One spreadsheet row at a time: converting its cells and recording each problem under the
row number and the file's own header text, so that a person can find and fix it."""

from dataclasses import dataclass

from baoxue.lib import cells


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
                 problems: list[RowProblem], identifiers=frozenset()):
        self.number, self.cells, self.columns, self.headers, self.problems = number, values, columns, headers, problems
        self.identifiers = identifiers  # keys read with `cells.identifier` (text only, never a number)
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
        return self.get(key, cells.identifier if key in self.identifiers else cells.text) or ""
