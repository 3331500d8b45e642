"""Which cells of an .xls / WPS .et workbook hold a formula.

python-calamine reads an .xls's values (a formula cell gives its cached result) but does not say
which cells are formulas. This reads just enough of the file to tell: the compound-file container
through olefile (its directory and the Workbook stream), then the BIFF8 records of the Workbook stream — BOUNDSHEET for
each sheet's name and where its records start, FORMULA for each formula cell. Everything is bounded
by the data's length; a damaged file gives what could be found, never an exception.
"""
from __future__ import annotations

import io
import struct

import olefile

MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
OLE_ERRORS = (OSError, ValueError, IndexError, struct.error, RecursionError, MemoryError, OverflowError,
              TypeError, AttributeError, KeyError, UnicodeDecodeError)   # what olefile raises on a damaged file


def _ole(data: bytes):
    """The compound file (olefile, strict about defects), or None when it is not one or cannot be read."""
    if len(data) < 512 or data[:8] != MAGIC:
        return None
    try:
        return olefile.OleFileIO(io.BytesIO(data), raise_defects=olefile.DEFECT_INCORRECT)
    except OLE_ERRORS:
        return None


def _directory(data: bytes) -> list[tuple[str, int, int]]:
    """(name, type, declared size) of every directory entry; empty when the directory cannot be read."""
    ole = _ole(data)
    if ole is None:
        return []
    try:
        return [(e.name, e.entry_type, e.size) for e in ole.direntries if e is not None]
    finally:
        ole.close()


def cfb_streams(data: bytes) -> set[str]:
    """The names in a compound file's directory (Workbook: xls, et; WordDocument: doc, WPS 文字's wps); empty
    when the directory cannot be read."""
    return {name for name, *_ in _directory(data)}


def _stream(data: bytes, name: str) -> bytes | None:
    """The bytes of a stream of the compound file (Workbook, Book), or None."""
    ole = _ole(data)
    if ole is None:
        return None
    try:
        if not ole.exists(name) or ole.get_type(name) != olefile.STGTY_STREAM:
            return None
        with ole.openstream(name) as fh:
            return fh.read(len(data))   # never more than the file holds, whatever the directory declares
    except OLE_ERRORS:
        return None
    finally:
        ole.close()


def cfb_problem(data: bytes) -> str | None:
    """What in the container's header or directory declares more than the file holds (a reader that
    trusts those sizes would try to allocate it), or None when the sizes are sane."""
    if len(data) < 512 or data[:8] != b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        return "不是 xls 文件结构"
    shift, mini_shift = struct.unpack_from("<HH", data, 0x1E)
    if shift not in (9, 12) or mini_shift != 6:
        return "文件头中的扇区大小不对"
    size = 1 << shift
    n_fat, _first_dir = struct.unpack_from("<II", data, 0x2C)
    _cutoff, _first_mini, n_mini, _first_difat, n_difat = struct.unpack_from("<5I", data, 0x38)
    limit = len(data) // size + 1
    if n_fat > limit or n_mini > limit or n_difat > limit:
        return "文件头中的表大小超出文件本身"
    entries = _directory(data)
    if not entries:
        return "目录无法读取"
    for ename, etype, length in entries:
        if etype in (1, 2, 5) and length > len(data) + size:
            return f"目录项“{ename[:20]}”声明的大小超出文件本身"
    return None


def xls_formulas(data: bytes, extent: dict | None = None, extra: dict | None = None) -> dict[str, dict[tuple[int, int], str]]:
    """sheet name → {(row, col): ""} for every FORMULA record (the formula's text is not decoded).
    extent: filled with each sheet's used range (rows, cols) from its cell records. extra: filled with
    what else the clerk left — "hidden_rows" / "hidden_cols" (sheet → 0-based indices, from ROW and
    COLINFO records), "notes" ([(sheet, row, col, author, text)] from NOTE, OBJ, TXO and CONTINUE)."""
    stream = _stream(data, "Workbook") or _stream(data, "Book")
    if not stream:
        return {}
    try:
        return _scan(stream, extent, extra)
    except (struct.error, ValueError, IndexError):
        return {}


def _text(body: bytes, pos: int, cch: int) -> tuple[str, int]:
    """A BIFF8 string of cch characters at pos: a flags byte (bit 0: two bytes a character), then the
    characters. Returns the text and the position after it."""
    high = body[pos] & 1
    pos += 1
    width = 2 if high else 1
    raw = body[pos:pos + cch * width]
    return (raw.decode("utf-16-le", "replace") if high else raw.decode("latin-1")), pos + cch * width


def _declared(body: bytes) -> tuple[int, int]:
    """The (rows, cols) a DIMENSIONS record makes python-calamine reserve, computed as it does
    (u32 arithmetic that wraps when the first row or column lies after the last)."""
    if len(body) == 14:
        rf, rl, cf, cl = struct.unpack_from("<IIHH", body, 0)
    else:
        rf, rl, cf, cl = struct.unpack_from("<HHHH", body, 0)
    if cf > 0xFF or cl < cf:
        cf = 0
    end_row, end_col = (rl - 1, cl - 1) if rl >= 1 and cl >= 1 else (rf, cf)
    return (end_row - rf + 1) % (1 << 32), (end_col - cf + 1) % (1 << 32)


CELL_RECORDS = {0x0006, 0x00FD, 0x0203, 0x027E, 0x0201, 0x0205, 0x0204, 0x00D6}   # row, col first
MULTI_RECORDS = {0x00BD, 0x00BE}                                                 # row, first col … last col


def _scan(stream: bytes, extent: dict | None = None, extra: dict | None = None) -> dict[str, dict[tuple[int, int], str]]:
    sheets: list[tuple[int, str]] = []
    pos, n = 0, len(stream)
    # the workbook globals: BOUNDSHEET records name each sheet and where its records start
    while pos + 4 <= n:
        rtype, rlen = struct.unpack_from("<HH", stream, pos)
        body = stream[pos + 4:pos + 4 + rlen]
        if rtype == 0x0085 and rlen >= 8:
            offset, _vis, _kind, cch, flags = struct.unpack_from("<IBBBB", body, 0)
            raw = body[8:]
            name = raw[:cch * 2].decode("utf-16-le", "replace") if flags & 1 else raw[:cch].decode("latin-1")
            sheets.append((offset, name))
        elif rtype == 0x000A:   # EOF of the globals
            break
        pos += 4 + rlen
    out: dict[str, dict[tuple[int, int], str]] = {}
    for offset, name in sheets:
        pos, found = offset, {}
        rows = cols = 0
        notes = _SheetExtra(name, extra) if extra is not None else None
        while pos + 4 <= n:
            rtype, rlen = struct.unpack_from("<HH", stream, pos)
            if notes is not None and rtype in _SheetExtra.RECORDS:
                notes.record(rtype, stream[pos + 4:pos + 4 + rlen])
            if rlen >= 4 and (rtype in CELL_RECORDS or rtype in MULTI_RECORDS):
                row, col = struct.unpack_from("<HH", stream, pos + 4)
                if rtype in MULTI_RECORDS and rlen >= 6:
                    col = max(col, struct.unpack_from("<H", stream, pos + 4 + rlen - 2)[0])
                rows, cols = max(rows, row + 1), max(cols, col + 1)
                if rtype == 0x0006:
                    found[(row, col)] = ""
            elif rtype == 0x0200 and rlen in (10, 14):   # DIMENSIONS: what a reader reserves room for
                declared = _declared(stream[pos + 4:pos + 4 + rlen])
                rows, cols = max(rows, declared[0]), max(cols, declared[1])
            elif rtype == 0x000A:
                break
            pos += 4 + rlen
        if extent is not None:
            extent[name] = (rows, cols)
        if found:
            out[name] = found
    return out


class _SheetExtra:
    """What a clerk leaves in an .xls sheet besides values: hidden rows (ROW, fDyZero), hidden columns
    (COLINFO, fHidden), notes (NOTE names the cell and the text box object; the box's text is in the
    CONTINUE records after its TXO, which follows the OBJ of that id)."""
    RECORDS = {0x0208, 0x007D, 0x005D, 0x01B6, 0x003C, 0x001C}

    def __init__(self, sheet: str, extra: dict):
        self.sheet, self.extra = sheet, extra
        self.obj = None          # the id of the last note object (OBJ with ot = 0x19)
        self.want = 0            # characters of the text box still to come (TXO's cchText)
        self.text = ""
        self.texts: dict[int, str] = {}

    def record(self, rtype: int, body: bytes) -> None:
        try:
            self._record(rtype, body)
        except (struct.error, IndexError, ValueError):   # a damaged record: what it says is not taken
            self.want = 0

    def _record(self, rtype: int, body: bytes) -> None:
        if rtype == 0x0208 and len(body) >= 14:                      # ROW
            row, = struct.unpack_from("<H", body, 0)
            if struct.unpack_from("<H", body, 12)[0] & 0x20:
                self.extra.setdefault("hidden_rows", {}).setdefault(self.sheet, []).append(row)
        elif rtype == 0x007D and len(body) >= 10:                    # COLINFO
            first, last = struct.unpack_from("<HH", body, 0)
            if struct.unpack_from("<H", body, 8)[0] & 1 and last >= first:
                self.extra.setdefault("hidden_cols", {}).setdefault(self.sheet, []).extend(
                    range(first, min(last, first + 63) + 1))
        elif rtype == 0x005D and len(body) >= 8:                     # OBJ: its first subrecord is ftCmo
            ft, _cb, ot, oid = struct.unpack_from("<HHHH", body, 0)
            self.obj = oid if ft == 0x15 and ot == 0x19 else None
            self.want, self.text = 0, ""
        elif rtype == 0x01B6 and len(body) >= 12 and self.obj is not None:   # TXO of the note's box
            self.want, self.text = struct.unpack_from("<H", body, 10)[0], ""
            if not self.want:
                self.texts[self.obj] = ""
        elif rtype == 0x003C and self.want and body:                 # CONTINUE: the box's characters
            part, _ = _text(body, 0, self.want - len(self.text))
            self.text += part
            if len(self.text) >= self.want or not part:
                self.texts[self.obj] = self.text
                self.want = 0
        elif rtype == 0x001C and len(body) >= 8:                     # NOTE: row, col, flags, object id, author
            row, col, _flags, oid = struct.unpack_from("<HHHH", body, 0)
            author = ""
            if len(body) >= 11:
                cch, = struct.unpack_from("<H", body, 8)
                author = _text(body, 10, cch)[0]
            self.extra.setdefault("notes", []).append((self.sheet, row, col, author.strip(), self.texts.get(oid, "")))

