"""The hostile inbox: every file reported with its fate, nothing crashes, nothing is modified."""
import hashlib
import time

import pytest

from conftest import EXAMPLES, run
from hostile import BAD, OK, OLD, ZIP, build
from perftables.cycle.collect import ACCEPTED, ACCEPTED_FINDINGS, REJECTED, SUPERSEDED, UNPACKED, collect

FATES = {OK: (ACCEPTED, ACCEPTED_FINDINGS), BAD: (REJECTED,), OLD: (SUPERSEDED,), ZIP: (UNPACKED,)}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, roster, seed_tables):
    inbox = tmp_path_factory.mktemp("hostile") / "收件箱"
    expect = build(inbox, roster, seed_tables)
    hashes = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in inbox.iterdir()}
    return inbox, expect, hashes


@pytest.fixture(scope="module")
def collected(corpus, roster):
    inbox, _, _ = corpus
    t = time.perf_counter()
    col = collect([inbox], roster=roster, year=2025)
    return col, time.perf_counter() - t


@pytest.mark.slow
def test_every_file_has_its_expected_fate(corpus, collected):
    _, expect, _ = corpus
    col, _ = collected
    got = {f.display.split("/", 1)[1]: f for f in col.files}
    assert set(got) == set(expect)
    for name, want in expect.items():
        allowed = sum((FATES[w] for w in (want if isinstance(want, tuple) else (want,))), ())
        assert got[name].fate in allowed, (name, got[name].fate, got[name].reason)
        assert got[name].reason, name
        if got[name].path is not None or got[name].size:
            assert len(got[name].sha256) == 64, name


def test_reasons_are_specific(collected):
    col, _ = collected
    reason = {f.display.split("/", 1)[1]: f.reason for f in col.files}
    assert "压缩炸弹" in reason["炸弹.zip"] and "压缩炸弹" in reason["炸弹.xlsx"]
    assert "RAR" in reason["附件.rar"]
    assert "Word" in reason["报告.docx"]
    assert "模板版本不符" in reason["旧版本模板.xlsx"]
    assert "年度不符" in reason["去年的.xlsx"]
    assert "表式不符" in reason["别的表式.xlsx"]
    if "加密.xlsx" in reason:
        assert "加密" in reason["加密.xlsx"]


def test_hostile_content_is_reported_not_trusted(collected):
    col, _ = collected
    rec = next(f for f in col.files if f.display.endswith("粘贴覆盖.xlsx"))
    msgs = [(x.sheet, x.rule, x.message) for x in rec.result.findings]
    rules = {r for _, r, _ in msgs}
    assert {"一级指标不在列表内", "二级指标与一级不符", "不在下拉列表内", "资金支出计划", "数字格式"} <= rules
    new = next(p for p in rec.result.projects if p.spare)
    assert (new.budget, new.fiscal, new.other) == (2000, 12, 12)
    assert len(rec.result.projects[0].indicators) == 10_004
    plan_errors = [m for sheet, r, m in msgs if sheet == "项目1" and r == "资金支出计划"]
    assert any("2025-03-31" in m for m in plan_errors) and any("2025-06-30" in m for m in plan_errors)
    assert any("2025年9月" in m for m in plan_errors)
    xxe = next(f for f in col.files if f.display.endswith("外部实体.xlsx"))
    assert xxe.saved is None   # the hostile property part was refused, the workbook still read
    assert xxe.payload["unit_code"] == "731002" and xxe.fate in FATES[OK] + FATES[OLD]


@pytest.mark.slow
def test_inputs_unchanged_outputs_deterministic_and_quarantined(corpus, tmp_path):
    inbox, expect, hashes = corpus
    runs = []
    for i in range(2):
        out = tmp_path / f"run{i}"
        r = run("collect", str(inbox), "-o", str(out / "汇总.xlsx"), "--roster",
                str(EXAMPLES / "roster.csv"), "--year", "2025", "--export", str(out / "csv"),
                "--feedback", str(out / "退改"), catch_exceptions=False)
        assert r.exit_code == 0, r.output
        runs.append({p.name: p.read_bytes() for p in (out / "csv").iterdir()})
        held = out / "待处理"
        listed = (held / "待处理清单.csv").read_text(encoding="utf-8-sig")
        rejected = [n for n, f in expect.items() if f == BAD]
        for name in rejected:
            assert name in listed, name
        # names from inputs never become paths: nothing escaped the quarantine folder
        assert all(p.parent == held for p in held.rglob("*"))
        assert not list(tmp_path.rglob("逃逸.xlsx"))
    assert runs[0] == runs[1]
    assert hashes == {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in inbox.iterdir()}


def test_rows_inserted_and_deleted_in_libreoffice_are_read_by_anchors(collected):
    col, _ = collected
    rec = next((f for f in col.files if f.display.endswith("增删行.xlsx")), None)
    if rec is None:
        pytest.skip("LibreOffice not installed")
    from perftables.forms.form import load_form
    from perftables.io.book import read_book
    from perftables.io.extract import extract
    ret = extract(read_book(rec.path.read_bytes()), load_form("hebei-project"),
                  rec.payload)
    p1, p2 = ret.projects
    assert p1.cells["budget"] == "C5" and p1.budget == 12             # moved down one row, still found
    assert len(p1.indicators) == 5                                   # two indicator rows deleted
    assert len(p2.indicators) == 7 and p2.indicators[0].row == 11    # two blank rows inserted inside the grid
    assert not [f for f in ret.findings if f.rule in ("锁定单元格被改动", "结构被改动")]


@pytest.mark.slow
def test_the_hostile_summary_is_the_same_made_in_parallel(collected, tmp_path, monkeypatch):
    """Every table of the hostile inbox's summary (ten thousand indicators in one return, over-long text,
    formula-like strings, control characters) made by the workers and spliced in: the workbook
    xlsxwriter writes alone, cell for cell and format for format, and the same CSV."""
    from test_sheetxml import both_ways, looks, values
    col, _ = collected
    both_ways(col, tmp_path, monkeypatch)
    assert values(tmp_path / "plain.xlsx") == values(tmp_path / "fast.xlsx")
    assert looks(tmp_path / "plain.xlsx") == looks(tmp_path / "fast.xlsx")
    for csv in (tmp_path / "plain").glob("*.csv"):
        assert csv.read_bytes() == (tmp_path / "fast" / csv.name).read_bytes(), csv.name


PYTHON_WORDS = __import__("re").compile(r"[A-Z][A-Za-z]*(Error|Exception|Panic)|Traceback|BadZipFile|errno|\w+\.py\b")


def test_reasons_are_said_in_chinese_never_as_python(collected):
    """A reason is for the clerk and the coordinator: never a Python class name or a library's English."""
    col, _ = collected
    said = [(f.display, f.reason) for f in col.files if f.reason and PYTHON_WORDS.search(f.reason)]
    assert not said, said
