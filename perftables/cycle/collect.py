"""collect: every returned file → identified, extracted, reviewed, accounted for.

Inputs are only ever read. Every file gets a FileRecord with its SHA-256 and a
fate (已采用 / 已采用（有问题）/ 已被替代 / 未采用) and a Chinese reason.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
import pickle
import re
import stat
import zipfile
import zlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from ..model.stamp import Stamp
from ..core.kinds import ACCEPTED_FATES, TARGET_KINDS, Action, Fate, FormKind
from .cache import CollectCache, file_sha256
from ..core.parallel import PARALLEL_SECONDS, default_workers, fewer_gc_passes, parallel_iter, parallel_map  # noqa: F401
from ..io.extract import ERROR, WARNING, Finding, UnitReturn, extract
from ..io.extract import payload_from_labels
from ..forms.form import FormError, list_forms, load_form, norm_label
from ..io.book import MAX_FILE_BYTES, MAX_UNZIPPED_BYTES, Format, ReadError, read_book, sniff
from ..review.dispatch import review
from ..model.roster import Roster, read_rows
from ..io.stamp import STAMP_SHEET, StampError, read_stamp
from ..core.errors import PerftablesError, describe_exception
from ..core.text import shown_name
from ..core.files import TEMP_PREFIX, describe_os_error, fit_name, safe_file_name, write_bytes, write_csv
from ..io.keys import KEY_ENV, key_path, load_key

ACCEPTED, ACCEPTED_FINDINGS, SUPERSEDED, REJECTED = Fate.ACCEPTED, Fate.ACCEPTED_FINDINGS, Fate.SUPERSEDED, Fate.REJECTED
BLANK = Fate.BLANK   # our template came back as it was sent: nothing to review, the unit still has to fill it in
PENDING, VOIDED = Fate.PENDING, Fate.VOIDED


class CollectError(PerftablesError):
    """The collection cannot be decided without the coordinator (a Chinese message)."""
UNPACKED = "已展开（压缩包）"
MAX_MEMBERS = 1000
MAX_DEPTH = 2
IGNORED_NAMES = {".DS_Store", "Thumbs.db", "desktop.ini"}


@dataclass
class FileRecord:
    path: Path | None
    display: str
    sha256: str = ""
    size: int = 0
    format: Format | str = ""             # io.book.Format ("" before anything is known)
    fate: str = REJECTED
    reason: str = ""
    payload: dict | None = None
    saved: dt.datetime | None = None
    mtime: dt.datetime | None = None
    error: str = ""                        # extraction failed: why
    # the extracted and reviewed return, pickled and compressed (≈7 KB a unit: a province's
    # 20,000 returns stay small in memory); `result` unpacks a fresh copy each time it is read
    packed: bytes | None = None
    errors: int = 0                        # review findings of the return, by severity
    warnings: int = 0
    n_projects: int = 0
    n_indicators: int = 0
    entered: int = 0                       # cells the unit filled in
    n_notes: int = 0                       # notes the clerk left on cells
    verified: bool = False                 # the stamp's signature was checked with the coordinator's key
    claimed: str = ""                      # the unit its channel names (mail sender, file name), when not its stamp's
    rows: tuple | None = None              # what it adds to the summary tables, made while it was read:
                                           # (what they depend on, packed rows) — see summary.own_rows

    @property
    def result(self) -> UnitReturn | None:
        if self.packed is None:
            return None
        ret = pickle.loads(zlib.decompress(self.packed))
        for f in ret.findings:
            f.file = self.display
        return ret

    @result.setter
    def result(self, ret: UnitReturn | None) -> None:
        self.rows = None   # made from the return as it was
        if ret is None:
            self.packed, self.errors, self.warnings, self.n_projects, self.n_indicators = None, 0, 0, 0, 0
            self.entered = self.n_notes = 0
            return
        self.packed = zlib.compress(pickle.dumps(ret, pickle.HIGHEST_PROTOCOL), 1)
        self.errors = sum(f.severity == ERROR for f in ret.findings)
        self.warnings = len(ret.findings) - self.errors
        self.n_projects = len(ret.projects)
        self.n_indicators = sum(len(p.indicators) for p in ret.projects)
        self.entered = ret.entered
        self.n_notes = len(getattr(ret, "notes", ()))

    @property
    def stamp(self) -> Stamp:
        """What the file's stamp says (model.stamp), typed; an empty one for a file without."""
        return Stamp.of(self.payload)

    @property
    def form(self):
        """The form the file was filled on (from its stamp), with its taxonomy."""
        stamp = self.stamp
        return load_form(stamp.form).with_taxonomy(stamp.taxonomy)

    @property
    def unit_code(self) -> str:
        return self.stamp.unit_code

    @property
    def unit_name(self) -> str:
        return self.stamp.unit_name

    @property
    def when(self) -> dt.datetime:
        return self.saved or self.mtime or dt.datetime.min


@dataclass
class Collection:
    files: list[FileRecord] = field(default_factory=list)
    roster: Roster | None = None
    year: int | None = None
    kind: FormKind = FormKind.PROJECT_TARGET
    ledger: object = None                  # cycle.ledger.Ledger kept beside the summary, when there is one
    today: dt.date | None = None           # the day 逾期天数 counts to (tests fix it)

    @property
    def accepted(self) -> list[FileRecord]:
        return [f for f in self.files if f.fate in ACCEPTED_FATES]

    @property
    def returns(self) -> list[UnitReturn]:
        """Every accepted return, unpacked (for a few hundred; iterate accepted records for more)."""
        return [f.result for f in self.accepted]


class Input(NamedTuple):
    path: Path
    display: str
    named: bool = True      # the user named this path itself (not found inside a named folder)


def is_link(path: Path) -> bool:
    """A symbolic link, or on Windows a junction or other reparse point."""
    try:
        st = os.lstat(path)
    except OSError:
        return False
    if stat.S_ISLNK(st.st_mode):
        return True
    return bool(getattr(st, "st_file_attributes", 0) & getattr(stat, "FILE_ATTRIBUTE_REPARSE_POINT", 0))


def walk_inputs(inputs) -> list[Input]:
    """Files under the given files and folders, sorted, each with the name shown in reports.

    Links: a path the user names is used as named; a link (to a file or a folder) found inside a named
    folder is never followed — it is listed, with where it points, and not read (a link could carry any
    file of this machine into the inbox, and from there into 待处理/ and the mail)."""
    found = []
    for item in inputs:
        item = Path(item)
        if item.is_dir():
            for root, dirs, files in os.walk(item):
                dirs.sort()
                for name in list(dirs):
                    if is_link(Path(root) / name):
                        dirs.remove(name)
                        files.append(name)
                for name in sorted(files):
                    if name in IGNORED_NAMES or name.startswith("~$"):
                        continue
                    p = Path(root) / name
                    found.append(Input(p, shown_name(str(p.relative_to(item.parent))), named=False))
        elif item.exists() or is_link(item):
            found.append(Input(item, shown_name(item.name)))
        else:
            found.append(Input(item, shown_name(str(item))))
    return found


def _link_reason(path: Path) -> str:
    try:
        target = os.readlink(path)
    except OSError:
        target = "?"
    return f"这是一个链接（快捷方式，指向“{target}”），收件箱里的链接不跟随读取；请把文件本身放进收件箱"


def _member_name(info: zipfile.ZipInfo) -> str:
    """Zip member names from Chinese Windows are GBK bytes read as cp437: decode them right."""
    name = info.filename
    if not info.flag_bits & 0x800:
        try:
            name = name.encode("cp437").decode("gb18030")
        except (UnicodeEncodeError, UnicodeDecodeError):
            pass
    return name


def unpack(rec: FileRecord, data: bytes, depth: int) -> list[tuple[FileRecord, bytes]]:
    """The members of a .zip of returns, bounded in count and size; names are only ever shown."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = [i for i in zf.infolist() if not i.is_dir()]
    except Exception:   # BadZipFile, NotImplementedError (an unknown version in a damaged directory)…
        rec.reason = "压缩包已损坏，无法展开"
        return []
    if depth >= MAX_DEPTH:
        rec.reason = "压缩包套压缩包层数过多，未展开"
        return []
    if len(infos) > MAX_MEMBERS:
        rec.reason = f"压缩包内文件过多（{len(infos)} 个），未展开"
        return []
    total = sum(i.file_size for i in infos)
    if total > MAX_UNZIPPED_BYTES:
        rec.reason = f"压缩包解压后过大（{total // (1 << 20)} MB，疑似压缩炸弹），未展开"
        return []
    members = []
    for info in infos:
        name = _member_name(info)
        member = FileRecord(path=None, display=f"{rec.display}!{shown_name(name)}")
        if info.flag_bits & 0x1:
            member.reason = "压缩包成员设置了密码，无法读取"
            members.append((member, b""))
            continue
        if info.file_size > MAX_FILE_BYTES:
            member.reason = f"文件过大（{info.file_size // (1 << 20)} MB），未读取"
            members.append((member, b""))
            continue
        try:
            with zf.open(info) as fh:
                body = fh.read(MAX_FILE_BYTES + 1)   # never trust the declared size
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, RuntimeError, NotImplementedError) as exc:
            member.reason = f"压缩包成员无法解压（{describe_exception(exc)}）"
            members.append((member, b""))
            continue
        members.append((member, body))
    rec.fate, rec.reason = UNPACKED, f"压缩包，含 {len(infos)} 个文件，逐个处理"
    return members


def _target_forms() -> list:
    return [f for f in list_forms() if f.kind in TARGET_KINDS]


def identify(rec: FileRecord, data: bytes, roster: Roster | None = None, kind: Format | None = None, key=None):
    """Read the file and its stamp; set rec.fate/reason on failure. Returns the Book or None.
    kind: what sniff(data) said, when already known. key: the coordinator's signing key (None: none here)."""
    word_form, kind = None, Format(kind) if kind else sniff(data)
    try:
        if kind.is_word:   # a Word return: laid onto the form it follows
            from ..io.word import read_word
            book, word_form = read_word(data, kind, _target_forms())
        else:
            book = read_book(data, kind)
    except ReadError as exc:
        rec.format, rec.reason = exc.kind, exc.reason
        return None
    except Exception as exc:  # a file is a message, never a crash
        rec.format, rec.reason = Format.UNREADABLE, f"无法读取（{describe_exception(exc)}）"
        return None
    rec.format, rec.saved = book.format, book.saved
    if STAMP_SHEET not in book.sheets:
        rec.payload = payload_from_labels(book, [word_form] if word_form else _target_forms(), roster)
        if rec.payload is None:
            rec.reason = "没有 perftables 标识，也认不出是哪张表、哪个单位的（不是本次下发的模板）"
            return None
        return book
    try:
        rec.payload = read_stamp(book.sheets[STAMP_SHEET], key)
        rec.verified = key is not None
    except StampError as exc:
        rec.reason = str(exc)
        return None
    return book


def read_input(path: Path, display: str, roster: Roster | None = None, key=None, named: bool = True,
               rows=None) -> list[FileRecord]:
    """All that one input needs on its own: hashed, unpacked, identified, extracted and reviewed.

    Runs in a worker process when collect uses several; the decisions across files
    (year, kind, duplicates) are taken afterwards by collect itself. rows: what the caller wants made
    from each return while it is at hand (summary.own_rows: its summary rows), kept on the record.
    """
    records: list[FileRecord] = []

    def ingest(rec: FileRecord, data: bytes, depth: int = 0):
        records.append(rec)
        rec.sha256, rec.size = hashlib.sha256(data).hexdigest(), len(data)
        if rec.reason:   # a member that could not even be taken out of its archive
            return
        kind = sniff(data)
        if kind is Format.ZIP:
            try:
                members = unpack(rec, data, depth)
            except Exception as exc:   # noqa: BLE001 — a damaged archive is a message, never the end of the run
                rec.format, rec.reason = Format.ZIP, f"压缩包已损坏，无法展开（{describe_exception(exc)}）"
                return
            for member, body in members:
                member.mtime = rec.mtime
                ingest(member, body, depth + 1)
            return
        if kind in (Format.RAR, Format.SEVEN_Z):
            rec.format, rec.reason = kind, f"{kind.upper()} 压缩包无法直接读取，请解压后放入收件箱"
            return
        book = identify(rec, data, roster, kind, key)
        if book is not None:
            _extract(rec, book, rows)

    rec = FileRecord(path=path, display=display)
    if not named and is_link(path):
        rec.format, rec.reason = Format.LINK, _link_reason(path)
        return [rec]
    if not path.is_file():
        rec.reason = "文件不存在或不是普通文件"
        return [rec]
    try:
        stat = path.stat()
        rec.mtime = _mtime(path, stat)
        if stat.st_size > MAX_FILE_BYTES:
            rec.size, rec.reason = stat.st_size, f"文件过大（{stat.st_size // (1 << 20)} MB），未读取"
            rec.sha256 = file_sha256(path)
            return [rec]
        data = path.read_bytes()
    except OSError as exc:
        rec.format, rec.reason = Format.UNREADABLE, describe_os_error(exc, "读取") + "，请检查文件权限或是否被其他程序占用"
        return [rec]
    ingest(rec, data)
    return records


def _mtime(path: Path, stat=None) -> dt.datetime:
    return dt.datetime.fromtimestamp((stat or path.stat()).st_mtime).replace(microsecond=0)


def _extract(rec: FileRecord, book, rows=None) -> None:
    st = rec.stamp
    try:
        form = load_form(st.form).with_taxonomy(st.taxonomy)
    except FormError:
        return   # reported when the fates are decided
    if form.version != st.form_version:
        return
    try:
        result = extract(book, form, rec.payload)
        result.findings.extend(review(result))
    except Exception as exc:  # a file is a message, never a crash
        rec.error = f"读取内容时出错（{describe_exception(exc)}），请人工查看"
        return
    if not st.stampless and not rec.verified:
        result.findings.append(Finding("", "", "标识签名", WARNING,
                                       f"无法核验标识签名：本机没有签名密钥（{key_path()}）。请把生成模板那台电脑上的"
                                       f"签名密钥文件复制到这里，或用环境变量 {KEY_ENV} 指定它"))
    for f in result.findings:
        f.unit_code, f.unit_name = result.unit_code, result.unit_name
    rec.result = result
    if rows is not None:
        rec.rows = rows(result)


def collect(inputs, roster: Roster | None = None, year: int | None = None, kind: FormKind | str | None = None,
            progress=None, workers: int | None = None, cache: CollectCache | None = None, rows=None,
            decisions: dict | None = None, claims: dict | None = None) -> Collection:
    """kind: the form kind collected (project_target, project_selfeval); by default the most common one.
    year: the year collected; without it, the year all stamped files share (files of several years: a
    CollectError — a person says which year, a majority never does).
    workers: processes reading the files (default: every core); the result is the same for any number.
    cache: files read before (same bytes) are taken from it, new ones are added to it.
    rows: made from each return in the worker that read it (see read_input).
    decisions: the coordinator's decisions on versions (a round's: sha256 → state.Decision).
    claims: which unit each file came from, by its channel: sha256 → (unit code, how it is known)."""
    col = Collection(roster=roster, year=year)
    for records in _read_all(walk_inputs(inputs), roster, progress, workers, cache, rows):
        col.files.extend(records)
    stamped = [f for f in col.files if f.payload]
    if kind is None:
        kinds = Counter(f.stamp.kind for f in stamped)
        kind = kinds.most_common(1)[0][0] if kinds else FormKind.PROJECT_TARGET
    col.kind = FormKind(kind)
    if col.year is None:
        col.year = _one_year(stamped, col.kind)
    for rec in stamped:
        if rec.stamp.stampless and not rec.stamp.year:   # read from its labels: this collection's year
            rec.payload["year"] = col.year
    for rec in stamped:
        _judge(rec, col, roster)
    pinned = _decide(col, decisions or {}, claims or {}, roster)
    _newest_wins(col, pinned)
    for rec in col.files:
        if rec.fate != ACCEPTED:
            if rec.fate == REJECTED:
                rec.result = None
            continue
        if rec.errors or rec.warnings:
            rec.fate = ACCEPTED_FINDINGS
            rec.reason = f"审核发现 {rec.errors} 个错误、{rec.warnings} 个警告"
        else:
            rec.reason = "审核通过"
    return col


def _read_all(walked, roster, progress, workers, cache, rows) -> list[list[FileRecord]]:
    """Every input's records, in the order walked: from the cache when it has the same bytes, else read by
    the workers (and kept in the cache as they come, while the workers read on)."""
    found: list[list[FileRecord] | None] = [None] * len(walked)
    todo: list[tuple[int, str]] = []   # (index, SHA-256 when the cache is asked)
    asked = cache is not None and not cache.empty   # (a new cache: nothing to look up, files hashed as read)
    for i, (path, display, named) in enumerate(walked):
        if asked and (named or not is_link(path)) and path.is_file() and os.access(path, os.R_OK):
            try:
                sha = file_sha256(path)
                found[i] = cache.get(sha, path, display, _mtime(path))
            except OSError:   # read as any other file below: the reason is reported there
                todo.append((i, ""))
                continue
            if found[i] is not None:
                if progress:
                    progress(1)
                continue
            todo.append((i, sha))
        else:
            todo.append((i, ""))
    key = load_key()
    items = [(walked[i].path, walked[i].display, roster, key, walked[i].named, rows) for i, _ in todo]
    for k, records in enumerate(parallel_iter(read_input, items, workers, progress)):   # to its end: the pool shut
        i, sha = todo[k]
        found[i] = records
        if cache is not None and records[0].sha256 and (not asked or sha == records[0].sha256):
            cache.put(records[0].sha256, records)
    return found


def _judge(rec: FileRecord, col: Collection, roster: Roster | None) -> None:
    """A stamped file's fate by what its stamp says: another year, kind or unit, an old form version, not
    filled in — or accepted, to be checked against the roster."""
    st, kind = rec.stamp, col.kind
    unit = roster.unit(st.unit_code) if roster is not None else None
    if not st.year:
        rec.reason = "文件没有标识，表上也没有年度，无法确定是哪一年的表（可用 --year 指定本次收集的年度）"
    elif st.kind != kind:
        rec.reason = f"表式“{st.form}”不是本次收集的表（本次收集：{kind.title}）"
    elif int(st.year or 0) != (col.year or 0):
        rec.reason = f"年度不符：文件是 {st.year} 年的，本次收集 {col.year} 年"
    elif roster is not None and unit is None:
        rec.reason = f"单位编码 {st.unit_code}（{st.unit_name}）不在名单中"
    elif unit is not None and unit.form not in ("", st.form) and load_form(unit.form).kind == st.kind:
        rec.reason = f"表式不符：名单要求“{unit.form}”，文件是“{st.form}”"
    else:
        try:
            form = load_form(st.form).with_taxonomy(st.taxonomy)
        except FormError as exc:
            rec.reason = str(exc)
            return
        if form.version != st.form_version:
            rec.reason = f"模板版本不符：文件是 {st.form_version} 版，当前为 {form.version} 版，请用新模板重填"
            return
        if rec.packed is None:
            rec.reason = rec.error or "读取内容时出错，请人工查看"
            return
        if not rec.entered and not st.stampless:
            rec.fate, rec.reason = BLANK, "模板原样发回，没有填写任何内容（请催报）"
            rec.result = None
            return
        rec.fate = ACCEPTED
        if unit is not None and not st.stampless:
            _check_against_roster(rec, unit)


def _one_year(stamped: list[FileRecord], kind: FormKind) -> int | None:
    """The year every stamped file of the kind collected says; files of several years: the person decides."""
    years = Counter(int(f.stamp.year) for f in stamped if f.stamp.year and f.stamp.kind == kind)
    if len(years) > 1:
        counts = "，".join(f"{y} 年 {n} 个" for y, n in sorted(years.items(), reverse=True))
        raise CollectError(f"收到的文件属于不同年度（{counts}）：请用 --year 指定本次收集的年度"
                           "（在一轮中，年度取自本轮设置）。别的年度的文件会列为未采用并说明原因")
    return next(iter(years), None)


def claimed_by_name(display: str, roster: Roster | None) -> str:
    """The roster unit a file's name says it is from (its code standing alone in the name); '' when none or
    several."""
    if roster is None:
        return ""
    name = Path(display.replace("!", "/")).name
    found = {u.code for u in roster.units if u.code and re.search(rf"(?<![0-9A-Za-z]){re.escape(u.code)}(?![0-9A-Za-z])", name)}
    return found.pop() if len(found) == 1 else ""


def _decide(col: Collection, decisions: dict, claims: dict, roster: Roster | None) -> set[str]:
    """The coordinator's decisions, and the files that came from another unit than their stamp names:
    voided files are set aside; a file whose channel (mail sender, file name) names another unit is
    待确认 until the coordinator accepts or voids it. Returns the versions accepted (they stand for their
    unit over newer ones)."""
    pinned = set()
    for rec in col.files:
        decision = decisions.get(rec.sha256)
        if decision is not None and decision.action is Action.VOID and rec.fate != UNPACKED:
            rec.fate, rec.reason = VOIDED, decision.said()
            rec.result = None
            continue
        if rec.fate != ACCEPTED:
            continue
        if decision is not None and decision.action is Action.ACCEPT:
            pinned.add(rec.sha256)
            continue
        code, how = claims.get(rec.sha256) or (claimed_by_name(rec.display, roster), "文件名")
        if code and code != rec.unit_code:
            rec.fate, rec.reason, rec.claimed = PENDING, _crossed(rec, code, how, roster), code
    return pinned


def _crossed(rec: FileRecord, code: str, how: str, roster: Roster | None) -> str:
    other = roster.unit(code) if roster is not None else None
    named = f"{code} {other.name}" if other else code
    return (f"这是 {rec.unit_code} {rec.unit_name} 的表，却来自 {named}（按{how}）：是 {named} 填了别的单位的表，"
            f"还是代为转发？请核实后决定——采用：perftables accept {rec.sha256[:12]}；作废：perftables void "
            f"{rec.sha256[:12]}（在本轮文件夹中运行）")


def newest_key(issue, when, name: str) -> tuple:
    """How a unit's versions are ordered, newest last — by collect (which return stands) and by the ledger (which
    file its state is about), so that the two never disagree: the stamp's issue (a feedback round's workbook
    after the template), then the file's own saved time (else its modification time), then its name."""
    return issue or 0, when, name or ""


def _newest_wins(col: Collection, pinned: set[str] = frozenset()) -> None:
    """Several returns of one unit: the one the coordinator accepted, else the newest (newest_key)."""
    by_unit: dict[str, list[FileRecord]] = {}
    for rec in col.files:
        if rec.fate == ACCEPTED:
            by_unit.setdefault(rec.unit_code, []).append(rec)
    for recs in by_unit.values():
        recs.sort(key=lambda f: (f.sha256 in pinned, *newest_key(f.stamp.issue, f.when, f.display)), reverse=True)
        for older in recs[1:]:
            older.fate = SUPERSEDED
            older.reason = (f"与 {recs[0].display} 内容完全相同（重复发送）" if older.sha256 == recs[0].sha256
                            else f"同一单位有更新的文件：{recs[0].display}")


def _check_against_roster(rec: FileRecord, unit) -> None:
    """The stamped unit and its projects are those the roster names now (a renamed unit, a project
    dropped from the budget, a template made from another roster)."""

    st = rec.stamp
    problems = []
    if norm_label(unit.name) != norm_label(st.unit_name):
        problems.append(f"模板中的单位名称“{st.unit_name}”与名单中的“{unit.name}”不同（单位改名，或用了别的名单生成的模板）")
    listed = {pr.code for pr in unit.projects if pr.code}
    stamped = [pr.get("code") for pr in st.projects if pr.get("code")]
    # a department table's one record is the department itself; its project list is a table of its own
    if listed and not st.kind.is_department:
        for code in stamped:
            if code not in listed:
                problems.append(f"模板中的项目 {code} 不在名单中")
        for code in sorted(listed - set(stamped)):
            problems.append(f"名单中的项目 {code} 不在模板中（模板生成后名单又增加了项目？可用 generate --unit 重发）")
    if not problems:
        return
    ret = rec.result
    for message in problems:
        ret.findings.append(Finding("", "", "名单核对", WARNING, message))
        ret.findings[-1].unit_code, ret.findings[-1].unit_name = ret.unit_code, ret.unit_name
    rec.result = ret


HELD_LIST = "待处理清单.csv"


def held_folder_problem(folder) -> str | None:
    """待处理/ is rewritten by every collect: it may only hold what an earlier collect put there."""
    folder = Path(folder)
    if not folder.exists():
        return None
    if not folder.is_dir():
        return f"“{folder}”已是一个文件，collect 要在这里放未采用文件的副本"
    ours = {HELD_LIST}
    listing = folder / HELD_LIST
    if listing.is_file():
        try:
            ours |= {r[1] for r in read_rows(listing)[1:] if len(r) > 1 and r[1]}
        except Exception:
            pass
    foreign = sorted(p.name for p in folder.iterdir() if p.name not in ours)
    if foreign:
        return (f"“{folder}”里有不是 collect 放进去的文件（{'、'.join(foreign[:5])}{'……' if len(foreign) > 5 else ''}），"
                "collect 每次都会重写这个文件夹；请把这些文件移走，或把汇总写到别的文件夹")
    return None


def quarantine(col: Collection, folder) -> Path | None:
    """Copy every file that was not used into 待处理/, with a list of why. Nothing is deleted from the
    inputs. The folder and its list belong to this run: built beside it, then swapped in whole."""
    import secrets
    import shutil


    folder = Path(folder)
    rejected = [f for f in col.files if f.fate == REJECTED]
    token = secrets.token_hex(4)
    staging = folder.with_name(f"{TEMP_PREFIX}{token}-{folder.name}")
    try:
        if rejected:
            staging.mkdir(parents=True)
            archives = {f.display: f for f in col.files}
            rows = [["序号", "副本", "原文件", "SHA-256", "原因"]]
            for i, f in enumerate(rejected, 1):
                copy_name = ""
                data = _bytes_of(f, archives)
                if data is not None:
                    copy_name = fit_name(staging, f"{i:03d}_" + safe_file_name(Path(f.display.replace("!", "_")).name))
                    write_bytes(staging / copy_name, data)
                rows.append([i, copy_name, f.display, f.sha256, f.reason])
            write_csv(staging / HELD_LIST, rows)
        old = folder.with_name(f"{TEMP_PREFIX}{token}-old-{folder.name}")
        if folder.exists():
            os.replace(folder, old)
        if rejected:
            os.replace(staging, folder)
        shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return folder if rejected else None


def _bytes_of(rec: FileRecord, records: dict) -> bytes | None:
    if rec.path is not None:
        if rec.format is Format.LINK:   # never read through a link
            return None
        try:
            return rec.path.read_bytes() if rec.path.is_file() and rec.size <= MAX_FILE_BYTES else None
        except OSError:
            return None
    archive, _, member = rec.display.rpartition("!")
    parent = records.get(archive)
    data = _bytes_of(parent, records) if parent else None
    if data is None:
        return None
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        info = next(i for i in zf.infolist() if _member_name(i) == member)
        with zf.open(info) as fh:
            return fh.read(MAX_FILE_BYTES + 1)
    except Exception:
        return None
