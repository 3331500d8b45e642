"""False alarms on real content (issue 27, item 7), each fixed at its rule: 百分比 is a percentage, a cost
block's words are called cost, a band written ±3%以内 is a number, a unit in a column of its own counts."""
from pathlib import Path

import pytest

from conftest import FIXED, make_workbook
from perftables.core.value import parse
from perftables.cycle.collect import read_input
from perftables.cycle.generate import Options, workbook_bytes
from perftables.forms.form import load_form, with_templates
from perftables.model.scoring import Rules
from perftables.review.selfeval import _ProjectScorer

GOAL = {"goal": "完成", "plan1": 25, "plan2": 50, "plan3": 75, "plan4": 100}


def findings_of(path):
    return read_input(path, path.name)[0].result.findings


def row(level1, level2, name, op, num, unit=""):
    return {"level1": level1, "level2": level2, "name": name, "description": name, "op": op, "num": num,
            "unit": unit, "basis": "计划标准"}


def test_percent_written_as_a_word_is_a_percentage(tmp_path, small_unit):
    rows = [row("产出指标", "质量指标", "验收合格率", "≥", "95", "百分比"),
            row("满意度指标", "服务对象满意度指标", "群众满意度", "≥", "90", "百分比")]
    path = tmp_path / "a.xlsx"
    path.write_bytes(make_workbook(small_unit, fill={"projects": {"项目1": {"fields": GOAL, "indicators": rows}}}))
    rules = {f.rule for f in findings_of(path)}
    assert not rules & {"应为百分比", "缺少计量单位", "单位与指标不符"}, rules


def test_a_cost_indicator_in_words_is_called_cost(tmp_path, small_unit):
    form = load_form("hebei-project").with_taxonomy("mof2021")
    rows = [row("成本指标", next(l2.name for l1 in form.taxonomy.level1 if l1.block == "cost" for l2 in l1.level2),
                "成本控制", "定性", "严格控制")]
    data = workbook_bytes(form, small_unit, Options(year=2025, created=FIXED),
                          {"projects": {"项目1": {"fields": GOAL, "indicators": rows}}})
    (tmp_path / "a.xlsx").write_bytes(data)
    hits = [f.message for f in findings_of(tmp_path / "a.xlsx") if f.rule == "宜量化"]
    assert hits and all("成本类指标" in m and "产出类" not in m for m in hits), hits


@pytest.mark.parametrize("text", ["±3%以内", "≤±3%", "±5%", "正负3%"])
def test_a_band_is_a_number(text):
    v = parse(text)
    assert v.kind == "quant" and v.op == "≤" and v.band and v.unit == "%" and v.render() == text


def test_a_band_scores_the_deviations_size():
    """预算执行偏差率 ±3%以内: −2% and +2% are within it, −5% is not."""
    form = load_form("hebei-selfeval")
    ref = {"level1": "产出指标", "level2": "质量指标", "name": "预算执行偏差率", "target": "±3%以内",
           "kind": "quant", "sign": "≤", "t": 3.0, "block": "output"}

    class Ind:
        row, level1, level2, name, op_cell = 13, "产出指标", "质量指标", "预算执行偏差率", ""
        cells = {}

        def __init__(self, actual):
            self.extra = {"actual": actual, "weight": 10, "reason": "x"}
            self.value = parse("±3%以内")

    class Pr:
        sheet, values, figures, cells, indicators = "自评1", {}, {}, {}, []

    scores = []
    for actual in ("-2%", "2%", "-5%"):
        scorer = _ProjectScorer(form, Pr(), Rules.from_form(form.scoring))
        scorer.row(0, Ind(actual), ref)
        scores.append(scorer.ps.rows[0].score)
    assert scores[0] == scores[1] == 10 and scores[2] < 10


def test_a_unit_in_its_own_column_counts_without_a_sign_column(tmp_path, small_unit):
    """指标值 | 计量单位 side by side (no 指标性质 column): the unit is the value's."""
    src = Path(__file__).with_name("forms") / "weighted-project.toml"
    body = src.read_text(encoding="utf-8").replace('id = "weighted-project"', 'id = "unit-column"')
    body = body.replace('  { at = "D", key = "op", label = "指标性质", list = "ops", strict = true },\n', "")
    folder = tmp_path / "forms"
    folder.mkdir()
    (folder / "unit-column.toml").write_text(body, encoding="utf-8")
    with with_templates([folder]):
        form = load_form("unit-column")
        rows = [dict(row("产出指标", "质量指标", "验收合格率", "", "≥95", "%"), qz=50, fx="正向指标"),
                dict(row("满意度指标", "服务对象满意度指标", "群众满意度", "", "≥90", "%"), qz=50, fx="正向指标")]
        data = workbook_bytes(form, small_unit, Options(year=2025, created=FIXED),
                              {"projects": {"项目1": {"fields": GOAL, "indicators": rows}}})
        (tmp_path / "a.xlsx").write_bytes(data)
        ret = read_input(tmp_path / "a.xlsx", "a.xlsx")[0].result
    values = [i.value.render() for i in ret.projects[0].indicators]
    assert values == ["≥95%", "≥90%"]
    assert not [f for f in ret.findings if f.rule in ("缺少计量单位", "指标值为占位符")], \
        [(f.rule, f.message) for f in ret.findings]
