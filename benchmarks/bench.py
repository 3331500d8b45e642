"""Benchmark: generate N synthetic units, fill them as returns, collect them; workbooks per second.

    python benchmarks/bench.py --units 200

Not a test: it prints timings for the machine it runs on.
"""
from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from perftables.collect import collect  # noqa: E402
from perftables.generate import Options, file_name_for, form_for_unit, generate, workbook_bytes  # noqa: E402
from perftables.roster import Project, Roster, Unit  # noqa: E402
from perftables.summary import build_tables, write_csv, write_xlsx  # noqa: E402

WORDS = "科普 活动 培训 宣传 学会 服务 展品 场馆 调研 竞赛 青少年 科技 工作者 满意度 完成率 覆盖率".split()


def synthetic_roster(n: int, rng: random.Random) -> Roster:
    units = []
    for u in range(n):
        projects = [Project(code=f"B{u:05d}P{p:02d}", name="".join(rng.sample(WORDS, 3)) + "经费",
                            budget=(b := round(rng.uniform(1, 500), 2)), fiscal=b, other=0.0, use="用于" + "、".join(rng.sample(WORDS, 4)))
                    for p in range(rng.randint(1, 12))]
        units.append(Unit(code=f"{100000 + u}", name=f"测试县第{u}科学技术协会", projects=projects))
    return Roster(units)


def synthetic_fill(form, unit, rng: random.Random) -> dict:
    tax = form.taxonomy
    projects = {}
    for i, _ in enumerate(unit.projects, 1):
        inds = []
        for _ in range(rng.randint(5, 20)):
            l1 = rng.choice(tax.level1)
            l2 = rng.choice(l1.level2)
            inds.append({"level1": l1.name, "level2": l2.name, "name": "".join(rng.sample(WORDS, 2)),
                         "description": "反映" + "".join(rng.sample(WORDS, 5)), "op": "≥",
                         "num": str(rng.randint(1, 100)), "unit": rng.choice(["%", "次", "人次", "场"]),
                         "basis": "年度工作计划"})
        projects[form.meta["sheet_name"].format(seq=i)] = {
            "fields": {"goal": "1." + "".join(rng.sample(WORDS, 6)), "plan1": 25.0, "plan2": 50.0, "plan3": 75.0,
                       "plan4": 100.0}, "indicators": inds}
    return {"texts": {"overall_goal": "总体目标", "item_goals": "分项目标", "measures": "保障措施"},
            "projects": projects}


def rate(n, seconds):
    return f"{n / seconds:8.1f} 个/秒（{seconds:.2f} 秒）"


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--units", type=int, default=200)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--workers", type=int, default=None, help="processes (default: every core)")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    roster = synthetic_roster(args.units, rng)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "blank").mkdir()
        (tmp / "returns").mkdir()
        opts = Options(year=2025)
        t = time.perf_counter()
        generate(roster, tmp / "blank", opts, form_id="hebei-project", workers=args.workers)
        gen = time.perf_counter() - t
        for unit in roster.units:   # the returns, filled (not timed)
            form = form_for_unit(unit, "hebei-project")
            (tmp / "returns" / file_name_for(form, unit, 2025)).write_bytes(
                workbook_bytes(form, unit, opts, synthetic_fill(form, unit, rng)))
        t = time.perf_counter()
        col = collect([tmp / "returns"], workers=args.workers)
        read = time.perf_counter() - t
        tables = build_tables(col)
        write_xlsx(tables, tmp / "summary.xlsx")
        write_csv(tables, tmp / "csv")
        coll = time.perf_counter() - t
        from python_calamine import CalamineWorkbook
        t = time.perf_counter()
        for p in sorted((tmp / "returns").iterdir()):
            wb = CalamineWorkbook.from_path(str(p))
            for name in wb.sheet_names:
                wb.get_sheet_by_name(name).to_python()
        bare = time.perf_counter() - t
    n = args.units
    indicators = sum(len(p.indicators) for r in col.returns for p in r.projects)
    print(f"{n} 个单位，{sum(len(u.projects) for u in roster.units)} 个项目，{indicators} 条指标")
    print(f"generate            {rate(n, gen)}")
    print(f"collect（端到端）   {rate(n, coll)}   其中读取与审核 {read:.2f} 秒，汇总与导出 {coll - read:.2f} 秒")
    print(f"calamine 裸读全部单元格 {rate(n, bare)}   collect/裸读 = {coll / bare:.1f}")


if __name__ == "__main__":
    main()
