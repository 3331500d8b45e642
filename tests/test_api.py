"""The Python API, the data hand-off (CSV, SQLite, Parquet) and the year-on-year comparison."""
import copy
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

@pytest.fixture(scope="module")
def two_years(tmp_path_factory, roster, seed_tables):
    """2024 and 2025 summaries of the seed units: a project dropped, one renamed, a budget cut, a target lowered."""
    from perftables.cycle.generate import Options, fill_from_record, form_for_unit, workbook_bytes
    from perftables.model.roster import Roster
    from perftables.api.pipeline import run_collect
    out = tmp_path_factory.mktemp("years")
    for year in (2024, 2025):
        units = copy.deepcopy(roster.units)
        seeds = copy.deepcopy(seed_tables["units"])
        if year == 2025:
            bdh = next(u for u in units if u.code == "306001")
            dropped = bdh.projects.pop()                      # a project dropped
            bdh.projects[0].name += "（更名）"                  # one renamed (same code)
            ts = next(u for u in units if u.code == "405002")
            ts.projects[0].budget, ts.projects[0].fiscal, ts.projects[0].other = 100.0, 100.0, 0.0
            s = next(x for x in seeds if x["code"] == "306001")
            s["projects"] = [p for p in s["projects"] if p["name"] != dropped.name]
            from perftables.core.value import parse
            ind = next(i for p in s["projects"] for i in p["indicators"]
                       if parse(i[4]).kind == "quant" and parse(i[4]).op == "≥" and parse(i[4]).num)
            v = parse(ind[4])
            ind[4] = ind[4].replace(v.num_text, str(int(v.num // 2)), 1)   # a target lowered
        inbox = out / str(year)
        inbox.mkdir()
        for record in seeds:
            unit = next(u for u in units if u.code == record["code"])
            form = form_for_unit(unit, None)
            (inbox / f"{unit.code}.xlsx").write_bytes(workbook_bytes(form, unit, Options(year=year),
                                                                     fill_from_record(form, record)))
        run_collect([inbox], out / f"{year}.xlsx", roster=Roster(units=units), use_cache=False)
    return out


def test_compare_two_years(two_years, tmp_path):
    r = run("compare", two_years / "2024.xlsx", two_years / "2025.xlsx", "-o", tmp_path / "对比.xlsx")
    assert r.exit_code == 0, r.output
    from perftables.outputs.data import read_xlsx
    frames = read_xlsx(tmp_path / "对比.xlsx")
    projects = frames["项目对比"]
    assert (projects["变化"] == "取消").sum() == 1 and (projects["变化"] == "改名").sum() == 1
    ts = frames["单位对比"].set_index("单位编码").loc["405002"]
    assert ts["增减（万元）"] < 0
    lower = frames["目标降低"]
    assert len(lower) >= 1 and lower["说明"].str.contains("低于2024年目标").any()
    structure = frames["指标结构对比"]
    assert set(structure.columns) >= {"一级指标", "2024年指标数", "2025年指标数", "增减"}
    import openpyxl
    wb = openpyxl.load_workbook(tmp_path / "对比.xlsx")
    assert wb["单位对比"]._charts                                       # both years' budgets, charted
    r = run("compare", two_years / "2024.xlsx", EXAMPLES / "roster.csv", "-o", tmp_path / "x.xlsx")
    assert r.exit_code == 2 and "不是" in r.output
