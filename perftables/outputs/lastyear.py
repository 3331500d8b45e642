"""Last year as this year's start (`generate --from`): the projects a unit carries on get last year's goal
and indicator rows as editable suggestions in this year's template, last year's target beside the new one
where the form has a column for it (role hist1); new projects start empty; last year's projects that are no
longer in the roster are listed.

Last year's tables come from wherever they are: its inbox (our workbooks, retyped copies, Word documents),
its summary workbook or CSV export, or the folder of documents it published. A loader above the phases,
like history.py: it runs collect and reads summaries; the generator only sees the roster's projects with
their suggestions attached (Project.extra: "indicators" given rows, "suggested" field values).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .schema import Sheet
from ..core.errors import PerftablesError
from ..core.kinds import FormKind
from ..core.cells import norm_label
from ..cycle.collect import collect
from ..forms.form import Form
from ..model.roster import Roster
from .summary import read_summary_tables, returns_from_summary
from ..core.value import value_cells

CARRIED, NEW, DROPPED = "沿用", "新项目", "去年有、今年名单中没有"
REPORT = "去年对照.csv"
REPORT_HEAD = ["单位编码", "单位名称", "项目编码", "项目名称", "去年项目编码", "情况", "说明"]


class LastYearError(PerftablesError):
    """Nothing usable in what was given as last year (a Chinese message)."""


def _is_summary(source: Path) -> bool:
    if source.is_dir():
        return (source / "指标明细.csv").is_file()
    if source.suffix.lower() != ".xlsx":
        return False
    try:
        return Sheet.PROJECTS in read_summary_tables(source)
    except Exception:   # not a summary workbook: a return
        return False


def last_year_returns(sources, year: int, roster: Roster | None = None) -> dict[str, object]:
    """unit code → its latest accepted target return of a year before `year`."""
    records = []
    plain = []
    for source in map(Path, sources):
        if _is_summary(source):
            records += returns_from_summary(source)
        else:
            plain.append(source)
    if plain:
        col = collect(plain, roster=roster, kind=FormKind.PROJECT_TARGET)
        records += col.accepted
    best: dict[str, object] = {}
    for rec in records:
        ret = rec.result
        if ret is None or not ret.form.kind.projects_from_roster:
            continue
        y = ret.stamp.year or 0
        if y and y >= year:
            continue
        old = best.get(ret.unit_code)
        if old is None or (old.stamp.year or 0) < y:
            best[ret.unit_code] = ret
    if not best:
        raise LastYearError("--from 给出的来源中没有找到往年的绩效目标表（收件箱、汇总工作簿、导出文件夹或公开的文本）")
    return best


def _rows(pr, form: Form) -> list[dict]:
    """Last year's indicator rows in this year's grid: what the columns hold, the target beside it."""
    keys = {c.key for c in form.input_columns}
    rows = []
    for ind in pr.indicators:
        row = {"level1": ind.level1, "level2": ind.level2, "name": ind.name}
        if "description" in keys:
            row["description"] = ind.description
        if "basis" in keys:
            row["basis"] = ind.basis
        if "op" in keys:
            row.update(value_cells(ind.value))
        else:
            row["value" if "value" in keys else "num"] = ind.value.raw
        if "hist1" in keys:   # last year's target shown beside this year's (locked: it is history)
            row["hist1"] = ind.value.render()
        rows.append({k: v for k, v in row.items() if k in keys})
    return rows


@dataclass
class Carried:
    report: list[list]       # REPORT_HEAD rows
    carried: int = 0
    new: int = 0
    dropped: int = 0


def attach(roster: Roster, last: dict, form_for) -> Carried:
    """Suggestions onto the roster's projects that continue (by project code, else by name); form_for(unit)
    is the unit's form this year."""
    out = Carried(report=[])
    for unit in roster.units:
        ret = last.get(unit.code)
        if ret is None:
            for p in unit.projects:
                out.report.append([unit.code, unit.name, p.code, p.name, "", NEW, "去年没有该单位的表"])
                out.new += 1
            continue
        form = form_for(unit)
        if not form.kind.projects_from_roster:   # the department table starts from earlier years by --history
            continue
        left = list(ret.projects)
        for p in unit.projects:
            match = next((q for q in left if q.code and q.code == p.code), None) or \
                next((q for q in left if norm_label(q.name) == norm_label(p.name)), None)
            if match is None:
                out.report.append([unit.code, unit.name, p.code, p.name, "", NEW, "空白，由单位填写"])
                out.new += 1
                continue
            left.remove(match)
            rows = _rows(match, form)
            suggested = {f: getattr(match, f) for f in ("goal",) if form.has_field(f) and getattr(match, f)}
            p.extra = {**p.extra, "indicators": rows, "suggested": suggested}
            out.report.append([unit.code, unit.name, p.code, p.name, match.code, CARRIED,
                               f"预填去年的绩效目标和 {len(rows)} 条指标（可修改）"])
            out.carried += 1
        for q in left:
            out.report.append([unit.code, unit.name, q.code, q.name, q.code, DROPPED,
                               f"{ret.stamp.year or ''}年有"])
            out.dropped += 1
    return out
