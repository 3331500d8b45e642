"""publish: the official-layout tables for 预算公开 — per unit .docx, .xlsx and (with LibreOffice) .pdf,
and a county-level summary document.

The printed table is laid out from the same form description the template was made
from: its rows, merged cells and labels; the grid in its official single-column 指标值
form, 一级 merged down its block as the official table prints it.
"""
from __future__ import annotations

import io
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import xlsxwriter

from ..core.errors import PerftablesError
from ..core.kinds import FormKind, SELFEVAL_KINDS, TARGET_KINDS
from ..cycle.collect import Collection
from ..io.extract import ProjectReturn, UnitReturn
from ..core.files import atomic_path, find_soffice, fit_name, safe_file_name, write_bytes
from ..forms.form import Form, record_key, span
from ..forms.layout import context
from ..model.roster import money_header
from ..core.office import run_soffice
from ..core.text import xml_safe
from ..core.value import DEFAULT_MONEY, convert_money, format_number
from .schema import ColumnKind, Heading
from .summary import build_tables, summary_money, Table, write_xlsx
from ..review.dept import shares

CN_NUMBERS = "一二三四五六七八九十"


@dataclass
class PrintCell:
    col: int
    last_col: int
    text: str
    rows: int = 1
    label: bool = False


@dataclass
class PrintedTable:
    title: str
    lines: list[tuple[str, str]]         # paragraphs above the table: (left, right)
    rows: list[list[PrintCell]]
    header_rows: tuple[int, int]         # the grid header, repeated on every page


def _number_text(value, fmt: str | None) -> str:
    """A number as the table prints it, after an Excel number format like 0.00 or 0.00"%"."""
    if value is None:
        return ""
    if fmt and fmt.startswith("0"):
        head, _, tail = fmt.partition('"')
        decimals = len(head.split(".")[1]) if "." in head else 0
        return f"{value:.{decimals}f}" + tail.rstrip('"')
    return format_number(value)


def _amount_text(value) -> str:
    if value is None:
        return ""
    return "0" if value == 0 else f"{value:.2f}"


def _field_text(cell, pr: ProjectReturn) -> str:
    key = record_key(cell.field)
    if cell.type == "plan":
        return _number_text(pr.values.get(cell.field), cell.fmt)
    if cell.type == "amount":
        return _amount_text(getattr(pr, key, None) if hasattr(pr, key) else pr.values.get(cell.field))
    value = getattr(pr, key, None) if hasattr(pr, key) else pr.values.get(cell.field)
    return "" if value is None else str(value)


def print_columns(grid) -> list:
    """The grid's printed columns: a joined value (符号|数值|单位) as one column, other parts each their own."""
    out = []
    for c in grid.columns:
        if c.parts and not c.joined:
            out += [leaf for p in c.parts for leaf in ([p] if p.parts and p.joined else p.leaves())]
        else:
            out.append(c)
    return out


def _header_rows(grid, ctx: dict) -> list[list[PrintCell]]:
    """The grid header as printed: one row per level of nested (not joined) parts."""
    depth = max((c.depth() if c.parts and not c.joined else 1 for c in grid.columns), default=1)
    rows: list[list[PrintCell]] = [[] for _ in range(depth)]

    def place(col, level):
        nested = col.parts and not col.joined
        rows[level].append(PrintCell(col.col, col.last_col, col.label.format(**ctx), 1 if nested else depth - level,
                                     label=True))
        if nested:
            for part in col.parts:
                place(part, level + 1)

    for col in grid.columns:
        place(col, 0)
    return rows


def _values(item) -> dict:
    """One grid row's printed texts by column key (an Indicator, or a table row read as a dict)."""
    if isinstance(item, dict):
        return {k: (format_number(v) if isinstance(v, float) else "" if v is None else str(v)) for k, v in item.items()}
    return {"level1": item.level1, "level2": item.level2, "name": item.name, "description": item.description,
            "value": item.value.render(), "basis": item.basis, "target": item.value.render(),
            **{k: format_number(v) if isinstance(v, float) else str(v or "") for k, v in item.extra.items()}}


def grid_rows(form: Form, pr: ProjectReturn, grid=None, items=None) -> list[list[str]]:
    """The grid's rows as printed; forms that keep every 二级 print the unused ones with full-width spaces."""
    grid = grid or form.main_grid
    keys = [c.key for c in print_columns(grid)]
    items = pr.indicators if items is None else items
    rows = [[_values(item).get(k, "") for k in keys] for item in items]
    if form.meta.get("seed_all_level2") and grid.key == "indicators":
        tax, by = form.taxonomy, {}
        for row in rows:
            l1 = tax.find_level1(row[0])
            l2 = tax.find_level2(l1, row[1]) if l1 else None
            by.setdefault((l1.name if l1 else row[0], l2.name if l2 else row[1]), []).append(row)
        full = []
        for l1, l2, _ in tax.seed_rows(True):
            full += by.pop((l1, l2), [[l1, l2] + ["\u3000"] * (len(keys) - 2)])
        rows = full + [r for rest in by.values() for r in rest]
    return rows


def _grid_block(form: Form, grid, body: list[list[str]], ctx: dict) -> list[list[PrintCell]]:
    """A grid's header and rows as printed: 一级 merged down its block, the side label down the whole grid."""
    head = _header_rows(grid, ctx)
    columns = print_columns(grid)
    level1 = next((j for j, c in enumerate(columns) if c.key == "level1"), None)
    depth = len(head)
    rows = list(head)
    for i, values in enumerate(body):
        cells = []
        for j, (c, text) in enumerate(zip(columns, values)):
            if j == level1:   # 一级 printed once per block, merged down
                if i and values[j] == body[i - 1][j]:
                    continue
                down = 1
                while i + down < len(body) and body[i + down][j] == values[j]:
                    down += 1
                cells.append(PrintCell(c.col, c.last_col, text, down))
            else:
                cells.append(PrintCell(c.col, c.last_col, text))
        rows.append(cells)
    if grid.spec.get("side"):
        col = span(grid.spec["side"])[0]
        rows[0].insert(0, PrintCell(col, col, grid.anchor, depth + len(body), label=True))
    return rows


def official_table(form: Form, ret: UnitReturn, pr: ProjectReturn) -> PrintedTable:
    ctx = context(ret.payload, {"name": pr.name, "seq": pr.seq}, pr.seq)
    computed = _computed(form, pr)
    title, lines, rows = "", [], []
    for row in form.rows:
        if row.table:
            grid = form.tables[row.table]
            rows += _grid_block(form, grid, grid_rows(form, pr, grid, pr.tables.get(row.table, [])), ctx)
            continue
        if all(c.style in ("title", "plain", "plain_right", "plain_center") for c in row.cells):
            texts = [c.value.format(**ctx) if c.value else (c.label or "") for c in row.cells]
            if row.cells[0].style == "title":
                title = texts[0]
            else:
                lines.append((texts[0], texts[1] if len(texts) > 1 else ""))
            continue
        printed = []
        for c in row.cells:
            if c.label is not None:
                printed.append(PrintCell(c.col, c.last_col, c.label, c.rows, label=True))
            elif c.value is not None:
                printed.append(PrintCell(c.col, c.last_col, c.value.format(**ctx), c.rows))
            elif c.formula is None:
                printed.append(PrintCell(c.col, c.last_col, _field_text(c, pr), c.rows))
            elif c.field in computed:
                printed.append(PrintCell(c.col, c.last_col, computed[c.field], c.rows))
        rows.append(printed)
    header = len(rows)
    block = _grid_block(form, form.main_grid, grid_rows(form, pr), ctx)
    depth = len(_header_rows(form.main_grid, ctx))
    return PrintedTable(title=title, lines=lines, rows=rows + block, header_rows=(header, header + depth - 1))


def _dept_computed(pr: ProjectReturn) -> dict[str, str]:
    """The department table's 占比 cells, recomputed from its amounts."""
    return {k: ("" if v is None else f"{v:.2%}") for k, v in shares(pr).items()}


# what each kind's printed table shows of its formula cells, recomputed (never the file's cached results)
KIND_COMPUTED = {FormKind.DEPT_TARGET: _dept_computed}


def _computed(form: Form, pr: ProjectReturn) -> dict[str, str]:
    computed = KIND_COMPUTED.get(form.kind)
    return computed(pr) if computed else {}


# --------------------------------------------------------------------------- docx

def _docx():
    try:
        import docx  # noqa: F401
    except ImportError as exc:  # pragma: no cover
        raise RuntimeError("生成 Word 文档需要 python-docx：pip install python-docx") from exc
    return __import__("docx")


def _set_font(run, name="宋体", size=None, bold=None):
    from docx.oxml.ns import qn
    from docx.shared import Pt
    run.font.name = name
    run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), name)
    if size:
        run.font.size = Pt(size)
    if bold is not None:
        run.bold = bold


_RUN_PROPERTIES: dict[tuple, object] = {}


def _add_run(par, text: str, name: str = "宋体", size=None, bold=None) -> None:
    """par.add_run(text) in the font _set_font gives, its properties copied from one made by _set_font
    (python-docx finds each property by an XPath query: the hot spot of a long document)."""
    import copy
    key = (name, size, bold)
    props = _RUN_PROPERTIES.get(key)
    if props is None:
        from docx.oxml import parse_xml
        from docx.oxml.ns import nsdecls
        from docx.text.paragraph import Paragraph
        scratch = Paragraph(parse_xml(f"<w:p {nsdecls('w')}/>"), None)
        run = scratch.add_run("")
        _set_font(run, name, size, bold)
        props = _RUN_PROPERTIES[key] = run._element.rPr
    r = par._p.add_r()
    r.append(copy.deepcopy(props))
    if text:
        r.text = text


def _new_document():
    docx = _docx()
    from docx.shared import Mm
    doc = docx.Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.left_margin = section.right_margin = Mm(20)
    section.top_margin = section.bottom_margin = Mm(20)
    return doc


def _para(doc, text, size=12, bold=False, align=None):
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    p = doc.add_paragraph()
    _set_font(p.add_run(xml_safe(text)), size=size, bold=bold)
    if align:
        p.alignment = {"center": WD_ALIGN_PARAGRAPH.CENTER, "right": WD_ALIGN_PARAGRAPH.RIGHT}[align]
    return p


def fixed_widths(t, widths_mm: list[float]) -> None:
    """Column widths Word, WPS and LibreOffice all keep: the table grid (LibreOffice reads only that), every
    cell's width (Word's), and a fixed layout (no one re-fits the columns to their text)."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Mm
    t.autofit = False
    for j, column in enumerate(t.columns):
        column.width = Mm(widths_mm[j])
    widths = [Mm(w) for w in widths_mm]
    for tr in t._tbl.tr_lst:   # each cell as wide as the last column it spans (a continued one: left as it is)
        j = 0
        for tc in tr.tc_lst:
            span = tc.grid_span
            if tc.vMerge != "continue" and j + span - 1 < len(widths):
                tc.width = widths[j + span - 1]
            j += span
    tbl_pr = t._tbl.tblPr
    layout = tbl_pr.find(qn("w:tblLayout"))
    if layout is None:
        layout = OxmlElement("w:tblLayout")
        tbl_pr.append(layout)
    layout.set(qn("w:type"), "fixed")


_UNBREAKABLE = re.compile(r"[0-9A-Za-z.,%:/_\-+=<>≥≤]+")
PT_MM = 25.4 / 72
CELL_PADDING_MM = 4.0   # Word's default cell margins, 1.9 mm each side, and a little
WIDEN_AT_MOST = 2.2


def _ems(run: str) -> float:
    """The width of a run of Latin letters and digits in ems, as the widest common fallback fonts set it."""
    return sum(0.78 if c.isupper() or c in "%mw≥≤" else 0.35 if c in ".,:;" else 0.64 for c in run)


def fit_unbreakable(widths_mm: list[float], table: PrintedTable, font_pt: float) -> list[float]:
    """Column widths in which no code or number (405002B19DX0002, 2022.12, 832.52) has to break mid-string:
    a column too narrow for the longest such run in its single-column cells is widened, and the width comes
    from the columns with room to spare (Chinese text wraps anywhere; codes should not). Left as they are
    when the runs cannot all fit, or a run would need its column far wider."""
    need = [0.0] * len(widths_mm)
    for row in table.rows:
        for cell in row:
            if cell.col != cell.last_col or cell.col >= len(need):
                continue
            longest = max((_ems(m) for line in cell.text.split("\n") for m in _UNBREAKABLE.findall(line)), default=0)
            need[cell.col] = max(need[cell.col], longest * font_pt * PT_MM + CELL_PADDING_MM)
    # a run that would need the column more than WIDEN_AT_MOST times as wide breaks as before: widening
    # that far would squeeze the columns of text more than the run gains
    need = [n if n <= w * WIDEN_AT_MOST else 0.0 for n, w in zip(need, widths_mm)]
    short = sum(max(n - w, 0) for n, w in zip(need, widths_mm))
    spare = [max(w - max(n, 12.0), 0) for n, w in zip(need, widths_mm)]   # keep every column ≥ 12 mm
    if short <= 0.01 or short > sum(spare):
        return widths_mm
    give = short / sum(spare)
    return [max(n, w) if n > w else w - s * give for n, w, s in zip(need, widths_mm, spare)]


def _merge(grid: list[list], top: int, left: int, bottom: int, right: int) -> None:
    """Merge a new table's cells from (top, left) to (bottom, right) as python-docx's _Cell.merge does — the
    first cell of each row spans the columns (their widths added), the rows below continue the first — but
    straight from the grid of cells: python-docx finds every cell again by walking the rows."""
    if top == bottom and left == right:
        return
    for r in range(top, bottom + 1):
        tc = grid[r][left]._tc
        for c in range(left + 1, right + 1):
            other = grid[r][c]._tc
            if tc.width and other.width:
                tc.width = tc.width + other.width
            other.getparent().remove(other)
        tc.grid_span = right - left + 1
        tc.vMerge = None if top == bottom else "restart" if r == top else "continue"


def _cell_grid(t) -> list[list]:
    """A new table's cells by row and column, made in one pass (no cell merged yet)."""
    from docx.table import _Cell
    return [[_Cell(tc, t) for tc in tr.tc_lst] for tr in t._tbl.tr_lst]


def add_table(doc, table: PrintedTable, ncols: int, widths: list[float]):
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    t = doc.add_table(rows=len(table.rows), cols=ncols)
    t.style = "Table Grid"
    total = sum(widths)
    # in proportion to the form's, over the 170 mm text width, widened where a code would break mid-string
    fixed_widths(t, fit_unbreakable([170 * w / total for w in widths], table, 10.5))
    grid = _cell_grid(t)   # once: Table.cell() walks the whole table on every call
    for r, row in enumerate(table.rows):
        for cell in row:
            target = grid[r][cell.col]
            _merge(grid, r, cell.col, r + cell.rows - 1, cell.last_col)
            lines = cell.text.split("\n")
            par = target.paragraphs[0]
            for k, line in enumerate(lines):
                if k:
                    par = target.add_paragraph()
                if cell.label:
                    par.alignment = 1   # centred, as the official labels are
                _add_run(par, xml_safe(line), size=10.5)
    first, last = table.header_rows
    for r in range(first, last + 1):   # repeat the indicator header on every page
        tr_pr = t.rows[r]._tr.get_or_add_trPr()
        el = OxmlElement("w:tblHeader")
        el.set(qn("w:val"), "true")
        tr_pr.append(el)
    return t


def read_docx_tables(path) -> list[list[list[str]]]:
    """Every table as rows of distinct printed cells (a merged cell once; a vertically continued one as "")."""
    docx = _docx()
    from docx.oxml.ns import qn
    out = []
    for table in docx.Document(str(path)).tables:
        rows = []
        for tr in table._tbl.tr_lst:
            cells = []
            for tc in tr.tc_lst:
                v = tc.tcPr.find(qn("w:vMerge")) if tc.tcPr is not None else None
                cont = v is not None and v.get(qn("w:val"), "continue") == "continue"
                text = "\n".join("".join(t.text or "" for t in p.iter(qn("w:t"))) for p in tc.iter(qn("w:p")))
                cells.append("" if cont else text)
            rows.append(cells)
        out.append(rows)
    return out


def _printed_tables(doc, ret: UnitReturn, title_size: int, centred: bool, gap: bool) -> None:
    """Each project's (or the department's) official table as printed: its title, its lines, the table."""
    form = ret.form
    for pr in ret.projects:
        table = official_table(form, ret, pr)
        _para(doc, table.title, size=title_size, bold=True, align="center" if centred else None)
        for left, right in table.lines:
            _para(doc, f"{left}\t\t{right}" if right else left, size=10.5)
        add_table(doc, table, form.ncols, form.meta["columns"])
        if gap:
            doc.add_paragraph()


def _dept_document(doc, ret: UnitReturn, year) -> None:
    """The department table is the whole document."""
    _para(doc, f"{year}年部门整体绩效目标", size=22, bold=True, align="center")
    doc.add_page_break()
    _printed_tables(doc, ret, 16, centred=True, gap=False)


def _project_document(doc, ret: UnitReturn, year) -> None:
    """部门预算绩效文本: a contents page, the unit's own texts (第一部分), every project's table (第二部分)."""
    form = ret.form
    _para(doc, f"{year}年部门预算绩效文本", size=22, bold=True, align="center")
    doc.add_page_break()
    _para(doc, "目  录", size=16, bold=True, align="center")
    _para(doc, f"第一部分  {year}年部门整体绩效目标")
    _para(doc, "第二部分  预算项目绩效目标")
    for pr in ret.projects:
        _para(doc, f"    {pr.seq}、{pr.name}绩效目标表")
    doc.add_page_break()
    _para(doc, "第一部分", size=16, bold=True, align="center")
    _para(doc, f"{year}年部门整体绩效目标", size=16, bold=True, align="center")
    for i, spec in enumerate(form.unit_sheet.get("rows", [])):
        _para(doc, f"{CN_NUMBERS[i]}、{spec['anchor']}", size=14, bold=True)
        for line in (ret.texts.get(spec["field"]) or "").split("\n"):
            if line.strip():
                _para(doc, line, size=12)
    doc.add_page_break()
    _para(doc, "第二部分", size=16, bold=True, align="center")
    _para(doc, "预算项目绩效目标", size=16, bold=True, align="center")
    _printed_tables(doc, ret, 14, centred=False, gap=True)


# each target kind's published document: what it is called, and how it is laid out after the unit's name
KIND_DOCUMENTS = {FormKind.PROJECT_TARGET: ("部门预算绩效文本", _project_document),
                  FormKind.DEPT_TARGET: ("部门整体绩效目标", _dept_document)}


def unit_document(ret: UnitReturn, path: Path) -> Path:
    doc = _new_document()
    for _ in range(6):
        doc.add_paragraph()
    _para(doc, ret.unit_name, size=22, bold=True, align="center")
    KIND_DOCUMENTS[ret.form.kind][1](doc, ret, ret.stamp.year)
    save_document(doc, path)
    return path


# --------------------------------------------------------------------------- xlsx

def unit_workbook(ret: UnitReturn, path: Path) -> Path:
    form = ret.form
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"strings_to_numbers": False, "strings_to_formulas": False,
                                   "strings_to_urls": False, "in_memory": True})
    base = {"font_name": form.meta.get("font", "宋体"), "font_size": 10, "valign": "vcenter", "text_wrap": True}
    cell_fmt = wb.add_format({**base, "border": 1})
    label_fmt = wb.add_format({**base, "border": 1, "align": "center"})
    title_fmt = wb.add_format({**base, "bold": True, "font_size": 14, "align": "center"})
    plain = wb.add_format(base)
    right = wb.add_format({**base, "align": "right"})
    for pr in ret.projects:
        table = official_table(form, ret, pr)
        ws = wb.add_worksheet(safe_file_name(pr.sheet)[:31])
        for i, width in enumerate(form.meta["columns"]):
            ws.set_column(i, i, width)
        last_col = form.ncols - 1
        ws.merge_range(0, 0, 0, last_col, table.title, title_fmt)
        ws.set_row(0, 28)
        r = 1
        for left, text_right in table.lines:
            ws.merge_range(r, 0, r, last_col - 3, left, plain)
            ws.merge_range(r, last_col - 2, r, last_col, text_right, right)
            r += 1
        top = r
        for row in table.rows:
            longest = max((len(c.text) * 2.1 / max(sum(form.meta["columns"][c.col:c.last_col + 1]), 1)
                           for c in row), default=1)
            ws.set_row(r, max(18, min(400, 14 * (int(longest) + 1) + 4)))
            for c in row:
                fmt = label_fmt if c.label else cell_fmt
                if c.col != c.last_col or c.rows > 1:
                    ws.merge_range(r, c.col, r + c.rows - 1, c.last_col, c.text, fmt)
                else:
                    ws.write_string(r, c.col, c.text, fmt)
            r += 1
        ws.set_paper(9)
        ws.set_portrait()
        ws.fit_to_pages(1, 0)
        ws.center_horizontally()
        ws.repeat_rows(top + table.header_rows[0], top + table.header_rows[1])
        ws.print_area(0, 0, r - 1, last_col)
        ws.hide_gridlines(2)
    wb.close()
    write_bytes(path, buf.getvalue())
    return path


def save_document(doc, path: Path) -> Path:
    with atomic_path(path) as tmp:
        doc.save(str(tmp))
    return path


# --------------------------------------------------------------------------- pdf

class PdfError(PerftablesError):
    """LibreOffice could not convert a document (a Chinese message)."""


PDF_BATCH = 40   # documents one LibreOffice converts at a time (a command line stays short, on Windows too)


def to_pdf(path: Path) -> Path | None:
    """Convert with a headless LibreOffice when it is installed; None otherwise."""
    if not find_soffice():
        return None
    done, failed = to_pdfs([path])
    if failed:
        raise failed[0]
    return done[0]


def to_pdfs(paths: list[Path]) -> tuple[list[Path], list[PdfError]]:
    """Every document converted to PDF beside it, one LibreOffice for up to PDF_BATCH of them (starting it
    is most of the time a document takes): the PDFs written, and a PdfError for each that was not."""
    soffice = find_soffice()
    if not soffice or not paths:
        return [], []
    done, failed = [], []
    for k in range(0, len(paths), PDF_BATCH):
        chunk = paths[k:k + PDF_BATCH]
        with tempfile.TemporaryDirectory(prefix="perftables-lo-") as profile:
            work = Path(profile) / "in"
            work.mkdir()
            sources = []
            for i, path in enumerate(chunk):   # LibreOffice may not take non-ASCII paths
                src = work / f"document{i:03d}{path.suffix}"
                shutil.copyfile(path, src)
                sources.append(src)
            reason = "LibreOffice 没有生成 PDF"
            try:
                run_soffice(soffice, Path(profile), ["--convert-to", "pdf", "--outdir", str(work),
                                                     *map(str, sources)], timeout=120 + 30 * len(chunk))
            except (OSError, subprocess.SubprocessError) as exc:
                reason = f"LibreOffice 转换 PDF 失败（{type(exc).__name__}）"
            for i, path in enumerate(chunk):
                made = work / f"document{i:03d}.pdf"
                if not made.is_file():
                    failed.append(PdfError(f"{reason}：{path.name}"))
                    continue
                out = path.with_suffix(".pdf")
                with atomic_path(out) as tmp:
                    shutil.copyfile(made, tmp)
                done.append(out)
    return done, failed


# --------------------------------------------------------------------------- county summary

def charts_available() -> bool:
    """Whether the Word summary can have its charts (matplotlib, an optional extra)."""
    import importlib.util
    return importlib.util.find_spec("matplotlib") is not None


def chart_png(categories: list[str], values: list[float], title: str, path: Path) -> Path | None:
    """A bar chart as PNG for the Word summary (matplotlib, if installed; CJK font if one is found)."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        from matplotlib import font_manager
        from matplotlib import pyplot as plt
    except ImportError:
        return None
    for name in ("Noto Sans CJK SC", "Noto Serif CJK SC", "SimHei", "Microsoft YaHei", "WenQuanYi Zen Hei", "SimSun"):
        try:
            font_manager.findfont(name, fallback_to_default=False)
            plt.rcParams["font.family"] = name
            break
        except ValueError:
            continue
    fig, ax = plt.subplots(figsize=(7, 3.6), dpi=150)
    ax.barh(categories[::-1], values[::-1], color="#4472C4")
    ax.set_title(title)
    for i, v in enumerate(values[::-1]):
        ax.text(v, i, f" {format_number(round(v, 2))}", va="center", fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


BAR_BLOCKS = 24   # the longest bar of a chart drawn as a table, in full blocks (10.5 pt each: 89 mm)


def bar_table(doc, categories: list[str], values: list[float], title: str) -> None:
    """A bar chart drawn without a plotting library, as Word, WPS and LibreOffice all print it: its title, then
    a row a category — the name, a bar of blocks (to an eighth) as long as its share of the largest value, the
    value."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import RGBColor
    from docx.text.run import Run
    _para(doc, title, size=10.5, bold=True, align="center")
    top = max((v for v in values if v > 0), default=0.0)
    t = doc.add_table(rows=len(categories), cols=3)
    for cat, value, cells in zip(categories, values, _cell_grid(t)):
        _add_run(cells[0].paragraphs[0], xml_safe(cat), size=9)
        eighths = max(round(8 * BAR_BLOCKS * value / top), 1) if top and value > 0 else 0   # a small value shows
        bar = cells[1].paragraphs[0]
        _add_run(bar, "█" * (eighths // 8) + ("", "▏", "▎", "▍", "▌", "▋", "▊", "▉")[eighths % 8], size=10.5)
        Run(bar._p.r_lst[-1], bar).font.color.rgb = RGBColor(0x44, 0x72, 0xC4)
        number = cells[2].paragraphs[0]
        number.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        _add_run(number, format_number(round(value, 2)), size=9)
    fixed_widths(t, [48, 94, 28])


# what a table for 预算公开 never shows: the review, the files, the people
PRIVATE_COLUMNS = {"单位编码", "工作表", "项目编码", "错误数", "警告数", "文件", "保存时间", "状态", "联系人", "联系电话", "邮箱",
                   "SHA-256", "行号", "定量指标占比"}
PUBLIC_TABLES = ("单位自评", "等级分布", "部门资金", "部门指标结构")


def public_tables(col: Collection) -> list:
    """What the county publishes (预算公开): per unit its projects, amounts and indicators; per project its
    budget and goal; the indicators by 一级 and 二级, a 一级 counted once whatever a form calls it (效益指标
    and 唐山's 效果指标 are one). Nothing of the review, the files or the people."""
    return KIND_PUBLIC.get(col.kind, _public_from_summary)(col)


def _target_public_tables(col: Collection) -> list:
    """Targets: 单位汇总, 项目汇总 and 指标结构, made from the returns."""
    returns = sorted(col.returns, key=lambda r: r.unit_code)
    money = summary_money([r.form for r in returns]) if returns else DEFAULT_MONEY
    units = Table("单位汇总", [("单位名称", "text"), ("项目数", "int"), (f"预算数（{money}）", "amount"), ("指标数", "int")],
                  total=True, chart=("bar", 0, 2, f"各单位预算数（{money}）"))
    projects = Table("项目汇总", [("单位名称", "text"), ("项目名称", "text"), (f"预算数（{money}）", "amount"),
                                 ("绩效目标", "long")], total=True)
    counts: dict[tuple, int] = {}
    names: dict[str, list[str]] = {}
    order: dict[tuple, tuple] = {}
    for ret in returns:
        tax = ret.form.taxonomy
        for i, l1 in enumerate(tax.level1):
            if l1.name not in names.setdefault(l1.block, []):
                names[l1.block].append(l1.name)
            for j, l2 in enumerate(l1.level2):
                order.setdefault((l1.block, l2.name), (i, j))
        n = sum(len(p.indicators) for p in ret.projects)
        budgets = [convert_money(p.budget, ret.form.money, money) for p in ret.projects]
        units.rows.append([ret.unit_name, len(ret.projects), round(sum(b or 0 for b in budgets), 2), n])
        for p, budget in zip(ret.projects, budgets):
            projects.rows.append([ret.unit_name, p.name, budget, p.goal])
            for ind in p.indicators:
                l1 = tax.find_level1(ind.level1)
                l2 = tax.find_level2(l1, ind.level2) if l1 is not None and ind.level2 else None
                if l1 is not None and l2 is None and len(l1.level2) == 1:
                    l2 = l1.level2[0]
                key = (l1.block if l1 else ind.level1, l2.name if l2 else ind.level2)
                counts[key] = counts.get(key, 0) + 1
    structure = Table("指标结构", [("一级指标", "text"), ("二级指标", "text"), ("指标数", "int")], total=True)
    for key in sorted(counts, key=lambda k: (order.get(k, (99, 99)), k)):
        block, l2 = key
        structure.rows.append(["／".join(names.get(block, [block])), l2, counts[key]])
    return [units, projects, structure]


def _public_from_summary(col: Collection) -> list:
    """Self-evaluations and department tables: the summary's public tables, less what is not public."""
    out = []
    for t in build_tables(col):
        if t.name not in PUBLIC_TABLES:
            continue
        keep = [i for i, (head, _) in enumerate(t.columns) if head not in PRIVATE_COLUMNS | t.unpublished]
        chart = None
        if t.chart and t.chart[1] in keep and all(v in keep for v in ([t.chart[2]] if isinstance(t.chart[2], int)
                                                                         else t.chart[2])):
            moved = {old: new for new, old in enumerate(keep)}
            values = t.chart[2]
            chart = (t.chart[0], moved[t.chart[1]], moved[values] if isinstance(values, int) else
                     [moved[v] for v in values], t.chart[3])
        out.append(Table(t.name, [t.columns[i] for i in keep], [[r[i] for i in keep] for r in t.rows],
                         total=t.total, chart=chart))
    return out


KIND_PUBLIC = {FormKind.PROJECT_TARGET: _target_public_tables}   # any other kind: _public_from_summary


# the width a column of each kind gets in print, relative (a long text takes what is left)
_PRINT_WEIGHT = {ColumnKind.TEXT: 3, ColumnKind.LONG: 7, ColumnKind.AMOUNT: 2.6, ColumnKind.AMOUNT_PLAIN: 2.6,
                 ColumnKind.INT: 1.4, ColumnKind.PCT: 1.6, ColumnKind.NUMBER: 1.6}


def _cell_text(value, kind: ColumnKind) -> str:
    if value is None:
        return ""
    if kind is ColumnKind.PCT:
        return f"{value:.1%}"
    if kind.is_amount and isinstance(value, (int, float)):
        return f"{value:,.2f}"
    return format_number(value) if isinstance(value, float) else str(value)


def county_document(col: Collection, tables, path: Path, heading: Heading | None = None) -> Path:
    """The county summary for 预算公开 (public_tables): fixed column widths by what each holds, numbers to
    the right, headers repeated on every page, the budget chart under 单位汇总."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Mm
    doc = _new_document()
    heading = heading or Heading()
    _para(doc, f"{heading.title}汇总" if heading.title else
          f"{col.year or ''}年{'绩效自评' if col.kind in SELFEVAL_KINDS else '预算绩效目标'}汇总",
          size=18, bold=True, align="center")
    if heading.issuer or heading.date:
        _para(doc, "　".join(x for x in (heading.issuer, heading.date) if x), size=12, align="center")
    for remark in heading.remarks:
        _para(doc, remark, size=10.5)
    for t in tables:
        _para(doc, t.name, size=14, bold=True)
        money = next((unit for h, kind in t.columns if kind is ColumnKind.AMOUNT and (unit := money_header(h)[1])), None)
        if money:   # the amounts' unit, as their headers say it
            _para(doc, f"单位：{money}", size=10.5, align="right")
        weights = [_PRINT_WEIGHT.get(kind, 2) for _, kind in t.columns]
        rows = [[h for h, _ in t.columns]] + [[_cell_text(v, k) for v, (_, k) in zip(r, t.columns)] for r in t.rows]
        if t.total and t.rows:
            rows.append([_cell_text(v, k) for v, (_, k) in zip(t.total_row(), t.columns)])
        d = doc.add_table(rows=len(rows), cols=len(t.columns))
        d.style = "Table Grid"
        d.autofit = False
        for r, (values, cells) in enumerate(zip(rows, _cell_grid(d))):
            for j, text in enumerate(values):
                par = cells[j].paragraphs[0]
                kind = t.columns[j][1]
                if r == 0:
                    par.alignment = WD_ALIGN_PARAGRAPH.CENTER
                elif kind.quantity:
                    par.alignment = WD_ALIGN_PARAGRAPH.RIGHT
                _add_run(par, xml_safe(text), size=10.5, bold=r == 0 or (t.total and r == len(rows) - 1 and bool(t.rows)))
        fixed_widths(d, [170 * w / sum(weights) for w in weights])
        tr_pr = d.rows[0]._tr.get_or_add_trPr()   # the header on every page
        el = OxmlElement("w:tblHeader")
        el.set(qn("w:val"), "true")
        tr_pr.append(el)
        if t.chart and t.rows:
            _, cat, val, title = t.chart
            val = val if isinstance(val, int) else val[0]
            categories, values = [str(r[cat]) for r in t.rows], [float(r[val] or 0) for r in t.rows]
            png = chart_png(categories, values, title, path.with_name(f"{path.stem}_{t.name}.png"))
            if png:
                doc.add_picture(str(png), width=Mm(160))
                png.unlink()
            else:   # without matplotlib: the same chart drawn with the document's own means
                bar_table(doc, categories, values, title)
    save_document(doc, path)
    return path


class PublishError(PerftablesError):
    """Nothing can be published from what was given (a Chinese message)."""


def publish(col: Collection, outdir, pdf: bool = True, progress=None, notes: list | None = None,
            heading: Heading | None = None) -> list[Path]:
    """Per unit the published document (docx, xlsx, pdf) and the county summary.
    notes: what the caller should tell the user (PDFs skipped and why). heading: the round's title, issuer,
    date (default: the year and the kind of table)."""
    notes = notes if notes is not None else []
    if not col.accepted:
        raise PublishError("没有可公开的表：输入中没有已采用的回执（先用 collect 查看各文件的处理结果）")
    if not col.year:
        raise PublishError("无法确定年度，请用 --year 指定")
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    written = []
    if pdf and not find_soffice():
        notes.append("未生成 PDF：没有找到 LibreOffice（soffice）。安装 LibreOffice 后重新运行即可生成 PDF；"
                     "docx 和 xlsx 已生成，也可在 WPS/Word 中另存为 PDF")
        pdf = False
    if col.kind in TARGET_KINDS:
        documents = []
        for ret in sorted(col.returns, key=lambda r: r.unit_code):
            what = KIND_DOCUMENTS[col.kind][0]
            stem = fit_name(outdir, safe_file_name(f"{ret.unit_code}_{ret.unit_name}_{ret.stamp.year}年{what}") + ".docx")[:-5]
            docx_path = unit_document(ret, outdir / f"{stem}.docx")
            documents.append(docx_path)
            written += [docx_path, unit_workbook(ret, outdir / f"{stem}.xlsx")]
            if progress:
                progress(1)
        if pdf:   # one LibreOffice for many documents
            pdfs, failed = to_pdfs(documents)
            written += pdfs
            notes += [str(exc) for exc in failed]
    tables = public_tables(col)   # what is published; the coordinator's summary (collect) keeps the rest
    heading = heading or Heading()
    stem = safe_file_name(f"{heading.title}汇总" if heading.title else f"{col.year}年汇总")
    written.append(county_document(col, tables, outdir / f"{stem}.docx", heading))
    if any(t.chart and t.rows for t in tables) and not charts_available():
        notes.append("全县汇总（docx）中的图表画成了表格条形图（没有 matplotlib）；要图片式的图表，安装后重新运行："
                     "pip install \"perftables[charts]\"")
    write_xlsx(tables, outdir / f"{stem}.xlsx", title=stem, heading=heading)
    written.append(outdir / f"{stem}.xlsx")
    return written
