"""feedback: send each unit its own form back, pre-filled with what it returned, every problem marked.

The feedback workbook is a fresh locked workbook of the unit's form (a new stamp
issue, so the corrected return supersedes the old one), with a first sheet
审核意见 listing the findings and each problem cell coloured and commented.
A short 审核意见 text goes with it as the e-mail body.
"""
from __future__ import annotations

from pathlib import Path

from ..io.keys import require_key
from ..model.stamp import Stamp
from ..core.kinds import FormKind
from ..cycle.collect import ACCEPTED_FINDINGS, Collection, FileRecord
from ..io.extract import ERROR, UnitReturn
from ..core.files import fit_name, safe_file_name, write_bytes, write_text
from ..cycle.generate import Options, file_name_for, workbook_bytes
from ..model.roster import Project, Unit
from ..core.value import value_cells


def _dept_unit(st: Stamp) -> Unit:
    """The department record: its figures, project list, history."""
    record = dict(st.projects[0])
    rows = record.pop("tables", {}).get("projects", [])
    history = record.pop("indicators", None)
    extra = {k: v for k, v in record.items() if k not in ("code", "name", "sheet", "seq")}
    unit = Unit(code=st.unit_code, name=st.unit_name, extra={"dept": extra}, projects=[
        Project(code=f"{st.unit_code}-{i}", name=r.get("name", ""), budget=r.get("budget"),
                use=r.get("use", ""), extra={"category": r.get("category"), "total_budget": r.get("total_budget")})
        for i, r in enumerate(rows, 1)])
    if history:
        unit.extra["history"] = history
    return unit


def _project_unit(st: Stamp) -> Unit:
    """A project a sheet, each with what its record carried."""
    own = {"code", "name", "budget", "fiscal", "other", "use", "sheet", "seq"}
    return Unit(code=st.unit_code, name=st.unit_name, projects=[
        Project(code=p["code"], name=p["name"], budget=p.get("budget"), fiscal=p.get("fiscal"),
                other=p.get("other"), use=p.get("use", ""), extra={k: v for k, v in p.items() if k not in own})
        for p in st.projects])


KIND_UNITS = {FormKind.DEPT_TARGET: _dept_unit}   # every other kind: _project_unit


def unit_from_payload(payload: dict) -> Unit:
    """The unit as the roster gave it when its workbook was made, from the workbook's stamp."""
    st = Stamp.of(payload)
    return KIND_UNITS.get(st.kind, _project_unit)(st)


def _indicator_row(ind, keys) -> dict:
    """A grid row as the clerk left it: the value's cells exactly as typed (a symbol outside the list stays,
    marked; 12月底 is not split into 12 and 月底) — feedback annotates, it never rewrites the unit's entries."""
    row = {"level1": ind.level1, "level2": ind.level2, "name": ind.name, "description": ind.description,
           "basis": ind.basis}
    typed = getattr(ind, "typed", None)   # (a return cached by an older version has none)
    if typed:
        row.update({k: _as_typed(v) for k, v in typed.items() if k in keys or k == "value"})
    else:
        row.update(value_cells(ind.value) if "op" in keys else {"value": ind.value.raw})
    row.update({k: x for k, x in ind.extra.items() if x not in (None, "")})   # self-evaluation inputs, history
    return row


def _as_typed(value) -> str:
    """A cell's value as the clerk sees it in the cell: 90 (not 90.0); text as it is."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return value if isinstance(value, str) else str(value)


def _keeps_rows(form) -> bool:
    """A grid of the unit's own rows (not one prefilled with approved indicators row for row)."""
    return not any(c.source == "target" for c in form.input_columns)


def _offsets(pr) -> list[int]:
    """Each indicator's place in the grid of the return (rows the clerk left empty between them kept)."""
    start = getattr(pr, "grid_start", 0)
    if not start:
        return list(range(len(pr.indicators)))
    out, last = [], -1
    for ind in pr.indicators:
        last = max(ind.row - start, last + 1)
        out.append(last)
    return out


def place_marks(ret: UnitReturn) -> None:
    """The findings' grid targets moved to where fill_from_return puts their rows."""
    if not _keeps_rows(ret.form):
        return
    offsets = {pr.sheet: _offsets(pr) for pr in ret.projects}
    for f in ret.findings:
        t, where = f.target, offsets.get(f.sheet)
        if t and t[0] == "grid" and where:
            i = t[1]
            f.target = ("grid", where[i] if i < len(where) else where[-1] + i - len(where) + 1, *t[2:])


def fill_from_return(ret: UnitReturn) -> dict:
    """What the unit typed, in the generator's fill shape."""
    form = ret.form
    keys = {c.key for c in form.input_columns}
    projects = {}
    for pr in ret.projects:
        fields = {**pr.values, "project_code": pr.code, "project_name": pr.name, "budget": pr.budget,
                  "fiscal": pr.fiscal, "other": pr.other, "use": pr.use, "goal": pr.goal}
        for cell, value in zip(form.plan_fields(), pr.plan):
            fields[cell.field] = value
        fields.update(getattr(pr, "typed", {}))   # amounts and plan cells as the clerk typed them (numbers stay numbers)
        indicators = [_indicator_row(ind, keys) for ind in pr.indicators]
        if _keeps_rows(form):   # each row where the clerk left it: 第14行 in a finding is row 14 of the feedback
            placed = [{} for _ in range(max(_offsets(pr), default=-1) + 1)]
            for at, row in zip(_offsets(pr), indicators):
                placed[at] = row
            indicators = placed
        tables = {}
        for key, rows in pr.tables.items():
            grid_keys = {c.key for c in form.tables[key].input_columns}
            tables[key] = [_indicator_row(r, grid_keys) if hasattr(r, "value") else
                           {k: v for k, v in r.items() if k in grid_keys} for r in rows]
        projects[pr.sheet] = {"fields": fields, "indicators": indicators, "tables": tables}
    return {"texts": dict(ret.texts), "projects": projects}


def review_text(rec: FileRecord, deadline: str = "") -> str:
    ret = rec.result
    errors = [f for f in ret.findings if f.severity == ERROR]
    warnings = [f for f in ret.findings if f.severity != ERROR]
    lines = [f"{ret.unit_name}：", "",
             f"    贵单位报送的{ret.stamp.year}年绩效目标表（文件：{Path(rec.display).name}）已审核，"
             f"发现 {len(errors)} 个错误、{len(warnings)} 个警告，具体如下："]
    for i, f in enumerate(errors + warnings, 1):
        lines.append(f"    {i}. 【{f.severity}】{f.sheet} {f.cell}：{f.message}")
        if f.fix:
            lines.append(f"       怎么改：{f.fix}")
    lines += ["", "    请在附件工作簿（已预填贵单位报送的内容，问题单元格标红并附批注）中修改后"
              + (f"于{deadline}前" if deadline else "尽快") + "发回。错误必须修改；警告请核实，确有依据的可不改。"]
    return "\n".join(lines) + "\n"


def needs_feedback(col: Collection) -> list[FileRecord]:
    """The returns a feedback workbook is written for: accepted, with findings."""
    return [rec for rec in col.files if rec.fate == ACCEPTED_FINDINGS]


def feedback_issue(rec: FileRecord) -> int:
    """The version the feedback workbook for a return carries (its stamp's issue + 1)."""
    return int((rec.payload or {}).get("issue", 1)) + 1


def write_feedback(col: Collection, outdir, deadline: str = "", password: str | None = None,
                   contact: str = "") -> list[Path]:
    outdir = Path(outdir)
    key = require_key() if needs_feedback(col) else None   # the round's key, never a new one
    outdir.mkdir(parents=True, exist_ok=True)
    written = []
    for rec in needs_feedback(col):
        ret, st = rec.result, rec.stamp
        unit = unit_from_payload(rec.payload)
        opts = Options(year=int(st.year), password=password, issue=feedback_issue(rec),
                       extra_projects=len(st.spares), deadline=deadline, contact=contact, links=st.links, key=key)
        place_marks(ret)
        data = workbook_bytes(ret.form, unit, opts, fill_from_return(ret), marks=ret.findings)
        name = fit_name(outdir, file_name_for(ret.form, unit, opts.year).replace(
            ".xlsx", f"（审核意见第{max(opts.issue - 1, 1)}轮）.xlsx"))
        path = outdir / name
        write_bytes(path, data)
        write_text(outdir / fit_name(outdir, safe_file_name(f"{unit.code}_{unit.name}_审核意见.txt")),
                   review_text(rec, deadline))
        written.append(path)
    return written
