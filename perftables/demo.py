"""demo: the bundled example round trip, from the roster to the county summary.

examples/seed_tables.json holds the seeds' tables as printed; the example
returns in examples/returns/ are those tables entered into the generated
templates (rebuild them with `python -m perftables.demo --rebuild`).
"""
from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

from .collect import collect
from .generate import Options, file_name_for, fill_from_record, form_for_unit, generate, workbook_bytes
from .roster import read_roster
from .summary import build_tables, write_csv, write_xlsx

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
YEAR = 2025
FIXED_TIME = dt.datetime(2025, 1, 10, 9, 30)


def build_returns(outdir: Path, examples: Path = EXAMPLES) -> list[Path]:
    """Enter each seed's tables into its unit's generated template."""
    roster = read_roster(examples / "roster.csv")
    seeds = json.loads((examples / "seed_tables.json").read_text(encoding="utf-8"))
    outdir.mkdir(parents=True, exist_ok=True)
    paths = []
    for record in seeds["units"]:
        unit = roster.unit(record["code"])
        form = form_for_unit(unit, None)
        data = workbook_bytes(form, unit, Options(year=YEAR, created=FIXED_TIME), fill_from_record(form, record))
        path = outdir / file_name_for(form, unit, YEAR)
        path.write_bytes(data)
        paths.append(path)
    return paths


def run_demo(outdir: Path, examples: Path = EXAMPLES):
    roster_path = examples / "roster.csv"
    roster = read_roster(roster_path)
    templates = outdir / "1-下发模板"
    generate(roster, templates, Options(year=YEAR, deadline=f"{YEAR - 1}年12月31日", contact="市科协计划财务部 0312-0000000"))
    yield f"1. 已为 {len(roster.units)} 个单位生成模板：{templates}"
    returns = examples / "returns"
    if not returns.is_dir():
        returns = outdir / "2-收回文件"
        build_returns(returns, examples)
    yield f"2. 收回的文件（种子文本填入模板）：{returns}"
    col = collect([returns], roster=roster)
    tables = build_tables(col)
    summary = outdir / "3-汇总.xlsx"
    write_xlsx(tables, summary, title=f"{YEAR}年绩效目标汇总")
    write_csv(tables, outdir / "4-导出")
    yield f"3. 汇总工作簿：{summary}"
    yield f"4. CSV 导出：{outdir / '4-导出'}"
    units = next(t for t in tables if t.name == "单位汇总")
    yield "单位汇总："
    for row in units.rows:
        yield f"   {row[0]} {row[1]}：{row[2]} 个项目，预算 {row[3]:,.2f} 万元，指标 {row[6]} 条，错误 {row[-2]}，警告 {row[-1]}"
    status = next((t for t in tables if t.name == "报送情况"), None)
    if status:
        missing = [r[1] for r in status.rows if r[2] == "未报送"]
        yield "未报送：" + ("、".join(missing) if missing else "无")


if __name__ == "__main__":
    if "--rebuild" in sys.argv:
        for p in build_returns(EXAMPLES / "returns"):
            print(p)
