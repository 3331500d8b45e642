"""outputs.compare: last year's summary against this year's — projects dropped, renamed, budgets cut, targets
set lower, indicator counts by 一级 side by side, both years' budgets charted."""
import copy

import pytest

from conftest import EXAMPLES, run
from perftables.outputs.compare import CompareError, compare


@pytest.fixture(scope="module")
def two_years(tmp_path_factory, roster, seed_tables):
    """2024 and 2025 summaries of the seed units: a project dropped, one renamed, a budget cut, a target lowered."""
    from perftables.cycle.generate import Options, fill_from_record, form_for_unit, workbook_bytes
    from perftables.model.roster import Roster
    from perftables.api.pipeline import CollectOptions, run_collect
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
        run_collect([inbox], out / f"{year}.xlsx", CollectOptions(roster=Roster(units=units), use_cache=False))
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


def test_compare_is_a_library_function_with_typed_tables(two_years):
    tables = {t.name: t for t in compare(two_years / "2024.xlsx", two_years / "2025.xlsx")}
    assert {"项目对比", "单位对比", "目标降低", "指标结构对比"} <= set(tables)
    changed = [r[tables["项目对比"].columns.index(next(c for c in tables["项目对比"].columns if c[0] == "变化"))]
               for r in tables["项目对比"].rows]
    assert changed.count("取消") == 1 and changed.count("改名") == 1
    with pytest.raises(CompareError, match="不是"):
        compare(two_years / "2024.xlsx", EXAMPLES / "roster.csv")
