"""The collect cache beside the summary: same results as a fresh read, only the changed work redone."""
import csv
import io
import os
import shutil

import pytest

import perftables.cycle.collect as collect_module
from conftest import EXAMPLES
from perftables.cycle import cache as cache_module
from perftables.cycle.cache import cache_path_for
from perftables.model.roster import read_roster
from perftables.api.pipeline import CollectOptions, run_collect


@pytest.fixture
def inbox(tmp_path):
    box = tmp_path / "收件箱"
    shutil.copytree(EXAMPLES / "returns", box)
    return box


@pytest.fixture
def reads(monkeypatch):
    """Count the files actually read (serial run, so the counter sees them)."""
    seen = []
    real = collect_module.read_input

    def counting(path, display, *rest):
        seen.append(display)
        return real(path, display, *rest)

    monkeypatch.setattr(collect_module, "read_input", counting)
    return seen


def exports(folder, history=True):
    """The CSV exports; history=False leaves out 报送情况's 经过 (the ledger's history: the out folder has
    seen the files under their first names, a fresh one has not)."""
    out = {p.name: p.read_bytes() for p in sorted(folder.glob("*.csv"))}
    if not history:
        rows = list(csv.reader(io.StringIO(out["报送情况.csv"].decode("utf-8-sig"))))
        col = rows[0].index("经过")
        out["报送情况.csv"] = [r[:col] + r[col + 1:] for r in rows]
    return out


def go(inbox, out, progress=None, **kw):
    opts = CollectOptions(roster=read_roster(EXAMPLES / "roster.csv"), export_dir=out / "csv", workers=1, **kw)
    return run_collect([inbox], out / "汇总.xlsx", opts, progress=progress)


def test_unchanged_inbox_reads_nothing_and_writes_nothing(inbox, tmp_path, reads):
    out = tmp_path / "out"
    first = go(inbox, out)
    assert not first.reused and len(reads) == len(list(inbox.iterdir()))
    assert cache_path_for(out / "汇总.xlsx").is_file()
    stamp = (out / "汇总.xlsx").stat().st_mtime_ns
    reads.clear()
    again = go(inbox, out)
    assert again.reused and reads == []
    assert (out / "汇总.xlsx").stat().st_mtime_ns == stamp
    assert [(f.display, f.fate, f.reason) for f in again.collection.files] == \
        [(f.display, f.fate, f.reason) for f in first.collection.files]


def test_cached_results_equal_a_fresh_read_after_renames_and_a_new_file(inbox, tmp_path, reads):
    go(inbox, tmp_path / "out")
    first = sorted(inbox.iterdir())[0]
    first.rename(inbox / ("改名_" + first.name))            # same bytes, new name: still a cache hit
    shutil.copy(EXAMPLES / "returns" / sorted(os.listdir(EXAMPLES / "returns"))[1], inbox / "重发.xlsx")
    reads.clear()
    cached = go(inbox, tmp_path / "out")
    assert not cached.reused
    assert reads == []                                       # every file's bytes were seen before
    fresh = go(inbox, tmp_path / "fresh", use_cache=False)
    assert exports(tmp_path / "out" / "csv", history=False) == exports(tmp_path / "fresh" / "csv", history=False)
    assert [f.display for f in cached.collection.files] == [f.display for f in fresh.collection.files]
    issues = {f.file for r in cached.collection.returns for f in r.findings}
    assert any(name.startswith("收件箱/改名_") for name in issues)   # findings name the file as it is now


def test_a_changed_file_is_read_again(inbox, tmp_path, reads):
    go(inbox, tmp_path / "out")
    victim = sorted(inbox.iterdir())[0]
    victim.write_bytes(victim.read_bytes()[:5000])           # truncated on a second sending
    reads.clear()
    run = go(inbox, tmp_path / "out")
    assert reads == [f"收件箱/{victim.name}"]
    rec = next(f for f in run.collection.files if f.display == f"收件箱/{victim.name}")
    assert rec.fate == "未采用" and "损坏" in rec.reason


def test_touched_outputs_are_rewritten(inbox, tmp_path):
    out = tmp_path / "out"
    go(inbox, out)
    (out / "csv" / "指标明细.csv").write_text("我改过", encoding="utf-8")
    assert not go(inbox, out).reused
    assert "我改过" not in (out / "csv" / "指标明细.csv").read_text(encoding="utf-8-sig")
    (out / "汇总.xlsx").unlink()
    assert not go(inbox, out).reused and (out / "汇总.xlsx").is_file()


def test_new_code_or_forms_invalidate_the_cache(inbox, tmp_path, reads, monkeypatch):
    go(inbox, tmp_path / "out")
    monkeypatch.setattr(cache_module, "code_version", lambda: "another form version")
    reads.clear()
    assert not go(inbox, tmp_path / "out").reused
    assert len(reads) == len(list(inbox.iterdir()))


def test_a_damaged_cache_is_started_again(inbox, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    cache_path_for(out / "汇总.xlsx").write_bytes(b"not a database" * 100)
    run = go(inbox, out)
    assert not run.reused and {f.unit_code for f in run.collection.accepted} == {"306001", "405002", "731002", "307001"}


def test_a_big_summary_written_row_by_row_holds_the_same(inbox, tmp_path, monkeypatch):
    """Above BIG_SUMMARY_CELLS the workbook is written in constant_memory mode: same sheets, same cells."""
    from perftables.outputs import summary

    from perftables.outputs.summary import read_summary_tables

    go(inbox, tmp_path / "small", use_cache=False)
    monkeypatch.setattr(summary, "BIG_SUMMARY_CELLS", 0)
    go(inbox, tmp_path / "big", use_cache=False)
    small = read_summary_tables(tmp_path / "small" / "汇总.xlsx")
    big = read_summary_tables(tmp_path / "big" / "汇总.xlsx")
    assert list(big) == list(small) and big == small
    assert len(big["指标明细"]) > 100
    import zipfile
    names = zipfile.ZipFile(tmp_path / "big" / "汇总.xlsx").namelist()
    assert "xl/sharedStrings.xml" not in names            # really the row-by-row mode (inline strings)
    assert "xl/sharedStrings.xml" in zipfile.ZipFile(tmp_path / "small" / "汇总.xlsx").namelist()


def test_returns_are_held_packed(inbox, tmp_path):
    run = go(inbox, tmp_path / "out", use_cache=False)
    rec = run.collection.accepted[0]
    assert isinstance(rec.packed, bytes) and len(rec.packed) < 20_000
    one, two = rec.result, rec.result
    assert one is not two and one.projects[0].indicators == two.projects[0].indicators
    assert rec.n_projects == len(one.projects) and rec.errors == sum(f.severity == "错误" for f in one.findings)
