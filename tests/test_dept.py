"""部门整体绩效目标表 (Hubei, seed 004): generated, filled, collected, reviewed, summarised."""
import io
import json
import re
import subprocess
from pathlib import Path

import openpyxl
import pytest

from conftest import EXAMPLES, SEEDS, libreoffice_available
from perftables.cycle.collect import ACCEPTED_FINDINGS, collect
from perftables.cli.demo import DEPT_YEAR, FIXED_TIME, dept_roster
from perftables.review.dept import attach_history, review_dept
from perftables.outputs.history import read_history
from perftables.io.extract import extract
from perftables.forms.form import load_form
from perftables.cycle.generate import Options, workbook_bytes
from perftables.io.book import read_book
from perftables.io.stamp import read_stamp
from perftables.api.pipeline import CollectOptions, run_collect
from perftables.outputs.summary import build_tables
from perftables.core.value import clean

FORM = load_form("hubei-dept")
SHEET = FORM.meta["sheet_name"]


@pytest.fixture(scope="module")
def seed():
    return json.loads((EXAMPLES / "seed_dept.json").read_text(encoding="utf-8"))["units"][0]


@pytest.fixture(scope="module")
def droster():
    return dept_roster()


@pytest.fixture(scope="module")
def collected():
    return collect([EXAMPLES / "dept" / "returns"], roster=dept_roster())


def rows_of(data: bytes, sheet=SHEET) -> list[list]:
    return read_book(data).sheets[sheet]


def find(rows, label, col=0) -> int:
    return next(i for i, r in enumerate(rows) if r and clean(r[col]).replace(" ", "") == label)


def test_the_generated_workbook_mirrors_seed_004(droster):
    data = workbook_bytes(FORM, droster.unit("704001"), Options(year=2024))
    wb = openpyxl.load_workbook(io.BytesIO(data))
    assert wb.sheetnames == ["填报说明", SHEET, "_lists", "_stamp"]
    ws = wb[SHEET]
    assert ws.protection.sheet and wb.security.lockStructure
    rows = rows_of(data)
    money = find(rows, "部门总体资金情况")
    assert rows[money][3:6] == ["当年金额", "占比", "近两年收支金额"] and rows[money + 1][5:7] == ["2023年", "2022年"]
    # amounts from the department roster, locked; 占比 a formula
    fiscal = money + 2
    assert rows[fiscal][2:7] == ["财政拨款", 599.83, None, 662.73, 619.44]
    assert ws.cell(fiscal + 1, 4).protection.locked and ws.cell(fiscal + 1, 5).value.startswith("=IF(N($D$")
    assert not ws.cell(fiscal + 2, 4).protection.locked          # 财政专户管理资金 not given: the unit fills it
    # the project list from the project roster: names and amounts locked, the use open
    head = find(rows, "项目支出情况")
    assert [rows[head][c] for c in (1, 3, 4, 5, 6)] == ["项目名称", "支出项目类别", "项目总预算", "项目本年度预算",
                                                        "项目主要支出方向和用途"]
    assert [rows[head + 1 + i][1] for i in range(4)] == ["科技工作者慰问", "科普经费", "科普展教及运行维护经费", "院士专家工作站"]
    assert ws.cell(head + 2, 2).protection.locked and ws.cell(head + 2, 6).protection.locked
    assert not ws.cell(head + 2, 7).protection.locked and not ws.cell(head + 6, 2).protection.locked
    # the annual grid: a three-row header, the standard 三级 pre-seeded
    grid = find(rows, "年度绩效指标")
    assert rows[grid][1:5] + [rows[grid][7], rows[grid][8]] == ["一级指标", "二级指标", "三级指标", "指标值", "指标值确定依据", "指标分类"]
    assert rows[grid + 1][4] == "近两年指标值" and rows[grid + 1][6] == "预期当年实现值"
    assert rows[grid + 2][4:6] == ["2022年", "2023年"]
    assert rows[grid + 3][1:4] == ["运行成本", "公用经费控制", "公用经费控制率"]
    assert rows[grid + 6][3] == "“三公”经费变动率"
    kinds = [dv for dv in ws.data_validations.dataValidation if dv.formula1 == "PT_KINDS"]
    assert {str(dv.sqref).split(":")[0][0] for dv in kinds} == {"I"} and len(kinds) == 2   # both grids
    level2 = [dv for dv in ws.data_validations.dataValidation if "INDIRECT" in (dv.formula1 or "")]
    assert len(level2) == 2
    stamp = read_stamp(read_book(data).sheets["_stamp"])
    assert stamp["kind"] == "dept_target" and stamp["projects"][0]["income_total"] == 599.83


def test_seed_004_comes_back_exactly(collected, seed):
    rec = next(f for f in collected.files if f.unit_code == "704001")
    assert rec.fate == ACCEPTED_FINDINGS
    pr = rec.result.projects[0]
    for key, text in seed["figures"].items():
        want = clean(text)
        got = pr.values.get(key)
        assert (got is None and want == "") or (isinstance(got, float) and abs(got - float(want)) < 1e-9) \
            or got == want, key
    for key, text in seed["texts"].items():
        assert pr.values[key] == text.strip(), key
    assert [(r["name"], r["category"], r["total_budget"], r["budget"], r["use"]) for r in pr.tables["projects"]] == \
        [(p["name"], p["category"], float(p["total_budget"]), float(p["budget"]), p["use"]) for p in seed["projects"]]
    assert [[i.level1, i.level2, i.name, i.value.render(), i.basis, i.extra["category"]]
            for i in pr.tables["long_term"]] == seed["long_term"]
    assert [[i.level1, i.level2, i.name, i.extra["hist2"], i.extra["hist1"], i.value.render(), i.basis,
             i.extra["category"]] for i in pr.indicators] == seed["annual"]


def test_seed_004s_own_defects_are_flagged(collected):
    findings = [f for r in collected.returns for f in r.findings]
    listing = next(f for f in findings if f.rule == "项目清单与支出不符")
    assert listing.severity == "警告" and "200" in listing.message and "219" in listing.message
    assert re.fullmatch(r"D\d+", listing.cell)
    # the seed's annual grid ends after 社会效应 (the document is cut there): the missing blocks are errors
    assert {f.message for f in findings if f.rule == "缺少一级指标"} == {"年度绩效指标没有可持续发展能力", "年度绩效指标没有满意度"}
    assert not [f for f in findings if f.rule in ("收入合计不符", "支出合计不符", "收支合计不符", "锁定单元格被改动")]


def test_seed_004_transcription_stands_in_the_document(seed):
    flat = re.sub(r"\s+", "", next(SEEDS.glob("004_*.txt")).read_text(encoding="utf-8"))
    cells = [*seed["figures"].values(), *seed["texts"].values(), *[v for p in seed["projects"] for v in p.values()],
             *[c for r in seed["long_term"] + seed["annual"] for c in r]]
    for cell in cells:
        assert re.sub(r"\s+", "", cell) in flat, cell


def _review(figures: dict, shares: dict | None = None, projects=None):
    """review_dept over the seed's return with some figures replaced."""
    book = read_book((next((EXAMPLES / "dept" / "returns").iterdir())).read_bytes())
    ret = extract(book, FORM, read_stamp(book.sheets["_stamp"]))
    pr = ret.projects[0]
    pr.values.update(figures)
    pr.figures.update(shares or {})
    if projects is not None:
        pr.tables["projects"] = projects
    return {(f.rule, f.cell): f for f in review_dept(ret)}


def test_arithmetic_rules():
    found = _review({"income_fiscal": 500.0, "exp_total_y1": 600.0})
    assert found[("收入合计不符", "D9")].severity == "错误"
    assert "当年收入合计 599.83 ≠ 财政拨款 500 + 财政专户管理资金 0 + 单位资金 0（= 500）" == found[("收入合计不符", "D9")].message
    assert ("支出合计不符", "F13") in found and ("收支合计不符", "F13") in found   # 上年: parts 662.73, total 600
    shares = _review({}, {"exp_staff_share": 0.5640, "exp_project_share": "36.51%", "exp_operation_share": 0.0711})
    assert ("占比与金额不符", "E10") not in shares and ("占比与金额不符", "E12") not in shares   # within ±0.01 %
    assert "为 7.11%，按金额应为 7.10%" in shares[("占比与金额不符", "E11")].message
    ok = _review({}, projects=[{"row": 17, "cells": {}, "name": "a", "category": "特定目标类", "budget": 219.0,
                                "total_budget": 219.0, "use": "x"}])
    assert not [k for k in ok if k[0] == "项目清单与支出不符"]


def test_history_fills_and_locks_the_two_earlier_years(tmp_path, droster, seed):
    export = tmp_path / "2024"
    run_collect([EXAMPLES / "dept" / "returns"], tmp_path / "2024.xlsx", CollectOptions(export_dir=export, use_cache=False))
    history = read_history([export])
    assert len(history[("704001", 2024)]) == len(seed["annual"])
    assert read_history([EXAMPLES / "dept" / "returns"]) == history        # from the returns themselves: the same
    assert read_history([tmp_path / "2024.xlsx"]) == history               # from the summary workbook: the same
    ros = dept_roster()
    attach_history(ros, history, 2025)
    unit = ros.unit("704001")
    data = workbook_bytes(FORM, unit, Options(year=2025, created=FIXED_TIME))
    rows = rows_of(data)
    grid = find(rows, "年度绩效指标")
    assert rows[grid + 2][4:6] == ["2023年", "2024年"]
    first = rows[grid + 3]
    assert first[1:7] == ["运行成本", "公用经费控制", "公用经费控制率", "100%", "100%", None]
    buy = next(r for r in rows[grid + 3:] if r[3] == "政府采购执行率")
    assert buy[4:6] == ["99.7%", "90%"]            # 2023 from the 2024 table's history, 2024 its target
    ws = openpyxl.load_workbook(io.BytesIO(data))[SHEET]
    assert ws.cell(grid + 4, 5).protection.locked and not ws.cell(grid + 4, 7).protection.locked
    # a clerk who unprotects the sheet and rewrites last year's value is caught
    wb = openpyxl.load_workbook(io.BytesIO(data))
    wb[SHEET].cell(grid + 4, 6).value = "80%"
    out = io.BytesIO()
    wb.save(out)
    book = read_book(out.getvalue())
    ret = extract(book, FORM, read_stamp(book.sheets["_stamp"]))
    tampered = [f for f in ret.findings if f.rule == "锁定单元格被改动"]
    assert len(tampered) == 1 and tampered[0].cell == f"F{grid + 4}" and "应为“100%”" in tampered[0].message


def test_department_summary_sheets(collected):
    tables = {t.name: t for t in build_tables(collected)}
    assert ["报送情况", "文件清单", "部门资金", "部门指标", "部门指标结构", "部门项目", "部门目标", "审核问题"] == list(tables)
    # every amount of the form under its own title, in its order: this year's, then 上年's, then 前年's
    heads = [h for h, _ in tables["部门资金"].columns]
    money = dict(zip(heads, tables["部门资金"].rows[0]))
    assert heads[:4] == ["单位编码", "单位名称", "财政拨款（万元）", "财政专户管理资金（万元）"]
    assert heads[10:12] == ["财政拨款（上年）（万元）", "财政专户管理资金（上年）（万元）"]
    assert heads[18] == "财政拨款（前年）（万元）"
    assert money["财政拨款（万元）"] == 599.83 and money["项目清单合计（万元）"] == 200.0
    years = ["支出合计（前年）（万元）", "支出合计（上年）（万元）", "支出合计（万元）"]
    assert [money[h] for h in years] == [619.44, 662.73, 599.83]
    assert tables["部门资金"].chart[2] == [heads.index(h) for h in years]
    assert len(heads) == 2 + 24 + 3 + 2                   # 8 rows × 3 years, 占比 / 增减 / 清单合计, the counts
    heads = [h for h, _ in tables["部门指标"].columns]
    inds = [dict(zip(heads, r)) for r in tables["部门指标"].rows]
    assert len(inds) == 44 + 34 and {r["表格"] for r in inds} == {"长期绩效指标", "年度绩效指标"}
    buy = next(r for r in inds if r["表格"] == "年度绩效指标" and r["三级指标"] == "政府采购执行率")
    assert (buy["前年指标值"], buy["上年指标值"], buy["指标值"]) == ("98.9%", "99.7%", "90%")
    assert buy["指标分类"] and buy["指标值确定依据"] is not None
    goals = [h for h, _ in tables["部门目标"].columns]
    assert {"部门职能概述", "年度目标", "长期目标"} <= set(goals), goals
    status = {r[0]: r[2] for r in tables["报送情况"].rows}
    assert status == {"704001": "已报送（有错误）", "704002": "未报送"}


@pytest.mark.slow
@pytest.mark.libreoffice
@pytest.mark.skipif(not libreoffice_available(), reason="LibreOffice (soffice + python3-uno) not installed")
def test_libreoffice_fills_a_department_table(tmp_path, droster):
    template = tmp_path / "template.xlsx"
    data = workbook_bytes(FORM, droster.unit("704001"), Options(year=DEPT_YEAR, created=FIXED_TIME))
    template.write_bytes(data)
    rows = rows_of(data)
    tasks, grid = find(rows, "年度工作任务"), find(rows, "年度绩效指标")
    lt = find(rows, "长期绩效指标")
    projects = find(rows, "项目支出情况")
    special = find(rows, "部门总体资金情况") + 3
    cells = [[SHEET, f"C{tasks + 1}", "1、开展科普活动。"], [SHEET, f"D{special + 1}", 12.5],
             [SHEET, f"G{projects + 2}", "慰问困难科技工作者"],
             [SHEET, f"E{lt + 2}", "100%"], [SHEET, f"H{lt + 2}", "预算支出标准"], [SHEET, f"I{lt + 2}", "绩效基本型"],
             [SHEET, f"G{grid + 4}", "≥95%"], [SHEET, f"E{grid + 4}", "90%"], [SHEET, f"I{grid + 4}", "绩效基本型"]]
    outputs = {fmt: str(tmp_path / f"return.{fmt}") for fmt in ("xlsx", "xls", "ods")}
    job = tmp_path / "job.json"
    job.write_text(json.dumps({"input": str(template), "cells": cells, "outputs": outputs}, ensure_ascii=False),
                   encoding="utf-8")
    subprocess.run(["/usr/bin/python3", str(Path(__file__).with_name("lo_fill.py")), str(job)], check=True, timeout=300)
    seen = []
    for fmt, path in outputs.items():
        book = read_book(Path(path).read_bytes())
        ret = extract(book, FORM, read_stamp(book.sheets["_stamp"]))
        pr = ret.projects[0]
        first = pr.indicators[0]
        seen.append((pr.values["tasks"], pr.values["income_special"], pr.tables["projects"][0]["use"],
                     pr.tables["long_term"][0].value.render(), first.value.render(), first.extra["hist2"],
                     first.extra["category"], round(pr.figures["income_special_share"], 6)))
        assert not [f for f in review_dept(ret) if f.rule == "占比与金额不符"], fmt   # recalculated by LibreOffice
    assert seen[0] == seen[1] == seen[2]
    assert seen[0] == ("1、开展科普活动。", 12.5, "慰问困难科技工作者", "100%", "≥95%", "90%", "绩效基本型",
                       round(12.5 / 599.83, 6))


def test_golden_department_sheet(droster):
    """The department sheet's XML; refresh with PERFTABLES_UPDATE_GOLDEN=1 when the layout changes on purpose."""
    import os
    import zipfile

    data = workbook_bytes(FORM, droster.unit("704001"), Options(year=2024, created=FIXED_TIME))
    body = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet2.xml").decode("utf-8").replace("><", ">\n<")
    golden = Path(__file__).parent / "golden" / "dept__sheet2.xml"
    if os.environ.get("PERFTABLES_UPDATE_GOLDEN"):
        golden.write_text(body, encoding="utf-8")
    assert body == golden.read_text(encoding="utf-8"), "layout changed; if intended: PERFTABLES_UPDATE_GOLDEN=1 pytest"
    assert 'mergeCell ref="E67:G67"' in body and 'mergeCell ref="E68:F68"' in body   # 指标值 → 近两年指标值


# --------------------------------------------------------------------------- 部门整体支出绩效自评表

SE_FORM = load_form("hubei-dept-selfeval")
SE_SHEET = SE_FORM.meta["sheet_name"]


def test_department_selfeval_is_made_from_the_approved_table(tmp_path, collected, seed):
    from perftables.cycle.selfeval import generate_selfeval

    written = generate_selfeval(collected.accepted, tmp_path, Options(year=DEPT_YEAR), form_id="hubei-dept-selfeval")
    data = written[0][1].read_bytes()
    rows = rows_of(data, SE_SHEET)
    funds = find(rows, "部门资金（万元）")
    assert rows[funds + 1][1:5] == ["年度资金总额", 599.83, None, None]        # 年初预算数 from the approved table
    assert [r[1] for r in rows[funds + 2:funds + 8]] == ["其中：财政拨款", "财政专户管理资金", "单位资金",
                                                         "人员类项目支出", "运转类项目支出", "特定目标类项目支出"]
    assert rows[funds + 5][2] == 338.25 and rows[funds + 7][2] == 219.0
    goal = find(rows, "年度总体目标")
    assert rows[goal + 1][1] == seed["texts"]["annual_goals"].strip()
    grid = find(rows, "绩效指标")
    approved = [(r[0], r[1], r[2], r[5]) for r in seed["annual"]]
    got = [(r[1], r[2], r[3], r[4]) for r in rows[grid + 1:grid + 1 + len(approved)]]
    assert got == approved
    weights = [r[6] for r in rows[grid + 1:grid + 1 + len(approved)]]
    assert weights[:4] == [2.5, 2.5, 2.5, 2.5] and round(sum(weights[:4]), 2) == 10     # 运行成本 10 分
    ws = openpyxl.load_workbook(io.BytesIO(data))[SE_SHEET]
    assert ws.cell(grid + 2, 5).protection.locked and not ws.cell(grid + 2, 6).protection.locked
    stamp = read_stamp(read_book(data).sheets["_stamp"])
    assert stamp["kind"] == "dept_selfeval" and stamp["links"]["target_form"] == "hubei-dept"


def test_department_selfeval_is_scored_and_reviewed():
    col = collect([EXAMPLES / "dept" / "selfeval_returns"], roster=dept_roster())
    assert col.kind == "dept_selfeval"
    ret = col.accepted[0].result
    score = ret.scores[SE_SHEET]
    assert (score.total, score.grade, score.budget_score) == (79.47, "中", 10.0)
    tables = {t.name: t for t in build_tables(col)}
    assert tables["单位自评"].rows[0][6:8] == [79.47, "中"]
    # the expenditure parts must add up to the total too
    book = read_book(next((EXAMPLES / "dept" / "selfeval_returns").iterdir()).read_bytes())
    from perftables.review.selfeval import review_selfeval
    ret = extract(book, SE_FORM, read_stamp(book.sheets["_stamp"]))
    ret.projects[0].values["start_staff"] = 300.0
    found = [f for f in review_selfeval(ret) if f.rule == "资金合计不符"]
    assert [f.message for f in found] == ["年度资金总额 599.83 ≠ 支出各项之和 561.58"]


@pytest.mark.slow
@pytest.mark.libreoffice
@pytest.mark.skipif(not libreoffice_available(), reason="LibreOffice (soffice + python3-uno) not installed")
def test_libreoffice_recalculates_the_department_selfeval_as_perftables_scores(tmp_path):
    source = next((EXAMPLES / "dept" / "selfeval_returns").iterdir())
    job = tmp_path / "job.json"
    out = tmp_path / "recalculated.xlsx"
    job.write_text(json.dumps({"input": str(source), "cells": [], "outputs": {"xlsx": str(out)}}), encoding="utf-8")
    subprocess.run(["/usr/bin/python3", str(Path(__file__).with_name("lo_fill.py")), str(job)], check=True, timeout=300)
    col = collect([out])
    ret = col.accepted[0].result
    score = ret.scores[SE_SHEET]
    assert score.file_total == score.total == 79.47
    assert not [f for f in ret.findings if f.rule == "得分与复核不符"]


def test_feedback_workbook_carries_the_whole_department_table_back(tmp_path, collected):
    from perftables.outputs.feedback import write_feedback

    written = write_feedback(collected, tmp_path)
    again = collect(written)
    old, new = collected.accepted[0].result.projects[0], again.accepted[0].result.projects[0]
    assert again.accepted[0].payload["issue"] == 2
    assert {k: v for k, v in old.values.items()} == {k: v for k, v in new.values.items()}
    assert [(i.level1, i.level2, i.name, i.value.render(), i.basis, i.extra) for i in old.indicators] == \
        [(i.level1, i.level2, i.name, i.value.render(), i.basis, i.extra) for i in new.indicators]
    assert [(i.name, i.value.render(), i.extra) for i in old.tables["long_term"]] == \
        [(i.name, i.value.render(), i.extra) for i in new.tables["long_term"]]
    assert [r["use"] for r in old.tables["projects"]] == [r["use"] for r in new.tables["projects"]]
    ws = openpyxl.load_workbook(written[0])[SHEET]
    cell = next(f for f in collected.accepted[0].result.findings if f.rule == "项目清单与支出不符").cell
    assert "219" in ws[cell].comment.text                                   # the problem cell carries its message


@pytest.mark.slow
def test_published_department_table_reads_as_seed_004(tmp_path, collected, seed):
    from perftables.outputs.publish import publish, read_docx_tables

    written = publish(collected, tmp_path, pdf=False)
    doc = next(p for p in written if p.name.endswith("部门整体绩效目标.docx"))
    rows = read_docx_tables(doc)[0]
    texts = [[c for c in r if c] for r in rows]
    assert ["支出构成", "人员类项目支出", "338.25", "56.39%", "355.74", "317.98"] in texts
    assert ["特定目标类项目支出", "219.00", "36.51%", "264.15", "259.39"] in texts
    assert ["科普经费", "特定目标类", "110", "110", "科普宣传、推广工作"] in texts
    head = next(i for i, r in enumerate(rows) if r and r[0] == "年度绩效指标")
    assert [c for c in rows[head + 2] if c] == ["2022年", "2023年"]
    body = [r[1:] for r in rows[head + 3:]]
    assert len(body) == len(seed["annual"])
    for got, want in zip(body, seed["annual"]):
        assert got[1:] == [clean(x) for x in want[1:]] and got[0] in ("", want[0])   # 一级 merged down its block


@pytest.mark.slow
@pytest.mark.libreoffice
@pytest.mark.skipif(not libreoffice_available(), reason="LibreOffice (soffice + python3-uno) not installed")
def test_rows_inserted_in_libreoffice_between_prefilled_rows(tmp_path):
    """A clerk unprotects the sheet and inserts a project between two listed ones and an indicator among
    the history rows: everything is read, nothing pre-filled is reported as changed."""
    history = read_history([EXAMPLES / "dept" / "returns"])
    ros = dept_roster()
    attach_history(ros, history, 2025)
    data = workbook_bytes(FORM, ros.unit("704001"), Options(year=2025, created=FIXED_TIME))
    template = tmp_path / "template.xlsx"
    template.write_bytes(data)
    rows = rows_of(data)
    projects, grid = find(rows, "项目支出情况"), find(rows, "年度绩效指标")
    # rows are inserted from the bottom up so the addresses above stay as read
    insert = [[SHEET, grid + 4, 1], [SHEET, projects + 2, 1]]
    new_grid_row = grid + 4 + 1 + 1        # 1-based, after the project row was inserted above it
    cells = [[SHEET, f"B{projects + 3}", "新增科普项目"], [SHEET, f"D{projects + 3}", "特定目标类"],
             [SHEET, f"F{projects + 3}", 19.0], [SHEET, f"G{projects + 3}", "科普活动"],
             [SHEET, f"B{new_grid_row}", "运行成本"], [SHEET, f"C{new_grid_row}", "公用经费控制"],
             [SHEET, f"D{new_grid_row}", "水电费控制率"], [SHEET, f"G{new_grid_row}", "≤100%"]]
    out = tmp_path / "return.xlsx"
    job = tmp_path / "job.json"
    job.write_text(json.dumps({"input": str(template), "insert_rows": insert, "cells": cells,
                               "outputs": {"xlsx": str(out)}}, ensure_ascii=False), encoding="utf-8")
    subprocess.run(["/usr/bin/python3", str(Path(__file__).with_name("lo_fill.py")), str(job)], check=True, timeout=300)
    book = read_book(out.read_bytes())
    ret = extract(book, FORM, read_stamp(book.sheets["_stamp"]))
    pr = ret.projects[0]
    assert [r["name"] for r in pr.tables["projects"]] == ["科技工作者慰问", "新增科普项目", "科普经费",
                                                          "科普展教及运行维护经费", "院士专家工作站"]
    assert [i.name for i in pr.indicators[:3]] == ["公用经费控制率", "水电费控制率", "在职人员控制率"]
    assert not [f for f in ret.findings if f.rule == "锁定单元格被改动"]
    found = {f.rule for f in review_dept(ret)}
    assert "项目清单与支出不符" not in found          # 200 + 19 = 219 now
    # its feedback workbook keeps each earlier year's value with its own indicator
    from perftables.outputs.feedback import write_feedback
    col = collect([out])
    again = collect(write_feedback(col, tmp_path / "退改")).accepted[0].result.projects[0]
    pairs = [(i.name, i.extra.get("hist2"), i.extra.get("hist1"), i.value.render()) for i in pr.indicators]
    assert [(i.name, i.extra.get("hist2"), i.extra.get("hist1"), i.value.render()) for i in again.indicators] == pairs
    assert not [f for f in collect([tmp_path / "退改"]).accepted[0].result.findings if f.rule == "锁定单元格被改动"]


def test_input_prompts_name_the_years(droster):
    data = workbook_bytes(FORM, droster.unit("704001"), Options(year=2024))
    ws = openpyxl.load_workbook(io.BytesIO(data))[SHEET]
    texts = [(dv.promptTitle or "") + (dv.prompt or "") for dv in ws.data_validations.dataValidation]
    assert not [t for t in texts if "{" in t]
    assert any(t.startswith("2022年2022年的指标值") for t in texts)


def test_a_department_table_without_its_stamp_is_read_by_its_labels(tmp_path, droster, seed):
    from conftest import patch_zip

    source = next((EXAMPLES / "dept" / "returns").iterdir())
    (tmp_path / "旧模板.xlsx").write_bytes(patch_zip(source.read_bytes(), "xl/workbook.xml", b'name="_stamp"',
                                                     b'name="_gone"'))
    col = collect([tmp_path], roster=droster)
    rec = col.files[0]
    assert rec.fate == ACCEPTED_FINDINGS and rec.payload["stampless"] and rec.payload["year"] == 2024
    ret = rec.result
    assert "无标识" in {f.rule for f in ret.findings}
    assert not [f for f in ret.findings if f.rule == "锁定单元格被改动"]
    pr = ret.projects[0]
    assert pr.values["exp_project"] == 219.0 and len(pr.indicators) == len(seed["annual"])
    assert [r["name"] for r in pr.tables["projects"]] == [p["name"] for p in seed["projects"]]
    assert collect([tmp_path]).files[0].reason.startswith("没有 perftables 标识")   # no roster: no unit to name


def test_department_example_returns_are_current(tmp_path):
    """examples/dept/ is what the generator makes today (else: python -m perftables.cli.demo --rebuild)."""
    from perftables.cli.demo import build_dept_returns, build_selfeval_returns
    for path in build_dept_returns(tmp_path / "t"):
        assert path.read_bytes() == (EXAMPLES / "dept" / "returns" / path.name).read_bytes(), path.name
    targets = collect([EXAMPLES / "dept" / "returns"], roster=dept_roster()).accepted
    for path in build_selfeval_returns(targets, tmp_path / "s", DEPT_YEAR):
        assert path.read_bytes() == (EXAMPLES / "dept" / "selfeval_returns" / path.name).read_bytes(), path.name


# what a clerk enters in tests/forms/hunan-dept.toml (a user form of another province)
HUNAN_FIELDS = {"zje": 120.5, "czbk": 100, "qtzj": 20.5, "jbzc": 80, "xmzc": 40.5, "exp_total": 120.5,
                "filler": "李四", "phone": "0731-1234567", "annual_goals": "1. 完成科普活动50场\n2. 服务企业30家"}
HUNAN_INDICATORS = [
    {"level1": "产出指标", "level2": "数量指标", "name": "科普活动场次", "zblx": "定量", "num": "50", "unit": "场",
     "description": "全年开展科普活动的场次", "pfbz": "每少1场扣0.5分", "bz": "含线上"},
    {"level1": "效益指标", "level2": "社会效益指标", "name": "公众科学素质", "zblx": "定性", "num": "明显提高",
     "unit": "", "description": "抽样调查", "pfbz": "未提高不得分", "bz": "按省调查"},
    {"level1": "满意度指标", "level2": "服务对象满意度指标", "name": "群众满意度", "zblx": "定量", "num": "≥90",
     "unit": "%", "description": "问卷调查", "pfbz": "低于90%不得分", "bz": "第三方"}]


def hunan_return() -> bytes:
    """The Hunan department table (tests/forms/hunan-dept.toml) as 宁乡 returns it, every field filled."""
    from perftables.forms.form import with_templates
    from perftables.model.roster import Unit
    with with_templates([Path(__file__).with_name("forms")]):
        form = load_form("hunan-dept")
        return workbook_bytes(form, Unit(code="430001", name="宁乡市科学技术协会"), Options(year=2025, created=FIXED_TIME),
                              {"projects": {form.meta["sheet_name"]: {"fields": HUNAN_FIELDS,
                                                                      "indicators": HUNAN_INDICATORS}}})


def test_a_department_table_of_another_province_reaches_every_output_field_for_field(tmp_path):
    """tests/forms/hunan-dept.toml, a user form: fields named in pinyin, roles only where perftables must know
    (支出合计, 填报人, 年度总体目标), 指标值 and 计量单位 in columns of their own, 指标值类型, 指标解释, 评（扣）分标准,
    备注. Every value the clerk entered is in the summary and its CSV export, under the form's own words; nothing
    of the Hubei layout (no raw field names, no columns the form does not have)."""
    import csv

    from conftest import run
    forms = Path(__file__).with_name("forms")
    fields, inds = HUNAN_FIELDS, HUNAN_INDICATORS
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "宁乡.xlsx").write_bytes(hunan_return())
    r = run("collect", tmp_path / "in", "-o", tmp_path / "汇总.xlsx", "--templates", forms, "--export", tmp_path / "csv",
            "--format", "csv,sqlite")
    assert r.exit_code == 0, r.output
    import sqlite3
    with sqlite3.connect(tmp_path / "csv" / "汇总.sqlite") as db:
        names = [row[0] for row in db.execute("select name from sqlite_master where type = 'table'")]
        found = {n: [d[1] for d in db.execute(f'pragma table_info("{n}")')] for n in names}
    assert any("评（扣）分标准" in cols for cols in found.values()), found
    assert any("资金总额（万元）" in cols for cols in found.values()), found

    def table(name):
        with open(tmp_path / "csv" / f"{name}.csv", encoding="utf-8-sig") as fh:
            return [row for row in csv.DictReader(fh) if row["单位编码"] != "合计"]
    [funds], [goals] = table("部门资金"), table("部门目标")
    assert {k: funds[k] for k in funds if k.endswith("（万元）")} == {
        "资金总额（万元）": "120.5", "财政拨款（万元）": "100", "其他资金（万元）": "20.5", "基本支出（万元）": "80",
        "项目支出（万元）": "40.5", "支出合计（万元）": "120.5"}
    assert (goals["填报人"], goals["联系电话"], goals["年度总体目标"]) == ("李四", "0731-1234567", fields["annual_goals"])
    rows = table("部门指标")
    got = [(r["三级指标"], r["指标值类型"], r["指标值"], r["计量单位"], r["指标解释"], r["评（扣）分标准"], r["备注"])
           for r in rows]
    assert got == [(i["name"], i["zblx"], i["num"] + i["unit"], i["unit"], i["description"], i["pfbz"], i["bz"])
                   for i in inds]
    heads = set(funds) | set(goals) | set(rows[0])
    assert not [h for h in heads if re.search(r"[a-z]{3,}", h)], heads     # no raw field names
    assert "特定目标类占比" not in funds and "项目清单合计（万元）" not in funds


@pytest.mark.slow
@pytest.mark.libreoffice
@pytest.mark.skipif(not libreoffice_available(), reason="LibreOffice (soffice + python3-uno) not installed")
def test_libreoffice_types_the_other_provinces_department_table(tmp_path):
    """The user form typed at Calc's keyboard (its validation asked for every cell), saved as xlsx and ods,
    collected with the user's folder: every typed value as typed, none refused."""
    from perftables.forms.form import with_templates
    from perftables.model.roster import Unit
    forms = Path(__file__).with_name("forms")
    with with_templates([forms]):
        form = load_form("hunan-dept")
        data = workbook_bytes(form, Unit(code="430001", name="宁乡市科学技术协会"), Options(year=2025, created=FIXED_TIME))
    template = tmp_path / "template.xlsx"
    template.write_bytes(data)
    sheet = form.meta["sheet_name"]
    rows = rows_of(data, sheet)
    money, goal, grid = find(rows, "年度预算申请"), find(rows, "年度总体目标"), find(rows, "年度绩效指标")
    typed = [("D", money, "120.5"), ("F", money, "100"), ("H", money, "20.5"), ("D", money + 1, "80"),
             ("F", money + 1, "40.5"), ("H", money + 1, "120.5"), ("D", money + 2, "李四"),
             ("G", money + 2, "0731-1234567"), ("C", goal, "完成科普活动50场"),
             *[(c, grid + 1, v) for c, v in zip("BCDEFGHIJ", ["产出指标", "数量指标", "科普活动场次", "定量", "50", "场",
                                                             "全年开展科普活动的场次", "每少1场扣0.5分", "含线上"])]]
    keys = [[sheet, f"{c}{r + 1}", v] for c, r, v in typed]
    outputs = {fmt: str(tmp_path / f"return.{fmt}") for fmt in ("xlsx", "ods")}
    job = tmp_path / "job.json"
    report = tmp_path / "report.json"
    job.write_text(json.dumps({"input": str(template), "keyboard": keys, "report": str(report), "outputs": outputs},
                              ensure_ascii=False), encoding="utf-8")
    subprocess.run(["/usr/bin/python3", str(Path(__file__).with_name("lo_fill.py")), str(job)], check=True, timeout=300)
    refused = [e for e in json.loads(report.read_text(encoding="utf-8")) if e["invalid"]]
    assert not refused, refused
    for fmt, path in outputs.items():
        with with_templates([forms]):
            book = read_book(Path(path).read_bytes())
            ret = extract(book, form, read_stamp(book.sheets["_stamp"]))
        v, ind = ret.projects[0].values, ret.projects[0].indicators[0]
        assert (v["zje"], v["czbk"], v["qtzj"], v["jbzc"], v["xmzc"], v["exp_total"]) == (120.5, 100, 20.5, 80, 40.5, 120.5)
        assert (v["filler"], v["phone"], v["annual_goals"]) == ("李四", "0731-1234567", "完成科普活动50场"), fmt
        assert (ind.name, ind.value.render(), ind.extra["zblx"], ind.description, ind.extra["pfbz"], ind.extra["bz"]) \
            == ("科普活动场次", "50场", "定量", "全年开展科普活动的场次", "每少1场扣0.5分", "含线上"), fmt
