"""Benchmark: perftables against the floors of the libraries it stands on.

    python benchmarks/bench.py --units 1000

N synthetic units of realistic shape (1–12 projects, 5–20 indicators each, Chinese
texts) are generated, filled as returns and collected. Timed, in one run:

  (a) generate — every unit's locked workbook, as `perftables generate` does it;
  (b) bare xlsxwriter writing the same cells, formats, validations and protection: the
      calls perftables made for a unit are recorded and replayed on a plain
      xlsxwriter.Workbook (on a sample of units, one process; scaled to N);
  (c) collect end to end, as `perftables collect --export` does it (in a fresh process, whose
      peak memory is the one printed): read, review, summary workbook, CSV export; then (c') the
      same command again on the unchanged inbox;
  (d) bare python-calamine reading every cell of every returned file (one process);
      (c) and (d) are taken in turns, --repeat times (3), and the fastest of each is kept;
  (e) bare xlsxwriter writing the cells of the summary workbook (replayed calls, on a sample,
      one process; scaled to N) — the summary is part of (c), and no reader floor covers it.

  (c1) collect again with one process: its single-core time; the part of (c) during which only
      the main process works (everything outside the pools of workers) is printed against it;
  (p) the fair peer: what a coordinator who knows pandas writes today — read_excel(engine="calamine")
      of every sheet of every return, the indicator grids stacked, one sheet written with xlsxwriter —
      in a fresh process: its wall and CPU time and peak memory beside collect's;
  (p') the old peer, pandas' default engines (every sheet whole, to_excel): a second line;
  (f) publish (documents and workbooks, no PDF) at two sizes, n and 4n units: its time a unit, the
      same at both when publish is linear.

Printed: workbooks per second, the ratios a/b (serial against serial: perftables' generate in one
process against the bare replay of the same calls) and c/d, c'/c, the serial share, the peer, and
the peak memory of the main process and of the largest worker. Not a test: the numbers are this
machine's.
"""
from __future__ import annotations

import argparse
import inspect
import io
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

import xlsxwriter
import xlsxwriter.chart
import xlsxwriter.workbook
import xlsxwriter.worksheet

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from perftables.cycle.collect import default_workers, parallel_map  # noqa: E402
from perftables.cycle.generate import Options, file_name_for, form_for_unit, generate, workbook_bytes  # noqa: E402
from perftables.model.roster import Project, Roster, Unit  # noqa: E402
from perftables.cycle.collect import Collection, fewer_gc_passes  # noqa: E402
from perftables.cycle.generate import LockedWorkbook  # noqa: E402
from perftables.api.pipeline import CollectOptions, run_collect  # noqa: E402
from perftables.outputs.summary import build_tables, write_xlsx  # noqa: E402

WORDS = ["科普", "活动", "培训", "宣传", "学会", "服务", "展品", "场馆", "调研", "竞赛", "青少年", "科技",
         "工作者", "满意度", "完成率", "覆盖率", "基层", "农村", "社区", "学校", "讲座", "义诊", "志愿者"]
B_SAMPLE = 200
PUBLISH_SAMPLE = 50   # publish timed on this many units and on four times as many
STEPS = {"read": "读取与审核", "tables": "汇总表", "xlsx": "汇总工作簿", "csv": "等 CSV", "finish": "待处理与缓存"}


# --------------------------------------------------------------------------- synthetic units

def synthetic_roster(n: int, rng: random.Random) -> Roster:
    units = []
    for u in range(n):
        projects = [Project(code=f"B{u:05d}P{p:02d}", name="".join(rng.sample(WORDS, 3)) + "经费",
                            budget=(b := round(rng.uniform(1, 500), 2)), fiscal=b, other=0.0,
                            use="用于" + "、".join(rng.sample(WORDS, 4)))
                    for p in range(rng.randint(1, 12))]
        units.append(Unit(code=f"{100000 + u}", name=f"测试县第{u}科学技术协会", projects=projects))
    return Roster(units)


def synthetic_fill(form, unit, seed: int) -> dict:
    rng = random.Random(seed)
    tax = form.taxonomy
    projects = {}
    for i, _ in enumerate(unit.projects, 1):
        inds = []
        for _ in range(rng.randint(5, 20)):
            l1 = rng.choice(tax.level1)
            l2 = rng.choice(l1.level2)
            inds.append({"level1": l1.name, "level2": l2.name, "name": "".join(rng.sample(WORDS, 2)),
                         "description": "反映" + "".join(rng.sample(WORDS, 5)), "op": rng.choice(["≥", "≤", "="]),
                         "num": str(rng.randint(1, 100)), "unit": rng.choice(["%", "次", "人次", "场"]),
                         "basis": rng.choice(["计划标准", "历史标准", "行业标准"])})
        projects[form.meta["sheet_name"].format(seq=i)] = {
            "fields": {"goal": "1." + "".join(rng.sample(WORDS, 6)), "plan1": 25.0, "plan2": 50.0, "plan3": 75.0,
                       "plan4": 100.0}, "indicators": inds}
    return {"texts": {"overall_goal": "总体目标：" + "".join(rng.sample(WORDS, 8)), "item_goals": "分项目标",
                      "measures": "保障措施"}, "projects": projects}


def write_return(unit, folder, opts, seed):
    form = form_for_unit(unit, "hebei-project")
    (folder / file_name_for(form, unit, opts.year)).write_bytes(
        workbook_bytes(form, unit, opts, synthetic_fill(form, unit, seed)))


# --------------------------------------------------------------------------- (b) record and replay

class Recorder:
    """Records the public xlsxwriter calls made while a workbook is written, for a bare replay."""

    def __init__(self):
        self.calls: list = []
        self.ids: dict[int, tuple] = {}   # id(object made by a call) -> ("obj", index)
        self.made = 0
        self.depth = 0
        self.saved = []

    def __enter__(self):
        for cls in (xlsxwriter.workbook.Workbook, xlsxwriter.worksheet.Worksheet, xlsxwriter.chart.Chart):
            for name, fn in list(vars(cls).items()):
                if inspect.isfunction(fn) and not name.startswith("_") and name != "close":
                    self.saved.append((cls, name, fn))
                    setattr(cls, name, self._wrap(fn, name))
        return self

    def __exit__(self, *exc):
        for cls, name, fn in self.saved:
            setattr(cls, name, fn)

    def _wrap(self, fn, name):
        rec = self

        def wrapper(obj, *args, **kwargs):
            # only what perftables itself asks for (not xlsxwriter calling its own methods)
            if rec.depth or not sys._getframe(1).f_globals.get("__name__", "").startswith("perftables"):
                return fn(obj, *args, **kwargs)
            rec.depth += 1
            try:
                result = fn(obj, *args, **kwargs)
            finally:
                rec.depth -= 1
            target = rec.ids.get(id(obj), "wb")
            rec.calls.append((target, name, rec._sub(args), rec._sub(kwargs)))
            if result is not None and not isinstance(result, (int, str, float)):
                rec.ids[id(result)] = ("obj", rec.made)
                rec.calls[-1] += (rec.made,)
                rec.made += 1
            return result
        return wrapper

    def _sub(self, value):
        if isinstance(value, dict):
            return {k: self._sub(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return type(value)(self._sub(v) for v in value)
        if id(value) in self.ids:
            return self.ids[id(value)]
        return value


def compile_calls(calls) -> list:
    """Calls with the places of made objects listed, so that replaying costs almost nothing of its own."""
    out = []
    for call in calls:
        target, name, args, kwargs = call[:4]
        flat = [(i, a[1]) for i, a in enumerate(args) if isinstance(a, tuple) and len(a) == 2 and a[0] == "obj"]
        nested = any(isinstance(a, (dict, list)) for a in args) or bool(kwargs)
        out.append((None if target == "wb" else target[1], name, args, kwargs, flat, nested,
                    call[4] if len(call) > 4 else None))
    return out


def replay(calls, worksheet_class=None) -> bytes:
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_numbers": False, "strings_to_formulas": False,
                                   "strings_to_urls": False})
    if worksheet_class is not None:
        wb.worksheet_class = worksheet_class
    made = {}

    def sub(value):
        if isinstance(value, tuple) and len(value) == 2 and value[0] == "obj":
            return made[value[1]]
        if isinstance(value, dict):
            return {k: sub(v) for k, v in value.items()}
        if isinstance(value, list):
            return [sub(v) for v in value]
        return value

    for target, name, args, kwargs, flat, nested, makes in calls:
        obj = wb if target is None else made[target]
        if nested:
            args, kwargs = [sub(a) for a in args], {k: sub(v) for k, v in kwargs.items()}
        elif flat:
            args = list(args)
            for i, k in flat:
                args[i] = made[k]
        result = getattr(obj, name)(*args, **kwargs)
        if makes is not None:
            made[makes] = result
    wb.close()
    return buf.getvalue()


def bare_xlsxwriter(units, opts) -> tuple[float, float, float]:
    """Seconds per workbook on these units, one process: perftables, the bare replay, and the bare
    replay with perftables' formula cache (xlsxwriter's own cost of the same cells)."""
    ours = bare = cached = 0.0
    for unit in units:
        form = form_for_unit(unit, "hebei-project")
        t = time.perf_counter()
        workbook_bytes(form, unit, opts, None)
        ours += time.perf_counter() - t
        with Recorder() as rec:
            workbook_bytes(form, unit, opts, None)
        calls = compile_calls(rec.calls)
        t = time.perf_counter()
        replay(calls)
        bare += time.perf_counter() - t
        t = time.perf_counter()
        replay(calls, LockedWorkbook.worksheet_class)
        cached += time.perf_counter() - t
    return ours / len(units), bare / len(units), cached / len(units)


def bare_summary(collection, k: int) -> tuple[float, float]:
    """Seconds per unit for the summary workbook of k units: perftables' write_xlsx, and the bare
    replay of the xlsxwriter calls it made (the floor of writing those cells at all)."""
    part = Collection(files=[f for f in collection.files if f.result is not None][:k], kind=collection.kind,
                      year=collection.year)
    tables = build_tables(part)
    import perftables.outputs.summary as summary
    splice_rows, summary.SPLICE_ROWS = summary.SPLICE_ROWS, 1 << 62   # every cell through xlsxwriter: the floor
    try:
        with tempfile.TemporaryDirectory() as tmp:
            t = time.perf_counter()
            write_xlsx(tables, Path(tmp) / "s.xlsx")
            ours = time.perf_counter() - t
            with Recorder() as rec:
                write_xlsx(tables, Path(tmp) / "s.xlsx")
    finally:
        summary.SPLICE_ROWS = splice_rows
    calls = compile_calls(rec.calls)
    t = time.perf_counter()
    replay(calls)
    return ours / k, (time.perf_counter() - t) / k


# --------------------------------------------------------------------------- (d)

def bare_calamine(folder: Path) -> float:
    from python_calamine import CalamineWorkbook

    t = time.perf_counter()
    for p in sorted(folder.iterdir()):
        wb = CalamineWorkbook.from_path(str(p))
        for name in wb.sheet_names:
            wb.get_sheet_by_name(name).to_python()
    return time.perf_counter() - t


PEER = """
import sys, time, warnings
from pathlib import Path
try:
    import resource
    peak = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
except ImportError:   # Windows
    peak = lambda: float("nan")
import pandas as pd
folder, out, engine = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
t, cpu = time.perf_counter(), time.process_time()
frames = []
with warnings.catch_warnings():   # pandas says, for every file, that its default engine will change
    warnings.filterwarnings("ignore", message=".*default engine.*")
    for p in sorted(folder.iterdir()):
        if engine == "calamine":   # every sheet read, each indicator grid (under its 一级指标 header) kept
            for name, sheet in pd.read_excel(p, sheet_name=None, header=None, engine="calamine").items():
                hits = sheet.index[sheet.eq("一级指标").any(axis=1)]
                if len(hits):
                    grid = sheet.iloc[hits[0] + 1:].dropna(how="all")
                    grid.columns = [str(x) for x in sheet.iloc[hits[0]]]
                    frames.append(grid.assign(文件=p.name, 工作表=name))
        else:                      # pandas' default engines, every sheet whole
            for name, frame in pd.read_excel(p, sheet_name=None, header=None).items():
                frames.append(frame.assign(文件=p.name, 工作表=name))
pd.concat(frames, ignore_index=True).to_excel(out, index=False, engine="xlsxwriter" if engine == "calamine" else None)
print(time.perf_counter() - t, time.process_time() - cpu, peak())
"""


def peer(folder: Path, out: Path, engine: str = "calamine") -> dict | None:
    """What a coordinator with Python would write without perftables, in a fresh process (its peak memory is
    its own): engine "calamine" — the fair one, as pandas recommends today: read_excel(engine="calamine") of
    every sheet of every return, the indicator grids stacked, one sheet written with xlsxwriter; "default" —
    pandas' default engines, every sheet whole. Seconds, CPU seconds, peak MB (None without pandas)."""
    import importlib.util
    import subprocess
    if importlib.util.find_spec("pandas") is None:
        return None
    done = subprocess.run([sys.executable, "-c", PEER, str(folder), str(out), engine], check=True,
                          capture_output=True, text=True)
    seconds, cpu, peak_mb = map(float, done.stdout.split()[-3:])
    return {"seconds": seconds, "cpu": cpu, "peak_mb": peak_mb}


def publish_per_unit(folder: Path, out: Path, n: int, workers: int) -> float:
    """publish (documents and workbooks, no PDF) of the first n returns: seconds a unit."""
    from perftables.cycle.collect import collect
    from perftables.outputs.publish import publish
    part = out / f"in{n}"
    part.mkdir(parents=True)
    for f in sorted(folder.iterdir())[:n]:
        os.link(f, part / f.name)
    col = collect([part], workers=workers)
    t = time.perf_counter()
    publish(col, out / f"out{n}", pdf=False)
    return (time.perf_counter() - t) / n


CHILD = """
import json, os, sys, time
from pathlib import Path
try:
    import resource
    peak = lambda who: resource.getrusage(who).ru_maxrss / 1024
except ImportError:   # Windows
    resource, peak = None, lambda who: float("nan")
from perftables.cycle import collect
from perftables.api.pipeline import CollectOptions, run_collect
inbox, out, workers = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
t, times = time.perf_counter(), os.times()
run = run_collect([inbox], out / "汇总.xlsx", CollectOptions(export_dir=out / "csv", workers=workers))
seconds, after = time.perf_counter() - t, os.times()
cpu = sum(after[:4]) - sum(times[:4])   # user and system, of this process and of its workers
print(json.dumps({"seconds": seconds, "cpu": cpu, "steps": run.seconds, "reused": run.reused,
                  "serial": seconds - collect.PARALLEL_SECONDS[0] if workers > 1 else seconds,
                  "accepted": len(run.collection.accepted),
                  "indicators": sum(f.n_indicators for f in run.collection.accepted),
                  "peak_main_mb": peak(resource and resource.RUSAGE_SELF),
                  "peak_worker_mb": peak(resource and resource.RUSAGE_CHILDREN)}))
"""


def collect_in_child(inbox: Path, out: Path, workers: int) -> dict:
    """(c): run_collect as `perftables collect --export` runs it, in a fresh Python process; its time,
    steps, the part outside the pools of workers, and the high-water marks of its memory."""
    import subprocess
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parent.parent))
    done = subprocess.run([sys.executable, "-c", CHILD, str(inbox), str(out), str(workers)], env=env, check=True,
                          capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--units", type=int, default=200)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--workers", type=int, default=None, help="processes (default: every core)")
    ap.add_argument("--json", type=Path, default=None, help="also write the results here")
    ap.add_argument("--no-peer", action="store_true", help="leave out the pandas peer (slow at large N)")
    ap.add_argument("--fair-only", action="store_true", help="only the calamine peer (pandas' default engines "
                    "take minutes at N = 1,000)")
    ap.add_argument("--no-publish", action="store_true", help="leave out publish at two sizes")
    ap.add_argument("--repeat", type=int, default=3, help="(c) and (d) taken this many times in turns, the "
                    "fastest of each kept (default 3)")
    ap.add_argument("--web", action="store_true", help="instead: the web console's loopback load test "
                    "(benchmarks/webload.py: 200 uploads at 50 concurrent, the same unit twice at once)")
    args = ap.parse_args()
    if args.web:
        sys.path.insert(0, str(Path(__file__).parent))
        import webload
        result = webload.run()
        print(json.dumps(result, ensure_ascii=False, indent=1))
        if args.json:
            args.json.write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
        return
    n, workers = args.units, args.workers or default_workers()
    rng = random.Random(args.seed)
    roster = synthetic_roster(n, rng)
    opts = Options(year=2025)
    out = {"units": n, "workers": workers, "cpus": os.cpu_count()}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for name in ("blank", "returns", "out"):
            (tmp / name).mkdir()
        t = time.perf_counter()
        generate(roster, tmp / "blank", opts, form_id="hebei-project", workers=workers)
        out["a"] = time.perf_counter() - t
        sample = random.Random(args.seed).sample(roster.units, min(B_SAMPLE, n))
        ours_one, bare_one, cached_one = bare_xlsxwriter(sample, opts)
        out["a_serial_per_unit"], out["b_per_unit"], out["b_cached_per_unit"] = ours_one, bare_one, cached_one
        out["b"], out["b_cached"] = bare_one * n, cached_one * n
        parallel_map(write_return, [(u, tmp / "returns", opts, i) for i, u in enumerate(roster.units)], workers)
        out["inbox_mb"] = sum(p.stat().st_size for p in (tmp / "returns").iterdir()) / 1e6
        # collect as the command runs it: in a fresh process (nothing of this script's in its memory)
        # (c) and (d) taken in turns, `repeat` times each, the fastest of each kept: on a shared machine
        # the speed changes from one minute to the next, and a ratio of two single runs tells mostly that
        runs, floors = [], []
        for k in range(args.repeat):
            runs.append(collect_in_child(tmp / "returns", tmp / f"out{k}", workers))
            floors.append(bare_calamine(tmp / "returns"))
        k, c = min(enumerate(runs), key=lambda kc: kc[1]["seconds"])
        out["c"], out["c_steps"], out["c_serial"] = c["seconds"], c["steps"], c["serial"]
        out["c_runs"], out["d_runs"] = [r["seconds"] for r in runs], floors
        out["peak_main_mb"] = max(r["peak_main_mb"] for r in runs)
        out["peak_worker_mb"] = max(r["peak_worker_mb"] for r in runs)
        again = collect_in_child(tmp / "returns", tmp / f"out{k}", workers)
        out["c_again"] = again["seconds"]
        assert again["reused"] and again["accepted"] == n, "the re-collect did not find its cache"
        out["d"] = min(floors)
        out["c1"] = collect_in_child(tmp / "returns", tmp / "one", 1)["seconds"]
        out["indicators"] = c["indicators"]
        out["c_cpu"] = c["cpu"]
        if not args.no_peer:
            out["peer"] = peer(tmp / "returns", tmp / "peer.xlsx")
            if not args.fair_only:
                out["peer_default"] = peer(tmp / "returns", tmp / "peer-default.xlsx", "default")
        if not args.no_publish:   # at two sizes, n and 4n: the time a unit stays the same when publish is linear
            small = max(1, min(n // 4, PUBLISH_SAMPLE))
            out["publish"] = {k: publish_per_unit(tmp / "returns", tmp / "pub", k, workers) for k in (small, 4 * small)}
        with fewer_gc_passes():   # (e) on a sample of the returns, collected here
            part = tmp / "sample"
            part.mkdir()
            for f in sorted((tmp / "returns").iterdir())[:B_SAMPLE]:
                os.link(f, part / f.name)
            ours_sum, bare_sum = bare_summary(run_collect([part], tmp / "s" / "汇总.xlsx", CollectOptions(workers=workers)).collection,
                                              min(B_SAMPLE, n))
        out["summary_per_unit"], out["e_per_unit"], out["e"] = ours_sum, bare_sum, bare_sum * n
        out["summary_mb"] = (tmp / "out0" / "汇总.xlsx").stat().st_size / 1e6
    out["projects"] = sum(len(u.projects) for u in roster.units)
    report(out)
    if args.json:
        args.json.write_text(json.dumps(out, ensure_ascii=False, indent=1), encoding="utf-8")


def report(o: dict):
    def rate(seconds):
        return f"{o['units'] / seconds:8.1f} 个/秒（{seconds:7.2f} 秒）"

    print(f"{o['units']} 个单位，{o['projects']} 个项目，{o['indicators']} 条指标；回执共 {o['inbox_mb']:.1f} MB；"
          f"{o['workers']} 个进程，{o['cpus']} 核")
    print(f"(a) generate                    {rate(o['a'])}")
    print(f"(b) 裸 xlsxwriter（同样的调用）  {rate(o['b'])}   单进程每个 {o['b_per_unit'] * 1000:.1f} 毫秒；"
          f"去掉公式改写 {o['b_cached_per_unit'] * 1000:.1f} 毫秒；perftables 单进程 {o['a_serial_per_unit'] * 1000:.1f} 毫秒")
    print(f"(c) collect 端到端              {rate(o['c'])}   汇总工作簿 {o['summary_mb']:.1f} MB")
    print("    其中 " + "，".join(f"{STEPS.get(k, k)} {v:.2f} 秒" for k, v in o["c_steps"].items()))
    print(f"(c') 再次 collect（收件箱未变）  {rate(o['c_again'])}")
    print(f"(d) calamine 裸读全部单元格      {rate(o['d'])}")
    if len(o.get("c_runs", ())) > 1:
        print(f"    (c)、(d) 交替各测 {len(o['c_runs'])} 次，取最快的一次：(c) " +
              " / ".join(f"{x:.2f}" for x in o["c_runs"]) + " 秒；(d) " + " / ".join(f"{x:.2f}" for x in o["d_runs"]) + " 秒")
    print(f"(e) 裸 xlsxwriter 写汇总工作簿的同样单元格 {rate(o['e'])}   每个单位 {o['e_per_unit'] * 1000:.1f} 毫秒"
          f"（perftables {o['summary_per_unit'] * 1000:.1f} 毫秒）")
    print(f"(c1) collect 单进程             {rate(o['c1'])}   其中只有主进程在干活的部分：(c) 里的 {o['c_serial']:.2f} 秒，"
          f"占单进程时间的 {o['c_serial'] / o['c1']:.1%}")
    if o.get("peer"):
        p = o["peer"]
        print(f"(p) 对手（calamine）：read_excel(engine=\"calamine\") 每张表，叠起指标表，xlsxwriter 写一张表 {rate(p['seconds'])}")
        print(f"    peer(calamine) = {p['seconds'] / o['c']:.1f}×（墙钟）、{p['cpu'] / o['c_cpu']:.1f}×（CPU：对手 "
              f"{p['cpu']:.1f} 秒，collect {o['c_cpu']:.1f} 秒）；峰值内存：对手 {p['peak_mb']:.0f} MB，collect 主进程 "
              f"{o['peak_main_mb']:.0f} MB、最大子进程 {o['peak_worker_mb']:.0f} MB")
    if o.get("peer_default"):
        p = o["peer_default"]
        print(f"(p') 对手（pandas 默认引擎）：read_excel 每张表 + concat + to_excel {rate(p['seconds'])}   "
              f"peer(default) = {p['seconds'] / o['c']:.1f}×，峰值内存 {p['peak_mb']:.0f} MB")
    for k, per in (o.get("publish") or {}).items():
        print(f"(f) publish N={k}: {per * 1000:.0f} ms/unit（文档与工作簿，不含 PDF）")
    print(f"a/b = {o['a_serial_per_unit'] / o['b_per_unit']:.2f}（都是单进程；对去掉公式改写的 xlsxwriter："
          f"{o['a_serial_per_unit'] / o['b_cached_per_unit']:.2f}）   "
          f"c/d = {o['c'] / o['d']:.2f}   c/(d+e) = {o['c'] / (o['d'] + o['e']):.2f}   c'/c = {o['c_again'] / o['c']:.1%}")
    print(f"峰值内存：主进程 {o['peak_main_mb']:.0f} MB，最大的子进程 {o['peak_worker_mb']:.0f} MB")


if __name__ == "__main__":
    main()
