"""A real LibreOffice opens a generated workbook, a clerk's entries are typed into it, and it is saved
as xlsx, xls and ods; collect reads all three identically."""
import json
import subprocess
from pathlib import Path

import pytest

from conftest import EXAMPLES, libreoffice_available, make_workbook
from perftables.cycle.collect import collect
from perftables.io.extract import extract
from perftables.forms.form import cell_name, load_form
from perftables.io.book import read_book
from perftables.io.stamp import read_stamp

pytestmark = [pytest.mark.libreoffice,
              pytest.mark.skipif(not libreoffice_available(), reason="LibreOffice (soffice + python3-uno) not installed")]
LO_FILL = Path(__file__).with_name("lo_fill.py")


def run_lo(job: dict, tmp_path: Path):
    job_file = tmp_path / "job.json"
    job_file.write_text(json.dumps(job, ensure_ascii=False), encoding="utf-8")
    subprocess.run(["/usr/bin/python3", str(LO_FILL), str(job_file)], check=True, timeout=300)


def clerk_cells(form, seed_project, sheet="项目1"):
    """Where a clerk types 丰宁's first project, addressed through the form description."""
    rows, r = {}, 0
    for row in form.rows:
        for cell in row.cells:
            if cell.field:
                rows[cell.field] = (r, cell.col)
        r += 1
    first = r + form.grid_header_rows
    cells = [[sheet, cell_name(*rows["goal"]), seed_project["goal"]]]
    for f, v in zip(["plan1", "plan2", "plan3", "plan4"], seed_project["plan"]):
        cells.append([sheet, cell_name(*rows[f]), float(v.rstrip("%"))])
    cols = {c.key: c.col for c in form.input_columns}
    for i, (l1, l2, name, desc, value, basis) in enumerate(seed_project["indicators"]):
        rr = first + i
        typed = {"level1": l1, "level2": l2, "name": name, "description": desc, "num": value, "basis": basis}
        for key, v in typed.items():
            cells.append([sheet, cell_name(rr, cols[key]), v])
    # the remaining pre-seeded rows are cleared, as a clerk deletes what does not apply
    for rr in range(first + len(seed_project["indicators"]), first + 9):
        cells += [[sheet, cell_name(rr, cols["level1"]), ""], [sheet, cell_name(rr, cols["level2"]), ""]]
    return cells


@pytest.mark.slow
def test_libreoffice_fills_and_resaves_in_three_formats(tmp_path, roster, seed_tables):
    unit = roster.unit("307001")
    form = load_form("hebei-project")
    template = tmp_path / "template.xlsx"
    template.write_bytes(make_workbook(unit))
    seed = next(u for u in seed_tables["units"] if u["code"] == "307001")["projects"][0]
    outputs = {fmt: str(tmp_path / f"return.{fmt}") for fmt in ("xlsx", "xls", "ods")}
    run_lo({"input": str(template), "cells": clerk_cells(form, seed), "outputs": outputs}, tmp_path)

    col = collect([tmp_path / f"return.{fmt}" for fmt in outputs])
    assert [f.format for f in col.files] == ["xlsx", "xls", "ods"]
    # one unit, three copies: one is used, the others superseded — but every copy is read the same
    assert sorted(f.fate for f in col.files).count("已被替代") == 2
    projections = []
    for fmt in outputs:
        book = read_book(Path(outputs[fmt]).read_bytes())
        ret = extract(book, form, read_stamp(book.sheets["_stamp"]))
        p = ret.projects[0]
        projections.append((p.code, p.name, p.budget, p.plan, p.goal,
                            [(i.level1, i.level2, i.name, i.description, i.value.render(), i.basis)
                             for i in p.indicators],
                            sorted((f.sheet, f.cell, f.rule) for f in ret.findings)))
    assert projections[0] == projections[1] == projections[2]
    code, name, budget, plan, goal, indicators, findings = projections[0]
    assert (code, name, budget, plan) == ("13082625P002088100059", "科学技术普及经费", 12.0, [10, 60, 90, 100])
    assert goal == seed["goal"]
    assert indicators == [tuple(r) for r in seed["indicators"]]
    assert not [f for f in findings if f[2] == "锁定单元格被改动"]


@pytest.mark.slow
def test_feedback_fixed_in_libreoffice_supersedes_the_old_return(tmp_path, roster):
    """A return with problems → feedback workbook → the clerk fixes it in LibreOffice → collected clean."""
    import openpyxl

    from perftables.outputs.feedback import write_feedback
    first = collect([EXAMPLES / "returns"], roster=roster)
    baoding = next(f for f in first.files if f.unit_code == "731002")
    assert baoding.fate == "已采用（有问题）"
    [path] = [p for p in write_feedback(first, tmp_path / "退改") if p.name.startswith("731002")]
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames[0] == "审核意见" and wb.active.title == "审核意见"
    rows = list(wb["审核意见"].iter_rows(values_only=True))
    assert "审核意见" in rows[0][0] and "个错误" in rows[1][0] and "怎么改" in rows[2][0]   # the letter first
    top = next(i for i, r in enumerate(rows) if r[0] == "序号")
    listed = [(r[1], r[2]) for r in rows[top + 1:]]
    assert set(listed) == {("项目3", "F15"), ("项目5", "E7"), ("项目4", "H15"), ("项目5", "E11"), ("项目2", "F13")}
    assert "占位符" in wb["项目3"]["F15"].comment.text
    assert wb["项目5"]["E7"].protection.locked is False
    assert (EXAMPLES / "returns").is_dir()
    payload = read_stamp(read_book(path.read_bytes()).sheets["_stamp"])
    assert payload["issue"] == 2
    fixed = tmp_path / "回复：修改后.xlsx"
    cells = [["项目3", "E15", "≥"], ["项目3", "F15", "90"], ["项目3", "G15", "%"], ["项目5", "E7", 100],
             ["项目4", "H15", "社会调研"], ["项目5", "E11", "≤"], ["项目5", "F11", "2"], ["项目5", "G11", "个"],
             ["项目2", "E13", "≥"], ["项目2", "F13", "1000"], ["项目2", "G13", "份"]]
    run_lo({"input": str(path), "cells": cells, "outputs": {"xlsx": str(fixed)}}, tmp_path)
    second = collect([EXAMPLES / "returns", fixed], roster=roster)
    fates = {f.display.rsplit("/", 1)[-1]: (f.fate, f.reason) for f in second.files if f.unit_code == "731002"}
    assert fates["回复：修改后.xlsx"] == ("已采用", "审核通过")
    old = next(v for k, v in fates.items() if k != "回复：修改后.xlsx")
    assert old[0] == "已被替代"


@pytest.mark.slow
def test_selfeval_recalculated_in_libreoffice_matches_perftables(tmp_path, roster):
    """The live formulas give, in a real application, the score perftables recomputes (reference §5.6)."""
    from perftables.cycle.generate import Options
    from perftables.cycle.selfeval import generate_selfeval
    targets = collect([EXAMPLES / "returns"], roster=roster).accepted
    rec = next(t for t in targets if t.unit_code == "307001")
    [(_, blank)] = generate_selfeval([rec], tmp_path / "blank", Options(year=2025))
    s = "自评1"
    cells = [[s, "D6", 12.0], [s, "E6", 11.6], [s, "F11", "全年开展科普专题活动3次。"],
             [s, "F13", 3], [s, "F14", 85], [s, "F15", 100], [s, "F16", 11.6],
             [s, "F17", "达成年度指标"], [s, "H17", 14], [s, "F18", "部分达成年度指标并具有一定效果"], [s, "H18", 10],
             [s, "F19", 88], [s, "I14", "天气原因"], [s, "I17", "可扩大覆盖"], [s, "I18", "机制未建立"],
             [s, "I19", "时间安排"]]
    out = tmp_path / "filled.xlsx"
    run_lo({"input": str(blank), "cells": cells, "recalculate": True, "outputs": {"xlsx": str(out)}}, tmp_path)
    ret = collect([out]).returns[0]
    pr = next(p for p in ret.projects if p.sheet == s)
    ps = ret.scores[s]
    assert pr.figures["total"] == ps.total == 92.76                  # LibreOffice's own 总分 = perftables'
    assert pr.figures["budget_score"] == ps.budget_score == 9.67
    assert pr.figures["grade"] == ps.grade == "优"
    assert [i.extra["score"] for i in pr.indicators] == [r.score for r in ps.rows]
    assert not [f for f in ret.findings if f.sheet == s]


@pytest.mark.slow
def test_formulas_typed_in_libreoffice_are_reported_in_every_format(tmp_path, roster, seed_tables):
    """A clerk types "=SUM(…)" into a plan cell and "=1/0" into an indicator value: the file's cached
    results are never read as data, in any format LibreOffice saves (xlsx, ods, xls as WPS's .et is)."""
    unit = roster.unit("307001")
    form = load_form("hebei-project")
    template = tmp_path / "template.xlsx"
    template.write_bytes(make_workbook(unit))
    seed = next(u for u in seed_tables["units"] if u["code"] == "307001")["projects"][0]
    cells = clerk_cells(form, seed)
    book = read_book(template.read_bytes())
    probe = extract(book, form, read_stamp(book.sheets["_stamp"])).projects[0]
    plan1 = probe.cells["plan1"]
    num = next(c for s, c, v in cells if v == seed["indicators"][1][4])
    outputs = {fmt: str(tmp_path / f"return.{fmt}") for fmt in ("xlsx", "ods", "xls")}
    run_lo({"input": str(template), "cells": cells, "outputs": outputs, "recalculate": True,
            "formulas": [["项目1", plan1, "=SUM(5;5)"], ["项目1", num, "=1/0"]]}, tmp_path)
    for fmt, path in outputs.items():
        book = read_book(Path(path).read_bytes())
        ret = extract(book, form, read_stamp(book.sheets["_stamp"]))
        found = {(f.cell, f.rule) for f in ret.findings}
        assert (plan1, "公式") in found and (num, "公式") in found, (fmt, sorted(found))
        assert ret.projects[0].plan[0] is None, fmt   # not the cached 10


@pytest.mark.slow
def test_notes_hidden_rows_and_typed_over_formulas_are_reported(tmp_path, roster):
    """What a clerk leaves in LibreOffice besides values: a note (kept for the coordinator in 单位备注),
    a hidden row, a number typed over the 预算执行得分 formula."""
    from perftables.outputs.summary import build_tables
    src = next((EXAMPLES / "selfeval_returns").glob("405002_*.xlsx"))
    book = read_book(src.read_bytes())
    form = load_form("hebei-selfeval")
    ret = extract(book, form, read_stamp(book.sheets["_stamp"]))
    score_cell = ret.projects[0].cells["budget_score"]
    outputs = {fmt: str(tmp_path / f"回执.{fmt}") for fmt in ("xlsx", "xls", "ods")}
    run_lo({"input": str(src), "outputs": outputs,
            "notes": [["自评1", "B3", "执行数以财政局12月对账单为准，是否可以？"]],
            "hide_rows": [["自评1", 20]], "values_over_formulas": [["自评1", score_cell, 10]]}, tmp_path)
    for fmt, out in outputs.items():   # the same in every format a clerk may save (xls: NOTE/TXO, ods: annotations)
        col = collect([out], roster=roster)
        rec = col.accepted[0]
        findings = {(f.rule, f.cell) for f in rec.result.findings}
        assert ("公式被改动", score_cell) in findings, fmt
        assert ("隐藏内容", "A21") in findings or any(rule == "隐藏内容" for rule, _ in findings), fmt
        assert rec.result.notes and rec.result.notes[0][:2] == ("自评1", "B3") and "对账单" in rec.result.notes[0][3], fmt
        notes = next(t for t in build_tables(col) if t.name == "单位备注")
        assert notes.rows[0][0] == "405002" and "对账单" in notes.rows[0][-1], fmt


@pytest.mark.slow
def test_spending_plan_shows_and_reads_25_percent_however_typed(tmp_path, roster):
    """25, 25% (stored as 0.25) and 0.25 all show as a percentage of 25 on paper and are read as 25."""
    import shutil
    if not shutil.which("pdftotext"):
        pytest.skip("pdftotext (poppler-utils) not installed")
    form = load_form("hebei-project")
    template = tmp_path / "template.xlsx"
    template.write_bytes(make_workbook(roster.unit("307001")))
    book = read_book(template.read_bytes())
    cells = extract(book, form, read_stamp(book.sheets["_stamp"])).projects[0].cells
    out = {"xlsx": str(tmp_path / "r.xlsx"), "pdf": str(tmp_path / "r.pdf")}
    run_lo({"input": str(template), "outputs": out,
            "cells": [["项目1", cells["plan1"], 25], ["项目1", cells["plan3"], 0.75], ["项目1", cells["plan4"], 100]],
            "typed": [["项目1", cells["plan2"], "50%"]]}, tmp_path)
    book = read_book(Path(out["xlsx"]).read_bytes())
    ret = extract(book, form, read_stamp(book.sheets["_stamp"]))
    assert ret.projects[0].plan == [25, 50, 75, 100]
    notes = [f for f in ret.findings if f.rule == "数字格式"]
    assert {f.cell for f in notes} == {cells["plan2"], cells["plan3"]}
    text = subprocess.run(["pdftotext", "-layout", out["pdf"], "-"], capture_output=True, text=True).stdout
    for shown in ("25.00%", "50.00%", "75.00%", "100.00%"):
        assert shown in text, (shown, text[:2000])
    assert "0.50%" not in text and "0.75%" not in text


@pytest.mark.slow
def test_rows_inserted_into_the_protected_grid(tmp_path, roster):
    """A project with more indicators than the template's rows: the clerk inserts rows inside the grid
    without unprotecting the sheet (LibreOffice refuses it unless the protection allows it), the new rows
    keep the grid's dropdowns and input format, and what is typed there is read, in every format."""
    import openpyxl
    form = load_form("hebei-project")
    template = tmp_path / "template.xlsx"
    template.write_bytes(make_workbook(roster.unit("307001")))
    book = read_book(template.read_bytes())
    p = extract(book, form, read_stamp(book.sheets["_stamp"])).projects[0]
    grid_top = int(p.cells["goal"][1:]) + form.grid_header_rows      # 0-based index of the first grid row
    at = grid_top + 2
    cols = {c.key: c.col for c in form.input_columns}
    typed = {"level1": "产出指标", "level2": "数量指标", "name": "新增科普讲座", "num": "≥6场", "basis": "年度工作计划"}
    cells = [["项目1", cell_name(at + k, cols[key]), f"{v}{k or ''}" if key == "name" else v]
             for k in range(2) for key, v in typed.items()]
    outputs = {fmt: str(tmp_path / f"r.{fmt}") for fmt in ("xlsx", "xls", "ods")}
    run_lo({"input": str(template), "insert_rows_protected": [["项目1", at, 2]], "cells": cells, "outputs": outputs},
           tmp_path)
    ws = openpyxl.load_workbook(outputs["xlsx"])["项目1"]
    assert ws.protection.sheet
    assert not any(ws.cell(at + 1, c + 1).protection.locked for c in cols.values())
    lists = [dv for dv in ws.data_validations.dataValidation if dv.type == "list"]
    assert lists and all(f"{at + 2}" in str(dv.sqref) or ":" in str(dv.sqref) for dv in lists)
    assert all(any(r.min_row <= at + 1 <= r.max_row for r in dv.sqref.ranges) for dv in lists)
    for fmt, out in outputs.items():
        book = read_book(Path(out).read_bytes())
        ret = extract(book, form, read_stamp(book.sheets["_stamp"]))
        got = [(i.row, i.name, i.value.render()) for i in ret.projects[0].indicators]
        assert got == [(at + 1, "新增科普讲座", "≥6场"), (at + 2, "新增科普讲座1", "≥6场")], (fmt, got)
        assert not [f for f in ret.findings if f.rule == "锁定单元格被改动"], fmt



@pytest.mark.slow
def test_adjusted_targets_recalculated_in_libreoffice_match_perftables(tmp_path, small_unit):
    """The description's own formulas for 调整后指标值 (a changed target, a dropped row rescaled, 成本指标 not
    set scoring 5 of 10) give in a real application what perftables recomputes."""
    from test_layouts import ADJUSTED_ENTRIES, VALUES, adjusted_books
    rows = [{"level1": "产出指标", "level2": "数量指标", "name": f"指标{i}", "num": raw, "basis": "年度工作计划"}
            for i, (raw, _) in enumerate(VALUES)]
    rows.append({"level1": "满意度指标", "level2": "服务对象满意度指标", "name": "满意度", "num": "≥90%",
                 "basis": "年度工作计划"})
    (tmp_path / "t.xlsx").write_bytes(make_workbook(small_unit, fill={"projects": {"项目1": {
        "fields": {"goal": "1.开展科普活动"}, "indicators": rows}}}))
    path, _ = adjusted_books(tmp_path, tmp_path / "自评" / "x.xlsx", ADJUSTED_ENTRIES)
    out = tmp_path / "recalculated.xlsx"
    run_lo({"input": str(path), "cells": [], "recalculate": True, "outputs": {"xlsx": str(out)}}, tmp_path)
    from perftables.forms.form import with_templates
    with with_templates([Path(__file__).with_name("forms")]):
        ret = collect([out]).returns[0]
        pr = ret.projects[0]
        ps = ret.scores[pr.sheet]
        assert pr.figures["total"] == ps.total == 91.23                    # LibreOffice's own 总分 = perftables'
        assert [i.extra["score"] or None for i in pr.indicators] == [r.score for r in ps.rows]
        assert not [f for f in ret.findings if f.rule == "得分与复核不符"]


@pytest.mark.slow
def test_what_people_read_prints_whole(tmp_path, roster):
    """The summary workbook, the feedback workbooks and the published tables (xlsx) of the demo's returns,
    printed by LibreOffice: every text cell shows whole in the PDF (nothing cut off by a row or a column),
    on A4, in a bounded number of pages."""
    import shutil as sh
    if not sh.which("pdftotext"):
        pytest.skip("pdftotext (poppler-utils) not installed")
    from pdftext import missing_cells
    from perftables.outputs.feedback import write_feedback
    from perftables.outputs.publish import to_pdf
    from openpyxl.utils import column_index_from_string

    from perftables.outputs.summary import STATUS_PRINTED, build_tables, write_xlsx
    col = collect([EXAMPLES / "returns"], roster=roster)
    write_xlsx(build_tables(col), tmp_path / "汇总.xlsx")
    backs = write_feedback(col, tmp_path / "退改", deadline="2025-02-10")
    assert len(backs) >= 3
    from perftables.outputs.publish import publish
    publish(col, tmp_path / "公开", pdf=False)
    tables = sorted((tmp_path / "公开").glob("*部门预算绩效文本.xlsx"))
    assert len(tables) == 4
    for book, most in ((tmp_path / "汇总.xlsx", 30), *((Path(b), 16) for b in backs), *((t, 10) for t in tables)):
        pdf = to_pdf(book)
        info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout
        pages = int(info.split("Pages:")[1].split()[0])
        assert 1 <= pages <= most, (book.name, pages)
        size = info.split("Page size:")[1].split("pts")[0].split("x")
        assert sorted(round(float(v)) for v in size) == [595, 842], size          # A4
        # 报送情况 prints as filed: its first columns (files, history, hashes and addresses stay on screen)
        hidden = [c for c in missing_cells(book, pdf) if not c[0].startswith("_") and not
                  (c[0] == "报送情况" and column_index_from_string(c[1].rstrip("0123456789")) > STATUS_PRINTED)]
        assert not hidden, hidden[:5]
