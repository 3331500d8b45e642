"""The Python API and the data hand-off (CSV, SQLite, Parquet)."""
import sqlite3

import pytest

from conftest import run, EXAMPLES, make_workbook

pd = pytest.importorskip("pandas")
ROSTER = EXAMPLES / "roster.csv"


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    out = tmp_path_factory.mktemp("export")
    r = run("collect", EXAMPLES / "returns", "-o", out / "汇总.xlsx", "--roster", ROSTER, "--export", out / "导出",
            "--format", "csv,sqlite,parquet", "--no-cache")
    assert r.exit_code == 0, r.output
    return out


def test_collect_gives_typed_frames_named_like_the_sheets():
    import perftables
    result = perftables.collect(EXAMPLES / "returns", roster=ROSTER)
    frames = result.frames()
    assert {"报送情况", "文件清单", "单位汇总", "项目汇总", "指标明细", "审核问题"} <= set(frames)
    units = frames["单位汇总"]
    assert str(units["单位编码"].dtype) == "string" and units["项目数"].dtype == "Int64"
    assert units["预算数（万元）"].dtype == "float64"
    assert round(units["预算数（万元）"].sum(), 2) == 3658.88
    details = frames["指标明细"]
    assert details["数值"].dtype == "float64" and {"指标值", "符号", "数值", "计量单位"} <= set(details.columns)
    row = details[details["指标值"] == "≥90%"].iloc[0]
    assert row["符号"] == "≥" and row["数值"] == 90.0 and row["计量单位"] == "%"
    assert str(frames["文件清单"]["保存时间"].dtype).startswith("datetime64")
    assert str(frames["项目汇总"]["项目编码"].dtype) == "string"   # codes stay text


@pytest.mark.parametrize("source", ["汇总.xlsx", "导出", "导出/汇总.sqlite", "parquet"])
def test_every_format_holds_the_same_rows_and_totals(exported, source):
    import perftables
    from perftables.outputs.data import read_parquet
    frames = read_parquet(exported / "导出") if source == "parquet" else perftables.read_summary(exported / source)
    reference = perftables.collect(EXAMPLES / "returns", roster=ROSTER).frames()
    for name in ("单位汇总", "项目汇总", "指标明细", "审核问题", "报送情况"):
        got, want = frames[name], reference[name]
        assert list(got.columns) == list(want.columns), (source, name)
        assert len(got) == len(want), (source, name)
        for col in want.columns:
            if want[col].dtype == "float64":
                assert got[col].sum() == pytest.approx(want[col].sum()), (source, name, col)
            elif str(want[col].dtype) == "string":
                assert list(got[col].fillna("")) == list(want[col].fillna("")), (source, name, col)
    per_unit = frames["项目汇总"].groupby("单位编码")["预算数（万元）"].sum().round(2).to_dict()
    assert per_unit == frames["单位汇总"].set_index("单位编码")["预算数（万元）"].round(2).to_dict()


def test_sqlite_has_keys_indexes_and_a_view_per_sheet(exported):
    db = sqlite3.connect(exported / "导出" / "汇总.sqlite")
    objects = {(t, n) for t, n in db.execute("SELECT type, name FROM sqlite_master")}
    for sheet in ("单位汇总", "项目汇总", "指标明细", "审核问题"):
        assert ("view", sheet) in objects
    assert ("table", "indicators") in objects and ("index", "indicators_一级指标") in objects
    assert ("index", "projects_单位编码") in objects and ("index", "projects_项目编码") in objects
    pk = [r for r in db.execute("PRAGMA table_info(units)") if r[5]]
    assert pk and pk[0][1] == "_row"
    total = db.execute('SELECT round(sum("预算数（万元）"), 2) FROM "单位汇总"').fetchone()[0]
    assert total == 3658.88


def test_values_are_exact_in_data_and_guarded_only_for_excel(tmp_path, small_unit):
    fill = {"texts": {"overall_goal": "=300天内完成"},
            "projects": {"项目1": {"fields": {"goal": "+目标", "plan1": 25, "plan2": 50, "plan3": 75, "plan4": 100},
                                   "indicators": [{"level1": "产出指标", "level2": "时效指标", "name": "-完成时限",
                                                   "description": "完成", "op": "定性", "num": "=300天"}]}}}
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.xlsx").write_bytes(make_workbook(small_unit, fill=fill))
    r = run("collect", tmp_path / "in", "-o", tmp_path / "s.xlsx", "--export", tmp_path / "x", "--format",
            "csv,sqlite,parquet")
    assert r.exit_code == 0, r.output
    raw_csv = (tmp_path / "x" / "指标明细.csv").read_text(encoding="utf-8-sig")
    assert "'=300天" in raw_csv                                   # for Excel: guarded
    db = sqlite3.connect(tmp_path / "x" / "汇总.sqlite")
    assert db.execute('SELECT "指标值", "三级指标" FROM "指标明细"').fetchone() == ("=300天", "-完成时限")
    import perftables
    from perftables.outputs.data import read_parquet
    for frames in (read_parquet(tmp_path / "x"), perftables.read_summary(tmp_path / "x")):
        assert frames["指标明细"]["指标值"].iloc[0] == "=300天" and frames["指标明细"]["三级指标"].iloc[0] == "-完成时限"


@pytest.mark.slow
def test_generate_and_publish_from_python(tmp_path):
    import perftables
    paths = perftables.generate(ROSTER, tmp_path / "下发", year=2025, deadline="1月15日")
    assert len(paths) == 5 and all(p.is_file() for p in paths)
    written = perftables.publish(EXAMPLES / "returns", tmp_path / "公开", pdf=False)
    assert any(p.suffix == ".docx" for p in written)


def test_format_needs_export_and_known_names(tmp_path):
    r = run("collect", EXAMPLES / "returns", "-o", tmp_path / "s.xlsx", "--format", "sqlite")
    assert r.exit_code == 2 and "--export" in r.output
    r = run("collect", EXAMPLES / "returns", "-o", tmp_path / "s.xlsx", "--export", tmp_path / "x", "--format", "xml")
    assert r.exit_code == 2 and "xml" in r.output


# --------------------------------------------------------------------------- year on year

