"""Other provinces' year-end tables as user forms (issue 27), each generated from its approved table, filled
(through the API and at Calc's keyboard, validation asked for every cell), saved as xlsx and ods and collected
with the user's folder: every value the clerk entered reaches the summary, the CSV, SQLite and Parquet under the
form's own words.
- tests/forms/shanghai-selfeval.toml: a project self-evaluation in 元, 项目负责人及电话, the 定性 dropdown in the
  table's own words, its own grade names and one-decimal rounding;
- tests/forms/hunan-dept-selfeval.toml: a department self-evaluation made from the Hunan department table (a user
  form too), its 年初预算数 taken from that table's own fields by `approved`."""
import csv
import json
import sqlite3
import subprocess
from pathlib import Path

import openpyxl
import pytest

from conftest import EXAMPLES, FIXED, libreoffice_available, run
from perftables.io.book import read_book
from perftables.cycle.collect import collect
from perftables.cycle.generate import Options
from perftables.cycle.selfeval import generate_selfeval
from perftables.forms.form import with_templates

FORMS = Path(__file__).with_name("forms")
LO_FILL = Path(__file__).with_name("lo_fill.py")
SHEET = "自评表1"
# 丰宁's 科学技术普及经费 (approved: ≥2 次, ≥90%, ≥90%, ≤12 万元, 显著提升, 长期, ≥90), 12 万元 = 120000 元
FIELDS = {"leader_phone": "王五 021-12345678", "budget_total": "120000", "spent_total": "114000",
          "budget_fiscal": "120000", "spent_fiscal": "114000", "budget_other": "0", "spent_other": "0",
          "achieved": "全年开展科普专题活动3次，活动完成率95%。"}
ROWS = [{"actual": "≥3次"}, {"actual": "95%"}, {"actual": "不适用"}, {"actual": "11.4万元"},
        {"actual": "显著提升", "score": "15"}, {"actual": "基本及时", "score": "10", "reason": "宣传覆盖面仍需扩大"},
        {"actual": "92"}]
# 9.5 (执行率 95 %) + 12.5 + 12.5 + 12.5 + 15 + 10 + 10 = 82 of 87.5 applicable points → 93.7 (one decimal), 优秀
TOTAL, GRADE = 93.7, "优秀"


@pytest.fixture(scope="module")
def targets():
    return [t for t in collect([EXAMPLES / "returns"]).accepted if t.unit_code == "307001"]


def blank(targets, folder: Path, fills=None) -> Path:
    with with_templates([FORMS]):
        written = generate_selfeval(targets, folder, Options(year=2025, created=FIXED), form_id="shanghai-selfeval",
                                    fills=fills)
    return written[0][1]


def exported(inbox: Path, out: Path) -> Path:
    r = run("collect", inbox, "-o", out / "汇总.xlsx", "--templates", FORMS, "--export", out / "导出",
            "--format", "csv,sqlite,parquet", "--no-cache")
    assert r.exit_code == 0, r.output
    return out / "导出"


def table(folder: Path, name: str) -> list[dict]:
    with open(folder / f"{name}.csv", encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def assert_field_for_field(folder: Path, entered: dict, rows: list[dict]):
    """Every entered value under the form's own title, amounts in 元; every indicator's entries beside the
    recomputed score; the same rows in SQLite and Parquet; the form's own grades."""
    import pandas as pd
    project = next(p for p in table(folder, "自评项目") if p["工作表"] == SHEET)
    titles = {"leader_phone": "项目负责人及电话", "budget_total": "年度资金总额全年预算数（元）",
              "spent_total": "年度资金总额全年执行数（元）", "budget_fiscal": "财政资金全年预算数（元）",
              "spent_fiscal": "财政资金全年执行数（元）", "budget_other": "其他资金全年预算数（元）",
              "spent_other": "其他资金全年执行数（元）", "achieved": "实际完成情况"}
    assert {titles[k]: project[titles[k]] for k in entered} == {titles[k]: v for k, v in entered.items()}
    assert project["年度资金总额年初预算数（元）"] == "120000" and project["预期目标"].startswith("1.开展丰富多彩")
    indicators = [r for r in table(folder, "自评指标") if r["工作表"] == SHEET]
    got = [{"actual": r["实际完成值"], **({"score": r["得分"]} if "score" in want else {}),
            **({"reason": r["偏差原因分析及改进措施"]} if "reason" in want else {})} for r, want in zip(indicators, rows)]
    assert got == rows
    assert [r["适用"] for r in indicators] == ["是", "是", "否", "是", "是", "是", "是"]
    assert [float(r["得分（复核）"]) for r in indicators if r["得分（复核）"]] == [12.5, 12.5, 12.5, 15, 10, 10]
    score = next(s for s in table(folder, "自评得分") if s["工作表"] == SHEET)
    assert (float(score["总分（复核）"]), score["等级"], score["全年预算数（元）"]) == (TOTAL, GRADE, "120000")
    assert [g["等级"] for g in table(folder, "等级分布")] == ["优秀", "良好", "一般", "较差"]
    assert {"优秀", "较差"} <= set(table(folder, "单位自评")[0]) and "优" not in table(folder, "单位自评")[0]
    with sqlite3.connect(folder / "汇总.sqlite") as db:
        tables = [n for (n,) in db.execute("select name from sqlite_master where type = 'table'")]
        se = next(n for n in tables if "项目负责人及电话" in [d[1] for d in db.execute(f'pragma table_info("{n}")')])
        assert db.execute(f'select "项目负责人及电话" from "{se}" where "工作表" = ?', (SHEET,)).fetchone()[0] \
            == entered["leader_phone"]
    parquet = pd.read_parquet(folder / "自评指标.parquet")
    assert list(parquet[parquet["工作表"] == SHEET]["实际完成值"]) == [r["actual"] for r in rows]


def typed_in_calc(template: Path, keys: list, tmp_path: Path, name: str) -> dict:
    """Each [sheet, cell, text] typed at Calc's keyboard (its validation asked after every cell, none may
    refuse), recalculated, saved as xlsx and ods: format → path."""
    outputs = {fmt: str(tmp_path / "inbox" / f"{name}.{fmt}") for fmt in ("xlsx", "ods")}
    (tmp_path / "inbox").mkdir()
    report = tmp_path / "report.json"
    job = tmp_path / "job.json"
    job.write_text(json.dumps({"input": str(template), "keyboard": keys, "report": str(report), "recalculate": True,
                               "outputs": outputs}, ensure_ascii=False), encoding="utf-8")
    subprocess.run(["/usr/bin/python3", str(LO_FILL), str(job)], check=True, timeout=300)
    typed = json.loads(report.read_text(encoding="utf-8"))
    assert len(typed) == len(keys) and not [t for t in typed if t["invalid"]], typed
    return outputs


def labelled_row(rows: list, label: str, col: int = 0) -> int:
    """The 1-based sheet row whose cell in column `col` reads `label`."""
    return next(i for i, r in enumerate(rows) if len(r) > col and str(r[col] or "").strip() == label) + 1


def grid_keys(sheet: str, grid: int, rows: list[dict], columns) -> list[list]:
    """Keystrokes for the indicator rows under the grid's header row: (key, column letter) of each entry."""
    return [[sheet, f"{col}{grid + 1 + i}", row[k]] for i, row in enumerate(rows) for k, col in columns if k in row]


def each_saved(outputs: dict, tmp_path: Path):
    """Each format Calc saved: the return as collected with the user folder, and the folder of its exports."""
    for fmt, path in outputs.items():
        with with_templates([FORMS]):
            ret = collect([Path(path)]).returns[0]
        inbox = tmp_path / f"only-{fmt}"
        inbox.mkdir()
        (inbox / Path(path).name).write_bytes(Path(path).read_bytes())
        yield fmt, ret, exported(inbox, tmp_path / f"out-{fmt}")


def test_the_user_form_generates_in_yuan_with_its_own_words(targets, tmp_path):
    path = blank(targets, tmp_path / "blank")
    wb = openpyxl.load_workbook(path)
    ws = wb[SHEET]
    printed = [c.value for row in ws.iter_rows() for c in row if c.value is not None]
    assert "项目资金（元）" in printed and "金额单位：元" in printed and "项目负责人及电话" in printed
    assert 120000 in printed and 12 not in printed            # 12 万元 approved, printed as 120000 元
    assert not ws["B5"].protection.locked and ws["B5"].value is None
    lists = [dv.formula1 for dv in ws.data_validations.dataValidation if dv.type == "list"]
    assert lists, "the 定性 dropdown"
    assert "基本及时" in str(read_book(path.read_bytes()).sheets["_lists"])


def test_every_field_filled_reaches_every_output(targets, tmp_path):
    fills = {"307001": {"projects": {SHEET: {"fields": FIELDS, "indicators": ROWS}}}}
    inbox = tmp_path / "inbox"
    blank(targets, inbox, fills)
    folder = exported(inbox, tmp_path)
    assert_field_for_field(folder, FIELDS, ROWS)


@pytest.mark.slow
@pytest.mark.libreoffice
@pytest.mark.skipif(not libreoffice_available(), reason="LibreOffice (soffice + python3-uno) not installed")
def test_typed_at_calcs_keyboard_saved_as_xlsx_and_ods_collected_field_for_field(targets, tmp_path):
    template = blank(targets, tmp_path / "blank")
    rows = read_book(template.read_bytes()).sheets[SHEET]
    leader, funds, goal, grid = (labelled_row(rows, label) for label in ("项目负责人及电话", "项目资金（元）", "年度总体目标",
                                                                          "绩效指标"))
    cells = {"leader_phone": f"B{leader}", "budget_total": f"D{funds + 1}", "spent_total": f"E{funds + 1}",
             "budget_fiscal": f"D{funds + 2}", "spent_fiscal": f"E{funds + 2}", "budget_other": f"D{funds + 3}",
             "spent_other": f"E{funds + 3}", "achieved": f"F{goal + 1}"}
    keys = [[SHEET, cells[k], v] for k, v in FIELDS.items()]
    keys += grid_keys(SHEET, grid, ROWS, (("actual", "F"), ("score", "H"), ("reason", "I")))
    outputs = typed_in_calc(template, keys, tmp_path, "丰宁自评")
    for fmt, ret, folder in each_saved(outputs, tmp_path):
        ps = ret.scores[SHEET]
        calc = ret.projects[0].figures
        assert (ps.total, ps.grade) == (TOTAL, GRADE), fmt
        assert calc["total"] == TOTAL and calc["grade"] == GRADE, (fmt, calc)   # Calc's own formulas agree
        assert not [f for f in ret.findings if f.sheet == SHEET and f.rule in ("实际完成值不可比", "得分与复核不符",
                                                                                 "得分超出等级区间")], fmt
        assert_field_for_field(folder, FIELDS, ROWS)


def test_words_in_a_numeric_column_are_kept_in_every_export(targets, tmp_path):
    """分值 written as “十五”: an error for the unit, and the words stay in the CSV, SQLite and Parquet (the column
    held as text), never an empty cell."""
    import pandas as pd
    rows = [dict(r) for r in ROWS]
    rows[4]["weight"] = "十五"
    inbox = tmp_path / "inbox"
    blank(targets, inbox, {"307001": {"projects": {SHEET: {"fields": FIELDS, "indicators": rows}}}})
    folder = exported(inbox, tmp_path)
    weights = [r["分值"] for r in table(folder, "自评指标") if r["工作表"] == SHEET]
    assert weights == ["12.5", "12.5", "12.5", "12.5", "十五", "15", "10"]
    assert list(pd.read_parquet(folder / "自评指标.parquet").query("工作表 == @SHEET")["分值"]) == weights
    with sqlite3.connect(folder / "汇总.sqlite") as db:
        tables = [n for (n,) in db.execute("select name from sqlite_master where type = 'table'")]
        t = next(n for n in tables if "偏差原因分析及改进措施" in [d[1] for d in db.execute(f'pragma table_info("{n}")')]
                 and "适用" in [d[1] for d in db.execute(f'pragma table_info("{n}")')])
        assert ("十五",) in db.execute(f'select "分值" from "{t}"').fetchall()
    assert any(r["单元格"] == "G17" for r in table(folder, "审核问题"))


# ------------------------------------------------------------------ the Hunan department self-evaluation
# tests/forms/hunan-dept-selfeval.toml, made from the approved tests/forms/hunan-dept.toml: its 年初预算数, goal,
# 填报人 and 联系电话 taken from the approved table's own (pinyin) fields by `approved`, its own fund rows
# (财政拨款 / 其他资金, 基本支出 / 项目支出), 预算执行 20 points, the county's 定性 word 明显提高.
DEPT_SHEET = "部门整体支出绩效自评表"
DEPT_FIELDS = {"budget_total": "125", "spent_total": "118.75", "budget_fiscal": "104.5", "spent_fiscal": "100",
               "budget_other": "20.5", "spent_other": "18.75", "budget_basic": "82", "spent_basic": "80",
               "budget_project": "43", "spent_project": "38.75", "achieved": "完成科普活动52场，服务企业31家。"}
DEPT_ROWS = [{"actual": "52场"}, {"actual": "明显提高", "score": "30"}, {"actual": "93%"}]
DEPT_TITLES = {"budget_total": "资金总额全年预算数（万元）", "spent_total": "资金总额全年执行数（万元）",
               "budget_fiscal": "财政拨款全年预算数（万元）", "spent_fiscal": "财政拨款全年执行数（万元）",
               "budget_other": "其他资金全年预算数（万元）", "spent_other": "其他资金全年执行数（万元）",
               "budget_basic": "基本支出全年预算数（万元）", "spent_basic": "基本支出全年执行数（万元）",
               "budget_project": "项目支出全年预算数（万元）", "spent_project": "项目支出全年执行数（万元）",
               "achieved": "实际完成情况"}


@pytest.fixture(scope="module")
def hunan_targets(tmp_path_factory):
    from test_dept import hunan_return
    inbox = tmp_path_factory.mktemp("hunan")
    (inbox / "宁乡.xlsx").write_bytes(hunan_return())
    with with_templates([FORMS]):
        return collect([inbox]).accepted


def dept_blank(targets, folder: Path, fills=None) -> Path:
    with with_templates([FORMS]):
        return generate_selfeval(targets, folder, Options(year=2025, created=FIXED), form_id="hunan-dept-selfeval",
                                 fills=fills)[0][1]


def assert_dept_field_for_field(folder: Path):
    from test_dept import HUNAN_FIELDS
    [project] = table(folder, "自评项目")
    assert {DEPT_TITLES[k]: project[DEPT_TITLES[k]] for k in DEPT_FIELDS} == \
        {DEPT_TITLES[k]: v for k, v in DEPT_FIELDS.items()}
    approved = {"资金总额年初预算数（万元）": "zje", "财政拨款年初预算数（万元）": "czbk", "其他资金年初预算数（万元）": "qtzj",
                "基本支出年初预算数（万元）": "jbzc", "项目支出年初预算数（万元）": "xmzc", "预期目标": "annual_goals",
                "填报人": "filler", "联系电话": "phone"}
    got = {title: project[title] for title in approved}
    assert got == {t: (format(HUNAN_FIELDS[k], "g") if isinstance(HUNAN_FIELDS[k], (int, float)) else HUNAN_FIELDS[k])
                   for t, k in approved.items()}
    rows = table(folder, "自评指标")
    assert [r["年度指标值"] for r in rows] == ["50场", "明显提高", "≥90%"]
    assert [{"actual": r["实际完成值"], **({"score": r["得分"]} if "score" in w else {})} for r, w in zip(rows, DEPT_ROWS)] \
        == DEPT_ROWS
    [score] = table(folder, "自评得分")
    assert (score["预算执行得分"], score["总分（复核）"], score["等级"]) == ("19", "99", "优")   # 20 × 95 %, 40 + 30 + 10
    with sqlite3.connect(folder / "汇总.sqlite") as db:
        tables = [n for (n,) in db.execute("select name from sqlite_master where type = 'table'")]
        se = next(n for n in tables if "基本支出全年执行数（万元）" in [d[1] for d in db.execute(f'pragma table_info("{n}")')])
        assert db.execute(f'select "基本支出全年执行数（万元）", "填报人" from "{se}"').fetchone() == (80, "李四")


def test_the_approved_tables_own_fields_fill_the_department_self_evaluation(hunan_targets, tmp_path):
    path = dept_blank(hunan_targets, tmp_path / "blank")
    ws = openpyxl.load_workbook(path)[DEPT_SHEET]
    start = {ws.cell(r, 2).value: ws.cell(r, 3) for r in range(1, 15) if ws.cell(r, 2).value}
    assert {k: start[k].value for k in ("资金总额", "其中：财政拨款", "其他资金", "基本支出", "项目支出")} == \
        {"资金总额": 120.5, "其中：财政拨款": 100, "其他资金": 20.5, "基本支出": 80, "项目支出": 40.5}
    assert all(c.protection.locked for c in start.values() if c.value is not None)
    fills = {"430001": {"projects": {DEPT_SHEET: {"fields": DEPT_FIELDS, "indicators": DEPT_ROWS}}}}
    inbox = tmp_path / "inbox"
    dept_blank(hunan_targets, inbox, fills)
    assert_dept_field_for_field(exported(inbox, tmp_path))


def test_approved_naming_a_field_the_approved_table_lacks_is_said_before_anything_is_written(hunan_targets, tmp_path):
    from perftables.forms.form import FormError
    folder = tmp_path / "forms"
    folder.mkdir()
    text = (FORMS / "hunan-dept-selfeval.toml").read_text(encoding="utf-8").replace('approved = "jbzc"', 'approved = "jbzcc"')
    (folder / "hunan-dept-selfeval.toml").write_text(text, encoding="utf-8")
    (folder / "hunan-dept.toml").write_text((FORMS / "hunan-dept.toml").read_text(encoding="utf-8"), encoding="utf-8")
    with with_templates([folder]), pytest.raises(FormError, match="start_basic.*jbzcc.*hunan-dept"):
        generate_selfeval(hunan_targets, tmp_path / "out", Options(year=2025), form_id="hunan-dept-selfeval")
    assert not (tmp_path / "out").exists()
    # on a target form, approved means nothing: the checker says so with file, line and key
    target = (FORMS / "hunan-dept.toml").read_text(encoding="utf-8").replace('field = "jbzc",', 'field = "jbzc", approved = "x",')
    (folder / "hunan-dept.toml").write_text(target, encoding="utf-8")
    r = run("forms", "--check", folder / "hunan-dept.toml")
    line = next(n for n, t in enumerate(target.splitlines(), 1) if 'approved = "x"' in t)
    assert r.exit_code != 0 and f"第{line}行" in r.output and ".approved" in r.output, r.output


@pytest.mark.slow
@pytest.mark.libreoffice
@pytest.mark.skipif(not libreoffice_available(), reason="LibreOffice (soffice + python3-uno) not installed")
def test_the_department_self_evaluation_typed_at_calcs_keyboard(hunan_targets, tmp_path):
    template = dept_blank(hunan_targets, tmp_path / "blank")
    rows = read_book(template.read_bytes()).sheets[DEPT_SHEET]
    funds = {part: labelled_row(rows, label, 1) for part, label in (
        ("total", "资金总额"), ("fiscal", "其中：财政拨款"), ("other", "其他资金"), ("basic", "基本支出"), ("project", "项目支出"))}
    cells = {f"{x}_{part}": f"{col}{row}" for part, row in funds.items() for x, col in (("budget", "D"), ("spent", "E"))}
    cells["achieved"] = f"F{labelled_row(rows, '年度总体目标') + 1}"
    keys = [[DEPT_SHEET, cells[k], v] for k, v in DEPT_FIELDS.items()]
    keys += grid_keys(DEPT_SHEET, labelled_row(rows, "年度绩效指标"), DEPT_ROWS, (("actual", "F"), ("score", "H")))
    outputs = typed_in_calc(template, keys, tmp_path, "宁乡部门自评")
    for fmt, ret, folder in each_saved(outputs, tmp_path):
        assert ret.projects[0].figures["total"] == ret.scores[DEPT_SHEET].total == 99, fmt   # Calc agrees
        assert_dept_field_for_field(folder)


def test_execution_data_in_the_forms_money_or_the_unit_its_column_says(targets, tmp_path):
    """The execution CSV of a province in 元 is in 元 (the form's unit) unless a column says its own; a typo is
    said with its row and column, never read as nothing."""
    from perftables.cycle.selfeval import read_execution
    from perftables.model.roster import RosterError
    code = targets[0].result.projects[0].code
    path = tmp_path / "执行数.csv"
    path.write_text(f"项目编码,全年预算数,全年执行数（万元）\n{code},120000,11.4\n", encoding="utf-8-sig")
    with with_templates([FORMS]):
        execution = read_execution(path, "shanghai-selfeval")
        assert execution[code] == {"budget_total": 12, "spent_total": 11.4}       # kept in the roster's 万元
        written = generate_selfeval(targets, tmp_path / "out", Options(year=2025, created=FIXED),
                                    form_id="shanghai-selfeval", execution=execution)
    ws = openpyxl.load_workbook(written[0][1])[SHEET]
    funds = next(r for r in range(1, 20) if ws.cell(r, 2).value == "年度资金总额")
    assert (ws.cell(funds, 4).value, ws.cell(funds, 5).value) == (120000, 114000)   # printed in 元, locked
    assert ws.cell(funds, 5).protection.locked
    path.write_text(f"项目编码,全年预算数,全年执行数\n{code},12万,十一万\n", encoding="utf-8-sig")
    with with_templates([FORMS]), pytest.raises(RosterError, match="第2行“全年执行数”.*十一万"):
        read_execution(path, "shanghai-selfeval")
    path.write_text(f"项目编码,项目名称,全年预算数,全年执行书\n{code},科普,120000,114000\n", encoding="utf-8-sig")
    with with_templates([FORMS]), pytest.raises(RosterError, match="不认识的列 “全年执行书”.*可用的列"):
        read_execution(path, "shanghai-selfeval")
