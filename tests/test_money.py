"""Money unit per form (issue 27, item 5): a form in 元 prints, reads, reviews and sums in 元; forms in different
units are converted into one summary (万元); the roster's amounts (万元 unless its header says) are converted
into the form's unit; a form whose printed unit is not its [form] money is refused by the checker."""
import io
from pathlib import Path

import openpyxl
import pytest

from conftest import EXAMPLES, FIXED, ROOT, run, seed_return
from perftables.core.value import parse_amount
from perftables.cycle.collect import read_input
from perftables.cycle.generate import Options, workbook_bytes
from perftables.forms.form import load_form, with_templates
from perftables.model.roster import Project, Unit, read_roster

GOAL = {"goal": "完成年度任务", "plan1": 25, "plan2": 50, "plan3": 75, "plan4": 100}
ROWS = [{"level1": "产出指标", "level2": "数量指标", "name": "科普活动次数", "description": "开展科普活动", "op": "≥",
         "num": "12", "unit": "次", "basis": "计划标准"},
        {"level1": "满意度指标", "level2": "服务对象满意度指标", "name": "群众满意度", "description": "满意度调查",
         "op": "≥", "num": "90", "unit": "%", "basis": "计划标准"}]


def yuan_form(folder: Path, money: str | None = "元") -> Path:
    """hebei-project copied and edited as a coordinator in a province that counts in 元 would: its printed unit
    changed, and (unless money is None) [form] money said."""
    body = (ROOT / "templates" / "hebei-project.toml").read_text(encoding="utf-8")
    body = body.replace('id = "hebei-project"', 'id = "yuan-project"').replace("单位：万元", "单位：元")
    body = body.replace("（万元）", "（元）")
    if money:
        body = body.replace('id = "yuan-project"', f'id = "yuan-project"\nmoney = "{money}"', 1)
    folder.mkdir(exist_ok=True)
    path = folder / "yuan-project.toml"
    path.write_text(body, encoding="utf-8")
    return path


@pytest.mark.parametrize("money, said", [(None, "“元”"), ("美元", "money")])
def test_a_printed_unit_the_form_does_not_count_in_is_refused_with_file_line_and_key(tmp_path, money, said):
    path = yuan_form(tmp_path / "forms", money)
    r = run("forms", "--check", path)
    assert r.exit_code != 0 and said in r.output and "yuan-project.toml" in r.output, r.output
    if money is None:   # the line of the label that prints 元
        line = next(n for n, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if "单位：元" in text)
        assert f":{line}" in r.output or f"第{line}行" in r.output or f"第 {line} 行" in r.output, r.output


def test_a_form_in_yuan_prints_reads_and_sums_in_yuan(tmp_path):
    folder = tmp_path / "forms"
    yuan_form(folder)
    assert run("forms", "--check", folder / "yuan-project.toml").exit_code == 0
    unit = read_roster(EXAMPLES / "roster.csv").unit("306001")        # the roster in 万元: 2.50, 11.48 …
    with with_templates([folder]):
        form = load_form("yuan-project")
        data = workbook_bytes(form, unit, Options(year=2025, created=FIXED),
                              {"projects": {"项目1": {"fields": GOAL, "indicators": ROWS}}})
        wb = openpyxl.load_workbook(io.BytesIO(data))
        ws = wb["项目1"]
        printed = [c.value for row in ws.iter_rows() for c in row if c.value is not None]
        assert 25000 in printed and 2.5 not in printed                  # 2.50 万元 printed as 25000 元
        assert "单位：元" in printed
        (tmp_path / "r.xlsx").write_bytes(data)
        ret = read_input(tmp_path / "r.xlsx", "r.xlsx")[0].result
    assert ret.projects[0].budget == 25000
    assert not [f for f in ret.findings if f.rule == "锁定单元格被改动"], ret.findings


def test_a_yuan_summary_and_a_mixed_one(tmp_path, roster, seed_tables):
    folder = tmp_path / "forms"
    yuan_form(folder)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    env = {"PERFTABLES_TEMPLATES": str(folder)}
    with with_templates([folder]):
        data = workbook_bytes(load_form("yuan-project"), roster.unit("306001"), Options(year=2025, created=FIXED),
                              {"projects": {f"项目{i}": {"fields": GOAL, "indicators": ROWS} for i in range(1, 5)}})
    (inbox / "306001.xlsx").write_bytes(data)

    def summary(name):
        out = tmp_path / name
        r = run("collect", inbox, "-o", out, "--templates", folder, env=env)
        assert r.exit_code == 0, r.output
        wb = openpyxl.load_workbook(out, read_only=True)
        rows = list(wb["单位汇总"].iter_rows(values_only=True))
        head = next(r for r in rows if r and "单位编码" in r)
        return head, {r[0]: r for r in rows if r and r[0] in ("306001", "307001")}
    head, units = summary("元.xlsx")
    assert "预算数（元）" in head and units["306001"][head.index("预算数（元）")] == pytest.approx(204800)
    (inbox / "307001.xlsx").write_bytes(seed_return(roster, seed_tables, "307001"))   # hebei-project, in 万元
    head, units = summary("混合.xlsx")
    col = head.index("预算数（万元）")
    assert units["306001"][col] == pytest.approx(20.48) and units["307001"][col] == pytest.approx(22)


def test_an_amount_typed_with_its_unit_is_converted_into_the_forms(tmp_path):
    """A clerk types “2.5万元” into a form in 元 (the roster left the budget to the unit): 25000 元, said."""
    folder = tmp_path / "forms"
    yuan_form(folder)
    unit = Unit(code="999001", name="测试县科学技术协会",
                projects=[Project(code="999001P001", name="科普活动经费", use="开展科普活动")])
    with with_templates([folder]):
        fields = dict(GOAL, budget="2.5万元", fiscal="25,000", other="0")
        data = workbook_bytes(load_form("yuan-project"), unit, Options(year=2025, created=FIXED),
                              {"projects": {"项目1": {"fields": fields, "indicators": ROWS}}})
        (tmp_path / "r.xlsx").write_bytes(data)
        ret = read_input(tmp_path / "r.xlsx", "r.xlsx")[0].result
    p = ret.projects[0]
    assert (p.budget, p.fiscal, p.other) == (25000, 25000, 0)
    assert any("按 25000 元 读取" in f.message for f in ret.findings), [f.message for f in ret.findings]


@pytest.mark.parametrize("typed, unit, value", [("12万元", "元", 120000), ("120000元", "万元", 12), ("5千元", "万元", 0.5),
                                                ("3", "元", 3), ("1.5万", "千元", 15)])
def test_parse_amount_converts_into_the_unit_asked(typed, unit, value):
    assert parse_amount(typed, unit).value == pytest.approx(value)


def test_a_roster_column_headed_with_its_unit(tmp_path):
    (tmp_path / "名单.csv").write_text("单位编码,单位名称,项目编码,项目名称,预算数（元）,财政资金（元）,其他资金\n"
                                       "306001,甲,X1,项目,25000,20000,0.5\n", encoding="utf-8")
    p = read_roster(tmp_path / "名单.csv").units[0].projects[0]
    assert (p.budget, p.fiscal, p.other) == (2.5, 2.0, 0.5)
