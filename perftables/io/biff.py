"""Which cells of an .xls / WPS .et workbook hold a formula.

python-calamine reads an .xls's values (a formula cell gives its cached result) but does not say
which cells are formulas. This reads just enough of the file to tell: the compound-file container
(its sector tables and directory), then the BIFF8 records of the Workbook stream — BOUNDSHEET for
each sheet's name and where its records start, FORMULA for each formula cell. Everything is bounded
by the data's length; a damaged file gives what could be found, never an exception.
"""
from __future__ import annotations

import struct

FREE, END_OF_CHAIN = 0xFFFFFFFF, 0xFFFFFFFE
MAX_SECTORS = 1 << 20


class _Bad(Exception):
    pass


def _chain(fat: list[int], start: int) -> list[int]:
    out, seen = [], set()
    s = start
    while s not in (FREE, END_OF_CHAIN) and s < len(fat) and s not in seen and len(out) < MAX_SECTORS:
        seen.add(s)
        out.append(s)
        s = fat[s]
    return out


def _directory(data: bytes) -> list[tuple[str, int, int, int]]:
    """(name, type, start sector, size) of every directory entry."""
    return _stream(data, None) or []


def cfb_streams(data: bytes) -> set[str]:
    """The names in a compound file's directory (Workbook: xls, et; WordDocument: doc, WPS 文字's wps); empty
    when the directory cannot be read."""
    try:
        return {name for name, *_ in _directory(data)}
    except (_Bad, struct.error, IndexError, ValueError):
        return set()


def _stream(data: bytes, name: str | None):
    """The bytes of a stream of the compound file (Workbook, Book), or None. name None: the directory."""
    if len(data) < 512 or data[:8] != b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        return None
    shift = struct.unpack_from("<H", data, 0x1E)[0]
    mini_shift = struct.unpack_from("<H", data, 0x20)[0]
    if shift not in (9, 12) or mini_shift != 6:
        return None
    size = 1 << shift
    n_fat, first_dir = struct.unpack_from("<II", data, 0x2C)
    cutoff, first_mini, n_mini, first_difat, n_difat = struct.unpack_from("<5I", data, 0x38)

    def sector(i: int) -> bytes:
        at = (i + 1) << shift
        if i >= MAX_SECTORS or at + size > len(data) + size:
            raise _Bad
        return data[at:at + size]

    fat_sectors = [s for s in struct.unpack_from("<109I", data, 0x4C) if s not in (FREE, END_OF_CHAIN)]
    d, hops = first_difat, 0
    while d not in (FREE, END_OF_CHAIN) and hops < n_difat + 1 and hops < 10_000:
        block = sector(d)
        ids = struct.unpack_from(f"<{size // 4}I", block)
        fat_sectors += [s for s in ids[:-1] if s not in (FREE, END_OF_CHAIN)]
        d, hops = ids[-1], hops + 1
    fat: list[int] = []
    for s in fat_sectors[:max(n_fat, 0) or len(fat_sectors)]:
        fat += struct.unpack_from(f"<{size // 4}I", sector(s))
    directory = b"".join(sector(s) for s in _chain(fat, first_dir))
    entries = []
    for off in range(0, len(directory) - 127, 128):
        e = directory[off:off + 128]
        n = struct.unpack_from("<H", e, 64)[0]
        ename = e[:max(0, min(n, 64) - 2)].decode("utf-16-le", "replace")
        etype = e[66]
        start, length = struct.unpack_from("<IQ", e, 116)
        if shift == 9:
            length &= 0xFFFFFFFF
        entries.append((ename, etype, start, length))
    if name is None:
        return entries
    if not entries:
        return None
    root = entries[0]
    for ename, etype, start, length in entries:
        if etype != 2 or ename != name:
            continue
        length = min(length, len(data))
        if length >= cutoff:
            return b"".join(sector(s) for s in _chain(fat, start))[:length]
        # a small stream lives in the mini stream (64-byte sectors inside the root entry's stream)
        mini_fat: list[int] = []
        for s in _chain(fat, first_mini)[:max(n_mini, 0) or None]:
            mini_fat += struct.unpack_from(f"<{size // 4}I", sector(s))
        mini_stream = b"".join(sector(s) for s in _chain(fat, root[2]))
        return b"".join(mini_stream[m << 6:(m + 1) << 6] for m in _chain(mini_fat, start))[:length]
    return None


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
    try:
        entries = _directory(data)
    except (_Bad, struct.error, ValueError, IndexError):
        return "目录无法读取"
    if not entries:
        return "目录为空"
    for ename, etype, start, length in entries:
        if etype in (1, 2, 5) and length > len(data) + size:
            return f"目录项“{ename[:20]}”声明的大小超出文件本身"
    return None


def xls_formulas(data: bytes, extent: dict | None = None, extra: dict | None = None) -> dict[str, dict[tuple[int, int], str]]:
    """sheet name → {(row, col): ""} for every FORMULA record (the formula's text is not decoded).
    extent: filled with each sheet's used range (rows, cols) from its cell records. extra: filled with
    what else the clerk left — "hidden_rows" / "hidden_cols" (sheet → 0-based indices, from ROW and
    COLINFO records), "notes" ([(sheet, row, col, author, text)] from NOTE, OBJ, TXO and CONTINUE)."""
    try:
        stream = _stream(data, "Workbook") or _stream(data, "Book")
    except (_Bad, struct.error, ValueError, IndexError):
        return {}
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

