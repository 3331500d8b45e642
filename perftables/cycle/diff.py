"""What a version said, cell by cell, and what changed between two versions of one unit.

A version's snapshot is every cell the clerk fills, as typed ("sheet!F12" → [what the cell is, its text]); it is
kept in the round's state when the version is recorded, so the board can show what a re-sent file changed
without the files at hand."""
from __future__ import annotations

import re
from dataclasses import dataclass

from xlsxwriter.utility import xl_cell_to_rowcol

from ..io.extract import input_cells


def snapshot(ret) -> dict[str, list[str]]:
    """Every input cell of a return as typed: "sheet!F12" → [what the cell is, its text] (empty cells too,
    so that a value cleared shows as a change)."""
    return {f"{sheet}!{ref}": [what, text] for sheet, ref, what, text, _ in input_cells(ret)}


@dataclass(frozen=True)
class Change:
    sheet: str
    cell: str
    what: str
    before: str
    after: str

    @property
    def kind(self) -> str:
        return "新填" if not self.before else "清空" if not self.after else "修改"


def _order(ref: str):
    sheet, _, cell = ref.partition("!")
    row, col = xl_cell_to_rowcol(cell) if re.fullmatch(r"[A-Z]{1,3}[0-9]{1,7}", cell) else (0, 0)
    return sheet, row, col


def changes(before: dict, after: dict) -> list[Change]:
    """The cells whose text differs between two snapshots, sheet by sheet, row by row."""
    out = []
    for ref in sorted(set(before) | set(after), key=_order):
        a = before.get(ref, ["", ""])
        b = after.get(ref, ["", ""])
        if re.sub(r"\s+", " ", a[1]) != re.sub(r"\s+", " ", b[1]):
            sheet, _, cell = ref.partition("!")
            out.append(Change(sheet, cell, b[0] or a[0], a[1], b[1]))
    return out
