"""Review, round 2: the seeds' own defects that got past round 1, and the class of each."""
import pytest

from conftest import EXAMPLES, make_workbook
from perftables.collect import collect, read_input


@pytest.fixture(scope="module")
def seed_findings(roster):
    col = collect([EXAMPLES / "returns"], roster=roster)
    return {f.unit_code: f.result.findings for f in col.accepted}


def found(findings, rule, *words):
    return [f for f in findings if f.rule == rule and all(w in f.message for w in words)]


def test_a_count_measured_in_percent(seed_findings):
    """北戴河 (seed 000): 组织科普活动次数 ≥90%."""
    hits = found(seed_findings["306001"], "单位与指标不符", "组织科普活动次数", "≥90%")
    assert hits and hits[0].severity == "警告" and hits[0].cell == "G11"


def test_a_date_target_before_the_budget_year(seed_findings):
    """唐山 (seed 001): 时效 2022.12 in a 2025 table."""
    hits = found(seed_findings["405002"], "时效目标早于年度", "2022.12", "2025")
    assert len(hits) == 2 and found(seed_findings["405002"], "时效目标早于年度", "2021年12月底之前")


def test_use_text_amounts_are_checked_on_every_form(seed_findings):
    """丰宁 (seed 003, Hebei form): 资金用途 says 活动经费 5 万元, 预算数 is 10."""
    hits = found(seed_findings["307001"], "资金用途与预算数不符", "5 万元", "10 万元")
    assert hits and hits[0].cell == "B5"
    assert not found(seed_findings["731002"], "资金用途与预算数不符")   # 保定: “项目资金10.00万元” = 10


def test_empty_brackets_in_a_value(seed_findings):
    """保定 (seed 002): ≥1000份（）."""
    hits = found(seed_findings["731002"], "模板占位文字", "≥1000份（）", "空括号")
    assert hits and hits[0].severity == "警告"


@pytest.mark.parametrize("where, text, severity", [
    ("name", "XX活动次数", "错误"), ("name", "××项目覆盖率", "错误"), ("description", "指标1：说明……", "错误"),
    ("num", "≥XX次", "错误"), ("num", "≥10次()", "警告"),
])
def test_leftover_template_text(tmp_path, small_unit, where, text, severity):
    row = {"level1": "产出指标", "level2": "数量指标", "name": "活动次数", "description": "开展活动", "op": "定性",
           "num": "10次", "basis": "计划标准"}
    row[where] = text
    fill = {"projects": {"项目1": {"fields": {"goal": "完成", "plan1": 25, "plan2": 50, "plan3": 75, "plan4": 100},
                                   "indicators": [row]}}}
    path = tmp_path / "a.xlsx"
    path.write_bytes(make_workbook(small_unit, fill=fill))
    findings = read_input(path, path.name)[0].result.findings
    hits = [f for f in findings if f.rule == "模板占位文字"]
    assert hits and hits[0].severity == severity, [(f.rule, f.message) for f in findings]


def test_a_rate_with_a_count_unit(tmp_path, small_unit):
    row = {"level1": "效益指标", "level2": "社会效益指标", "name": "群众知晓率", "description": "知晓", "op": "≥",
           "num": "500", "unit": "人", "basis": "计划标准"}
    fill = {"projects": {"项目1": {"fields": {"goal": "完成", "plan1": 25, "plan2": 50, "plan3": 75, "plan4": 100},
                                   "indicators": [row]}}}
    path = tmp_path / "a.xlsx"
    path.write_bytes(make_workbook(small_unit, fill=fill))
    findings = read_input(path, path.name)[0].result.findings
    assert [f for f in findings if f.rule == "单位与指标不符" and "比率" in f.message]


def test_unsigned_cost_like_targets(seed_findings, roster):
    """唐山: 年运营成本 625.87万元 under 成本指标 without ≤ — and in the self-evaluation, scored as positive."""
    assert found(seed_findings["405002"], "成本类指标无符号", "年运营成本")
    se = collect([EXAMPLES / "selfeval_returns"], roster=roster)
    tangshan = next(f for f in se.accepted if f.unit_code == "405002").result.findings
    assert found(tangshan, "成本类指标无符号", "年运营成本", "正向")


def test_every_rule_the_code_reports_has_an_id_and_a_fix():
    """The catalogue is complete: each rule named in a finding anywhere in the package has its entry."""
    import re
    from pathlib import Path

    from perftables.rules import RULES, lookup
    package = Path(__file__).resolve().parent.parent / "perftables"
    used = set()
    for path in package.glob("*.py"):
        text = path.read_text(encoding="utf-8")
        used |= {m.group(1) for m in re.finditer(r'"([^"\n]{2,14})",\s*(?:ERROR|WARNING)\b', text)}
        used |= {m.group(1) for m in re.finditer(r'Finding\([^\n]*?,\s*"([^"\n]{2,14})",', text)}
    used = {u.replace("{name}", "收入") for u in used}
    missing = sorted(u for u in used if not lookup(u)[0])
    assert not missing, missing
    ids = [rid for rid, _ in RULES.values()]
    assert len(ids) == len(set(ids))   # one id a rule


def test_findings_say_how_to_fix_in_summary_feedback_and_letter(tmp_path, roster):
    from perftables.feedback import review_text, write_feedback
    from perftables.summary import build_tables
    col = collect([EXAMPLES / "returns"], roster=roster)
    issues = next(t for t in build_tables(col) if t.name == "审核问题")
    heads = [h for h, _ in issues.columns]
    assert heads[:2] == ["单位编码", "单位名称"] and "规则编号" in heads and heads[-1] == "怎么改"
    assert all(row[heads.index("规则编号")] and row[-1] for row in issues.rows)
    assert [r[0] for r in issues.rows] == sorted(r[0] for r in issues.rows)   # sorted by unit
    rec = next(f for f in col.accepted if f.unit_code == "731002")
    assert "怎么改：" in review_text(rec)
    [path] = [p for p in write_feedback(col, tmp_path) if p.name.startswith("731002")]
    import openpyxl
    ws = openpyxl.load_workbook(path)["审核意见"]
    top = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == "序号")
    assert ws.cell(top, 6).value == "怎么改" and all(ws.cell(r, 6).value for r in range(top + 1, ws.max_row + 1))
