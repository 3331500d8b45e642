"""Big tables made in parallel and spliced into the summary workbook (perftables.io.sheetxml): the workbook
must be the one xlsxwriter writes alone — every value, every format, the sheet settings, the CSV."""
from __future__ import annotations

import datetime as dt
import re
import zlib
from pathlib import Path

import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from python_calamine import CalamineWorkbook

from conftest import libreoffice_available
from perftables.outputs import summary
from perftables.cycle.collect import collect
from perftables.io.sheetxml import Splice, crc32_combine, deflate, render, splice

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@pytest.fixture(scope="module")
def col(roster):
    return collect([EXAMPLES / "returns"], roster=roster, rows=summary.own_rows)   # as run_collect reads them


def values(path) -> dict:
    wb = CalamineWorkbook.from_path(str(path))
    return {n: wb.get_sheet_by_name(n).to_python() for n in wb.sheet_names}


def looks(path) -> dict:
    """Every cell's value and format, and each sheet's settings, as openpyxl sees them."""
    wb = openpyxl.load_workbook(path)
    out = {}
    for ws in wb.worksheets:
        cells = {}
        for row in ws.iter_rows():
            for c in row:
                if c.value is None and not c.has_style:
                    continue
                cells[c.coordinate] = (c.value, c.number_format, c.font.name, c.font.sz, c.font.b,
                                       str(c.font.color.rgb) if c.font.color else None, str(c.fill.fgColor.rgb),
                                       c.alignment.wrap_text, c.alignment.vertical, c.alignment.horizontal,
                                       c.border.top.style)
        out[ws.title] = {"cells": cells, "freeze": ws.freeze_panes, "filter": ws.auto_filter.ref,
                         "dimension": ws.dimensions, "widths": {k: v.width for k, v in ws.column_dimensions.items()},
                         "landscape": ws.page_setup.orientation, "paper": ws.page_setup.paperSize,
                         "fit": (ws.page_setup.fitToWidth, ws.page_setup.fitToHeight),
                         "titles": ws.print_title_rows, "heights": {k: v.height for k, v in ws.row_dimensions.items()
                                                                    if v.height},
                         "conditional": sorted(str(r.sqref) for r in ws.conditional_formatting),
                         "charts": len(ws._charts)}
    return out


def both_ways(col, tmp_path, monkeypatch, **limits):
    """The summary and CSV written by xlsxwriter alone, and with every table made in two workers (and every
    table the main process holds rendered by it, _held_as_parts)."""
    monkeypatch.setattr(summary, "SPLICE_ROWS", 1 << 62)   # plain: every cell through xlsxwriter
    for name, value in limits.items():
        monkeypatch.setattr(summary, name, value)
    plain = summary.build_tables(col)
    summary.write_xlsx(plain, tmp_path / "plain.xlsx")
    summary.write_csv(plain, tmp_path / "plain")
    monkeypatch.setattr(summary, "SPLICE_ROWS", 0)
    (tmp_path / "fast").mkdir()
    fast = summary.build_tables(col, workers=2, render={"export": True, "spool": tmp_path / "fast"})
    assert any(t.parts is not None for t in fast)
    assert any(summary._splices(t) for t in fast)   # 文件清单, 指标结构: rendered by the main process
    summary.write_xlsx(fast, tmp_path / "fast.xlsx")
    summary.write_csv(fast, tmp_path / "fast")
    return plain, fast


@pytest.mark.parametrize("stored", ["all", "some", "none", "other layout"])
def test_the_spliced_workbook_is_the_one_xlsxwriter_writes(col, tmp_path, monkeypatch, stored):
    """stored: which returns bring the rows made while they were read (the others are unpacked again);
    "other layout": rows made for other columns (a collection mixing taxonomies) are not used."""
    import copy
    col = copy.copy(col)
    col.files = [copy.copy(f) for f in col.files]
    for i, f in enumerate(col.accepted):
        assert f.rows is not None
        if stored == "none" or stored == "some" and i % 2:
            f.rows = None
        elif stored == "other layout" and i % 2:
            f.rows = (("另一个指标体系的一级",), *f.rows[0][1:]), f.rows[1]
    plain, fast = both_ways(col, tmp_path, monkeypatch)
    assert [t.name for t in plain] == [t.name for t in fast]
    assert [t.n_rows for t in plain] == [t.n_rows for t in fast]
    assert values(tmp_path / "plain.xlsx") == values(tmp_path / "fast.xlsx")
    a, b = looks(tmp_path / "plain.xlsx"), looks(tmp_path / "fast.xlsx")
    assert a.keys() == b.keys()
    for name in a:
        assert a[name] == b[name], name
    for csv in (tmp_path / "plain").glob("*.csv"):
        assert csv.read_bytes() == (tmp_path / "fast" / csv.name).read_bytes(), csv.name
    # the typed frames of SQLite and Parquet make the rows again from the returns: the same rows
    for t, u in zip(plain, fast):
        assert list(t.iter_rows()) == list(u.iter_rows()), t.name


def test_tables_past_the_row_limit_go_on_in_further_sheets_the_same_way(col, tmp_path, monkeypatch):
    plain, fast = both_ways(col, tmp_path, monkeypatch, MAX_SHEET_ROWS=12)
    got = values(tmp_path / "fast.xlsx")
    assert "指标明细（2）" in got and "说明" in got
    assert got == values(tmp_path / "plain.xlsx")
    assert looks(tmp_path / "plain.xlsx") == looks(tmp_path / "fast.xlsx")
    details = sum(len(rows) - 1 for name, rows in got.items() if name.startswith("指标明细"))
    assert details == sum(r.n_indicators for r in col.accepted)


TRICKY = ["a & b <c> \"d\" 'e'", "_x0041_ stays", "ctl\x01\x1f end", " leading", "trailing ", "line\nbreak\r\n",
          "=1+1", "@SUM(A1)", "x" * 40_000, "中文，全角　空格", "tab\tin", "\ufffe", "emoji 🙂", ""]
NUMBERS = [0.1, 1e20, -0.0, 3, 2 ** 53, 1e-300, 123456.789, dt.datetime(2025, 3, 1, 8, 30)]


def test_every_kind_of_value_is_written_as_xlsxwriter_writes_it(tmp_path):
    """Strings xlsxwriter escapes (& < >, control characters as _xHHHH_, a literal _xHHHH_ kept literal,
    over-long text cut at 32,767), numbers, dates, booleans, blanks: read back identically by
    calamine and openpyxl."""
    tmp_path.mkdir(exist_ok=True)
    rows = [[t, n, True if i % 2 else False, None] for i, (t, n) in enumerate(zip(TRICKY, NUMBERS * 2))]
    columns = [("文字", "long"), ("数", "number"), ("是否", "text"), ("空", "text")]
    plain = summary.Table("表", columns, rows=rows)
    summary.write_xlsx([plain], tmp_path / "plain.xlsx")
    styles = summary._style_indices()
    fast = summary.Table("表", columns)
    fast.parts = [Splice(len(rows) + 1, len(columns))]
    fast.parts[0].add(deflate(render(rows[:5], 2, [styles[k] for _, k in columns], [0]).encode()))   # 文字 is long
    fast.parts[0].add(deflate(render(rows[5:], 7, [styles[k] for _, k in columns], [0]).encode()))
    fast.size, fast.sample = len(rows), rows
    summary.write_xlsx([fast], tmp_path / "fast.xlsx")
    assert values(tmp_path / "plain.xlsx") == values(tmp_path / "fast.xlsx")
    a, b = looks(tmp_path / "plain.xlsx"), looks(tmp_path / "fast.xlsx")
    # openpyxl alone leaves the escape of a literal "_x0041_" in an inline string (Excel, WPS, LibreOffice
    # and calamine undo it, as the standard says); its value is compared by calamine above
    assert b["表"]["cells"]["A3"][0] == "_x005F_x0041_ stays"
    b["表"]["cells"]["A3"] = a["表"]["cells"]["A3"]
    assert a == b


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=3000), st.binary(max_size=70_000))
def test_crc_of_joined_pieces(a, b):
    assert crc32_combine(zlib.crc32(a), zlib.crc32(b), len(b)) == zlib.crc32(a + b)


def test_a_member_over_four_gigabytes_is_refused_not_written_wrong(tmp_path):
    import io

    import xlsxwriter
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf)
    wb.add_worksheet("表").write(0, 0, "头")
    wb.close()
    part = Splice(2, 1)
    part.add((b"", 0, 0xFFFFFFFF))   # as if it held 4 GB
    from perftables.core.files import OutputError
    with pytest.raises(OutputError):
        splice(io.BytesIO(buf.getvalue()), tmp_path / "x.xlsx", {"xl/worksheets/sheet1.xml": part})


@pytest.mark.slow
@pytest.mark.skipif(not libreoffice_available(), reason="LibreOffice not installed")
def test_libreoffice_reads_the_spliced_workbook_as_the_plain_one(col, tmp_path, monkeypatch):
    """Opened and saved again by a real spreadsheet: the two workbooks are one table to it (values, and
    the text escapes), and the spliced one renders to the same pages."""
    import subprocess
    both_ways(col, tmp_path, monkeypatch)
    test_every_kind_of_value_is_written_as_xlsxwriter_writes_it(tmp_path / "tricky")
    out = tmp_path / "lo"
    for src in ("plain.xlsx", "fast.xlsx", "tricky/plain.xlsx", "tricky/fast.xlsx"):
        for fmt in ("ods", "pdf"):
            subprocess.run(["soffice", "--headless", f"-env:UserInstallation=file://{out}/profile", "--convert-to",
                            fmt, "--outdir", str(out / Path(src).parent), str(tmp_path / src)], check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=300)
    for folder in (out, out / "tricky"):
        assert values(folder / "fast.ods") == values(folder / "plain.ods")
        pages = [len(re.findall(rb"/Type\s*/Page\b", (folder / f).read_bytes())) for f in ("plain.pdf", "fast.pdf")]
        assert pages[0] == pages[1] > 0


def test_past_a_county_the_structure_has_a_row_a_unit(col, monkeypatch):
    """A column a unit stops at Excel's 16,384 columns (a province has 20,000 units): past a county's
    size 指标结构 turns to a row a unit, a column a 二级 — every indicator counted once either way."""
    wide = next(t for t in summary.build_tables(col) if t.name == summary.STRUCTURE)
    monkeypatch.setattr(summary, "WIDE_STRUCTURE_UNITS", 1)
    tall = next(t for t in summary.build_tables(col) if t.name == summary.STRUCTURE)
    accepted = sorted(col.accepted, key=lambda r: r.unit_code)
    assert [h for h, _ in wide.columns[2:-1]] == [r.unit_name for r in accepted]
    assert [h for h, _ in tall.columns[:2]] == ["单位编码", "单位名称"] and len(tall.rows) == len(accepted)
    assert [r[-1] for r in tall.rows] == [r.n_indicators for r in accepted]
    assert tall.total_row()[-1] == wide.total_row()[-1] == sum(r.n_indicators for r in accepted)
    pairs = {(r[0], r[1]): r[-1] for r in wide.rows}
    for (head, _), c in zip(tall.columns[2:-1], range(2, len(tall.columns) - 1)):
        l1, l2 = head.split("/")
        assert sum(row[c] for row in tall.rows) == pairs[(l1, l2)]


def test_any_number_of_workers_writes_the_same_workbook(col, tmp_path, monkeypatch):
    """The rows are cut into the same pieces for one process or several: every member of the workbook
    the same, deflated to the same bytes (only the time written into its properties differs)."""
    import zipfile
    monkeypatch.setattr(summary, "SPLICE_ROWS", 0)
    monkeypatch.setattr(summary, "CHUNK_WORK", 30)   # several pieces even for four returns
    members = []
    for workers in (1, 2):
        out = tmp_path / f"w{workers}"
        out.mkdir()
        tables = summary.build_tables(col, workers=workers, render={"export": True, "spool": out})
        assert len(next(t for t in tables if t.name == "指标明细").parts[0].pieces) > 2
        summary.write_xlsx(tables, out / "汇总.xlsx")
        with zipfile.ZipFile(out / "汇总.xlsx") as z:
            members.append({i.filename: (i.CRC, i.compress_size) for i in z.infolist()
                            if i.filename != "docProps/core.xml"})
    assert members[0] == members[1]
