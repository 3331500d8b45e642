"""Earlier years as this year's start: the department indicators of collected years, read back from their
inboxes, summary workbooks or exports. A loader above the phases (it runs collect and reads summaries);
what is done with the rows (dept.attach_history) belongs to the department form."""
from __future__ import annotations

from pathlib import Path

from ..core.kinds import FormKind
from ..cycle.collect import collect
from ..io.extract import _text
from .summary import read_summary_tables


def read_history(sources) -> dict[tuple[str, int], list[dict]]:
    """(unit code, year) → the department indicators of a collected year: from inboxes, summary
    workbooks or their CSV exports (the 部门指标 table)."""
    out: dict[tuple[str, int], list[dict]] = {}
    for source in sources:
        source = Path(source)
        tables = None
        if source.is_file() and source.suffix.lower() == ".xlsx":
            try:
                tables = read_summary_tables(source)
            except Exception:   # not a summary: read it as a return
                tables = None
        elif source.is_dir() and (source / "部门指标.csv").is_file():
            tables = read_summary_tables(source)
        if tables is not None and "部门指标" in tables:
            for r in tables["部门指标"]:
                if r.get("表格") != "年度绩效指标":
                    continue
                out.setdefault((r["单位编码"], int(r["年度"])), []).append(
                    {"level1": r["一级指标"], "level2": r["二级指标"], "name": r["三级指标"],
                     "hist2": r.get("前年指标值", ""), "hist1": r.get("上年指标值", ""), "value": r["指标值"]})
            continue
        col = collect([source], kind=FormKind.DEPT_TARGET)
        for rec in col.accepted:
            ret = rec.result
            for pr in ret.projects:
                out[(ret.unit_code, int(ret.stamp.year))] = [
                    {"level1": i.level1, "level2": i.level2, "name": i.name, "hist2": _text(i.extra.get("hist2")),
                     "hist1": _text(i.extra.get("hist1")), "value": i.value.render()} for i in pr.indicators]
    return out
