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
import zlib
from functools import lru_cache
from pathlib import Path

SCHEMA = 1


@lru_cache(maxsize=1)
def code_version() -> str:
    """Changes whenever the results of reading a file could change."""
    from importlib.metadata import PackageNotFoundError, version

    from . import __version__
    from .forms import TEMPLATES_DIR

    h = hashlib.sha256(f"{SCHEMA}|{__version__}".encode())
    try:
        h.update(version("python-calamine").encode())
    except PackageNotFoundError:
        pass
    for path in sorted(Path(__file__).parent.glob("*.py")):   # the code that reads and reviews
        h.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    for path in sorted(TEMPLATES_DIR.rglob("*.toml")):
        h.update(str(path.relative_to(TEMPLATES_DIR)).encode() + b"\0" + path.read_bytes() + b"\0")
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
    def __init__(self, path: Path):
        self.path = Path(path)
        self.db = sqlite3.connect(self.path)
        try:
            self._open()
        except sqlite3.DatabaseError:   # not a cache (or a damaged one): start again
            self.db.close()
            self.path.unlink()
            self.db = sqlite3.connect(self.path)
            self._open()

    def _open(self):
        self.db.executescript("""
            CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
            CREATE TABLE IF NOT EXISTS files (sha256 TEXT PRIMARY KEY, data BLOB);
            CREATE TABLE IF NOT EXISTS runs (output TEXT PRIMARY KEY, signature TEXT, written TEXT);
        """)
        row = self.db.execute("SELECT value FROM meta WHERE key = 'version'").fetchone()
        if row is None or row[0] != code_version():
            self.db.executescript("DELETE FROM files; DELETE FROM runs;")
            self.db.execute("INSERT OR REPLACE INTO meta VALUES ('version', ?)", (code_version(),))
            self.db.commit()

    # ---- per input file
    def get(self, sha256: str, path: Path, display: str, mtime) -> list | None:
        row = self.db.execute("SELECT data FROM files WHERE sha256 = ?", (sha256,)).fetchone()
        if row is None:
            return None
        try:
            records = pickle.loads(zlib.decompress(row[0]))
        except Exception:   # a damaged entry is a miss
            return None
        return relabel(records, path, display, mtime)

    def put(self, sha256: str, records: list) -> None:
        if any(r.payload and r.payload.get("stampless") for r in records) or any(
                r.format in ("xlsx", "xls", "ods") and not r.payload for r in records):
            return   # identified through the roster (or not at all): may change with it
        self.db.execute("INSERT OR REPLACE INTO files VALUES (?, ?)",
                        (sha256, zlib.compress(pickle.dumps(records, pickle.HIGHEST_PROTOCOL), 1)))

    # ---- per output
    def unchanged(self, output: Path, signature: str) -> bool:
        """The output was written by a run with this signature and nobody has touched what it wrote."""
        row = self.db.execute("SELECT signature, written FROM runs WHERE output = ?", (str(output),)).fetchone()
        if row is None or row[0] != signature:
            return False
        for name, digest in json.loads(row[1]).items():
            p = Path(name)
            if not p.is_file() or file_sha256(p) != digest:
                return False
        return True

    def wrote(self, output: Path, signature: str, paths: list[Path]) -> None:
        written = {str(p): file_sha256(p) for p in paths}
        self.db.execute("INSERT OR REPLACE INTO runs VALUES (?, ?, ?)", (str(output), signature, json.dumps(written)))

    def close(self) -> None:
        self.db.commit()
        self.db.close()


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
