"""What collect already knows, kept beside its output so that re-collecting an inbox is cheap.

One SQLite file (standard library, one file, safe to interrupt) holds
- per input file, keyed by the SHA-256 of its bytes: everything read_input found
  (identification, extracted tables, review findings), pickled and compressed;
- per output, the signature of the run that wrote it and the hashes of the files it wrote,
  so an unchanged inbox does not even rewrite the summary.

Everything is invalidated when perftables, python-calamine or any form description or
taxonomy changes (the form version is part of that). Results that depended on the roster
(workbooks identified by their labels, not by a stamp) are never kept. The cache is only
ever read by the coordinator's own runs; it is a speed-up, deleting it loses nothing.
"""
from __future__ import annotations

import hashlib
import json
import pickle
import sqlite3
from functools import lru_cache
from pathlib import Path
from ..core.version import __version__
from ..forms.form import template_dirs
from ..io.book import SPREADSHEETS
from ..io.keys import load_key

SCHEMA = 2   # 2: entries no longer deflated as a whole (what is big in them is deflated already)


def code_version() -> str:
    """Changes whenever the results of reading a file could change."""
    return _code_version(template_dirs())


@lru_cache(maxsize=4)
def _code_version(dirs) -> str:
    from importlib.metadata import PackageNotFoundError, version


    h = hashlib.sha256(f"{SCHEMA}|{__version__}".encode())
    try:
        h.update(version("python-calamine").encode())
    except PackageNotFoundError:
        pass
    package = Path(__file__).resolve().parent.parent
    for path in sorted(package.rglob("*.py")):   # the code that reads and reviews
        h.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    for folder in dirs:
        for path in sorted(folder.rglob("*.toml")):
            try:
                h.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes() + b"\0")
            except OSError:
                pass
    return h.hexdigest()


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def cache_path_for(output: Path) -> Path:
    return output.with_name(output.name + ".cache.sqlite")


class CollectCache:
    """Never trusted, never fatal: an entry is used only when its HMAC (the coordinator's signing key)
    verifies — a cache file planted or edited by someone else is never unpickled; a cache that cannot
    be opened, has another schema or is damaged is set aside (renamed *.unusable-…) and rebuilt; if even
    that fails (a read-only folder, a full disk) the run goes on without a cache."""

    TABLES = {"meta": ["key", "value"], "files": ["sha256", "data", "mac"], "runs": ["output", "signature", "written"]}

    def __init__(self, path: Path, key=None):

        self.path = Path(path)
        self.key = key if key is not None else load_key()
        self.db = None
        self.note = ""
        self.keyless = self.key is None   # said once by the command line, not as a note of the cache's own
        if self.keyless:
            self.note = "本机没有签名密钥，不使用缓存"
            return
        for attempt in range(2):
            try:
                self.db = sqlite3.connect(self.path, timeout=10)
                self._open()
                return
            except sqlite3.Error as exc:
                self._drop_connection()
                # only a damaged cache is set aside; one that cannot be written now (disk full, a file-size
                # limit, a read-only folder: OperationalError) is left as it is; something that is not a
                # file at all (a folder in its place) never becomes usable and is set aside too
                damaged = not isinstance(exc, sqlite3.OperationalError) or (
                    self.path.exists() and not self.path.is_file())
                if attempt == 0 and damaged and self.path.exists():
                    self._set_aside()
                    continue
                why = "已损坏" if damaged else "现在无法写入：磁盘已满、超出文件大小上限、没有权限或被占用"
                self.note = f"缓存文件“{self.path}”{why}，本次不用缓存（汇总照常）"
                return

    def _drop_connection(self):
        if self.db is not None:
            try:
                self.db.close()
            except sqlite3.Error:
                pass
        self.db = None

    def _set_aside(self) -> None:
        import time
        aside = self.path.with_name(f"{self.path.name}.unusable-{time.strftime('%Y%m%d%H%M%S')}")
        try:
            self.path.replace(aside)
            why = "不是文件" if aside.is_dir() else "已损坏或不是缓存"
            self.note = f"缓存文件无法使用（{why}），已改名为“{aside.name}”并重建"
        except OSError:
            pass

    def _open(self):
        found = {t: [r[1] for r in self.db.execute(f"PRAGMA table_info({t})")] for t in self.TABLES}
        if any(cols and cols != self.TABLES[t] for t, cols in found.items()):
            raise sqlite3.DatabaseError("表结构不同")
        self.db.executescript("""
            CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
            CREATE TABLE IF NOT EXISTS files (sha256 TEXT PRIMARY KEY, data BLOB, mac TEXT);
            CREATE TABLE IF NOT EXISTS runs (output TEXT PRIMARY KEY, signature TEXT, written TEXT);
        """)
        version = code_version() + "|" + self.key.id
        row = self.db.execute("SELECT value FROM meta WHERE key = 'version'").fetchone()
        if row is None or row[0] != version:
            self.db.executescript("DELETE FROM files; DELETE FROM runs;")
            self.db.execute("INSERT OR REPLACE INTO meta VALUES ('version', ?)", (version,))
            self.db.commit()

    def _safely(self, func, default=None):
        """A cache operation; on any database error the cache is dropped for the rest of the run."""
        if self.db is None:
            return default
        try:
            return func()
        except (sqlite3.Error, ValueError, TypeError) as exc:
            self.note = f"缓存出错（{exc}），本次其余部分不用缓存"
            self._drop_connection()
            return default

    # ---- per input file
    @property
    def empty(self) -> bool:
        """No file kept yet (nothing to look up)."""
        return self._safely(lambda: self.db.execute("SELECT 1 FROM files LIMIT 1").fetchone(), None) is None

    def get(self, sha256: str, path: Path, display: str, mtime) -> list | None:
        row = self._safely(lambda: self.db.execute("SELECT data, mac FROM files WHERE sha256 = ?",
                                                   (sha256,)).fetchone())
        if row is None or not isinstance(row[0], bytes) or not self.key.verify(sha256.encode() + row[0], row[1]):
            return None
        try:
            records = pickle.loads(row[0])
        except Exception:   # a damaged entry is a miss
            return None
        return relabel(records, path, display, mtime)

    def put(self, sha256: str, records: list) -> None:
        if any(r.stamp.stampless for r in records) or any(
                r.format in SPREADSHEETS and not r.payload for r in records):
            return   # identified through the roster (or not at all): may change with it
        data = pickle.dumps(records, pickle.HIGHEST_PROTOCOL)
        self._safely(lambda: self.db.execute("INSERT OR REPLACE INTO files VALUES (?, ?, ?)",
                                             (sha256, data, self.key.sign(sha256.encode() + data))))

    # ---- per output
    def unchanged(self, output: Path, signature: str) -> bool:
        """The output was written by a run with this signature and nobody has touched what it wrote."""
        row = self._safely(lambda: self.db.execute("SELECT signature, written FROM runs WHERE output = ?",
                                                   (str(output),)).fetchone())
        if row is None or row[0] != signature:
            return False
        try:
            written = json.loads(row[1])
            for name, digest in written.items():
                p = Path(name)
                if not p.is_file() or file_sha256(p) != digest:
                    return False
        except (ValueError, AttributeError, TypeError, OSError):
            return False
        return True

    def wrote(self, output: Path, signature: str, paths: list[Path]) -> None:
        written = {str(p): file_sha256(p) for p in paths}
        self._safely(lambda: self.db.execute("INSERT OR REPLACE INTO runs VALUES (?, ?, ?)",
                                             (str(output), signature, json.dumps(written))))

    def close(self) -> None:
        def finish():
            self.db.commit()
            self.db.close()
        self._safely(finish)
        self.db = None


def relabel(records: list, path: Path, display: str, mtime) -> list:
    """Cached records as if just read from this path (the same bytes may have another name now)."""
    old = records[0].display
    for rec in records:
        rec.display = display + rec.display[len(old):]
        rec.path = path if rec is records[0] else None
        rec.mtime = mtime
    return records


def run_signature(files: list[tuple[str, str, str]], *parts) -> str:
    """Over every input (name, SHA-256, mtime) and the options that shape the output."""
    h = hashlib.sha256(code_version().encode())
    h.update(json.dumps([files, [repr(p) for p in parts]], ensure_ascii=False).encode())
    return h.hexdigest()
