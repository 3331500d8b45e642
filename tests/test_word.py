"""Returns that are Word documents: read by the form description's labels, matched as stampless returns,
reviewed by the same rules; the feedback is our own workbook pre-filled with what the document held."""
from __future__ import annotations

import io
import shutil
import subprocess
import zipfile

import pytest

from conftest import EXAMPLES, SEEDS, libreoffice_available, rewrite_zip
from perftables.cycle.collect import collect
from perftables.core.value import clean, format_number
from worddoc import HEADER, MERGED, docx, project_rows, seed_document


def view(ret):
    """A return as the seeds print it: every project field, every indicator row, the unit's texts."""
    return ([(p.code, p.name, format_number(p.budget) if p.budget is not None else None, p.use, p.goal, p.plan,
              [(i.level1, i.level2, i.name, i.description, i.value.render(), i.basis) for i in p.indicators])
             for p in ret.projects], ret.texts)


def expected(unit):
    """What seed_tables.json says the unit's document holds (唐山's empty '　' rows are no indicators)."""
    projects = []
    for p in unit["projects"]:
        budget = p.get("budget")
        projects.append((p["code"], p["name"], format_number(float(budget)) if budget else None, p["use"],
                         p["goal"].strip(), [None if not clean(v) else float(clean(v).rstrip("%")) for v in p["plan"]],
                         [tuple(r) for r in p["indicators"] if any(clean(c) for c in r[2:])]))
    return projects, unit["texts"]


def assert_seed_projects(ret, unit):
    """Every project of the unit's seed table, field for field (a budget the seed prints nowhere is not compared:
    唐山's is read from its 资金用途)."""
    got, want = view(ret)[0], expected(unit)[0]
    assert len(got) == len(want), (unit["code"], len(got), len(want))
    for g, w in zip(got, want):
        assert g[:2] == w[:2] and g[3:] == w[3:], (unit["code"], g[0])
        if w[2] is not None:
            assert g[2] == w[2]


@pytest.fixture(scope="module")
def word_inbox(tmp_path_factory, seed_tables):
    inbox = tmp_path_factory.mktemp("word")
    for unit in seed_tables["units"]:
        (inbox / f"{unit['name']}.docx").write_bytes(docx(seed_document(unit, split_at=3)))
    return inbox


@pytest.fixture(scope="module")
def word_collection(word_inbox, roster):
    return collect([word_inbox], roster=roster)


def test_seed_documents_in_word_come_back_to_the_seeds_figures(word_collection, seed_tables):
    """Seeds 000–003 as Word documents — 第一部分's texts under their headings, a table a project with its
    title and unit line, 一级指标 merged down its rows, the first table split across two pages with its header
    repeated — read back to every project, amount, plan, goal, indicator row and text of the seeds."""
    assert all(f.fate.startswith("已采用") for f in word_collection.files), \
        [(f.display, f.reason) for f in word_collection.files]
    got = {r.unit_code: r for r in word_collection.returns}
    for unit in seed_tables["units"]:
        ret = got[unit["code"]]
        assert_seed_projects(ret, unit)
        assert ret.texts == expected(unit)[1]
    figures = {r.unit_code: (len(r.projects), round(sum(p.budget for p in r.projects), 2)) for r in got.values()}
    assert figures == {"306001": (4, 20.48), "405002": (4, 3208.40), "731002": (7, 408.00), "307001": (2, 22.00)}


def test_word_returns_are_stampless_returns_reviewed_by_the_same_rules(word_collection, roster):
    """Marked 无标识, matched to the roster's units, and found the same defects as the seeds typed into our
    templates (examples/returns) — no more, no fewer."""
    typed = {r.unit_code: sorted((f.sheet, f.rule, f.message) for f in r.findings)
             for r in collect([EXAMPLES / "returns"], roster=roster).returns}
    for ret in word_collection.returns:
        assert ret.payload.get("stampless") and ret.payload["year"] == 2025
        assert [f.rule for f in ret.findings].count("无标识") == 1
        assert sorted((f.sheet, f.rule, f.message) for f in ret.findings if f.rule != "无标识") == typed[ret.unit_code]
        assert ret.form.id == ("tangshan-project" if ret.unit_code == "405002" else "hebei-project")


def test_what_word_does_to_a_table(tmp_path, seed_tables, roster):
    """Cells merged across columns otherwise than the form, a code broken over two lines, amounts with 万元 and
    thousands separators, full-width punctuation and spaces in the labels, stray empty paragraphs and rows, a
    project's table split in two without its header, the unit named only on the cover."""
    unit = next(u for u in seed_tables["units"] if u["code"] == "306001")
    p = dict(unit["projects"][0], budget="2.50万元", fiscal="2.50", other="0")
    rows = project_rows(p, tangshan=False)
    rows[0] = ["项目编码：", "130304212DKQ\nUYMYGYXRY", "项目名称", p["name"]]             # label with a colon
    rows[1] = ["预算规模及资金用途", "预算数", "2.50万元", "其中：财政资金", "2.50", "其他资金", "0"]
    rows[3] = ["资金支出计划 ( % )", "3 月底", "6月底", "10月底", "12月底"]
    head = rows.index(HEADER)
    big = dict(unit["projects"][1], budget="1,000.00", fiscal="1,000.00", other="0")
    blocks = ["秦皇岛市北戴河区科学技术协会(本级)", "2025年部门预算绩效文本", "", "",
              "1.科学技术普及活动经费绩效目标表", rows[:head + 2], "", "　", rows[head + 2:],
              "2." + big["name"] + "绩效目标表", project_rows(big, tangshan=False)]
    (tmp_path / "文本.docx").write_bytes(docx(blocks))
    [ret] = collect([tmp_path / "文本.docx"], roster=roster).returns
    first, second = ret.projects
    assert ret.unit_code == "306001"
    assert first.code == "130304212DKQUYMYGYXRY" and first.budget == 2.5 and first.plan == [25, 50, 75, 100]
    assert [(i.name, i.value.render()) for i in first.indicators] == [(r[2], r[4]) for r in p["indicators"]]
    assert first.indicators[1].level1 == "产出指标"            # merged down, across the split
    assert second.budget == 1000.0 and second.fiscal == 1000.0


def test_a_document_framed_in_a_one_cell_table_is_read_inside(tmp_path, seed_tables, roster):
    """Some units put the whole text in a one-cell table (a border around the page): read what is inside."""
    from worddoc import _runs, _table
    unit = next(u for u in seed_tables["units"] if u["code"] == "307001")
    inner = "".join(_runs(b) if isinstance(b, str) else _table(b, max(len(r) for r in b)) + "<w:p/>"
                    for b in seed_document(unit))
    frame = _table([["x"]], 1).replace(_runs("x"), inner)
    (tmp_path / "框.docx").write_bytes(docx([("xml", frame)]))
    [ret] = collect([tmp_path], roster=roster).returns
    assert [p[:2] for p in view(ret)[0]] == [p[:2] for p in expected(unit)[0]] and ret.texts == unit["texts"]


@pytest.mark.slow
def test_our_published_documents_read_back_as_published(tmp_path, roster):
    """The 部门预算绩效文本 perftables publishes, sent back as a return: the same return."""
    from perftables.outputs.publish import publish
    col = collect([EXAMPLES / "returns"], roster=roster)
    publish(col, tmp_path / "公开", pdf=False)
    inbox = tmp_path / "收件箱"
    inbox.mkdir()
    for path in (tmp_path / "公开").glob("*部门预算绩效文本.docx"):
        shutil.copy(path, inbox / path.name)
    back = {r.unit_code: r for r in collect([inbox], roster=roster).returns}
    assert set(back) == {r.unit_code for r in col.returns}
    for ret in col.returns:
        assert view(back[ret.unit_code]) == view(ret), ret.unit_code


def test_the_feedback_of_a_word_return_is_our_workbook_with_what_it_held(tmp_path, word_inbox, roster):
    """The unit that answered in Word gets back a generated, stamped workbook holding its document's entries
    and the problems marked: the next round comes back as our workbook, read exactly."""
    from perftables.outputs.feedback import write_feedback
    col = collect([word_inbox / "丰宁满族自治县科学技术协会本级.docx"], roster=roster)
    [book] = write_feedback(col, tmp_path / "退改")
    [again] = collect([book], roster=roster).returns
    [before] = col.returns
    assert not again.payload.get("stampless") and view(again) == view(before)
    assert [f.rule for f in again.findings if f.rule == "资金用途与预算数不符"] == ["资金用途与预算数不符"]


def test_documents_that_are_not_a_return_say_why(tmp_path, roster):
    (tmp_path / "通知.docx").write_bytes(docx(["关于报送绩效目标的通知", "请各单位按时报送。"]))
    (tmp_path / "其他表.docx").write_bytes(docx([[["序号", "姓名"], ["1", "张三"]]]))
    (tmp_path / "坏.docx").write_bytes(docx(["x"])[:300])
    import io
    import zipfile
    bomb = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(docx(["x"]))) as src, zipfile.ZipFile(bomb, "w") as z:
        for name in src.namelist():
            body = src.read(name)
            if name == "word/document.xml":   # entities that would expand to gigabytes
                body = body.replace(b"?>", b'?><!DOCTYPE w [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>', 1)
            z.writestr(name, body)
    (tmp_path / "实体.docx").write_bytes(bomb.getvalue())
    reasons = {f.display.split("/")[-1]: f.reason for f in collect([tmp_path], roster=roster).files}
    assert "实体定义" in reasons["实体.docx"]
    assert "没有表格" in reasons["通知.docx"]
    assert "认不出是哪张表" in reasons["其他表.docx"]
    assert "损坏" in reasons["坏.docx"]


def compound_file(streams: list[str]) -> bytes:
    """The smallest compound file (the container of .doc, .wps, .xls) whose directory names these streams."""
    import struct
    free, end, fatsect = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD
    header = bytearray(512)
    header[:8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    struct.pack_into("<HHHHH", header, 0x18, 0x3E, 3, 0xFFFE, 9, 6)
    struct.pack_into("<IIIIIIIII", header, 0x2C, 1, 1, 0, 4096, end, 0, end, 0, 0)
    struct.pack_into("<109I", header, 0x4C, 0, *([free] * 108))
    fat = struct.pack("<128I", fatsect, end, *([free] * 126))

    def entry(name, kind):
        e = bytearray(128)
        raw = (name + "\0").encode("utf-16-le")
        e[:len(raw)] = raw
        struct.pack_into("<HB", e, 64, len(raw), kind)
        struct.pack_into("<iii", e, 68, -1, -1, 1 if kind == 5 and streams else -1)
        struct.pack_into("<IQ", e, 116, end, 0)
        return bytes(e)
    directory = entry("Root Entry", 5) + b"".join(entry(n, 2) for n in streams)
    directory += bytes(128 * (4 - len(streams) - 1))
    return bytes(header) + fat + directory


def test_a_doc_without_libreoffice_is_a_reason(tmp_path, roster, monkeypatch):
    monkeypatch.setattr("perftables.io.word.find_soffice", lambda: None)   # where the reader asks for it
    (tmp_path / "旧格式.doc").write_bytes(compound_file(["WordDocument", "1Table"]))
    [rec] = collect([tmp_path], roster=roster).files
    assert "需要安装 LibreOffice" in rec.reason and rec.fate == "未采用"


@pytest.mark.slow
@pytest.mark.libreoffice
@pytest.mark.skipif(not libreoffice_available(), reason="LibreOffice not installed")
def test_doc_and_wps_through_libreoffice(tmp_path, word_inbox, roster):
    """A Word 97–2003 .doc (as WPS 文字 also saves) is converted by LibreOffice and read as the .docx was."""
    src = word_inbox / "丰宁满族自治县科学技术协会本级.docx"
    work = tmp_path / "conv"
    work.mkdir()
    shutil.copy(src, work / "in.docx")
    subprocess.run(["soffice", "--headless", f"-env:UserInstallation={(tmp_path / 'p').as_uri()}", "--convert-to",
                    "doc:MS Word 97", "--outdir", str(work), str(work / "in.docx")], check=True, timeout=300,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    inbox = tmp_path / "in"
    inbox.mkdir()
    shutil.copy(work / "in.doc", inbox / "丰宁.doc")
    shutil.copy(work / "in.doc", inbox / "丰宁.wps")
    col = collect([inbox], roster=roster)
    assert [f.format for f in col.files] == ["doc", "doc"]
    [docx_ret] = collect([src], roster=roster).returns
    assert col.returns and view(col.returns[0]) == view(docx_ret)


def test_the_test_documents_print_the_seeds_cells(seed_tables):
    """Every cell the test documents print stands in its seed document (white space aside)."""
    import re
    for unit in seed_tables["units"]:
        flat = re.sub(r"\s+", "", next(SEEDS.glob(unit["seed"] + "_*.txt")).read_text(encoding="utf-8"))
        for block in seed_document(unit):
            for row in block if isinstance(block, list) else []:
                for cell in row:
                    if cell is not MERGED and cell:
                        assert re.sub(r"\s+", "", cell) in flat, (unit["seed"], cell)


def seed_text_document(text: str) -> list:
    """A seed document's own text as Word blocks: lines starting with a tab are the cells of a row, rows are
    apart by a blank line, any other line is a paragraph (or, right under a cell, the cell's next line)."""
    import re
    blocks, table, row = [], None, None
    for line in text.split("\n"):
        line = re.sub(r"\[bookmark: [^\]]*\]", "", line)
        if line.startswith("\t"):
            if row is None:
                row = []
                table = table if table is not None else []
                table.append(row)
            row.append(line[1:].strip())
        elif not line.strip():
            row = None
        elif row is not None and row:
            row[-1] += "\n" + line.strip()
        else:
            if table:
                blocks.append(table)
            table = None
            blocks.append(line.strip())
    if table:
        blocks.append(table)
    # a row of the indicator grid with fewer cells than its header: the flattened text broke it at an empty
    # paragraph (the next short row completes it), or left out the cells merged down from above
    for k, block in enumerate(blocks):
        if not isinstance(block, list):
            continue
        width, rows = None, []
        for row in block:
            if row and row[0] == "一级指标":
                width = len(row)
            elif width and rows and len(rows[-1]) < width and len(rows[-1]) + len(row) <= width and row[0]:
                rows[-1] = rows[-1] + row
                continue
            rows.append(row)
        for row in rows:
            if width and len(row) < width and row[0] != "一级指标" and width - len(row) < 3:
                row += [MERGED] * (width - len(row))
        blocks[k] = rows
    return blocks


def test_the_seed_documents_own_text_as_word(tmp_path, seed_tables, roster):
    """The seeds' own text (../shared/seeds) laid out as Word documents line by line — its empty cells left
    empty rather than merged, its cover, contents and headings as they stand — read to the seeds' figures
    and every indicator row of the transcription, each in its own year. (Seed 003's text comes from a PDF:
    its cells are not kept apart, so it is not a Word table; its transcription is rebuilt above.)"""
    figures = {}
    for unit in seed_tables["units"]:
        if unit["seed"] == "003":
            continue
        text = next(SEEDS.glob(unit["seed"] + "_*.txt")).read_text(encoding="utf-8")
        path = tmp_path / f"{unit['seed']}.docx"
        path.write_bytes(docx(seed_text_document(text)))
        # 001 and 002 print their year in a heading; 000 nowhere (the coordinator says it: --year)
        year = {"000": 2020, "001": 2022, "002": 2020}[unit["seed"]]
        col = collect([path], roster=roster, year=year)
        assert all(f.fate.startswith("已采用") for f in col.files), [(f.display, f.reason) for f in col.files]
        [ret] = col.returns
        assert ret.unit_code == unit["code"] and ret.payload["year"] in (None, year)
        assert (ret.payload["year"] is None) == (unit["seed"] == "000")
        figures[unit["code"]] = (len(ret.projects), round(sum(p.budget for p in ret.projects), 2))
        assert [p[6] for p in view(ret)[0]] == [p[6] for p in expected(unit)[0]], unit["code"]
    assert figures == {"306001": (4, 20.48), "405002": (4, 3208.40), "731002": (7, 408.00)}


@pytest.mark.slow
def test_a_published_department_table_reads_back_as_published(tmp_path):
    """The 部门整体绩效目标表 (Hubei, seed 004) as perftables publishes it in Word: its figures, its project list
    and long-term table, both indicator tables with their 近两年 columns under a three-row header, its texts —
    and the same findings, row numbers included (the rows stand where the template has them)."""
    from perftables.outputs.publish import publish
    from perftables.model.roster import read_roster
    roster = read_roster(EXAMPLES / "dept" / "名单.csv")
    col = collect([EXAMPLES / "dept" / "returns"], roster=roster)
    publish(col, tmp_path / "公开", pdf=False)
    inbox = tmp_path / "收件箱"
    inbox.mkdir()
    for path in (tmp_path / "公开").glob("704001_*.docx"):
        shutil.copy(path, inbox / path.name)
    [back] = collect([inbox], roster=roster).returns
    [ret] = col.returns

    def dept_view(r):
        return ([(p.values, [(i.level1, i.level2, i.name, i.value.render(), i.basis,
                              {k: v for k, v in i.extra.items() if v}) for i in p.indicators],
                  {k: [(getattr(x, "name", None) or x.get("name"), getattr(x, "basis", None) or x.get("budget"))
                       for x in v] for k, v in p.tables.items()}) for p in r.projects], r.texts)
    assert dept_view(back) == dept_view(ret)
    assert back.payload["year"] == 2024 and back.payload.get("stampless")
    assert sorted((f.rule, f.message) for f in back.findings if f.rule != "无标识") == \
        sorted((f.rule, f.message) for f in ret.findings)


@pytest.mark.slow
def test_hostile_word_documents_each_get_a_fate(tmp_path, roster):
    """Spans of a billion columns, counts that are not numbers, tables nested in cells, ten thousand rows,
    random damage to the bytes: every file a fate and a reason, nothing crashes, nothing hangs."""
    import random
    import time
    good = docx(["1.科学技术普及活动经费绩效目标表", [["项目编码", "X1", "项目名称", "甲"], HEADER,
                                                   ["产出指标", "数量指标", "次数", "说明", "≥3次", "计划"]]])

    def patched(old: bytes, new: bytes, data=good) -> bytes:
        import io
        import zipfile
        out = io.BytesIO()
        with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as z:
            for name in src.namelist():
                body = src.read(name)
                z.writestr(name, body.replace(old, new) if name == "word/document.xml" else body)
        return out.getvalue()
    (tmp_path / "span.docx").write_bytes(patched(b'<w:gridSpan w:val="', b'<w:gridSpan w:val="999999999'))
    (tmp_path / "nan.docx").write_bytes(patched(b'<w:gridSpan w:val="', b'<w:gridSpan w:val="x'))
    from worddoc import _table
    inner = _table([["一级指标", "二级指标"], ["产出指标", "数量指标"]], 2)
    nested = _table([["项目编码", "X1", "项目名称", "甲"]], 4).replace("<w:tc><w:tcPr></w:tcPr>",
                                                                        "<w:tc><w:tcPr></w:tcPr>" + inner * 50, 1)
    (tmp_path / "nested.docx").write_bytes(docx([("xml", nested)]))
    many = [["项目编码", "X1", "项目名称", "甲"], HEADER] + [["产出指标", "数量指标", f"次数{i}", "说明", "≥3次", "计划"]
                                                       for i in range(10_000)]
    (tmp_path / "many.docx").write_bytes(docx(["1.甲绩效目标表", many]))
    rng = random.Random(7)
    for k in range(30):
        data = bytearray(good)
        for _ in range(rng.randint(1, 20)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        (tmp_path / f"damaged{k}.docx").write_bytes(bytes(data))
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    t = time.perf_counter()
    col = collect([tmp_path], roster=roster)
    assert time.perf_counter() - t < 120
    assert {f.path.name for f in col.files if f.path} == set(before)       # every file accounted for
    assert all(f.fate and (f.reason or f.fate.startswith("已采用")) for f in col.files)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


def test_what_word_hides_is_read_as_printed_and_said(tmp_path, seed_tables, roster):
    """An unaccepted tracked change (12.00 deleted, 120.00 inserted) is read as the change says and is an error
    on its cell; a hidden digit (“≥2 次” with a hidden 0) is read as printed, “≥2 次”, and said; a comment is
    kept as the unit's note."""
    unit = next(u for u in seed_tables["units"] if u["code"] == "307001")
    data = docx(seed_document(unit))
    run = '<w:r><w:t xml:space="preserve">{}</w:t></w:r>'

    def change(xml: bytes) -> bytes:
        text = xml.decode()
        budget = run.format("12.00")
        assert budget in text
        text = text.replace(budget, '<w:del w:id="1" w:author="张三"><w:r><w:delText>12.00</w:delText></w:r></w:del>'
                                    '<w:ins w:id="2" w:author="张三">' + run.format("120.00") + "</w:ins>"
                                    '<w:commentReference w:id="7"/>', 1)
        value = run.format("≥2 次")
        assert value in text
        text = text.replace(value, run.format("≥2") + '<w:r><w:rPr><w:vanish/></w:rPr><w:t>0</w:t></w:r>'
                            + run.format(" 次"), 1)
        return text.encode()
    marked = rewrite_zip(data, "word/document.xml", change)
    comments = ('<?xml version="1.0" encoding="UTF-8"?><w:comments xmlns:w="http://schemas.openxmlformats.org/'
                'wordprocessingml/2006/main"><w:comment w:id="7" w:author="张三"><w:p><w:r><w:t>预算数以批复为准</w:t>'
                '</w:r></w:p></w:comment></w:comments>')
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(marked)) as src, zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            dst.writestr(item, src.read(item))
        dst.writestr("word/comments.xml", comments)
    path = tmp_path / "丰宁.docx"
    path.write_bytes(out.getvalue())
    ret = collect([path], roster=roster).returns[0]
    p = ret.projects[0]
    assert p.budget == 120.0
    assert p.indicators[0].value.raw == "≥2 次"
    tracked = [f for f in ret.findings if f.rule == "未接受的修订"]
    assert len(tracked) == 1 and tracked[0].severity == "错误" and "删除“12.00”，插入“120.00”" in tracked[0].message
    assert tracked[0].sheet == "项目1" and tracked[0].cell, tracked[0]
    hidden = [f for f in ret.findings if f.rule == "隐藏内容" and "隐藏文字“0”" in f.message]
    assert len(hidden) == 1 and hidden[0].cell, [(f.rule, f.message) for f in ret.findings]
    assert [n[3] for n in ret.notes] == ["预算数以批复为准"] and ret.notes[0][1] == tracked[0].cell


FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


@pytest.mark.parametrize("between", ["nothing", "title", "title and unit line", "empty row"])
def test_all_projects_in_one_table_read_as_each_project(tmp_path, seed_tables, roster, between):
    """Some units type every project into one long table, with each project's title and unit line (its code in
    full-width digits) as rows of it, or an empty row between: every project keeps exactly its own
    indicators, and the unit is the roster's."""
    for unit in seed_tables["units"]:
        tangshan = "budget" not in unit["projects"][0]
        rows = []
        for seq, p in enumerate(unit["projects"], 1):
            if between.startswith("title"):
                rows.append([f"{seq}.{p['name']}绩效目标表"])
            if between == "title and unit line":
                rows.append([unit["code"].translate(FULL_WIDTH) + unit["name"], "单位：万元"])
            if between == "empty row" and seq > 1:
                rows.append(["", "", "", "", "", ""])
            rows += project_rows(p, tangshan)
        path = tmp_path / f"{unit['code']}-{between}.docx"
        path.write_bytes(docx([unit["name"], "2025年部门预算绩效文本", rows]))
        [ret] = collect([path], roster=roster).returns
        assert ret.unit_code == unit["code"]
        assert_seed_projects(ret, unit)


def test_a_unit_code_in_full_width_digits_is_the_rosters_unit(tmp_path, seed_tables, roster):
    """The unit line “３０６００１秦皇岛…” and a cover naming only “３０７００１”: the roster's units, not 不在名单中."""
    for code in ("306001", "307001"):
        unit = next(u for u in seed_tables["units"] if u["code"] == code)
        blocks = seed_document(dict(unit, code=code.translate(FULL_WIDTH)))
        if code == "307001":   # 唐山's layout has no unit line: the cover names the unit
            blocks[0] = code.translate(FULL_WIDTH)
        path = tmp_path / f"{code}.docx"
        path.write_bytes(docx(blocks))
        [ret] = collect([path], roster=roster).returns
        assert ret.unit_code == code and ret.unit_name == unit["name"]
        assert not [f for f in ret.findings if f.rule in ("锁定单元格被改动", "不在名单中")], ret.findings
