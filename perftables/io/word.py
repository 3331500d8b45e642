"""Returns that are Word documents: the official table pasted into a .docx (or a .doc / .wps, converted by
LibreOffice), or the 部门预算绩效文本 a unit prepared for 预算公开.

Nothing here knows a table's layout. The document's tables are laid onto the form description's own rows
and grid: each Word row is matched to a form row by the row's anchor label, each Word cell to a form cell
by the labels around it (a Word row may merge or split cells differently), the indicator rows to the grid's
columns by the header's labels. The result is a workbook-like Book — one sheet per project, as the
template has them — that the ordinary extractor reads as a stampless return (marked 无标识, matched to the
roster by unit and project codes, reviewed by the same rules).

What Word does to a table is undone on the way: vertically merged cells (一级指标 over several rows) are
repeated, a table split across pages (its header row repeated) or a project's table split in two is
joined, cells merged across columns are aligned by their labels, codes broken over lines are joined,
numbers written with 万元 or thousands separators are read as numbers.
"""
from __future__ import annotations

import io
import re
import subprocess
import tempfile
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree as ET

from ..core.kinds import TARGET_KINDS
from ..core.cells import norm_label
from ..forms.form import Form, span
from ..forms.layout import header_context
from .book import _saved_time, Book, Format, Mark, ReadError
from ..core.value import clean, parse_amount
from ..core.files import find_soffice
from ..core.office import run_soffice
from ..core.errors import describe_exception

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
MAX_DOCUMENT_XML = 64 << 20     # document.xml larger than this (uncompressed) is not a return


@dataclass
class WCell:
    text: str
    start: int            # first grid column
    span: int = 1         # grid columns it covers
    cont: bool = False    # continues the cell above (vertical merge)


@dataclass
class WordDoc:
    blocks: list = field(default_factory=list)   # ("p", text) or ("t", [[WCell, …], …]) in document order
    saved: object = None                         # the application's own saved time (docProps), if any
    marks: list = field(default_factory=list)    # (kind, shown text, detail): tracked changes, hidden text, comments
    comments: dict = field(default_factory=dict)  # comment id → its text (word/comments.xml)

    @property
    def paragraphs(self) -> list[str]:
        return [b for kind, b in self.blocks if kind == "p"]

    @property
    def tables(self) -> list[list[list[WCell]]]:
        return [b for kind, b in self.blocks if kind == "t"]


# --------------------------------------------------------------------------- reading the document


def _hidden_run(r) -> bool:
    """A run formatted as hidden text (w:vanish): on screen with marks shown, never on the printed page."""
    pr = r.find(W + "rPr")
    v = pr.find(W + "vanish") if pr is not None else None
    return v is not None and v.get(W + "val", "true") not in ("false", "0", "off")


def _text_of(el) -> str:
    """A paragraph's (or a cell's) text as the printed page shows it: runs joined, tabs and breaks kept,
    paragraphs on lines; hidden text (w:vanish) and text moved away or deleted by a tracked change left out
    (an insertion not yet accepted is read: it is what the document now says — and a finding says so)."""
    out = []
    for p in el.iter(W + "p") if el.tag != W + "p" else [el]:
        away = {id(r) for mf in p.iter(W + "moveFrom") for r in mf.iter(W + "r")}
        parts = []
        for r in p.iter(W + "r"):
            if id(r) in away or _hidden_run(r):
                continue
            for node in r:
                if node.tag == W + "t" and node.text:
                    parts.append(node.text)
                elif node.tag == W + "tab":
                    parts.append("\t")
                elif node.tag in (W + "br", W + "cr"):
                    parts.append("\n")
        out.append("".join(parts))
    return "\n".join(out)


def _marks(el, shown: str, comments: dict) -> list[tuple[str, str, str]]:
    """What a cell or paragraph holds that its printed text does not show: (kind, shown text, detail) for an
    unaccepted tracked change, hidden text and a comment."""
    out = []
    deleted = "".join(t.text or "" for t in el.iter(W + "delText"))
    inserted = "".join(t.text or "" for ins in el.iter(W + "ins") for t in ins.iter(W + "t"))
    if deleted or inserted:
        out.append((Mark.REVISION, shown, f"删除“{deleted[:40]}”" * bool(deleted) + "，" * bool(deleted and inserted)
                    + f"插入“{inserted[:40]}”" * bool(inserted)))
    hidden = "".join(t.text or "" for r in el.iter(W + "r") if _hidden_run(r) for t in r.iter(W + "t"))
    if hidden:
        out.append((Mark.HIDDEN, shown, hidden[:40]))
    for ref in el.iter(W + "commentReference"):
        out.append((Mark.COMMENT, shown, comments.get(ref.get(W + "id", ""), "")))
    return out


MAX_GRID = 64   # grid columns a table may span: a wider one is not an official table (and is not looped over)


def _count(el, default: int) -> int:
    """A w:val count (gridSpan, gridBefore), within 0–MAX_GRID whatever the file says."""
    try:
        return max(0, min(int(el.get(W + "val", default)), MAX_GRID))
    except (TypeError, ValueError):
        return default


def _table(tbl, doc: WordDoc | None = None) -> list[list[WCell]]:
    rows = []
    for tr in tbl.findall(W + "tr"):
        col = 0
        pr = tr.find(W + "trPr")
        before = pr.find(W + "gridBefore") if pr is not None else None
        if before is not None:
            col = _count(before, 0)
        cells = []
        for tc in tr.findall(W + "tc"):
            tcpr = tc.find(W + "tcPr")
            span, cont = 1, False
            if tcpr is not None:
                gs = tcpr.find(W + "gridSpan")
                if gs is not None:
                    span = max(1, _count(gs, 1))
                vm = tcpr.find(W + "vMerge")
                cont = vm is not None and vm.get(W + "val", "continue") == "continue"
            text = clean(_text_of(tc))
            cells.append(WCell(text, min(col, MAX_GRID * 4), span, cont))
            if doc is not None:
                doc.marks += _marks(tc, text, doc.comments)
            col += span
        rows.append(cells)
    return rows


MAX_NESTING = 20   # frames within frames: Word users nest two or three; thousands are a crafted file


def _blocks(parent, doc: WordDoc, depth: int = 0) -> None:
    if depth > MAX_NESTING:
        raise ReadError(f"Word 文档中的表格一层套一层超过 {MAX_NESTING} 层，疑似恶意构造的文件，未读取", Format.DAMAGED)
    for el in parent:
        if el.tag == W + "p":
            text = clean(_text_of(el))
            if text:
                doc.blocks.append(("p", text))
            doc.marks += _marks(el, text, doc.comments)
        elif el.tag == W + "tbl":
            cells = el.findall(f"{W}tr/{W}tc")
            if len(cells) == 1 and cells[0].find(W + "tbl") is not None:
                _blocks(cells[0], doc, depth + 1)   # a one-cell frame around the real content (a border, a layout table)
            else:
                doc.blocks.append(("t", _table(el, doc)))
        elif el.tag in (W + "sdt", W + "sdtContent", W + "customXml", W + "smartTag"):
            _blocks(el, doc, depth + 1)   # content controls and the like wrap paragraphs and tables


def _part(zf, name: str):
    """A part of the package as XML (None when absent), within the same bounds as the document."""
    try:
        info = zf.getinfo(name)
    except KeyError:
        return None
    if info.file_size > MAX_DOCUMENT_XML:
        raise ReadError(f"Word 文档的“{name}”过大（{info.file_size >> 20} MB），疑似损坏或恶意构造的文件，未读取", Format.TOO_LARGE)
    xml = zf.read(info)
    if b"<!DOCTYPE" in xml or b"<!ENTITY" in xml:   # Word never writes one: nothing is ever expanded
        raise ReadError("Word 文档含有实体定义（不是 Word 写出的文件），未读取", Format.DAMAGED)
    return ET.fromstring(xml)


def parse_docx(data: bytes) -> WordDoc:
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        info = zf.getinfo("word/document.xml")
    except (zipfile.BadZipFile, KeyError, OSError, NotImplementedError):
        raise ReadError("Word 文档已损坏（找不到正文），无法读取", Format.DAMAGED) from None
    if info.file_size > MAX_DOCUMENT_XML:
        raise ReadError(f"Word 文档正文过大（{info.file_size >> 20} MB），疑似损坏或恶意构造的文件，未读取", Format.TOO_LARGE)
    try:
        root = _part(zf, "word/document.xml")
        notes = _part(zf, "word/comments.xml")
    except (ET.ParseError, zipfile.BadZipFile, zlib.error, EOFError, OSError, RuntimeError, NotImplementedError) as exc:
        raise ReadError(f"Word 文档已损坏，无法读取（{describe_exception(exc)}）", Format.DAMAGED) from None
    body = root.find(W + "body")
    doc = WordDoc(saved=_saved_time(Format.DOCX, zf))   # of several returns of a unit, the newest wins
    if notes is not None:
        doc.comments = {c.get(W + "id", ""): clean(_text_of(c))[:500] for c in notes.iter(W + "comment")}
    if body is not None:
        _blocks(body, doc)
    return doc


def convert_to_docx(data: bytes, suffix: str = ".doc") -> bytes:
    """A .doc / .wps converted by a headless LibreOffice; a ReadError with the reason when it cannot be."""
    soffice = find_soffice()
    if not soffice:
        raise ReadError("这是 Word 97–2003 / WPS 文字文档，需要安装 LibreOffice 才能读取；"
                        "也可请对方另存为 .docx，或改用下发的模板填写", Format.NEEDS_LIBREOFFICE)
    with tempfile.TemporaryDirectory(prefix="perftables-doc-") as tmp:
        work = Path(tmp) / "in"
        work.mkdir()
        src = work / ("document" + suffix)
        src.write_bytes(data)
        try:
            # links, macros and remote content off, no network where the system allows (core.office)
            run_soffice(soffice, Path(tmp), ["--convert-to", "docx", "--outdir", str(work), str(src)])
        except (OSError, subprocess.SubprocessError):
            raise ReadError("LibreOffice 无法转换该 Word 文档（转换程序出错或超时）", Format.DAMAGED) from None
        out = work / "document.docx"
        if not out.is_file():
            raise ReadError("LibreOffice 无法转换该 Word 文档（文件可能已损坏）", Format.DAMAGED)
        return out.read_bytes()


# --------------------------------------------------------------------------- laying it onto a form

_NUMBERING = re.compile(r"^(?:[（(]?[一二三四五六七八九十\d]+[)）、.．]\s*)+")


def _heading(text: str) -> str:
    """A paragraph as a heading: its numbering (一、 （二） 3.) and a trailing colon taken off."""
    return norm_label(_NUMBERING.sub("", text).rstrip("：:"))


def _label(text) -> str:
    """A label as compared: norm_label, and a colon after it (项目编码：) does not count."""
    return norm_label(text).rstrip(":")


def _first(row: list[WCell]) -> str:
    cell = next((c for c in row if not c.cont and c.text), None)
    return _label(cell.text) if cell else ""


def anchors_of(form: Form) -> list[str]:
    return [_label(r.anchor) for r in form.rows if r.anchor] + [_label(form.grid_anchor)]


def score(firsts: set[str], labels: set[str], form: Form) -> int:
    """How many of the form's anchors a document's tables hold: firsts, the labels its rows begin with;
    labels, every cell's (the grid header counts twice)."""
    found = {a for a in anchors_of(form)[:-1] if a in firsts}
    return len(found) + (_label(form.grid_anchor) in labels) * 2


def _template_regex(template: str) -> re.Pattern:
    parts = re.split(r"\{[a-z_0-9]+\}", template)
    return re.compile("^" + ".*?".join(re.escape(_label(p)) for p in parts) + "$")


class Layout:
    """One form's rows, grid and footer, and how Word rows are put where the template has them."""

    def __init__(self, form: Form, year: int | None = None):
        self.form, self.year = form, year
        self.ncols = form.ncols
        first = next(i for i, r in enumerate(form.rows) if r.anchor)
        self.lead_rows = form.rows[:first]          # title, unit line: above the table, often paragraphs
        self.body_rows = form.rows[first:]
        self.anchors = {_label(r.anchor) for r in form.rows + form.footer if r.anchor}
        self.grid_anchor = _label(form.grid_anchor)
        # cells covered by a label merged down from the row above (预算规模及资金用途 over two rows)
        self.covered: dict[int, set[int]] = {}
        for i, row in enumerate(form.rows):
            for cell in row.cells:
                for k in range(1, cell.rows):
                    self.covered.setdefault(i + k, set()).update(range(cell.col, cell.last_col + 1))

    # ---- rows above the grid
    def place(self, frow, words: list[WCell], covered=frozenset()) -> list:
        """A Word row's cells at the form row's columns: labels pair with labels, the cells between two
        labels fill the form's fields between them, in order. covered: columns a label merged down from
        the row above takes."""
        out = [None] * self.ncols
        fcells = [c for c in sorted(frow.cells, key=lambda c: c.col) if c.col not in covered]
        wcells = [c for c in words if not c.cont]
        if len(wcells) > len(fcells) and covered:   # a continuation row may repeat the merged label
            wcells = wcells[1:] if wcells and not any(_label(wcells[0].text) == _label(f.label)
                                                        for f in fcells if f.label) else wcells
        texts = [c.text for c in wcells]
        # pair label cells with the Word cells of the same text, in order
        pairs, j = [], 0
        for fi, fc in enumerate(fcells):
            if fc.label:
                k = next((k for k in range(j, len(texts)) if _label(texts[k]) == _label(fc.label)), None)
                if k is not None:
                    pairs.append((fi, k))
                    j = k + 1
        bounds = [(-1, -1)] + pairs + [(len(fcells), len(texts))]
        for (f0, w0), (f1, w1) in zip(bounds, bounds[1:]):
            fields = [c for c in fcells[f0 + 1:f1] if not c.label]
            found = texts[w0 + 1:w1]
            if not fields:
                continue
            if len(found) > len(fields):   # more Word cells than fields: the extra text joins the last
                found = found[:len(fields) - 1] + ["\n".join(t for t in found[len(fields) - 1:] if t)]
            for fc, text in zip(fields, found):
                out[fc.col] = self._value(fc, text)
        for fc in fcells:
            if fc.label:
                out[fc.col] = fc.label
        return out

    def _value(self, cell, text: str):
        if cell.field == "project_code":   # a code broken over lines (the field of that role)
            return re.sub(r"\s+", "", text)
        if cell.type == "plan":
            amount = parse_amount(text.rstrip("%％"))
            return amount.value if amount.value is not None and not amount.error else text
        if cell.type == "amount":
            amount = parse_amount(text)
            if amount.value is not None and not amount.error and not text.rstrip().endswith("元") \
                    or text.rstrip().endswith("万元"):
                return amount.value if amount.value is not None else text
            return text
        if cell.type != "longtext":
            return text.replace("\n", "")
        return text

    def lead(self, lines: list[list[str]]) -> list[list]:
        """The rows above the table (title, unit line) from the lines printed before it."""
        out = []
        for frow in self.lead_rows:
            row = [None] * self.ncols
            labels = {_label(c.label) for c in frow.cells if c.label}
            # a template with words of its own ("{seq}.{project_name}绩效目标表") recognises its line; one of
            # names only ("{unit_code}{unit_name}") takes the line its row's labels are on
            templates = [c for c in frow.cells
                         if c.value is not None and _label(re.sub(r"\{[a-z_0-9]+\}", "", c.value))]
            best = None
            for pieces in lines:
                norm = [_label(p) for p in pieces]
                hit = sum(label in norm for label in labels) * 2 + sum(
                    any(_template_regex(c.value).match(n) for n in norm if n not in labels) for c in templates)
                if hit and (best is None or hit > best[0]):
                    best = (hit, pieces)
            if best:
                rest = [p for p in best[1] if _label(p) not in labels]
                for c, text in zip((c for c in frow.cells if not c.label), rest):
                    row[c.col] = text
                for c in frow.cells:
                    if c.label:
                        row[c.col] = c.label
                lines = [line for line in lines if line is not best[1]]
            out.append(row)
        return out

    # ---- the whole project
    def sheet(self, lead_lines: list[list[str]], rows: list[list[WCell]]) -> list[list]:
        out = self.lead(lead_lines)
        form = self.form
        i = 0
        base = len(self.lead_rows)
        for k, frow in enumerate(self.body_rows):
            index = base + k
            if frow.table:
                i = self._table(out, rows, i, form.tables[frow.table], k)
                continue
            if frow.anchor:
                j = next((j for j in range(i, len(rows)) if _first(rows[j]) == _label(frow.anchor)), None)
                if j is None:
                    out.append([None] * self.ncols)   # the extractor names what is missing
                    continue
                i = j
            elif i >= len(rows) or _first(rows[i]) in self.anchors or self._is_grid_header(rows[i]):
                out.append([None] * self.ncols)
                continue
            out.append(self.place(frow, rows[i], self.covered.get(index, set())))
            i += 1
        i = self._grid(out, rows, i)
        for frow in form.footer:
            j = next((j for j in range(i, len(rows)) if frow.anchor and _first(rows[j]) == _label(frow.anchor)),
                     None)
            if j is None:
                out.append([None] * self.ncols)
                continue
            out.append(self.place(frow, rows[j]))
            i = j + 1
        return out

    def _is_grid_header(self, row: list[WCell]) -> bool:
        return any(_label(c.text) == self.grid_anchor for c in row)

    def _labels(self, grid) -> dict[str, tuple]:
        """Every label of the grid's header, at any depth (符号 under 指标值, {y1}年 under 近两年指标值), as
        printed this year → (column, depth)."""
        ctx = header_context(self.year)
        out: dict[str, tuple] = {}

        def walk(col, depth):
            out.setdefault(_label(col.label.format(**ctx)), (col, depth))
            for part in col.parts:
                walk(part, depth + 1)
        for col in grid.columns:
            walk(col, 0)
        return out

    def _columns(self, headers: list[list[WCell]], labels: dict) -> dict[int, object]:
        """Word grid column → the form's grid column: the deepest header label above it."""
        found: dict[int, tuple] = {}
        for row in headers:
            for c in row:
                hit = None if c.cont else labels.get(_label(c.text))
                if hit is None:
                    continue
                for g in range(c.start, c.start + c.span):
                    if g not in found or found[g][1] < hit[1]:
                        found[g] = hit
        out = {}
        for g, (col, _) in found.items():
            if col.parts:   # 指标值 printed in one cell: the whole value where the form reads a whole value
                leaves = col.leaves()
                col = next((p for p in leaves if p.key in ("num", "value")), leaves[-1])
            out[g] = col
        return out

    def _grid_rows(self, out, rows, i, grid, header_index, stop) -> int:
        """The header rows as the form prints them, then every indicator row until `stop` says."""
        ctx = header_context(self.year)
        labels = self._labels(grid)

        def is_header(row):   # nothing but the header's own labels (its lower rows, or it repeated on a page)
            texts = [_label(c.text) for c in row if not c.cont and c.text]
            return bool(texts) and all(t in labels or t == self.grid_anchor or t == _label(grid.anchor)
                                       for t in texts)
        headers = [rows[header_index]]
        j = header_index + 1
        while j < len(rows) and not stop(rows[j]) and is_header(rows[j]):
            headers.append(rows[j])
            j += 1
        cols = self._columns(headers, labels)
        for level in range(grid.header_rows):   # the form's own header: what the extractor checks
            line = [None] * self.ncols

            def put(col, depth):
                if depth == level:
                    line[col.col] = col.label.format(**ctx)
                for part in col.parts:
                    put(part, depth + 1)
            for col in grid.columns:
                put(col, 0)
            if level == 0 and grid.spec.get("side"):   # the label down the grid's left side is its anchor
                line[span(grid.spec["side"])[0]] = grid.anchor
            out.append(line)
        above: dict[int, str] = {}
        i = j
        while i < len(rows) and not stop(rows[i]):
            row = rows[i]
            i += 1
            if is_header(row):
                continue   # the header repeated on the next page
            line = [None] * self.ncols
            for c in row:
                target = cols.get(c.start)
                if target is None:
                    continue
                text = c.text
                if c.cont or (not text and c.start in above and target.key in ("level1", "level2")):
                    text = above.get(c.start, "")   # merged down (an empty 一级 too): the value above, repeated
                above[c.start] = text
                if target.key in ("level1", "level2"):
                    text = text.replace("\n", "")
                line[target.col] = text or None
            if any(v for v in line):
                out.append(line)
        return i

    def _grid(self, out, rows, i) -> int:
        form = self.form
        h = next((j for j in range(i, len(rows)) if self._is_grid_header(rows[j])), None)
        if h is None:
            return i
        footer = {_label(r.anchor) for r in form.footer if r.anchor}
        return self._grid_rows(out, rows, i, form.main_grid, h, lambda row: _first(row) in footer)

    def _table(self, out, rows, i, grid, k) -> int:
        h = next((j for j in range(i, len(rows)) if any(_label(c.text) == _label(grid.anchor)
                                                         for c in rows[j])), None)
        if h is None:
            out.append([None] * self.ncols)
            return i
        following = {_label(r.anchor) for r in self.body_rows[k + 1:] if r.anchor} | {self.grid_anchor}
        i = self._grid_rows(out, rows, i, grid, h, lambda row: _first(row) in following or self._is_grid_header(row))
        # the spare rows the template gives an inline table: the rows below stand where the template has them
        # (the row numbers in the findings are those of the workbook the unit gets back)
        out.extend([None] * self.ncols for _ in range(grid.blank_rows))
        return i


def _lines(block) -> list[list[str]]:
    """What a block before a table prints, as lines cut into pieces (a tab or a run of spaces between)."""
    kind, value = block
    if kind == "p":
        return [[p for p in re.split(r"\t+| {2,}|\u3000{2,}", value) if p.strip()]]
    return [[c.text for c in row if c.text and not c.cont] for row in value]


def unit_texts(doc: WordDoc, form: Form) -> dict[str, str]:
    """The 部门整体绩效目标 texts: the paragraphs under each heading the unit sheet names."""
    spec = form.unit_sheet
    if not spec:
        return {}
    heads = {_label(r["anchor"]): r["field"] for r in spec["rows"]}
    out: dict[str, list[str]] = {}
    current = None
    for kind, value in doc.blocks:
        if kind == "t":
            if current is not None and out.get(current):
                current = None
            continue
        head = _heading(value)
        if head in heads:
            current = heads[head]
            out.setdefault(current, [])
            continue
        if current is not None and (head.startswith("第") and "部分" in head[:5] or head == _label("目录")):
            current = None
            continue
        if current is not None:
            out[current].append(value)
    return {k: "\n".join(v) for k, v in out.items() if v}


_YEAR_HEADING = re.compile(r"(20\d\d)\s*年度?\s*(?:部门|预算|项目|绩效)")
_YEAR_ALONE = re.compile(r"^(20\d\d)\s*年度$")


def document_year(doc: WordDoc) -> int | None:
    """The budget year a document prints: in its headings (2025年部门预算绩效文本, 2025年部门整体绩效目标),
    else a table's own year line (2024年度); None when it prints none."""
    years = [int(y) for p in doc.paragraphs for y in _YEAR_HEADING.findall(p)]
    if not years:
        cells = [c.text for t in doc.tables for row in t[:4] for c in row] + doc.paragraphs
        years = [int(m.group(1)) for text in cells for part in re.split(r"[\t\n]| {2,}", text)
                 if (m := _YEAR_ALONE.match(part.strip()))]
    return max(set(years), key=years.count) if years else None


def word_book(doc: WordDoc, forms: list[Form], fmt: Format = Format.DOCX) -> tuple[Book, Form] | None:
    """The document as the workbook the best-matching form would have been: one sheet a project."""
    firsts = {_first(row) for t in doc.tables for row in t}
    labels = {_label(c.text) for t in doc.tables for row in t for c in row}
    candidates = [(score(firsts, labels, f), f) for f in forms if f.kind in TARGET_KINDS]
    candidates = [(s, f) for s, f in candidates if s >= 3]
    if not candidates:
        return None
    _, form = max(candidates, key=lambda sf: sf[0])
    year = document_year(doc)
    layout = Layout(form, year)
    first = _label(next(r.anchor for r in form.rows if r.anchor))
    book = Book(format=fmt, year=year, saved=doc.saved)
    projects: list[tuple[list, list]] = []   # (lines before it, its Word rows)
    pending: list = []
    for block in doc.blocks:
        if block[0] == "t":
            table = [row for row in block[1] if row]
            starts = [j for j, row in enumerate(table) if _first(row) == first]
            if not starts:
                known = any(_first(row) in layout.anchors or layout._is_grid_header(row) for row in table)
                if projects and (known or pending == []):   # a project's table split in two (or across pages)
                    projects[-1][1].extend(table)
                else:
                    pending.extend(_lines(block))
                continue
            if starts[0] > 0:   # rows above the first 项目编码 row belong to the lines before it
                if projects and not pending:
                    projects[-1][1].extend(table[:starts[0]])
                else:
                    pending.extend(_lines(("t", table[:starts[0]])))
            for a, b in zip(starts, starts[1:] + [len(table)]):
                projects.append((pending, table[a:b]))
                pending = []
        else:
            pending.extend(_lines(block))
    if not projects:
        return None
    name = form.meta.get("sheet_name", "项目{seq}")
    for seq, (lines, rows) in enumerate(projects, 1):
        book.sheets[name.format(seq=seq)] = layout.sheet(lines, rows)
    texts = unit_texts(doc, form)
    if form.unit_sheet and texts:
        sheet = [[form.unit_sheet.get("title", "")], [""]]
        for r in form.unit_sheet["rows"]:
            sheet.append([r["anchor"], texts.get(r["field"], "")])
        book.sheets[form.unit_sheet["name"]] = sheet
    book.text = "\n".join(doc.paragraphs[:40])
    book.marks = doc.marks[:200]
    return book, form


def read_word(data: bytes, kind: Format, forms: list[Form]) -> tuple[Book, Form]:
    """A Word return as a Book laid out by the form it follows; a ReadError when it follows none."""
    fmt = Format.DOCX
    if kind is Format.DOC:
        data, fmt = convert_to_docx(data), Format.DOC
    doc = parse_docx(data)
    made = word_book(doc, forms, fmt)
    if made is None:
        if not doc.tables:
            raise ReadError("这是 Word 文档，其中没有表格，不是绩效目标表", Format.NOT_SPREADSHEET)
        raise ReadError("这是 Word 文档，其中的表格认不出是哪张表（没有表式的标签，如“项目编码”“一级指标”）",
                        Format.NOT_SPREADSHEET)
    return made
