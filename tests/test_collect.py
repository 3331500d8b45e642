import hashlib
import os
import re

import pytest

from conftest import EXAMPLES, SEEDS, make_workbook, patch_zip, seed_return
from perftables.cycle.collect import ACCEPTED, ACCEPTED_FINDINGS, REJECTED, SUPERSEDED, collect
from perftables.core.value import clean, format_number


def rows_of(seed_project):
    """The seed's indicator rows that hold something (唐山 keeps empty 二级 rows filled with '　')."""
    return [tuple(r) for r in seed_project["indicators"] if any(clean(c) for c in r[2:])]


@pytest.fixture(scope="module")
def demo_collection(roster):
    return collect([EXAMPLES / "returns"], roster=roster)


def test_seed_tables_come_back_exactly(demo_collection, seed_tables):
    results = {r.unit_code: r for r in demo_collection.returns}
    assert set(results) == {u["code"] for u in seed_tables["units"]}
    for unit in seed_tables["units"]:
        ret = results[unit["code"]]
        assert [p.code for p in ret.projects] == [p["code"] for p in unit["projects"]]
        for got, want in zip(ret.projects, unit["projects"]):
            assert got.name == want["name"]
            assert got.goal == want["goal"].strip()
            assert got.use == want["use"]
            if "budget" in want:
                assert format_number(got.budget) == format_number(float(want["budget"]))
            plan = [None if not clean(v) else float(clean(v).rstrip("%")) for v in want["plan"]]
            assert got.plan == plan
            assert [(i.level1, i.level2, i.name, i.description, i.value.render(), i.basis)
                    for i in got.indicators] == rows_of(want)
        for key, text in unit["texts"].items():
            assert ret.texts[key] == text


def test_seed_figures(demo_collection):
    budgets = {r.unit_code: (len(r.projects), round(sum(p.budget for p in r.projects), 2))
               for r in demo_collection.returns}
    assert budgets == {"306001": (4, 20.48), "405002": (4, 3208.40), "731002": (7, 408.00), "307001": (2, 22.00)}


def test_transcription_matches_the_seed_documents(seed_tables):
    """Every cell of examples/seed_tables.json stands in its seed document (white space aside)."""
    for unit in seed_tables["units"]:
        doc = next(SEEDS.glob(unit["seed"] + "_*.txt")).read_text(encoding="utf-8")
        flat = re.sub(r"\s+", "", doc)
        for p in unit["projects"]:
            for cell in [p["code"], p["name"], p["goal"], *[c for r in p["indicators"] for c in r]]:
                assert re.sub(r"\s+", "", cell) in flat, (unit["seed"], cell)


def test_seed_defects_are_flagged(demo_collection):
    f = {(x.unit_code, x.sheet, x.rule): x for r in demo_collection.returns for x in r.findings}
    baoding_plan = f[("731002", "项目5", "资金支出计划")]
    assert baoding_plan.cell == "E7" and "12月底" in baoding_plan.message
    msgs = [x.message for r in demo_collection.returns if r.unit_code == "306001" for x in r.findings]
    assert any("“是/否”是占位符" in m for m in msgs)
    assert any("“是否按时完成”是一个问句" in m for m in msgs)
    baoding = [x.message for r in demo_collection.returns if r.unit_code == "731002" for x in r.findings]
    assert any("“%”是占位符" in m for m in baoding)
    # 唐山 and 丰宁 have no errors: only warnings (e.g. 41000 without a unit)
    for code in ("405002", "307001"):
        ret = next(r for r in demo_collection.returns if r.unit_code == code)
        assert not [x for x in ret.findings if x.severity == "错误"], code


def test_status_lists_who_has_not_returned(demo_collection):
    from perftables.outputs.summary import build_tables
    status = next(t for t in build_tables(demo_collection) if t.name == "报送情况")
    states = {row[0]: row[2] for row in status.rows}
    assert states == {"306001": "已报送（有错误）", "405002": "已报送（有警告）", "731002": "已报送（有错误）",
                      "307001": "已报送（有警告）", "306002": "未报送"}


# ------------------------------------------------------------------ bad inputs

@pytest.fixture
def inbox(tmp_path, roster, seed_tables):
    box = tmp_path / "inbox"
    box.mkdir()
    good = seed_return(roster, seed_tables, "307001")
    (box / "丰宁.xlsx").write_bytes(good)
    return box, good


def fates(col):
    return {f.display.split("/", 1)[1]: (f.fate, f.reason) for f in col.files}


def test_bad_files_each_get_their_message(inbox, roster, seed_tables, small_unit):
    box, good = inbox
    (box / "通知.xlsx").write_bytes("这是一封邮件正文".encode("utf-8"))
    (box / "截断.xlsx").write_bytes(good[: len(good) // 2])
    (box / "空.xlsx").write_bytes(b"")
    (box / "加密.xlsx").write_bytes(encrypt(good))
    (box / "去年.xlsx").write_bytes(seed_return(roster, seed_tables, "306001", year=2024))
    (box / "名单外.xlsx").write_bytes(make_workbook(small_unit))
    col = collect([box], roster=roster, year=2025)
    f = fates(col)
    assert f["丰宁.xlsx"][0] == ACCEPTED_FINDINGS
    assert f["通知.xlsx"] == (REJECTED, "不是电子表格文件（内容无法识别）")
    assert f["截断.xlsx"][0] == REJECTED and "损坏" in f["截断.xlsx"][1]
    assert f["空.xlsx"] == (REJECTED, "空文件（0 字节）")
    assert f["加密.xlsx"][0] == REJECTED and "加密" in f["加密.xlsx"][1]
    assert f["去年.xlsx"][0] == REJECTED and "年度不符" in f["去年.xlsx"][1]
    assert f["名单外.xlsx"][0] == REJECTED and "不在名单中" in f["名单外.xlsx"][1]
    assert len(col.files) == 7


def encrypt(data: bytes) -> bytes:
    import io
    pytest.importorskip("msoffcrypto")
    from msoffcrypto.format.ooxml import OOXMLFile
    out = io.BytesIO()
    OOXMLFile(io.BytesIO(data)).encrypt("secret", out)
    return out.getvalue()


def test_another_form_and_removed_stamp(inbox, roster):
    box, good = inbox
    (box / "无标识.xlsx").write_bytes(patch_zip(good, "xl/workbook.xml", b'name="_stamp"', b'name="_gone"'))
    (box / "别的表式.xlsx").write_bytes(make_workbook(roster.unit("307001"), "tangshan-project"))
    f = fates(collect([box], roster=roster))
    assert f["无标识.xlsx"][0] == SUPERSEDED        # read by its labels: same unit as 丰宁.xlsx, older issue
    assert f["别的表式.xlsx"][0] == REJECTED and "表式不符" in f["别的表式.xlsx"][1]
    assert f["丰宁.xlsx"][0] == ACCEPTED_FINDINGS


def test_locked_cell_changed_after_unprotecting(tmp_path, roster, seed_tables):
    data = seed_return(roster, seed_tables, "307001")
    # the clerk removed protection and rewrote the project name and a grid header
    data = patch_zip(data, "xl/sharedStrings.xml", "<t>老科协经费</t>".encode(), "<t>老科协活动经费</t>".encode())
    data = patch_zip(data, "xl/sharedStrings.xml", "<t>指标值确定依据</t>".encode(), "<t>依据</t>".encode())
    (tmp_path / "a.xlsx").write_bytes(data)
    ret = collect([tmp_path / "a.xlsx"], roster=roster).returns[0]
    tampered = [(f.sheet, f.cell) for f in ret.findings if f.rule == "锁定单元格被改动"]
    assert ("项目2", "D3") in tampered
    assert ("项目1", "H9") in tampered and ("项目2", "H9") in tampered
    # the roster's name is kept, not the altered one
    assert ret.projects[1].name == "老科协经费"


def test_stamp_edited_is_detected(tmp_path, roster, seed_tables):
    data = seed_return(roster, seed_tables, "307001")
    data = patch_zip(data, "xl/sharedStrings.xml", '"budget": 12.0'.encode(), '"budget": 99.0'.encode())
    (tmp_path / "a.xlsx").write_bytes(data)
    rec = collect([tmp_path / "a.xlsx"], roster=roster).files[0]
    assert rec.fate == REJECTED and "指纹不符" in rec.reason


def test_numbers_typed_as_text_in_a_new_project(tmp_path, roster, small_unit):
    fill = {"projects": {"新增项目1": {"fields": {
        "project_code": "999001P003", "project_name": "新增科普项目", "budget": "2,000", "fiscal": "12万元",
        "other": "一千", "use": "新增", "goal": "1.新增", "plan1": "25%", "plan2": "50", "plan3": 75.0,
        "plan4": "１００"}, "indicators": [
        {"level1": "产出指标", "level2": "数量指标", "name": "活动次数", "op": "≥", "num": "4", "unit": "次",
         "basis": "年度工作计划"}]}}}
    (tmp_path / "a.xlsx").write_bytes(make_workbook(small_unit, fill=fill))
    ret = collect([tmp_path / "a.xlsx"]).returns[0]
    new = next(p for p in ret.projects if p.spare)
    assert (new.code, new.name, new.budget, new.fiscal, new.other) == ("999001P003", "新增科普项目", 2000, 12, None)
    assert new.plan == [25, 50, 75, 100]
    msgs = {(f.cell, f.rule): f for f in ret.findings if f.sheet == "新增项目1"}
    assert msgs[("C4", "数字格式")].severity == "警告" and "2,000" in msgs[("C4", "数字格式")].message
    assert msgs[("H4", "数字格式")].severity == "错误" and "不是数字" in msgs[("H4", "数字格式")].message
    assert any(f.rule == "预算数与分项不符" for f in ret.findings if f.sheet == "新增项目1")


def test_two_returns_of_one_unit_newest_wins_and_inputs_untouched(tmp_path, roster, seed_tables):
    old = seed_return(roster, seed_tables, "307001")
    new = patch_zip(old, "docProps/core.xml", b'W3CDTF">2025-01-10T09:30:00Z</dcterms:modified',
                    b'W3CDTF">2025-01-12T16:00:00Z</dcterms:modified')
    # the newer file has the name that sorts first: only the saved time can pick it
    (tmp_path / "绩效目标表.xlsx").write_bytes(old)
    (tmp_path / "回复：绩效目标表(修改后).xlsx").write_bytes(new)
    os.utime(tmp_path / "绩效目标表.xlsx", (2e9, 2e9))     # a newer mtime must not beat the saved time
    before = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in tmp_path.iterdir()}
    col = collect([tmp_path], roster=roster)
    f = fates(col)
    assert f["回复：绩效目标表(修改后).xlsx"][0] in (ACCEPTED, ACCEPTED_FINDINGS)
    assert f["绩效目标表.xlsx"][0] == SUPERSEDED and "修改后" in f["绩效目标表.xlsx"][1]
    assert before == {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in tmp_path.iterdir()}
    assert {x.sha256 for x in col.files} == set(before.values())


def test_rows_inserted_in_the_grid_are_still_read(tmp_path, roster, seed_tables):
    """Anchors, not addresses: a return whose rows moved is read by its labels."""
    from perftables.io.extract import extract
    from perftables.forms.form import load_form
    from perftables.io.book import read_book
    from perftables.io.stamp import read_stamp
    book = read_book(seed_return(roster, seed_tables, "307001"))
    rows = book.sheets["项目1"]
    rows.insert(3, [None] * 8)                          # a blank row inserted above 预算规模
    ret = extract(book, load_form("hebei-project"), read_stamp(book.sheets["_stamp"]))
    p = ret.projects[0]
    assert p.budget == 12 and p.cells["budget"] == "C5" and len(p.indicators) == 7


def test_example_returns_are_current(tmp_path):
    """examples/returns/ is what the generator makes today (else: python -m perftables.cli.demo --rebuild)."""
    from perftables.cli.demo import build_returns, build_selfeval_returns
    for path in build_returns(tmp_path / "t"):
        assert path.read_bytes() == (EXAMPLES / "returns" / path.name).read_bytes(), path.name
    targets = collect([EXAMPLES / "returns"]).accepted
    for path in build_selfeval_returns(targets, tmp_path / "s"):
        assert path.read_bytes() == (EXAMPLES / "selfeval_returns" / path.name).read_bytes(), path.name


def test_a_retyped_copy_without_stamp_is_read_by_its_labels(tmp_path, roster, seed_tables):
    """A clerk re-typed the table into a workbook of their own: no stamp, other sheet names."""
    import xlsxwriter
    from perftables.forms.form import load_form
    seed = next(u for u in seed_tables["units"] if u["code"] == "307001")
    form = load_form("hebei-project")
    wb = xlsxwriter.Workbook(str(tmp_path / "自己做的表.xlsx"))
    for p in seed["projects"]:
        ws = wb.add_worksheet(p["name"])
        r = 0
        values = {"unit_line": "307001 丰宁满族自治县科学技术协会本级", "project_code": p["code"],
                  "project_name": p["name"], "budget": float(p["budget"]), "fiscal": float(p["fiscal"]),
                  "other": 0.0, "use": p["use"], "goal": p["goal"],
                  **{f"plan{i}": float(v.rstrip("%")) for i, v in enumerate(p["plan"], 1)}}
        for row in form.rows:
            for cell in row.cells:
                ws.write(r, cell.col, cell.label if cell.label is not None else values.get(cell.field))
            r += 1
        for col in form.grid_columns:
            ws.write(r, col.col, col.label)
        r += 1
        ws.write_row(r, 4, ["符号", "数值/文字", "单位"])
        for i, row in enumerate(p["indicators"], r + 1):
            ws.write_row(i, 0, row[:4])
            ws.write(i, 5, row[4])
            ws.write(i, 7, row[5])
    wb.close()
    (tmp_path / "随便一个表.xlsx").write_bytes(b"")
    col = collect([tmp_path / "自己做的表.xlsx"], roster=roster, year=2025)
    rec = col.files[0]
    assert rec.fate == ACCEPTED_FINDINGS and rec.unit_code == "307001"
    ret = rec.result
    assert any(f.rule == "无标识" for f in ret.findings)
    assert [p.code for p in ret.projects] == [p["code"] for p in seed["projects"]]
    assert [(i.name, i.value.render()) for i in ret.projects[0].indicators] == \
        [(r[2], r[4]) for r in seed["projects"][0]["indicators"]]
    assert ret.projects[0].budget == 12 and ret.projects[0].plan == [10, 60, 90, 100]


def test_parallel_and_serial_give_the_same_result(tmp_path, roster):
    """Worker processes change the speed, never the output."""
    import shutil

    from perftables.outputs.summary import build_tables, write_csv
    inbox = tmp_path / "inbox"
    for i in range(3):
        shutil.copytree(EXAMPLES / "returns", inbox / f"批次{i}")
    outs = []
    for workers in (1, 2):
        col = collect([inbox], roster=roster, workers=workers)
        write_csv(build_tables(col), tmp_path / f"w{workers}")
        outs.append({p.name: p.read_bytes() for p in (tmp_path / f"w{workers}").iterdir()})
    assert outs[0] == outs[1]
    from perftables.cycle.generate import Options, generate
    a = generate(roster, tmp_path / "g1", Options(year=2025, created=FIXED_TIME), workers=1)
    b = generate(roster, tmp_path / "g2", Options(year=2025, created=FIXED_TIME), workers=2)
    assert [p.read_bytes() for _, p in a] == [p.read_bytes() for _, p in b]


FIXED_TIME = __import__("datetime").datetime(2025, 1, 10, 9, 30)


def test_the_summary_prints_readably(tmp_path, demo_collection):
    """Long texts wrap in rows as high as they need; a wide table prints across pages at a readable scale
    with who (单位编码, 单位名称) on every page; page numbers; the budget chart leaves room for its labels."""
    import zipfile

    import openpyxl

    from perftables.io.sheetxml import LINE_HEIGHT
    from perftables.outputs.summary import build_tables, write_xlsx
    write_xlsx(build_tables(demo_collection), tmp_path / "s.xlsx")
    wb = openpyxl.load_workbook(tmp_path / "s.xlsx")
    issues = wb["审核问题"]
    heights = [issues.row_dimensions[r].height for r in range(2, issues.max_row + 1)]
    assert any(h and h >= 2 * LINE_HEIGHT for h in heights)
    for r in range(2, issues.max_row + 1):
        text = str(issues.cell(r, 9).value or "")
        if len(text) > 40:
            assert (issues.row_dimensions[r].height or 0) >= 2 * LINE_HEIGHT, text
    projects = wb["项目汇总"]
    assert projects.page_setup.fitToWidth > 1 and projects.print_title_cols == "$A:$B"
    assert "&P" in projects.oddFooter.center.text
    assert wb["单位汇总"].page_setup.fitToWidth in (None, 1)                  # 1 is the default, not written
    chart = next(n for n in zipfile.ZipFile(tmp_path / "s.xlsx").namelist() if n.startswith("xl/charts/chart"))
    xml = zipfile.ZipFile(tmp_path / "s.xlsx").read(chart).decode()
    top = float(xml.split("<c:max val=\"")[1].split("\"")[0])
    assert top >= 1.2 * 3208.40


def test_no_long_text_is_cut_off_by_excels_highest_row(tmp_path, demo_collection):
    """A long-text cell (the 分项绩效目标 of 保定 and 唐山 fill more than the 409 points Excel allows a row at the
    usual width) widens its column; a text longer still spans several sheet rows merged into one cell. Every
    long cell of every sheet fits, and the summary still reads back row for row."""
    import openpyxl

    from perftables.io.sheetxml import LINE_HEIGHT, LONG_WIDTH, MAX_ROW_HEIGHT, text_lines
    from perftables.outputs.summary import build_tables, read_summary_tables, write_xlsx
    tables = build_tables(demo_collection)
    write_xlsx(tables, tmp_path / "s.xlsx")
    wb = openpyxl.load_workbook(tmp_path / "s.xlsx")
    widened = merged = 0
    for table in tables:
        ws = wb[table.name]
        spans = {(m.min_row, m.min_col): m.max_row for m in ws.merged_cells.ranges}
        for c, (_, kind) in enumerate(table.columns):
            if kind != "long":
                continue
            dim = next(d for d in ws.column_dimensions.values() if d.min <= c + 1 <= d.max)   # <col> spans columns
            width = dim.width - 0.71   # xlsxwriter adds the cell padding
            for r in range(2, ws.max_row + 1):
                text = ws.cell(r, c + 1).value
                if isinstance(text, str) and text_lines(text, width) > 1:
                    last = spans.get((r, c + 1), r)
                    heights = [ws.row_dimensions[i].height or 15 for i in range(r, last + 1)]
                    assert max(heights) <= MAX_ROW_HEIGHT
                    assert sum(heights) >= text_lines(text, width) * LINE_HEIGHT - 0.01, (table.name, r, text[:20])
                    widened += text_lines(text, LONG_WIDTH) * LINE_HEIGHT > MAX_ROW_HEIGHT
                    merged += last > r
    assert widened >= 2 and merged >= 1      # the test has texts that the fixed width used to cut off
    back = read_summary_tables(tmp_path / "s.xlsx")
    assert [r["单位编码"] for r in back["整体绩效目标"]] == [row[0] for row in tables[-1].rows]
