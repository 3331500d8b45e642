"""Review, round 2: the seeds' own defects that got past round 1, and the class of each."""
import pytest

from conftest import EXAMPLES, make_workbook
from perftables.cycle.collect import collect, read_input


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
    """The catalogue is complete: each rule named in a finding anywhere in the package has its entry, by its
    exact name — or, where the finding speaks the form's own words (f"{name}合计不符"), by the id it gives."""
    import re
    from pathlib import Path

    from perftables.model.rules import CATALOGUE, RULES
    package = Path(__file__).resolve().parent.parent / "perftables"
    used, composed = set(), []
    for path in package.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        used |= {m.group(1) for m in re.finditer(r'"([^"\n]{2,14})",\s*(?:ERROR|WARNING)\b', text)}
        used |= {m.group(1) for m in re.finditer(r'Finding\([^\n]*?,\s*"([^"\n]{2,14})",', text)}
        composed += [(path.name, text[m.start():m.start() + 400]) for m in
                     re.finditer(r'f"[^"\n]*\{[^"\n]*\}[^"\n]*",\s*(?:ERROR|WARNING)\b', text)]
    assert len(used) > 50   # the package's findings were found
    missing = sorted(u for u in used if "{" not in u and u not in CATALOGUE)
    assert not missing, missing
    assert composed and all("rule_id=" in after.split("\n\n")[0] for _, after in composed), composed
    ids = [rid for rid, _ in RULES.values()]
    assert len(ids) == len(set(ids))   # one id a rule


def test_a_finding_in_the_forms_own_words_keeps_its_rule(tmp_path):
    """Hunan's 资金总额 = 财政拨款 + 自有资金 + 其他 is 与分项不符 in the table's words, with the rule's id and 怎么改."""
    from perftables.io.extract import Finding
    from perftables.model.rules import rule_named
    f = Finding("项目1", "C5", "资金总额与分项不符", "错误", "…", rule_id=rule_named("预算数与分项不符").id)
    assert f.rule_id == "C02" and f.fix.startswith("核对预算数")
    assert Finding("项目1", "C5", "必填项为空", "错误", "…").rule_id == "C01"


def test_findings_say_how_to_fix_in_summary_feedback_and_letter(tmp_path, roster):
    from perftables.outputs.feedback import review_text, write_feedback
    from perftables.outputs.summary import build_tables
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


# ------------------------------------------------------------------------- rules from the description

def _own_form(tmp_path, text: str, form_id: str):
    from perftables.forms.form import with_templates
    folder = tmp_path / "表式"
    folder.mkdir(exist_ok=True)
    (folder / f"{form_id}.toml").write_text(text, encoding="utf-8")
    return with_templates([folder])


NO_BASIS = '''extends = "hebei-project"
[form]
id = "nobasis"
name = "没有依据列的目标表"
version = "1.0"
[sheet]
replace = ["grid"]
[sheet.grid]
anchor = "一级指标"
blank_rows = 3
[[sheet.grid.columns]]
at = "A"
key = "level1"
label = "一级指标"
list = "level1"
[[sheet.grid.columns]]
at = "B"
key = "level2"
label = "二级指标"
list = "level2"
[[sheet.grid.columns]]
at = "C"
key = "name"
label = "三级指标"
[[sheet.grid.columns]]
at = "D"
key = "description"
label = "绩效指标描述"
[[sheet.grid.columns]]
at = "E:G"
key = "value"
label = "指标值"
parts = [{ at = "E", key = "op", label = "符号", list = "ops" }, { at = "F", key = "num", label = "数值" },
         { at = "G", key = "unit", label = "单位" }]
[review]
sums = [{ total = "budget", parts = ["fiscal", "other"] }, { total = "fiscal", parts = ["other"] }]
'''


def test_rules_take_their_switches_from_the_description(tmp_path, small_unit):
    """No 指标值确定依据 column: no warning about it. A sum the form declares is checked, in the form's words.
    A 一级 with a single 二级 needs none written (湖南: 社会公众或服务对象满意度指标 merged over both)."""
    from perftables.cycle.collect import collect
    from perftables.forms.form import load_form
    from perftables.cycle.generate import Options, workbook_bytes
    with _own_form(tmp_path, NO_BASIS, "nobasis"):
        rows = [{"level1": "产出指标", "level2": "数量指标", "name": "活动次数", "op": "≥", "num": "4", "unit": "次"},
                {"level1": "效益指标", "level2": "社会效益指标", "name": "科学素质", "num": "有效提升"},
                {"level1": "社会公众或服务对象满意度指标", "level2": "", "name": "群众满意度", "op": "≥", "num": "90",
                 "unit": "%"}]
        fill = {"projects": {"项目1": {"fields": {"goal": "1.开展科普活动", "plan1": 25, "plan2": 50, "plan3": 75,
                                                 "plan4": 100}, "indicators": rows}}}
        (tmp_path / "a.xlsx").write_bytes(workbook_bytes(load_form("nobasis"), small_unit, Options(year=2025), fill))
        ret = collect([tmp_path / "a.xlsx"]).returns[0]
    found = [(f.sheet, f.rule, f.message) for f in ret.findings]
    assert not [f for f in found if "依据" in f[2]], found
    assert not [f for f in found if "二级" in f[2] and f[0] == "项目1"], found
    # 项目1: 预算数 12 = 10 + 2, but 财政资金 10 ≠ 其他资金 2 (the second, declared, sum)
    assert ("项目1", "财政资金与分项不符", "财政资金 10 ≠ 其他资金 2") in found
    assert not [f for f in found if f[1] == "预算数与分项不符" and f[0] == "项目1"]


def test_a_roster_without_project_codes(tmp_path):
    """Some provinces have no project code: a roster without the column is read, each project known by its
    unit and its place; a roster that has the column still may not leave a code out."""
    from perftables.model.roster import RosterError, read_roster
    (tmp_path / "r.csv").write_text("单位编码,单位名称,项目名称,预算数\n101,某县科协,科普经费,10\n101,某县科协,学会经费,5\n",
                                    encoding="utf-8")
    ros = read_roster(tmp_path / "r.csv")
    assert [(p.code, p.name) for p in ros.unit("101").projects] == [("101-001", "科普经费"), ("101-002", "学会经费")]
    (tmp_path / "s.csv").write_text("单位编码,单位名称,项目编码,项目名称\n101,某县科协,,科普经费\n", encoding="utf-8")
    with pytest.raises(RosterError, match="项目编码和项目名称须同时填写"):
        read_roster(tmp_path / "s.csv")


def test_a_sum_over_fields_that_do_not_exist_is_a_description_error(tmp_path):
    from perftables.forms.form import FormError, load_form_file
    path = tmp_path / "bad.toml"
    path.write_text(NO_BASIS.replace('parts = ["other"]', 'parts = ["othr"]'), encoding="utf-8")
    with pytest.raises(FormError, match="求和规则中的“othr”不是本表的字段"):
        load_form_file(path)


EXTRA_FIELDS = '''extends = "hebei-project"
[form]
id = "extrafields"
name = "多几个字段的目标表"
version = "1.0"
[sheet]
replace = ["rows"]
[[sheet.rows]]
anchor = "项目编码"
cells = [
  { at = "A", label = "项目编码" },
  { at = "B:C", field = "project_code", source = "roster", required = true },
  { at = "D", label = "项目名称" },
  { at = "E:H", field = "project_name", source = "roster", required = true },
]
[[sheet.rows]]
anchor = "预算数"
cells = [
  { at = "A", label = "预算数" },
  { at = "B", field = "budget", source = "roster", type = "amount" },
  { at = "C", label = "上级资金" },
  { at = "D", field = "upper", type = "amount" },
  { at = "E", label = "实施期" },
  { at = "F:H", field = "period", prompt = "如 2025—2027 年" },
]
[[sheet.rows]]
anchor = "实施期绩效目标"
height = 40
cells = [{ at = "A", label = "实施期绩效目标" }, { at = "B:H", field = "long_goal", type = "longtext" }]
[[sheet.rows]]
anchor = "绩效目标"
height = 40
cells = [{ at = "A", label = "绩效目标" }, { at = "B:H", field = "goal", type = "longtext", required = true }]
[review]
sums = []
'''


def test_every_described_field_reaches_the_summary_under_its_own_label(tmp_path, small_unit):
    """项目汇总 has a column for every field the form describes (上级资金, 实施期, 实施期绩效目标), named as the
    form names it, and none for fields it does not have (财政资金, 其他资金, 资金用途); the CSV and SQLite
    exports keep them."""
    import sqlite3

    from perftables.cycle.collect import collect
    from perftables.outputs.data import write_sqlite
    from perftables.forms.form import load_form
    from perftables.cycle.generate import Options, workbook_bytes
    from perftables.outputs.summary import build_tables, write_csv
    with _own_form(tmp_path, EXTRA_FIELDS, "extrafields"):
        fill = {"projects": {"项目1": {"fields": {"upper": "8", "period": "2025—2027年", "long_goal": "三年建成科普阵地",
                                                 "goal": "1.开展科普活动", "plan1": 25, "plan2": 50, "plan3": 75,
                                                 "plan4": 100}, "indicators": []}}}
        data = workbook_bytes(load_form("extrafields"), small_unit, Options(year=2025), fill)
        (tmp_path / "a.xlsx").write_bytes(data)
        col = collect([tmp_path / "a.xlsx"])
        tables = {t.name: t for t in build_tables(col)}
    projects = tables["项目汇总"]
    names = [c[0] for c in projects.columns]
    assert {"上级资金（万元）", "实施期", "实施期绩效目标", "预算数（万元）", "绩效目标"} <= set(names)
    assert not {"财政资金（万元）", "其他资金（万元）", "资金用途"} & set(names)
    row = dict(zip(names, projects.rows[0]))
    assert (row["上级资金（万元）"], row["实施期"], row["实施期绩效目标"], row["预算数（万元）"]) == \
        (8, "2025—2027年", "三年建成科普阵地", 12)
    units = dict(zip([c[0] for c in tables["单位汇总"].columns], tables["单位汇总"].rows[0]))
    assert units["上级资金（万元）"] == 8 and units["预算数（万元）"] == 17.5
    write_csv(list(tables.values()), tmp_path / "csv")
    head = (tmp_path / "csv" / "项目汇总.csv").read_text(encoding="utf-8-sig").splitlines()[0].split(",")
    assert head == names
    db = write_sqlite(list(tables.values()), tmp_path / "d.sqlite")
    got = sqlite3.connect(db).execute('SELECT "上级资金（万元）", "实施期" FROM "项目汇总" WHERE "工作表" = ?',
                                      ("项目1",)).fetchone()
    assert got == (8.0, "2025—2027年")
