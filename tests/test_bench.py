"""The benchmark script runs, and its bare-xlsxwriter baselines write the very cells perftables writes."""
import io
import json
import random
import subprocess
import sys
from pathlib import Path

import pytest
from python_calamine import CalamineWorkbook

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

import bench  # noqa: E402
from perftables.cycle.generate import Options, form_for_unit, workbook_bytes  # noqa: E402


def cells(data: bytes) -> dict:
    wb = CalamineWorkbook.from_filelike(io.BytesIO(data))
    return {name: wb.get_sheet_by_name(name).to_python() for name in wb.sheet_names}


def test_replayed_calls_write_the_same_workbook():
    unit = bench.synthetic_roster(3, random.Random(5)).units[2]
    form = form_for_unit(unit, "hebei-project")
    opts = Options(year=2025)
    fill = bench.synthetic_fill(form, unit, 7)
    ours = workbook_bytes(form, unit, opts, fill)
    with bench.Recorder() as rec:
        workbook_bytes(form, unit, opts, fill)
    bare = bench.replay(bench.compile_calls(rec.calls))
    assert cells(bare) == cells(ours)
    assert len(rec.calls) > 500 and {c[1] for c in rec.calls} >= {"data_validation", "protect", "merge_range"}


@pytest.mark.slow
def test_the_benchmark_runs(tmp_path):
    out = tmp_path / "b.json"
    run = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench.py"), "--units", "4", "--repeat", "2", "--json", str(out)],
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    result = json.loads(out.read_text(encoding="utf-8"))
    assert result["units"] == 4 and result["c_again"] < result["c"]
    assert len(result["c_runs"]) == len(result["d_runs"]) == 2 and result["c"] == min(result["c_runs"])
    assert "a/b = " in run.stdout and "c/d = " in run.stdout and "峰值内存" in run.stdout
    assert "peer(calamine) = " in run.stdout and "peer(default) = " in run.stdout, run.stdout
    assert result["peer"]["peak_mb"] > 0 and result["c_cpu"] > 0
    assert "publish N=1: " in run.stdout and "publish N=4: " in run.stdout and set(result["publish"]) == {"1", "4"}


@pytest.mark.slow
def test_the_web_load_test_runs_and_loses_nothing():
    """benchmarks/webload.py at a small scale: every upload acknowledged is in the round's state and on disk."""
    import webload
    result = webload.run(n=24, concurrent=8, threads=4)
    assert result["errors"] == 0 and result["lost"] == 0, result
    assert result["p95_s"] is not None and result["p95_s"] < 30 and result["alone_s"] < 5
