"""The round's state: one SQLite database (本轮状态.sqlite) in the round folder.

What it holds:
- events — the ledger (cycle.ledger): each unit's steps (已下发, 已收到 with the file's SHA-256, 已退改, 通过 …),
  each added once (a unique key; a second run, or a second process, adds nothing twice);
- versions — every input version the round has seen (by content hash): which unit its stamp names, which
  unit it came from (the mail sender in the roster, the file name's code, the upload link), by what channel,
  when it reached us, and what the review found;
- decisions — what the coordinator decided about a version (作废, 采用), when and by whom; the latest
  decision on a version stands.

Standard-library sqlite3 in WAL mode with a busy timeout: two commands on one round (a collect and a fetch,
two collects) wait for each other and lose nothing. Refused on a network share, where SQLite's locking is
not safe. Every write is one transaction."""
from __future__ import annotations

import datetime as dt
import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from ..core.errors import PerftablesError
from ..core.kinds import Action  # noqa: F401 — the decisions recorded here
from ..core.files import network_share

STATE_NAME = "本轮状态.sqlite"
SCHEMA_VERSION = "1"
BUSY_MS = 60_000
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS events(
    id INTEGER PRIMARY KEY, unit TEXT NOT NULL, event TEXT NOT NULL, sha256 TEXT NOT NULL DEFAULT '',
    day TEXT NOT NULL DEFAULT '', time TEXT NOT NULL, info TEXT NOT NULL,
    UNIQUE(unit, event, sha256, day));
CREATE TABLE IF NOT EXISTS versions(
    sha256 TEXT PRIMARY KEY, unit TEXT NOT NULL DEFAULT '', claimed TEXT NOT NULL DEFAULT '',
    channel TEXT NOT NULL DEFAULT '', source TEXT NOT NULL DEFAULT '', detail TEXT NOT NULL DEFAULT '',
    arrived TEXT NOT NULL DEFAULT '',
    first_seen TEXT NOT NULL, last_seen TEXT NOT NULL, year INTEGER, form TEXT NOT NULL DEFAULT '',
    fate TEXT NOT NULL DEFAULT '', reason TEXT NOT NULL DEFAULT '', errors INTEGER NOT NULL DEFAULT 0,
    warnings INTEGER NOT NULL DEFAULT 0, findings TEXT NOT NULL DEFAULT '[]');
CREATE TABLE IF NOT EXISTS snapshots(sha256 TEXT PRIMARY KEY, cells TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS links(
    unit TEXT PRIMARY KEY, token_hash TEXT NOT NULL UNIQUE, created TEXT NOT NULL, generation INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS uploads(
    id INTEGER PRIMARY KEY, sha256 TEXT NOT NULL, unit TEXT NOT NULL, time TEXT NOT NULL, name TEXT NOT NULL,
    size INTEGER NOT NULL, stored TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS waivers(
    id INTEGER PRIMARY KEY, sha256 TEXT NOT NULL, finding TEXT NOT NULL, unit TEXT NOT NULL, reason TEXT NOT NULL,
    by TEXT NOT NULL DEFAULT '', time TEXT NOT NULL, UNIQUE(sha256, finding));
CREATE TABLE IF NOT EXISTS decisions(
    id INTEGER PRIMARY KEY, time TEXT NOT NULL, action TEXT NOT NULL, sha256 TEXT NOT NULL,
    unit TEXT NOT NULL DEFAULT '', note TEXT NOT NULL DEFAULT '', by TEXT NOT NULL DEFAULT '');
"""


class StateError(PerftablesError):
    """The round's state cannot be used (a Chinese message)."""


@dataclass(frozen=True)
class Decision:
    action: Action
    sha256: str
    unit: str
    time: str
    by: str = ""
    note: str = ""

    def said(self) -> str:
        who = f"，{self.by}" if self.by else ""
        note = f"：{self.note}" if self.note else ""
        return f"协调人{self.action}（{self.time[:16]}{who}）{note}"


def now_text(when: dt.datetime | None = None) -> str:
    return (when or dt.datetime.now()).strftime("%Y-%m-%d %H:%M:%S")


class StateStore:
    """One connection to the round's state; use as a context manager or close()."""

    def __init__(self, path):
        self.path = Path(path)
        share = network_share(self.path.parent)
        if share:
            raise StateError(f"本轮文件夹“{self.path.parent}”在{share}上：SQLite 在网络共享上加锁不可靠，"
                             "两台电脑同时操作会损坏本轮记录。请把本轮文件夹放在本机硬盘上（用 U 盘或共享文件夹备份）")
        try:
            self.db = sqlite3.connect(self.path, timeout=BUSY_MS / 1000, isolation_level=None)
            self.db.execute(f"PRAGMA busy_timeout={BUSY_MS}")
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            with self.transaction():
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        self.db.execute(statement)
                self.db.execute("INSERT OR IGNORE INTO meta VALUES ('schema', ?)", (SCHEMA_VERSION,))
        except sqlite3.DatabaseError as exc:
            raise StateError(f"本轮记录“{self.path}”无法打开（{exc}）。请从备份恢复本轮文件夹") from None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self) -> None:
        self.db.close()

    def transaction(self):
        return _Transaction(self.db)

    # ------------------------------------------------------------------------------------ meta

    def meta(self, key: str, default: str = "") -> str:
        row = self.db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return row[0] if row else default

    def set_meta(self, key: str, value: str) -> None:
        with self.transaction():
            self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    # ------------------------------------------------------------------------------------ events

    def events(self) -> list[dict]:
        out = []
        for unit, event, time, info in self.db.execute("SELECT unit, event, time, info FROM events ORDER BY id"):
            e = json.loads(info)
            e.update(unit=unit, event=event, time=time)
            out.append(e)
        return out

    def add_events(self, events: list[tuple[tuple, dict]]) -> int:
        """Each (key, event) once, in one transaction; key = (unit, event, sha256, day). Returns how many
        were new."""
        new = 0
        with self.transaction():
            for (unit, event, sha, day), e in events:
                info = json.dumps({k: v for k, v in e.items() if k not in ("unit", "event", "time")},
                                  ensure_ascii=False, sort_keys=True)
                cur = self.db.execute("INSERT OR IGNORE INTO events(unit, event, sha256, day, time, info) "
                                      "VALUES (?, ?, ?, ?, ?, ?)", (unit, event, sha or "", day or "", e["time"], info))
                new += cur.rowcount
        return new

    # ------------------------------------------------------------------------------------ versions

    def record_versions(self, rows: list[dict]) -> None:
        """Every version seen by this run: added when new, its latest review kept (first_seen and arrived
        stay as first recorded)."""
        seen = now_text()
        with self.transaction():
            for r in rows:
                self.db.execute(
                    "INSERT INTO versions(sha256, unit, claimed, channel, source, detail, arrived, first_seen, last_seen,"
                    " year, form, fate, reason, errors, warnings, findings) VALUES (:sha256, :unit, :claimed, :channel,"
                    " :source, :detail, :arrived, :seen, :seen, :year, :form, :fate, :reason, :errors, :warnings,"
                    " :findings)"
                    " ON CONFLICT(sha256) DO UPDATE SET last_seen=:seen, unit=:unit, claimed=:claimed, fate=:fate,"
                    " reason=:reason, errors=:errors, warnings=:warnings, findings=:findings, year=:year, form=:form,"
                    " arrived=CASE WHEN arrived='' THEN :arrived ELSE arrived END",
                    {**r, "seen": seen})
                if r.get("cells") is not None:
                    self.db.execute("INSERT OR REPLACE INTO snapshots VALUES (?, ?)", (r["sha256"], r["cells"]))

    def snapshot(self, sha256: str) -> dict | None:
        """What a version said, cell by cell (cycle.diff.snapshot); None when it was never read."""
        row = self.db.execute("SELECT cells FROM snapshots WHERE sha256=?", (sha256,)).fetchone()
        return json.loads(row[0]) if row else None

    def versions(self) -> list[dict]:
        cur = self.db.execute("SELECT * FROM versions ORDER BY first_seen, rowid")   # ties: in the order recorded
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row)) for row in cur]

    def find_versions(self, text: str) -> list[dict]:
        """The versions a person names: a SHA-256 (or its first 8+ characters), or a file's name."""
        text = text.strip()
        rows = self.versions()
        low = text.lower()
        if len(low) >= 8 and all(c in "0123456789abcdef" for c in low):
            return [r for r in rows if r["sha256"].startswith(low)]
        name = Path(text).name
        return [r for r in rows if r["source"] == text or Path(r["source"].replace("!", "/")).name == name
                or r["source"].endswith(text)]

    # ------------------------------------------------------------------------------------ decisions

    def decide(self, action: Action, sha256: str, unit: str, by: str = "", note: str = "") -> Decision:
        d = Decision(Action(action), sha256, unit, now_text(), by, note)
        with self.transaction():
            self.db.execute("INSERT INTO decisions(time, action, sha256, unit, note, by) VALUES (?, ?, ?, ?, ?, ?)",
                            (d.time, d.action.value, sha256, unit, note, by))
        return d

    def decision_log(self) -> list[Decision]:
        """Every decision ever recorded, newest first (the audit log)."""
        return [Decision(Action(action), sha, unit, time, by, note) for time, action, sha, unit, note, by in
                self.db.execute("SELECT time, action, sha256, unit, note, by FROM decisions ORDER BY id DESC")]

    def decisions(self) -> dict[str, Decision]:
        """The decision that stands on each version (the latest)."""
        out = {}
        for time, action, sha, unit, note, by in self.db.execute(
                "SELECT time, action, sha256, unit, note, by FROM decisions ORDER BY id"):
            out[sha] = Decision(Action(action), sha, unit, time, by, note)
        return out

    # ------------------------------------------------------------------------------------ links and uploads

    def set_link(self, unit: str, token_hash: str, generation: int) -> None:
        """The unit's upload link (only a hash of its token is kept); a new one replaces the old."""
        with self.transaction():
            self.db.execute("INSERT OR REPLACE INTO links VALUES (?, ?, ?, ?)",
                            (unit, token_hash, now_text(), generation))

    def links(self) -> dict[str, tuple[str, int]]:
        """unit → (the hash of its link's token, the link's generation)."""
        return {u: (h, g) for u, h, g in self.db.execute("SELECT unit, token_hash, generation FROM links")}

    def unit_of_link(self, token_hash: str) -> str | None:
        row = self.db.execute("SELECT unit FROM links WHERE token_hash=?", (token_hash,)).fetchone()
        return row[0] if row else None

    def add_upload(self, sha256: str, unit: str, name: str, size: int, stored: str) -> dict:
        when = now_text()
        with self.transaction():
            cur = self.db.execute("INSERT INTO uploads(sha256, unit, time, name, size, stored) VALUES (?, ?, ?, ?, ?, ?)",
                                  (sha256, unit, when, name, size, stored))
        return {"id": cur.lastrowid, "sha256": sha256, "unit": unit, "time": when, "name": name, "size": size,
                "stored": stored}

    def uploads(self, unit: str | None = None) -> list[dict]:
        cur = self.db.execute("SELECT id, sha256, unit, time, name, size, stored FROM uploads"
                              + (" WHERE unit=?" if unit else "") + " ORDER BY id", (unit,) if unit else ())
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row)) for row in cur]

    # ------------------------------------------------------------------------------------ waivers

    def waive(self, sha256: str, finding: str, unit: str, reason: str, by: str = "") -> None:
        """The coordinator accepts one finding of one version as it is, with a reason (kept once; never removed)."""
        with self.transaction():
            self.db.execute("INSERT OR IGNORE INTO waivers(sha256, finding, unit, reason, by, time) VALUES "
                            "(?, ?, ?, ?, ?, ?)", (sha256, finding, unit, reason, by, now_text()))

    def waivers(self, sha256: str | None = None) -> dict[tuple[str, str], dict]:
        """(version, finding id) → {reason, by, time}."""
        cur = self.db.execute("SELECT sha256, finding, reason, by, time FROM waivers"
                              + (" WHERE sha256=?" if sha256 else ""), (sha256,) if sha256 else ())
        return {(sha, f): {"reason": r, "by": b, "time": t} for sha, f, r, b, t in cur}

    # ------------------------------------------------------------------------------------ migration

    def migrate_ledger(self, ledger_json: Path, key_of) -> int:
        """The events of an old 进度台账.json, once (key_of: the ledger's event key). Returns how many."""
        done = f"migrated:{Path(ledger_json).name}"
        if self.meta(done) or not Path(ledger_json).is_file():
            return 0
        data = json.loads(Path(ledger_json).read_text(encoding="utf-8"))
        n = self.add_events([(key_of(e), e) for e in data.get("events", [])])
        if data.get("due") and not self.meta("due"):
            self.set_meta("due", str(data["due"]))
        self.set_meta(done, now_text())
        return n


class _Transaction:
    """BEGIN IMMEDIATE … COMMIT (ROLLBACK on an exception): a writer waits for another at the start."""

    def __init__(self, db):
        self.db = db

    def __enter__(self):
        self.db.execute("BEGIN IMMEDIATE")
        return self.db

    def __exit__(self, kind, exc, tb):
        self.db.execute("ROLLBACK" if kind else "COMMIT")


def versions(col, mailed: dict | None = None, uploaded: dict | None = None) -> list[dict]:
    """The rows record_versions keeps for a collection: every file with content (an archive's members too),
    which unit its stamp names and which it came from, its channel, when it reached us, what was found.
    mailed: sha256 → (time, sender, unit, Message-ID) from fetch; uploaded: sha256 → (time, unit, name)."""
    from .collect import claimed_by_name
    from .diff import snapshot
    mailed, uploaded = mailed or {}, uploaded or {}
    rows = []
    for rec in col.files:
        if not rec.sha256:
            continue
        mail = mailed.get(rec.sha256)
        ret = rec.result if rec.packed is not None else None
        findings = [{"sheet": f.sheet, "cell": f.cell, "rule": f.rule_id, "severity": str(f.severity),
                     "message": f.message, "fix": f.fix, "target": list(f.target)} for f in (ret.findings if ret else [])]
        up = uploaded.get(rec.sha256)
        claimed = ((mail[2] if mail and len(mail) > 2 else "") or (up[1] if up else "")
                   or claimed_by_name(rec.display, col.roster))
        channel, detail, arrived = "文件夹", "", now_text(rec.mtime) if rec.mtime else ""
        if mail:
            channel, arrived = "邮件", mail[0] or arrived
            detail = f"发件人 {mail[1]}，Message-ID {mail[3] if len(mail) > 3 else ''}，服务器收到 {mail[0]}"
        elif up:
            channel, arrived, detail = "上传", up[0], f"单位上传链接，原文件名 {up[2]}"
        rows.append({
            "sha256": rec.sha256, "unit": rec.unit_code if rec.payload else "", "claimed": claimed,
            "channel": channel, "source": rec.display, "detail": detail, "arrived": arrived,
            "year": int(rec.stamp.year) if rec.payload and rec.stamp.year else None,
            "form": rec.stamp.form if rec.payload else "", "fate": str(rec.fate), "reason": rec.reason,
            "errors": rec.errors, "warnings": rec.warnings,
            "findings": json.dumps(findings, ensure_ascii=False),
            "cells": json.dumps(snapshot(ret), ensure_ascii=False) if ret else None})
    return rows
