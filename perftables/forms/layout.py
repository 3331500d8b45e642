"""What the writer and the reader both know about a sheet's layout, beside the form description: which
rows a grid is pre-filled with, what names a row, what a locked cell holds, the names a label may use.
generate writes by it, extract reads and checks by it — so the two can never disagree."""
from __future__ import annotations

from .form import Form, norm_label, record_key


# --------------------------------------------------------------------------- payload

def grid_rows(form: Form, project: dict | None, filled: list | None) -> list[dict]:
    """The grid's pre-filled rows: what the unit entered (feedback, examples), else the approved
    indicators (self-evaluation), else the taxonomy's standard 二级 structure."""
    approved = (project or {}).get("indicators")
    if approved is not None and any(c.source == "target" for c in form.input_columns):
        extra = filled or []   # self-evaluation: exactly the approved rows, the unit's entries beside them
        return [{**row, **(extra[i] if i < len(extra) else {})} for i, row in enumerate(approved)]
    if approved is not None:   # rows given from earlier years
        return join_given(approved, filled, [c.key for c in form.input_columns if c.source in ("roster", "history")])
    if filled is not None:
        return filled
    return [{"level1": a, "level2": b, **({"name": c} if c else {})}
            for a, b, c in form.taxonomy.seed_rows(form.meta.get("seed_all_level2", False))]


LOCKED_KEYS = "_locked"   # in a pre-filled row: the keys whose cells are locked (roster, previous years)


def row_names(item) -> tuple:
    """What names a grid row (a dict or an extracted Indicator): its 一级, 二级 and 三级, as compared everywhere."""
    get = item.get if isinstance(item, dict) else (lambda k: getattr(item, k, ""))
    return tuple(norm_label(str(get(k) or "")) for k in ("level1", "level2", "name"))


def join_given(given: list[dict], filled: list | None, keys) -> list[dict]:
    """Rows given in advance (roster, earlier years) with their given cells (of `keys`) locked, joined to
    the unit's entries by what names each row — rows may have been inserted or deleted around them.
    Entries naming no given row keep their place; given rows the unit dropped come back at the end."""
    def lock(row, over=None):
        locked = tuple(k for k in keys if row.get(k) not in (None, ""))
        over = {k: v for k, v in (over or {}).items() if k not in locked}
        return {**row, **over, **({LOCKED_KEYS: locked} if locked else {})}

    if filled is None:
        return [lock(row) for row in given]
    left = list(given)
    rows = []
    for entry in filled:
        match = next((row for row in left if row_names(row) == row_names(entry)), None)
        if match is None:
            rows.append(entry)
        else:
            left.remove(match)
            rows.append(lock(match, entry))
    return rows + [lock(row) for row in left]


def table_rows(grid, project: dict | None, filled: list | None, taxonomy=None) -> list[dict]:
    """An inline table's rows: pre-filled from the roster (their given cells locked), what the unit
    entered over them, else the seeded rows."""
    pre = (project or {}).get("tables", {}).get(grid.key)
    if pre is not None:
        return join_given(pre, filled, [c.key for c in grid.input_columns if c.source != "unit"])
    if filled is not None:
        return list(filled)
    if grid.spec.get("seed") == "taxonomy" and taxonomy is not None:
        return [{"level1": a, "level2": b, **({"name": c} if c else {})} for a, b, c in taxonomy.seed_rows(False)]
    return [dict(r) for r in grid.spec.get("seed", [])]


def header_context(year) -> dict:
    """Names a header label may use: {year}, {y1} (last year), {y2} (the year before)."""
    return {"year": year, **_prior_years(year)}


def _prior_years(year) -> dict:
    try:
        return {"y1": int(year) - 1, "y2": int(year) - 2}
    except (TypeError, ValueError):   # a workbook read without a stamp: the year is decided later
        return {"y1": "", "y2": ""}


def context(payload: dict, project: dict | None, seq: int | None = None) -> dict:
    return {"unit_code": payload["unit_code"], "unit_name": payload["unit_name"], "year": payload["year"],
            **_prior_years(payload.get("year")),
            "seq": seq if seq is not None else (project or {}).get("seq", ""),
            "project_name": (project or {}).get("name") or "新增项目"}


def locked_value(cell, payload: dict, project: dict | None, seq: int | None = None, names: dict | None = None):
    """What a locked cell holds: its label, its text from the roster (None: the unit fills it).

    `project` is None on a spare sheet, where only labels and the title are locked. names: context(payload,
    project, seq) when the caller has made it already (once a sheet).
    """
    if cell.label is not None:
        return cell.label
    if cell.value is not None:
        return cell.value.format(**(names or context(payload, project, seq)))
    if cell.source == "roster" and project:
        key = record_key(cell.field)
        value = project.get(key)
        return None if value in (None, "") else value
    return None
