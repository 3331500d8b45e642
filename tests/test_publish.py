"""publish: the official tables for 预算公开 — docx read back cell by cell against the seeds; xlsx and PDF rendered."""
import re
import shutil
from pathlib import Path
import subprocess

import pytest

from conftest import EXAMPLES, SEEDS, libreoffice_available
from perftables.cycle.collect import collect
from perftables.outputs.publish import publish, read_docx_tables
from seedtext import project_tables

docx = pytest.importorskip("docx")


@pytest.fixture(scope="module")
def published(tmp_path_factory, roster):
    out = tmp_path_factory.mktemp("pub")
    col = collect([EXAMPLES / "returns"], roster=roster)
    return out, publish(col, out, pdf=libreoffice_available())


def norm(text):
    return re.sub(r"\s+", "", text.replace("\u3000", "　"))


@pytest.mark.slow
@pytest.mark.parametrize("seed,code", [("000", "306001"), ("001", "405002")])
def test_docx_reproduces_the_seed_tables_cell_by_cell(published, seed, code):
    out, _ = published
    [path] = out.glob(f"{code}_*.docx")
    got = read_docx_tables(path)
    want = project_tables(next(SEEDS.glob(f"{seed}_*.txt")).read_text(encoding="utf-8"))
    assert len(got) == len(want) == 4
    for g, w in zip(got, want):
        assert len(g) == len(w)
        for grow, wrow in zip(g, w):
            assert [norm(c) for c in grow] == [norm(c) for c in wrow], (grow, wrow)


def test_docx_structure(published):
    out, _ = published
    [path] = out.glob("306001_*.docx")
    text = "\n".join(p.text for p in docx.Document(str(path)).paragraphs)
    for part in ("2025年部门预算绩效文本", "目  录", "第一部分", "一、总体绩效目标", "二、分项绩效目标",
                 "三、工作保障措施", "第二部分", "1.科学技术普及活动经费绩效目标表",
                 "306001秦皇岛市北戴河区科学技术协会(本级)"):
        assert part in text, part
    d = docx.Document(str(path))
    assert d.tables[0].rows[6]._tr.trPr.xml.count("tblHeader") == 1     # the grid header repeats
    assert abs(d.sections[0].page_width.mm - 210) < 1


def test_county_summary(published):
    out, written = published
    summary = out / "2025年汇总.docx"
    d = docx.Document(str(summary))
    assert "单位汇总" in [p.text for p in d.paragraphs]
    pytest.importorskip("matplotlib")
    assert len(d.inline_shapes) >= 1                 # the PNG chart of budgets by unit
    import openpyxl
    wb = openpyxl.load_workbook(out / "2025年汇总.xlsx")
    assert wb["单位汇总"]._charts


def test_the_county_summary_publishes_only_what_is_public(published):
    """预算公开: units, projects, amounts, goals, indicators — no file, no review, no person; 效益指标 and
    唐山's 效果指标 are one 一级; the tables keep fixed widths in print and numbers stand to the right."""
    from docx.oxml.ns import qn
    out, _ = published
    d = docx.Document(str(out / "2025年汇总.docx"))
    text = "\n".join([p.text for p in d.paragraphs] + [c.text for t in d.tables for r in t.rows for c in r.cells])
    for private in ("returns/", ".xlsx", "错误", "警告", "王敏", "0335-", "@example.cn", "未报送", "306002", "文件"):
        assert private not in text, private
    assert [p.text for p in d.paragraphs if p.text in ("单位汇总", "项目汇总", "指标结构")] == ["单位汇总", "项目汇总", "指标结构"]
    structure = d.tables[2]
    level1 = [r.cells[0].text for r in structure.rows[1:-1]]
    assert "效益指标／效果指标" in level1 and "效果指标" not in level1 and "效益指标" not in level1
    assert structure.rows[-1].cells[2].text == "111"                        # every indicator, once
    units = d.tables[0]
    assert units.rows[-1].cells[2].text == "3,658.88"
    for t in d.tables:
        assert t._tbl.tblPr.find(qn("w:tblLayout")).get(qn("w:type")) == "fixed"
        widths = [int(g.get(qn("w:w"))) for g in t._tbl.tblGrid.findall(qn("w:gridCol"))]
        assert len(set(widths)) > 1                                            # by what each column holds
    assert units.rows[1].cells[2].paragraphs[0].alignment == 2                  # right
    import openpyxl
    wb = openpyxl.load_workbook(out / "2025年汇总.xlsx")
    assert wb.sheetnames == ["单位汇总", "项目汇总", "指标结构"]


@pytest.mark.slow
@pytest.mark.skipif(not libreoffice_available() or not shutil.which("pdftoppm"), reason="LibreOffice/pdftoppm")
def test_pdf_and_xlsx_render_on_a4(published, tmp_path):
    out, _ = published
    [pdf] = out.glob("306001_*.pdf")
    subprocess.run(["pdftoppm", "-r", "50", "-png", str(pdf), str(tmp_path / "p")], check=True, timeout=120)
    pages = sorted(tmp_path.glob("p-*.png"))
    assert len(pages) >= 6                          # cover, contents, part one, four tables
    import struct
    width, height = struct.unpack(">II", pages[0].read_bytes()[16:24])
    assert abs(width / 50 * 25.4 - 210) < 3 and abs(height / 50 * 25.4 - 297) < 3    # A4 portrait
    from perftables.outputs.publish import to_pdf
    [xlsx] = out.glob("306001_*.xlsx")
    xpdf = to_pdf(shutil.copy(xlsx, tmp_path / "t.xlsx") and tmp_path / "t.xlsx")
    subprocess.run(["pdftoppm", "-r", "50", "-png", str(xpdf), str(tmp_path / "x")], check=True, timeout=120)
    xpages = sorted(tmp_path.glob("x-*.png"))
    assert len(xpages) == 4                         # one page per project table, fitted to the width
    width, _ = struct.unpack(">II", xpages[0].read_bytes()[16:24])
    assert abs(width / 50 * 25.4 - 210) < 3


@pytest.mark.skipif(not libreoffice_available() or not shutil.which("pdftotext"), reason="LibreOffice, poppler")
def test_codes_and_numbers_do_not_break_mid_string_in_the_printed_tables(published, tmp_path):
    """The project codes of every published table (405002B19DX0002 …) and its figures print on one line each:
    the narrow column they sit in is widened from the columns whose Chinese text can wrap."""
    out, _ = published
    pdfs = sorted(out.glob("*部门预算绩效文本.pdf"))
    assert len(pdfs) == 4
    seen = set()
    for pdf in pdfs:
        text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                              check=True).stdout
        docx_text = " ".join(c for t in read_docx_tables(pdf.with_suffix(".docx")) for row in t for c in row)
        # codes a column up to 2.2 times as wide holds (15 characters); longer ones (21) may break
        codes = {c for c in re.findall(r"\b\d{6}[A-Z0-9]{6,}\b", docx_text) if len(c) <= 16}
        seen |= codes
        for code in codes:
            assert code in text, (pdf.name, code)
    assert "405002B19DX0002" in seen


@pytest.mark.slow
def test_publish_from_the_summary_workbook_gives_the_same_tables(tmp_path, published):
    from click.testing import CliRunner

    from perftables.cli.main import cli
    out, _ = published
    runner = CliRunner()
    r = runner.invoke(cli, ["collect", str(EXAMPLES / "returns"), "-o", str(tmp_path / "汇总.xlsx"),
                            "--export", str(tmp_path / "csv")], catch_exceptions=False)
    assert r.exit_code == 0
    for source in (tmp_path / "汇总.xlsx", tmp_path / "csv"):
        dest = tmp_path / ("from-" + source.suffix.strip(".") or "csv")
        r = runner.invoke(cli, ["publish", str(source), "-o", str(dest), "--no-pdf"], catch_exceptions=False)
        assert r.exit_code == 0, r.output
        for code in ("306001", "405002", "731002", "307001"):
            [a] = dest.glob(f"{code}_*.docx")
            [b] = out.glob(f"{code}_*.docx")
            assert read_docx_tables(a) == read_docx_tables(b), (source, code)


@pytest.mark.slow
@pytest.mark.skipif(not libreoffice_available() or not shutil.which("pdftoppm"), reason="LibreOffice/pdftoppm")
def test_readme_pictures_are_made_from_the_demo(tmp_path):
    """The script that makes the manual's pictures runs, and the manual shows each picture it makes."""
    import importlib.util
    pytest.importorskip("PIL")
    from PIL import Image
    root = Path(__file__).resolve().parent.parent
    spec = importlib.util.spec_from_file_location("readme_pictures", root / "benchmarks" / "readme_pictures.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    made = script.main(tmp_path / "pics")
    manual = "".join(p.read_text(encoding="utf-8") for p in (root / "docs").rglob("*.md"))
    assert [p.name for p in made] == [name for name, *_ in script.PICTURES]
    for path in made:
        assert f"(img/{path.name})" in manual and (root / "docs" / "img" / path.name).is_file()
        image = Image.open(path)
        assert image.width > 600 and image.height > 250
        assert len(image.convert("L").getcolors(1 << 16) or ()) > 8      # something drawn, not a blank page


def test_tables_are_filled_without_walking_the_whole_table_per_cell(tmp_path, monkeypatch):
    """publish in linear time (issue 33): no python-docx call that rebuilds a table's cell grid (Table.cell,
    Table._cells, a row's cells) is made while the documents are written — each is O(table) per call."""
    from docx import table as dt

    from perftables.cli.demo import dept_roster
    cols = [collect([EXAMPLES / "returns"]), collect([EXAMPLES / "dept" / "returns"], roster=dept_roster())]

    def refused(*_a, **_k):
        raise AssertionError("a call that walks the whole table")
    monkeypatch.setattr(dt.Table, "cell", refused)
    monkeypatch.setattr(dt.Table, "_cells", property(refused))
    monkeypatch.setattr(dt._Row, "cells", property(refused))
    monkeypatch.setattr(dt.Table, "add_row", refused)
    for i, col in enumerate(cols):
        written = publish(col, tmp_path / str(i), pdf=False)
        assert len([p for p in written if p.suffix == ".docx"]) == len(col.accepted) + 1


def test_one_libreoffice_converts_many_documents(tmp_path, monkeypatch):
    """PDFs: one LibreOffice for up to PDF_BATCH documents; a document it did not convert is named."""
    from perftables.outputs import publish as pub
    runs = []

    def fake_soffice(soffice, workdir, args, timeout=300):
        sources = [Path(a) for a in args if a.endswith(".docx")]
        runs.append(len(sources))
        for src in sources:
            if src.stem != "document002":   # the third of each batch is never converted
                src.with_suffix(".pdf").write_bytes(b"%PDF-1.4")
    monkeypatch.setattr(pub, "run_soffice", fake_soffice)
    monkeypatch.setattr(pub, "find_soffice", lambda: "soffice")
    docs = []
    for i in range(pub.PDF_BATCH + 3):
        docs.append(tmp_path / f"{i:03d}_单位.docx")
        docs[-1].write_bytes(b"docx")
    done, failed = pub.to_pdfs(docs)
    assert runs == [pub.PDF_BATCH, 3]
    assert [p.name for p in done] == [d.with_suffix(".pdf").name for i, d in enumerate(docs) if i % pub.PDF_BATCH != 2]
    assert [str(e) for e in failed] == [f"LibreOffice 没有生成 PDF：{docs[i].name}" for i in (2, pub.PDF_BATCH + 2)]
