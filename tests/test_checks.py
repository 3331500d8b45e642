"""review.checks: the project target table's rules, run on a return as extract read it — each rule fires on the
cell that breaks it and stays quiet on the same table filled as it should be."""

import pytest

from conftest import make_workbook
from perftables.forms.form import load_form
from perftables.io.book import read_book
from perftables.io.extract import extract
from perftables.io.stamp import read_stamp
from perftables.model.roster import Project, Unit
from perftables.review.checks import review_project

UNIT = Unit(code="999001", name="测试县科学技术协会", projects=[
    Project(code="999001P001", name="科普活动经费", budget=12.0, fiscal=10.0, other=2.0, use="开展科普活动")])
GOOD = [{"level1": "产出指标", "level2": "数量指标", "name": "科普活动场次", "description": "全年开展科普活动",
         "op": "≥", "num": "12", "unit": "场", "basis": "计划标准"},
        {"level1": "效益指标", "level2": "社会效益指标", "name": "公众科学素质", "description": "提升",
         "op": "", "num": "明显提升", "unit": "", "basis": "其他"},
        {"level1": "满意度指标", "level2": "服务对象满意度指标", "name": "群众满意度", "description": "问卷",
         "op": "≥", "num": "90", "unit": "%", "basis": "计划标准"}]
FIELDS = {"goal": "开展科普活动12场，提升公众科学素质。", "plan1": 25, "plan2": 50, "plan3": 75, "plan4": 100}


def reviewed(rows, fields=FIELDS):
    form = load_form("hebei-project")
    data = make_workbook(UNIT, fill={"projects": {"项目1": {"fields": fields, "indicators": rows}}})
    book = read_book(data)
    ret = extract(book, form, read_stamp(book.sheets["_stamp"]))
    return review_project(form, ret.projects[0], 2025)


def test_a_table_filled_as_it_should_be_has_no_error():
    found = reviewed(GOOD)
    assert not [f for f in found if f.severity == "错误"], [(f.cell, f.message) for f in found]


def rules_at(rows, cell):
    return {f.rule: f for f in reviewed(rows) if f.cell == cell}


@pytest.mark.parametrize("change, rule, words", [
    ({"num": ""}, "指标值为占位符", "数值未填写（已填符号“≥”、单位“场”）"),    # not “宜量化”: no words to quantify
    ({"num": "", "op": "", "unit": ""}, "指标值为占位符", "指标值未填写"),
    ({"unit": ""}, "缺少计量单位", "没有计量单位"),
    ({"num": "若干"}, "宜量化", "为定性表述"),
])
def test_each_rule_names_the_cell_that_breaks_it(change, rule, words):
    found = rules_at([dict(GOOD[0], **change), *GOOD[1:]], "F11" if rule != "缺少计量单位" else "G11")
    assert rule in found and words in found[rule].message, {k: f.message for k, f in found.items()}
    assert "宜量化" not in found or rule == "宜量化"


def test_a_plan_that_does_not_reach_the_whole_year_is_named():
    found = {f.rule: f for f in reviewed(GOOD, dict(FIELDS, plan1=25, plan2=50, plan3=75, plan4=90))}
    assert "资金支出计划" in found and "90%" in found["资金支出计划"].message
    assert "资金支出计划" not in {f.rule for f in reviewed(GOOD, dict(FIELDS, plan1=25, plan2=50, plan3=75, plan4=100))}
