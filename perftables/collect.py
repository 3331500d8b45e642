"""collect: every returned file → identified, extracted, reviewed, accounted for.

Inputs are only ever read. Every file gets a FileRecord with its SHA-256 and a
fate (已采用 / 已采用（有问题）/ 已被替代 / 未采用) and a Chinese reason.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from .extract import ERROR, UnitReturn, extract
from .forms import FormError, load_form
from .read import ReadError, read_book
from .review import review
from .roster import Roster
from .stamp import STAMP_SHEET, StampError, read_stamp

ACCEPTED, ACCEPTED_FINDINGS, SUPERSEDED, REJECTED = "已采用", "已采用（有问题）", "已被替代", "未采用"
IGNORED_NAMES = {".DS_Store", "Thumbs.db", "desktop.ini"}


@dataclass
class FileRecord:
    path: Path
    display: str
    sha256: str = ""
    size: int = 0
    format: str = ""
    fate: str = REJECTED
    reason: str = ""
    payload: dict | None = None
    saved: dt.datetime | None = None
    mtime: dt.datetime | None = None
    result: UnitReturn | None = None

    @property
    def unit_code(self) -> str:
        return (self.payload or {}).get("unit_code", "")

    @property
    def unit_name(self) -> str:
        return (self.payload or {}).get("unit_name", "")

    @property
    def when(self) -> dt.datetime:
        return self.saved or self.mtime or dt.datetime.min


@dataclass
class Collection:
    files: list[FileRecord] = field(default_factory=list)
    roster: Roster | None = None
    year: int | None = None

    @property
    def accepted(self) -> list[FileRecord]:
        return [f for f in self.files if f.fate in (ACCEPTED, ACCEPTED_FINDINGS)]

    @property
    def returns(self) -> list[UnitReturn]:
        return [f.result for f in self.accepted]


def walk_inputs(inputs) -> list[tuple[Path, str]]:
    """Files under the given files and folders, sorted, each with the name shown in reports."""
    found = []
    for item in inputs:
        item = Path(item)
        if item.is_dir():
            for root, dirs, files in os.walk(item):
                dirs.sort()
                for name in sorted(files):
                    if name in IGNORED_NAMES or name.startswith("~$"):
                        continue
                    p = Path(root) / name
                    found.append((p, str(p.relative_to(item.parent))))
        elif item.exists():
            found.append((item, item.name))
        else:
            found.append((item, str(item)))
    return found


def identify(rec: FileRecord, data: bytes):
    """Read the file and its stamp; set rec.fate/reason on failure. Returns the Book or None."""
    try:
        book = read_book(data)
    except ReadError as exc:
        rec.format, rec.reason = exc.kind, exc.reason
        return None
    rec.format, rec.saved = book.format, book.saved
    if STAMP_SHEET not in book.sheets:
        rec.reason = "没有 perftables 标识（不是本次下发的模板，或标识页被删除）"
        return None
    try:
        rec.payload = read_stamp(book.sheets[STAMP_SHEET])
    except StampError as exc:
        rec.reason = str(exc)
        return None
    return book


def collect(inputs, roster: Roster | None = None, year: int | None = None, kind: str = "project_target",
            progress=None) -> Collection:
    col = Collection(roster=roster, year=year)
    books = {}
    for path, display in walk_inputs(inputs):
        rec = FileRecord(path=path, display=display)
        col.files.append(rec)
        if progress:
            progress(1)
        if not path.is_file():
            rec.reason = "文件不存在或不是普通文件"
            continue
        data = path.read_bytes()
        rec.sha256, rec.size = hashlib.sha256(data).hexdigest(), len(data)
        rec.mtime = dt.datetime.fromtimestamp(path.stat().st_mtime).replace(microsecond=0)
        book = identify(rec, data)
        if book is not None:
            books[id(rec)] = book
    stamped = [f for f in col.files if f.payload]
    if col.year is None and stamped:
        col.year = Counter(int(f.payload.get("year", 0)) for f in stamped).most_common(1)[0][0]
    for rec in stamped:
        p = rec.payload
        if p.get("kind", "project_target") != kind:
            rec.reason = f"表式“{p.get('form')}”不是本次收集的表（{kind}）"
        elif int(p.get("year", 0)) != col.year:
            rec.reason = f"年度不符：文件是 {p.get('year')} 年的，本次收集 {col.year} 年"
        elif roster is not None and roster.unit(p["unit_code"]) is None:
            rec.reason = f"单位编码 {p['unit_code']}（{p.get('unit_name')}）不在名单中"
        elif roster is not None and roster.unit(p["unit_code"]).form not in ("", p.get("form")):
            rec.reason = f"表式不符：名单要求“{roster.unit(p['unit_code']).form}”，文件是“{p.get('form')}”"
        else:
            try:
                form = load_form(p["form"]).with_taxonomy(p.get("taxonomy"))
            except FormError as exc:
                rec.reason = str(exc)
                continue
            if form.version != p.get("form_version"):
                rec.reason = f"模板版本不符：文件是 {p.get('form_version')} 版，当前为 {form.version} 版，请用新模板重填"
                continue
            rec.fate = ACCEPTED
    # several returns of one unit: the newest wins (the file's own saved time, then mtime)
    by_unit: dict[str, list[FileRecord]] = {}
    for rec in col.files:
        if rec.fate == ACCEPTED:
            by_unit.setdefault(rec.unit_code, []).append(rec)
    for recs in by_unit.values():
        recs.sort(key=lambda f: (f.payload.get("issue", 1), f.when, f.display), reverse=True)
        for older in recs[1:]:
            older.fate = SUPERSEDED
            older.reason = f"同一单位有更新的文件：{recs[0].display}"
    for rec in col.files:
        if rec.fate != ACCEPTED:
            continue
        p = rec.payload
        form = load_form(p["form"]).with_taxonomy(p.get("taxonomy"))
        try:
            result = extract(books[id(rec)], form, p)
            result.findings.extend(review(result))
        except Exception as exc:  # a file is a message, never a crash
            rec.fate, rec.reason = REJECTED, f"读取内容时出错（{type(exc).__name__}: {str(exc)[:120]}），请人工查看"
            continue
        for f in result.findings:
            f.file, f.unit_code, f.unit_name = rec.display, result.unit_code, result.unit_name
        rec.result = result
        errors = sum(f.severity == ERROR for f in result.findings)
        if result.findings:
            rec.fate = ACCEPTED_FINDINGS
            rec.reason = f"审核发现 {errors} 个错误、{len(result.findings) - errors} 个警告"
        else:
            rec.reason = "审核通过"
    books.clear()
    return col
