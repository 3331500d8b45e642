"""The big tables of a summary workbook, written in parallel.

xlsxwriter writes one cell at a time in one process (≈ 5–7 µs a cell): a city's 指标明细 alone is
1.4 million cells, a province's 27 million. So a big table's rows are made here instead — in the
worker processes that unpack the returns, as worksheet XML deflated there — while xlsxwriter
still writes everything else of the workbook: header row, column widths and formats, filter,
frozen panes, print set-up, conditional formats, charts, properties. `splice` then puts the rows
into xlsxwriter's file: the deflated pieces are joined as they are (each ends on a byte boundary,
as pigz joins its blocks) and the member's CRC is combined from theirs.

What the rows look like is what xlsxwriter would write: every cell with its reference and the
column's style; numbers as numbers; text as inline strings (as Apache POI's streaming writer
writes every string by default — the form of the exports of countless Java systems), escaped as
xlsxwriter escapes it and cut at Excel's 32,767 characters; empty cells left out. A test writes the
same tables both ways and compares every value and format, and has LibreOffice open both.
"""
from __future__ import annotations

import datetime as dt
import math
import re
import struct
import zipfile
import zlib

from ..core.files import OutputError
from ..forms.form import col_letters

MAX_STRING = 32_767                 # Excel's characters in a cell
_EPOCH = dt.datetime(1899, 12, 31)
LEVEL = 3                           # half zlib's default time (6), a tenth bigger
_ESCAPE = re.compile(r"[&<>\x00-\x08\x0b-\x1f\ufffe\uffff\ud800-\udfff]|_x[0-9A-Fa-f]{4}_")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\ufffe\uffff\ud800-\udfff]")   # \r too: XML would make \r\n a \n
_LITERAL = re.compile(r"_x[0-9A-Fa-f]{4}_")


def _escape(text: str) -> str:
    if len(text) > MAX_STRING:
        text = text[:MAX_STRING]
    if _ESCAPE.search(text) is None:
        return text
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _LITERAL.sub(lambda m: "_x005F" + m.group(0), text)   # a literal _x0041_ stays literal
    return _CONTROL.sub(lambda m: f"_x{ord(m.group(0)):04X}_", text)


def _serial(value: dt.datetime) -> float:
    """Excel's serial date, computed as xlsxwriter computes it, step for step (floats round alike)."""
    delta = value.replace(tzinfo=None) - _EPOCH
    serial = delta.days + (float(delta.seconds) + float(delta.microseconds) / 1e6) / (60 * 60 * 24)
    return serial + 1 if serial > 59 else serial   # Excel's 1900-02-29


_SPACE = " \t\n\r"


LONG_WIDTH = 40        # a long-text column's width in the summary (characters); its rows grow to fit the text
LINE_HEIGHT = 13.5     # points a line of the summary's 10-point 宋体 takes


MAX_ROW_HEIGHT = 408.75   # Excel's highest row, in whole pixels


def text_lines(v: str, width: float) -> int:
    """Lines a text takes wrapped in a column `width` units wide (a CJK character is two units)."""
    n = 0
    for part in v.split("\n"):
        units = len(part) if part.isascii() else len(part) + len(_NOT_WIDE.sub("", part))
        n += max(1, -(-units // (width - 2)))
    return n


_NOT_WIDE = re.compile("[^\u2e80-\U0010ffff]+")   # what is left of a text without them: its wide characters


def row_lines(row, long_cols, widths=None) -> int:
    """Lines the row's longest text takes wrapped at its column's width (LONG_WIDTH unless `widths` says)."""
    lines = 1
    for c in long_cols:
        v = row[c] if c < len(row) else None
        width = widths[c] if widths else LONG_WIDTH
        if type(v) is not str or len(v) * 2 <= width - 2 and "\n" not in v:
            continue
        lines = max(lines, text_lines(v, width))
    return lines


def row_height(row, long_cols, widths=None) -> float | None:
    """The height a summary row needs for its long texts, None when one line is enough; at most Excel's
    highest row. The same in the workers (render) and in the main process."""
    lines = row_lines(row, long_cols, widths)
    return None if lines == 1 else min(MAX_ROW_HEIGHT, LINE_HEIGHT * lines)


def long_width(rows, col: int, base: float = LONG_WIDTH, most: float = 120) -> float:
    """The width a long-text column needs so that no row's text is cut off by Excel's highest row: `base`,
    or wider (up to `most`) for the longest texts, which then print across more pages instead of clipped."""
    too_long = [v for row in rows if col < len(row) and type(v := row[col]) is str
                and len(v) * 2 > base and text_lines(v, base) * LINE_HEIGHT > MAX_ROW_HEIGHT]
    if not too_long:
        return base
    for width in range(int(base) + 10, int(most) + 1, 10):
        if all(text_lines(v, width) * LINE_HEIGHT <= MAX_ROW_HEIGHT for v in too_long):
            return width
    return most


def render(rows, first: int, styles: list[int], long_cols=()) -> str:
    """Rows as <row> elements from sheet row `first` (1-based); styles: each column's xf index; long_cols:
    the columns of long text, whose rows are made as high as the text needs (row_height).
    The hot loop of a big summary: one pass over the cells, each a few string joins."""
    letters = [col_letters(c) for c in range(len(styles))]
    text_at = [f'" s="{s}" t="inlineStr"><is><t>' for s in styles]
    kept_at = [f'" s="{s}" t="inlineStr"><is><t xml:space="preserve">' for s in styles]
    number_at = [f'" s="{s}"><v>' for s in styles]
    search = _ESCAPE.search
    # one scan over all the text first: in most chunks nothing needs escaping, and no cell is asked
    texts = [v for row in rows for v in row if type(v) is str]
    plain = search("|".join(texts)) is None and max(map(len, texts), default=0) <= MAX_STRING
    out = []
    r = first
    for row in rows:
        rs = str(r)
        height = row_height(row, long_cols) if long_cols else None
        cells = [f'<row r="{rs}" ht="{height:g}" customHeight="1">' if height else f'<row r="{rs}">']
        for c, value in enumerate(row):
            kind = type(value)
            if kind is str:
                if not value:
                    continue
                if not plain and (len(value) > MAX_STRING or search(value) is not None):
                    value = _escape(value)
                cells.append(f'<c r="{letters[c]}{rs}{kept_at[c] if value[0] in _SPACE or value[-1] in _SPACE else text_at[c]}'
                             f'{value}</t></is></c>')
            elif kind is float or kind is int:
                if math.isfinite(value):
                    cells.append(f'<c r="{letters[c]}{rs}{number_at[c]}{value:.16G}</v></c>')
                else:
                    cells.append(f'<c r="{letters[c]}{rs}{text_at[c]}{value}</t></is></c>')
            elif value is None:
                continue
            elif kind is bool:
                cells.append(f'<c r="{letters[c]}{rs}{text_at[c]}{"是" if value else "否"}</t></is></c>')
            elif isinstance(value, dt.datetime):
                cells.append(f'<c r="{letters[c]}{rs}{number_at[c]}{_serial(value):.16G}</v></c>')
            else:
                text = _escape(str(value))
                if text:
                    cells.append(f'<c r="{letters[c]}{rs}{kept_at[c]}{text}</t></is></c>')
        cells.append("</row>")
        out.append("".join(cells))
        r += 1
    return "".join(out)


Piece = tuple[bytes, int, int]   # part of a member's deflated data: (bytes, CRC-32 of what they hold, its length)


def deflate(data: bytes, level: int = LEVEL) -> Piece:
    """Raw deflate ending on a byte boundary, so that pieces made apart can be joined."""
    z = zlib.compressobj(level, zlib.DEFLATED, -15)
    return z.compress(data) + z.flush(zlib.Z_SYNC_FLUSH), zlib.crc32(data), len(data)


# --------------------------------------------------------------------------- CRC-32 of joined pieces

def _times(matrix: list[int], vector: int) -> int:
    total, i = 0, 0
    while vector:
        if vector & 1:
            total ^= matrix[i]
        vector >>= 1
        i += 1
    return total


def _square(matrix: list[int]) -> list[int]:
    return [_times(matrix, matrix[n]) for n in range(32)]


_ZEROS: list[list[int]] = []   # _ZEROS[k]: the CRC register after 2**k zero bytes, as a GF(2) matrix


def _zeros(k: int) -> list[int]:
    if not _ZEROS:
        one_bit = [0xEDB88320] + [1 << n for n in range(31)]   # one zero bit
        m = _square(_square(_square(one_bit)))                  # eight bits: one zero byte
        _ZEROS.append(m)
    while len(_ZEROS) <= k:
        _ZEROS.append(_square(_ZEROS[-1]))
    return _ZEROS[k]


def crc32_combine(crc1: int, crc2: int, len2: int) -> int:
    """The CRC-32 of A + B from A's, B's and B's length (zlib's crc32_combine)."""
    k = 0
    while len2:
        if len2 & 1:
            crc1 = _times(_zeros(k), crc1)
        len2 >>= 1
        k += 1
    return crc1 ^ crc2


# --------------------------------------------------------------------------- putting them in

class Splice:
    """Rows to put into one worksheet of xlsxwriter's file, after its header row: the deflated pieces,
    in order, kept in a temporary file (a province's are hundreds of MB), their CRCs and lengths here."""

    def __init__(self, last_row: int, last_col: int, folder=None):
        self.last_row, self.last_col = last_row, last_col   # 1-based, for the sheet's <dimension>
        self.folder = folder
        self.spool = None
        self.pieces: list[tuple[int, int]] = []   # (CRC, length) of each piece's data

    def add(self, piece: Piece) -> None:
        if self.spool is None:
            import tempfile
            self.spool = tempfile.TemporaryFile(dir=self.folder)
        data, crc, n = piece
        self.spool.write(data)
        self.pieces.append((crc, n))


_DIMENSION = re.compile(rb'<dimension ref="[^"]*"/>')


def _sheet_member(xml: bytes, splice: Splice, spool) -> tuple[int, int, int]:
    """Writes the member's deflated data to spool; returns (CRC, compressed size, size)."""
    start = xml.index(b"<sheetData>")
    header_end = xml.index(b"</row>", start) + len(b"</row>")
    head = _DIMENSION.sub(f'<dimension ref="A1:{col_letters(splice.last_col - 1)}{splice.last_row}"/>'.encode(),
                          xml[:header_end], count=1)
    tail = xml[header_end:]
    data, crc, size = deflate(head)
    spool.write(data)
    written = len(data)
    for piece_crc, n in splice.pieces:
        crc, size = crc32_combine(crc, piece_crc, n), size + n
    if splice.spool is not None:
        splice.spool.seek(0)
        import shutil
        shutil.copyfileobj(splice.spool, spool, 1 << 20)
        written += splice.spool.tell()
        splice.spool.close()
    z = zlib.compressobj(LEVEL, zlib.DEFLATED, -15)
    end = z.compress(tail) + z.flush(zlib.Z_FINISH)
    spool.write(end)
    return crc32_combine(crc, zlib.crc32(tail), len(tail)), written + len(end), size + len(tail)


_LIMIT = 0xFFFFFFFF
_TOO_BIG = "汇总工作簿超过 4 GB，超出 xlsx 文件的大小上限；请分地区收集，或只用 --export 导出的数据"


def splice(skeleton, out, splices: dict[str, Splice]) -> None:
    """Write `out`: the members of the xlsx `skeleton`, with the rows of `splices` (member name → rows)
    put into those worksheets. Every member deflated; no ZIP64 (a workbook Excel could open is far
    below its limits, and a bigger one is refused with a message rather than written wrong)."""
    central = []
    with zipfile.ZipFile(skeleton) as zf, open(out, "wb") as fh:
        for info in zf.infolist():
            name = info.filename.encode("utf-8")
            offset = fh.tell()
            if info.filename in splices:
                # the data first (to a place after the header, which needs the sizes), then the header
                header_len = 30 + len(name)
                fh.write(b"\0" * header_len)
                crc, csize, usize = _sheet_member(zf.read(info), splices[info.filename], fh)
                end = fh.tell()
                fh.seek(offset)
            else:
                data = zf.read(info)
                z = zlib.compressobj(LEVEL, zlib.DEFLATED, -15)
                body = z.compress(data) + z.flush(zlib.Z_FINISH)
                crc, csize, usize, end = zlib.crc32(data), len(body), len(data), None
            if max(csize, usize, offset) >= _LIMIT:
                raise OutputError(_TOO_BIG)
            dostime = (info.date_time[3] << 11) | (info.date_time[4] << 5) | (info.date_time[5] // 2)
            dosdate = ((info.date_time[0] - 1980) << 9) | (info.date_time[1] << 5) | info.date_time[2]
            flags = 0x800 if not name.isascii() else 0
            fh.write(struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 20, flags, 8, dostime, dosdate, crc, csize, usize,
                                 len(name), 0) + name)
            if end is None:
                fh.write(body)
            else:
                fh.seek(end)
            central.append(struct.pack("<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", 20, 20, flags, 8, dostime, dosdate, crc,
                                       csize, usize, len(name), 0, 0, 0, 0, 0, offset) + name)
        start = fh.tell()
        for entry in central:
            fh.write(entry)
        size = fh.tell() - start
        if start + size >= _LIMIT or len(central) >= 0xFFFF:
            raise OutputError(_TOO_BIG)
        fh.write(struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, len(central), len(central), size, start, 0))
