"""Read any returned spreadsheet into plain rows, deciding its format by content.

python-calamine reads xlsx/xlsm, xls (also WPS .et, which is the same CFB/BIFF
file) and ods. Nothing here trusts the file name, the cached formula results or
the sizes a zip claims; a file that cannot be read raises ReadError with a
Chinese reason, never a crash.
"""
from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
import zlib
from dataclasses import dataclass, field
from enum import StrEnum

from ..core.text import has_hidden, xml_safe
from ..core.errors import PerftablesError, describe_exception
from ..core.cells import col_letters
from .biff import cfb_problem, cfb_streams, xls_formulas

MAX_FILE_BYTES = 64 * 1024 * 1024
MAX_ROWS, MAX_COLS, MAX_CELLS = 1_048_576, 16_384, 4_000_000   # a sheet's used range, as read into memory
MAX_UNZIPPED_BYTES = 256 * 1024 * 1024
MAX_RATIO = 200
CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# a password-to-open OOXML file is a CFB container holding these streams
ENCRYPTED_MARKERS = ("EncryptionInfo".encode("utf-16-le"), "EncryptedPackage".encode("utf-16-le"))


# what reading a member of a damaged zip raises (a bad deflate stream is a zlib.error, a cut one an EOFError)
ZIP_ERRORS = (OSError, zipfile.BadZipFile, zlib.error, EOFError, RuntimeError, NotImplementedError)


class Format(StrEnum):
    """What a file is, told by its content (sniff), or why it could not be read (ReadError.kind): 文件清单's 格式,
    printed as its value."""
    XLSX = "xlsx"
    XLS = "xls"                      # also WPS's .et: the same CFB/BIFF file
    ODS = "ods"
    DOCX = "docx"
    DOC = "doc"                      # also WPS 文字's .wps
    PDF = "pdf"
    ZIP = "zip"
    RAR = "rar"
    SEVEN_Z = "7z"
    BROKEN_ZIP = "broken-zip"
    ENCRYPTED = "encrypted"
    EMPTY = "empty"
    UNKNOWN = "unknown"
    DAMAGED = "damaged"
    BOMB = "bomb"
    TOO_LARGE = "too-large"
    NOT_SPREADSHEET = "not-spreadsheet"
    ARCHIVE = "archive"
    UNREADABLE = "unreadable"
    NEEDS_LIBREOFFICE = "needs-libreoffice"   # a .doc/.wps on a PC without LibreOffice to convert it
    LINK = "link"                    # a shortcut or symbolic link in the inbox: never followed
    SUMMARY = "summary"              # rows taken from an earlier summary (selfeval/publish from a summary)

    @property
    def is_spreadsheet(self) -> bool:
        return self in SPREADSHEETS

    @property
    def is_word(self) -> bool:
        return self in (Format.DOCX, Format.DOC)


SPREADSHEETS = frozenset({Format.XLSX, Format.XLS, Format.ODS})


class ReadError(PerftablesError):
    """The file cannot be read as a workbook; the message says why, in Chinese."""

    def __init__(self, reason: str, kind: Format = Format.UNREADABLE):
        super().__init__(reason)
        self.reason, self.kind = reason, Format(kind)


class Mark(StrEnum):
    """What a Word return holds that its printed text does not show."""
    REVISION = "修订"          # a tracked change not accepted
    HIDDEN = "隐藏文字"        # w:vanish
    COMMENT = "批注"


@dataclass
class Book:
    format: Format
    sheets: dict[str, list[list]] = field(default_factory=dict)
    hidden: set[str] = field(default_factory=set)
    saved: dt.datetime | None = None     # the application's own "last saved" time, when it has one
    # cells holding a formula (xlsx): sheet → {(row, col): formula text}; their cached results are never data
    formulas: dict[str, dict[tuple[int, int], str]] = field(default_factory=dict)
    # what else the file carries (xlsx): links to other workbooks, notes left on cells, hidden rows/columns
    external_links: list[str] = field(default_factory=list)
    comments: list[tuple[str, str, str, str]] = field(default_factory=list)    # (sheet, cell, author, text)
    text: str = ""   # a Word return's text outside its tables (the unit it names)
    year: int | None = None   # the budget year a Word return prints
    hidden_rows: dict[str, list[int]] = field(default_factory=dict)            # sheet → 0-based rows
    hidden_cols: dict[str, list[int]] = field(default_factory=dict)            # sheet → 0-based columns
    # what a Word return holds that its printed text does not show: (kind, shown text, detail) — kind
    # 修订 (a tracked change not accepted), 隐藏文字 (w:vanish), 批注 (a comment)
    marks: list[tuple[Mark, str, str]] = field(default_factory=list)
    # no text cell of any sheet holds an invisible or direction character (read_book looks, in one pass at C
    # speed for the usual text): the hidden-character review has nothing to find (False: it looks itself)
    plain: bool = False


def sniff(data: bytes) -> Format:
    if not data:
        return Format.EMPTY
    if data[:4] == b"PK\x03\x04" or data[:4] == b"PK\x05\x06":
        try:
            names = set(zipfile.ZipFile(io.BytesIO(data)).namelist())
        except Exception:   # BadZipFile, and what zipfile raises on a damaged directory (NotImplementedError…)
            return Format.BROKEN_ZIP
        if "xl/workbook.xml" in names or "xl/workbook.bin" in names:
            return Format.XLSX
        if "mimetype" in names and "content.xml" in names:
            return Format.ODS
        if "word/document.xml" in names:
            return Format.DOCX
        return Format.ZIP
    if data[:8] == CFB_MAGIC:
        head = data[: 1 << 20]
        if any(m in head for m in ENCRYPTED_MARKERS):
            return Format.ENCRYPTED
        if "WordDocument" in cfb_streams(data):   # .doc, and WPS 文字's .wps (the same format underneath)
            return Format.DOC
        return Format.XLS
    if data[:5] == b"%PDF-":
        return Format.PDF
    if data[:6] == b"Rar!\x1a\x07":
        return Format.RAR
    if data[:6] == b"7z\xbc\xaf\x27\x1c":
        return Format.SEVEN_Z
    return Format.UNKNOWN


_SHEET_TAG = re.compile(rb'<(?:\w+:)?sheet\b[^>]*?\bname="([^"]*)"[^>]*?\br:id="([^"]*)"')
_SHEET_TAG2 = re.compile(rb'<(?:\w+:)?sheet\b[^>]*?\br:id="([^"]*)"[^>]*?\bname="([^"]*)"')
_REL_TAG = re.compile(rb'<(?:\w+:)?Relationship\b[^>]*?\bId="([^"]*)"[^>]*?\bTarget="([^"]*)"')
_REL_TAG2 = re.compile(rb'<(?:\w+:)?Relationship\b[^>]*?\bTarget="([^"]*)"[^>]*?\bId="([^"]*)"')
# A formula element and what follows it; found by its literal start (fast), its cell then looked up backwards.
# `<f\b` never matches a data validation's <formula1>.
_FORMULA = re.compile(rb'<(?:\w+:)?f\b([^>]*?)(/?)>([^<]{0,300})')
_FORMULA_PLAIN = re.compile(rb'<f\b([^>]*?)(/?)>([^<]{0,300})')
_CELL_R = re.compile(rb'\sr=["\']([A-Z]{1,3})(\d{1,7})["\']')
# a cell's reference; one far out (two letters, five digits) asks for the full count
_CELL_TAG = re.compile(rb'<(?:\w+:)?c[\s>/]')
_REF = re.compile(rb'r=["\']([A-Z]+)(\d+)')
_FAR_REF = re.compile(rb'r=["\'](?:[A-Z]{2}|[A-Z]+\d{5})')


def _col_number(letters: bytes) -> int:
    """b"A" → 1, b"AB" → 28."""
    n = 0
    for ch in letters:
        n = n * 26 + ch - 64
    return n


def _xml_text(raw: bytes) -> str:
    import html
    return html.unescape(raw.decode("utf-8", "replace"))


_ROW_HIDDEN = re.compile(rb'<(?:\w+:)?row\b[^>]*?\br="(\d{1,7})"[^>]*?\bhidden="(?:1|true)"')
_ROW_HIDDEN2 = re.compile(rb'<(?:\w+:)?row\b[^>]*?\bhidden="(?:1|true)"[^>]*?\br="(\d{1,7})"')
_COL_HIDDEN = re.compile(rb'<(?:\w+:)?col\b[^>]*?\bmin="(\d{1,5})"[^>]*?\bmax="(\d{1,5})"[^>]*?\bhidden="(?:1|true)"')
_COMMENT = re.compile(rb'<(?:\w+:)?comment\b[^>]*?\bref="([A-Z]{1,3}\d{1,7})"[^>]*?\bauthorId="(\d+)"[^>]*>(.*?)</(?:\w+:)?comment>',
                      re.S)
_AUTHOR = re.compile(rb'<(?:\w+:)?author>([^<]*)</(?:\w+:)?author>')
_T = re.compile(rb'<(?:\w+:)?t\b[^>]*>([^<]*)</(?:\w+:)?t>')
_TYPE_TARGET = re.compile(rb'<(?:\w+:)?Relationship\b[^>]*>')


def _rels(zf: zipfile.ZipFile, part: str) -> list[tuple[str, str, str]]:
    """(Id, Type, Target) of a part's relationships (matched as text)."""
    folder, _, name = part.rpartition("/")
    try:
        xml = zf.read(f"{folder}/_rels/{name}.rels")
    except (KeyError, *ZIP_ERRORS):
        return []
    out = []
    for tag in _TYPE_TARGET.findall(xml):
        attrs = dict(re.findall(rb'\b(Id|Type|Target)="([^"]*)"', tag))
        out.append(tuple(_xml_text(attrs.get(k, b"")) for k in (b"Id", b"Type", b"Target")))
    return out


def _resolve(base: str, target: str) -> str:
    if target.startswith("/"):
        return target.lstrip("/")
    parts = base.rsplit("/", 1)[0].split("/") if "/" in base else []
    for piece in target.split("/"):
        if piece == "..":
            parts = parts[:-1]
        elif piece and piece != ".":
            parts.append(piece)
    return "/".join(parts)


def _extent(xml: bytes) -> tuple[int, int]:
    """(rows, columns) a sheet part reaches, by every cell reference in it (as python-calamine will
    place them). Most sheets reach neither column AA nor row 10000: one search says so."""
    if _FAR_REF.search(xml) is None:
        return 9999, 26
    found = _REF.findall(xml)
    if not found:
        return 0, 0
    letters, rows = zip(*found)
    return max(map(int, set(rows))), max(map(_col_number, set(letters)))


def _formula_cells(xml: bytes) -> dict[tuple[int, int], str]:
    """(row, column) → formula text of every cell holding a formula, 0-based."""
    found: dict[tuple[int, int], str] = {}
    pattern = _FORMULA if b":f" in xml else _FORMULA_PLAIN   # a namespace prefix on the elements
    for m in pattern.finditer(xml):
        start = xml.rfind(b"<", 0, m.start())
        while start >= 0 and m.start() - start < 4096 and not _CELL_TAG.match(xml, start):
            start = xml.rfind(b"<", 0, start)   # the enclosing cell's own tag (past <v>, </v> …)
        ref = _CELL_R.search(xml, start, m.start()) if start >= 0 and _CELL_TAG.match(xml, start) else None
        if ref is None:
            continue
        _, empty, text = m.groups()
        found[(int(ref.group(2)) - 1, _col_number(ref.group(1)) - 1)] = "" if empty else _xml_text(text)
    return found


def _xlsx_parts(zf: zipfile.ZipFile | None, book: Book, extent: dict | None = None) -> None:
    """From the xlsx's parts, matched as text (never parsed as XML, so nothing in them is expanded):
    every formula cell, hidden row and column by sheet; notes on cells; links to other workbooks.
    A damaged part gives what could be found."""
    if zf is None:
        return
    try:
        workbook = zf.read("xl/workbook.xml")
    except (KeyError, *ZIP_ERRORS):
        return
    rels = _rels(zf, "xl/workbook.xml")
    targets = {i: t for i, _, t in rels}
    for _, kind, target in rels:
        if kind.endswith("/externalLink"):
            link_part = _resolve("xl/workbook.xml", target)
            outside = [t for _, k, t in _rels(zf, link_part) if k.endswith("/externalLinkPath") or "externalLink" in k]
            book.external_links += outside or [link_part]
    sheets = {n: i for n, i in _SHEET_TAG.findall(workbook)} | {n: i for i, n in _SHEET_TAG2.findall(workbook)}
    for raw_name, rid in sheets.items():
        name = _xml_text(raw_name)
        part = _resolve("xl/workbook.xml", targets.get(rid.decode("utf-8", "replace"), ""))
        try:
            with zf.open(part) as fh:
                xml = fh.read(MAX_UNZIPPED_BYTES)
        except (KeyError, *ZIP_ERRORS):
            continue
        if extent is not None:
            extent[name] = _extent(xml)
        found = _formula_cells(xml)
        if found:
            book.formulas[name] = found
        if b"hidden=" in xml:
            rows = sorted({int(r) - 1 for r in _ROW_HIDDEN.findall(xml) + _ROW_HIDDEN2.findall(xml)})
            cols = sorted({c - 1 for a, b in _COL_HIDDEN.findall(xml) for c in range(int(a), min(int(b), int(a) + 64) + 1)})
            if rows:
                book.hidden_rows[name] = rows
            if cols:
                book.hidden_cols[name] = cols
        for _, kind, target in _rels(zf, part):
            if not kind.endswith("/comments"):
                continue
            try:
                cxml = zf.read(_resolve(part, target))
            except (KeyError, *ZIP_ERRORS):
                continue
            authors = [_xml_text(a) for a in _AUTHOR.findall(cxml)]
            for ref, author_id, body in _COMMENT.findall(cxml):
                text = "".join(_xml_text(t) for t in _T.findall(body)).strip()
                i = int(author_id)
                book.comments.append((name, ref.decode(), authors[i] if i < len(authors) else "", text))


_ODS_TAG = re.compile(rb'<(/?)(?:table:(table-row|table-cell|covered-table-cell|table|table-column)|office:(annotation))'
                      rb'(?=[\s/>])([^>]*?)(/?)>')
_ODS_ATTR = re.compile(rb'table:(name|number-rows-repeated|number-columns-repeated|formula|visibility)="([^"]*)"')
_ODS_ANNOTATION = re.compile(rb'(.*?)</office:annotation>', re.S)
_ODS_CREATOR = re.compile(rb'<dc:creator>(.*?)</dc:creator>', re.S)
_ODS_PARA = re.compile(rb'<text:p\b[^>]*>(.*?)</text:p>|<text:p\b[^>]*/>', re.S)
_ODS_TAGS = re.compile(rb'<[^>]*>')
MAX_REPEAT = 1 << 20
MAX_LISTED = 64   # hidden rows or columns listed one by one, at most, for a run of them


def _count(raw: bytes | None) -> int:
    try:
        return max(1, min(int(raw or b"1"), MAX_REPEAT))
    except ValueError:
        return 1


_ODS_VALUE = re.compile(rb'office:value-type=|table:formula=')


def _ods_parts(zf: zipfile.ZipFile | None, book: Book, extent: dict | None = None) -> None:
    """From an .ods's content.xml, walked as text by its table, column, row and cell tags (never parsed as
    XML): the cells holding a formula, the rows and columns the clerk hid, the notes left on cells.
    Repeated rows and columns are counted as LibreOffice writes them."""
    if zf is None:
        return
    try:
        with zf.open("content.xml") as fh:
            xml = fh.read(MAX_UNZIPPED_BYTES)
    except (KeyError, *ZIP_ERRORS):
        return
    busy = (b"table:formula", b"office:annotation", b"table:visibility")
    if extent is None and not any(k in xml for k in busy):
        return
    sheet, found, row, next_row, col, column = None, {}, 0, 0, 0, 0
    row_repeat, cell = 1, (0, 0)
    for m in _ODS_TAG.finditer(xml):
        close, tag, note, attrs, empty = m.groups()
        if note:
            if not close and sheet is not None and not empty:
                body = _ODS_ANNOTATION.match(xml, m.end())
                if body:
                    inner = body.group(1)
                    who = _ODS_CREATOR.search(inner)
                    text = "\n".join(_xml_text(_ODS_TAGS.sub(b"", p.group(1) or b"")) for p in _ODS_PARA.finditer(inner))
                    book.comments.append((sheet, f"{col_letters(cell[1])}{cell[0] + 1}",
                                          _xml_text(who.group(1)).strip() if who else "", text.strip()))
            continue
        try:
            a = dict(_ODS_ATTR.findall(attrs)) if attrs else {}
        except ValueError:
            a = {}
        hidden = a.get(b"visibility") in (b"collapse", b"filter")
        if tag == b"table":
            if close:
                if sheet is not None and found:
                    book.formulas[sheet] = found
                sheet = None
            else:
                sheet, found, row, next_row, column = _xml_text(a.get(b"name", b"")), {}, 0, 0, 0
        elif tag == b"table-column":
            repeat = _count(a.get(b"number-columns-repeated"))
            if hidden and sheet is not None:
                book.hidden_cols.setdefault(sheet, []).extend(range(column, column + min(repeat, MAX_LISTED)))
            column += repeat
        elif tag == b"table-row":
            if not close:
                row, col = next_row, 0
                row_repeat = _count(a.get(b"number-rows-repeated"))
                if hidden and sheet is not None:
                    book.hidden_rows.setdefault(sheet, []).extend(range(row, row + min(row_repeat, MAX_LISTED)))
                next_row += row_repeat
        elif not close:   # a cell (covered or not)
            repeat = _count(a.get(b"number-columns-repeated"))
            cell = (row, col)
            if extent is not None and sheet is not None and _ODS_VALUE.search(attrs or b""):
                rows, cols = extent.get(sheet, (0, 0))
                extent[sheet] = (max(rows, row + row_repeat), max(cols, col + repeat))
            formula = a.get(b"formula")
            if formula is not None and sheet is not None:
                text = _xml_text(formula)
                text = text.split(":", 1)[1] if text.startswith("of:") else text
                for k in range(min(repeat, 1024)):
                    found[(row, col + k)] = text.lstrip("=")
            col += repeat


def _check_zip(data: bytes):
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except Exception:   # a damaged directory (an unknown zip version, a truncated record…)
        raise ReadError("文件已损坏（压缩结构无法读取），无法打开", Format.DAMAGED) from None
    total = 0
    for info in zf.infolist():
        total += info.file_size
        if info.compress_size and info.file_size / max(info.compress_size, 1) > MAX_RATIO and info.file_size > 1 << 20:
            raise ReadError(f"压缩包成员 {info.filename} 压缩比异常（疑似压缩炸弹），未读取", Format.BOMB)
    if total > MAX_UNZIPPED_BYTES:
        raise ReadError("解压后体积过大（疑似压缩炸弹），未读取", Format.BOMB)
    return zf


_DATE_TAGS = {   # the last-saved time first, the creation time as fallback
    Format.XLSX: ("docProps/core.xml", (rb"<(?:[\w.-]+:)?modified\b[^>]*>([^<]{1,64})<", rb"<(?:[\w.-]+:)?created\b[^>]*>([^<]{1,64})<")),
    Format.DOCX: ("docProps/core.xml", (rb"<(?:[\w.-]+:)?modified\b[^>]*>([^<]{1,64})<", rb"<(?:[\w.-]+:)?created\b[^>]*>([^<]{1,64})<")),
    Format.ODS: ("meta.xml", (rb"<(?:[\w.-]+:)?date\b[^>]*>([^<]{1,64})<", rb"<(?:[\w.-]+:)?creation-date\b[^>]*>([^<]{1,64})<")),
}


def _saved_time(fmt: Format, zf: zipfile.ZipFile) -> dt.datetime | None:
    """The application's own save time from the document properties. Matched as text, never parsed as XML
    (nothing in the part is expanded), and only the first 256 KB of it are read."""
    part, patterns = _DATE_TAGS.get(fmt, (None, ()))
    try:
        if part is None or part not in zf.NameToInfo:
            return None
        with zf.open(part) as fh:
            text = fh.read(1 << 18)
        for pattern in patterns:
            m = re.search(pattern, text)
            if m:
                value = m.group(1).decode("ascii", "replace").strip().replace("Z", "+00:00")
                value = dt.datetime.fromisoformat(value[:26] if "+" not in value else value)
                return value if value.tzinfo is None else value.astimezone().replace(tzinfo=None)
    except Exception:  # a damaged property part must not stop the read
        return None
    return None


def normalise_row(row: list) -> list:
    """Cell values as perftables sees them — None (for empty), str, float, bool or date; inlined, as it
    runs on every cell of every return. Text loses what XML cannot hold (an escape typed as _x001B_), so no
    output ever meets it; a number a file stores as NaN or infinity (no spreadsheet types one) becomes its
    text, which no reader takes for a number (v - v is 0.0 for every finite float)."""
    return [None if v == "" else (v if v.isprintable() else xml_safe(v)) if type(v) is str
            else float(v) if type(v) is int else v if type(v) is not float or v - v == 0.0 else str(v) for v in row]


def read_book(data: bytes, fmt: Format | None = None) -> Book:
    """fmt: what sniff(data) said, when the caller has already asked."""
    if len(data) > MAX_FILE_BYTES:
        raise ReadError(f"文件过大（{len(data) // (1 << 20)} MB），未读取", Format.TOO_LARGE)
    fmt = Format(fmt) if fmt else sniff(data)
    reasons = {
        Format.EMPTY: ("空文件（0 字节）", Format.EMPTY),
        Format.ENCRYPTED: ("文件设置了打开密码（已加密），无法读取；请对方取消密码后重新发送", Format.ENCRYPTED),
        Format.BROKEN_ZIP: ("文件已损坏（不完整的压缩包），无法打开", Format.DAMAGED),
        Format.DOCX: ("这是 Word 文档，不是表格", Format.NOT_SPREADSHEET),
        Format.DOC: ("这是 Word 文档，不是表格", Format.NOT_SPREADSHEET),
        Format.PDF: ("这是 PDF 文件，不是表格", Format.NOT_SPREADSHEET),
        Format.ZIP: ("这是压缩包，不是表格", Format.ARCHIVE),
        Format.RAR: ("RAR 压缩包无法直接读取，请解压后放入收件箱", Format.ARCHIVE),
        Format.SEVEN_Z: ("7Z 压缩包无法直接读取，请解压后放入收件箱", Format.ARCHIVE),
        Format.UNKNOWN: ("不是电子表格文件（内容无法识别）", Format.NOT_SPREADSHEET),
    }
    if fmt in reasons:
        raise ReadError(*reasons[fmt])
    zf = _check_zip(data) if fmt in (Format.XLSX, Format.ODS) else None
    # Before python-calamine sees the file: what it would allocate must be sane. A declared size or a
    # cell far out (A1 and XFD1048576: a dense range of 17 billion cells) makes it abort the whole
    # process — the run, not just this file — so such a file is refused here, with the reason.
    book = Book(format=fmt, saved=_saved_time(fmt, zf) if zf else None)
    extent: dict[str, tuple[int, int]] = {}
    if fmt is Format.XLSX:
        _xlsx_parts(zf, book, extent)
    elif fmt is Format.ODS:
        _ods_parts(zf, book, extent)
    elif fmt is Format.XLS:
        problem = cfb_problem(data)
        if problem:
            raise ReadError(f"文件已损坏（{problem}），无法读取", Format.DAMAGED)
        extra: dict = {}
        book.formulas = xls_formulas(data, extent, extra)
        book.hidden_rows = {k: sorted(set(v)) for k, v in extra.get("hidden_rows", {}).items()}
        book.hidden_cols = {k: sorted(set(v)) for k, v in extra.get("hidden_cols", {}).items()}
        book.comments = [(sheet, f"{col_letters(c)}{r + 1}", who, text) for sheet, r, c, who, text in extra.get("notes", [])]
    for name, (rows, cols) in extent.items():
        if rows > MAX_ROWS or cols > MAX_COLS or rows * cols > MAX_CELLS:
            raise ReadError(f"工作表“{name}”的数据区域过大（{rows:,} 行 × {cols:,} 列），疑似损坏或恶意构造的文件，"
                            "未读取；请对方把数据复制到下发的模板中重新发送", Format.TOO_LARGE)
    from python_calamine import CalamineWorkbook
    try:
        wb = CalamineWorkbook.from_filelike(io.BytesIO(data))
        for meta in wb.sheets_metadata:
            sheet = wb.get_sheet_by_name(meta.name)
            book.sheets[meta.name] = [normalise_row(row) for row in sheet.to_python(skip_empty_area=False)]
            if str(meta.visible).lower().endswith("visible") is False:
                book.hidden.add(meta.name)
        book.plain = not any(has_hidden(v) for rows in book.sheets.values() for row in rows for v in row
                             if type(v) is str and not v.isprintable())
        return book
    except ReadError:
        raise
    except (KeyboardInterrupt, SystemExit, GeneratorExit):
        raise
    except BaseException as exc:  # calamine raises several types for damaged files, and a panic (PanicException
        text = str(exc)           # is a BaseException) on some: a damaged file, never the end of the run
        if "password" in text.lower() or "encrypt" in text.lower():
            raise ReadError("文件设置了密码（已加密），无法读取", Format.ENCRYPTED) from None
        raise ReadError(f"文件已损坏，无法读取（{describe_exception(exc)}）", Format.DAMAGED) from None
