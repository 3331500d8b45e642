"""What a version said, cell by cell, and what changed between two versions of one unit.

A version's snapshot is every cell the clerk fills, as typed ("sheet!F12" → [what the cell is, its text]); it is
kept in the round's state when the version is recorded, so the board can show what a re-sent file changed
without the files at hand."""
from __future__ import annotations

import re
from dataclasses import dataclass

from xlsxwriter.utility import xl_cell_to_rowcol

_STANDARD = {"level1": "level1", "level2": "level2", "name": "name", "description": "description", "basis": "basis"}


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _indicator_cells(ind, labels: dict) -> dict:
    out = {}
    title = ind.name or f"第{ind.row}行指标"
    for key, ref in ind.cells.items():
        if key in _STANDARD:
            value = getattr(ind, _STANDARD[key])
        elif key in ind.typed:
            value = ind.typed[key]
        elif key == "value":
            value = ind.value.raw
        elif key in ("op", "num", "unit"):
            value = {"op": ind.value.op_text, "num": ind.value.num_text, "unit": ind.value.unit}[key]
        else:
            value = ind.extra.get(key)
        out[ref] = [f"{title}·{labels.get(key, key)}", _text(value)]
    return out


def snapshot(ret) -> dict[str, list[str]]:
    """Every input cell of a return as typed: "sheet!F12" → [what the cell is, its text] (empty cells too,
    so that a value cleared shows as a change)."""
    form = ret.form
    fields = form.fields()
    labels = {c.key: c.label for c in form.input_columns}
    out = {}
    for p in ret.projects:
        for key, ref in p.cells.items():
            cell = fields.get(key, (None, None))[1]
            what = (cell.title or cell.label or key) if cell is not None else key
            value = p.typed.get(key, p.values.get(key))
            out[f"{p.sheet}!{ref}"] = [what, _text(value)]
        for ind in p.indicators:
            for ref, pair in _indicator_cells(ind, labels).items():
                out[f"{p.sheet}!{ref}"] = pair
    return out


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
