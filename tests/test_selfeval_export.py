"""Every field of a self-evaluation reaches the summary and the exports (issue 27, item 2): a project sheet with
each of the form's fields under the form's own names, in its order, and every indicator row with the unit's
entries beside the recomputed score."""
import csv
import sqlite3

import pytest

from conftest import EXAMPLES, run


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    out = tmp_path_factory.mktemp("se")
    r = run("collect", EXAMPLES / "sichuan" / "selfeval_returns", "-o", out / "汇总.xlsx", "--export", out / "导出",
            "--format", "csv,sqlite", "--no-cache")
    assert r.exit_code == 0, r.output
    return out / "导出"


def rows(path):
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def test_every_field_of_the_form_is_a_column(exported):
    projects = rows(exported / "自评项目.csv")
    heads = list(projects[0])
    # the Sichuan form's own words, in its order: identity, funds (年初 / 调整后 / 执行), goals, its own fields
    # (amounts with the summary's money unit)
    for name in ("项目名称", "主管部门", "实施单位", "总额年初预算（万元）", "财政资金调整后预算数（万元）", "其他资金预算执行数（万元）",
                 "预期目标", "实际完成情况", "评价结论", "存在问题", "改进措施", "项目负责人", "财务负责人"):
        assert name in heads, name
    assert heads.index("预期目标") < heads.index("实际完成情况") < heads.index("评价结论")
    fengning = [p for p in projects if p["单位编码"] == "307001"]
    assert len(fengning) == 2 and fengning[0]["实际完成情况"] and fengning[0]["总额年初预算（万元）"] == "12"
    assert "表题" not in heads and "总分" not in heads   # printed titles and the sheet's formulas are not data


def test_every_indicator_row_with_the_units_entries_and_the_recomputed_score(exported):
    indicators = rows(exported / "自评指标.csv")
    assert {"一级指标", "三级指标", "年度指标值", "完成值", "权重", "未完成原因分析", "得分（复核）", "适用"} <= set(indicators[0])
    assert len(indicators) == 111 and all(r["年度指标值"] for r in indicators)
    assert any(r["适用"] == "是" and r["得分（复核）"] for r in indicators)
    with sqlite3.connect(exported / "汇总.sqlite") as db:
        n = db.execute("select count(*) from se_indicators").fetchone()[0]
        heads = [d[1] for d in db.execute("pragma table_info(se_projects)")]
    assert n == 111 and "项目负责人" in heads
