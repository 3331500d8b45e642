"""The ledger: each unit's state through the cycle, kept beside the summary (进度台账.json) across runs.

已下发 → 已收到 → 有问题（已退改，第 2 版）→ 已修改 → 通过, or 未报送 — with dates, every file a unit sent
(第 n 次报送, its SHA-256, when it was mailed and saved, what the review found), every feedback workbook,
reminder and approval. The ledger only grows: an event is added once (a repeated run adds nothing), it is
written atomically after the run's other outputs, and a run that fails leaves it as it was.

Who writes what: mail (已下发, 已发退改, 已催报, when a message is sent), collect (已收到 for each new file of
a unit, 已退改 for each feedback workbook, 通过 for each row the coordinator marked in the summary's
报送情况 column 确认通过), approve (通过).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from ..core.errors import PerftablesError
from ..core.files import write_text
from .collect import ACCEPTED, ACCEPTED_FINDINGS, SUPERSEDED, newest_key
from .state import Action

LEDGER_NAME = "进度台账.json"
SENT, RECEIVED, FEEDBACK, FEEDBACK_SENT, REMINDED, APPROVED = "已下发", "已收到", "已退改", "已发退改", "已催报", "通过"
RETURNED = "已退回"   # the coordinator sent the unit's file back with a note (the web console's 退回)
EVENTS = (SENT, RECEIVED, FEEDBACK, FEEDBACK_SENT, REMINDED, APPROVED, RETURNED)


class UnitStatus(StrEnum):
    """Where a unit is in the round (报送情况's 状态, the board's 状态): its value is the word printed."""
    ISSUED = "已下发"
    MISSING = "未报送"
    RECEIVED = "已收到"
    PROBLEM = "有问题"
    CORRECTED = "已修改"
    PASSED = "通过"
    RETURNED = RETURNED          # the coordinator sent its file back (the web console's 退回)
    PENDING = "待确认"           # a version concerning it waits for the coordinator (the board only)


APPROVE_WORDS = {"是", "通过", "已通过", "确认", "同意", "√", "✓", "✔", "y", "yes", "ok", "1"}
APPROVE_COLUMN = "确认通过（填“是”）"


class LedgerError(PerftablesError):
    """The ledger cannot be read: a Chinese message (it is never silently started over)."""


def ledger_path(where) -> Path:
    """The ledger of a summary: given the summary workbook, its folder, or the ledger file itself."""
    where = Path(where)
    if where.suffix.lower() == ".json":
        return where
    if where.suffix.lower() == ".xlsx" or (where.exists() and where.is_file()):
        return where.parent / LEDGER_NAME
    return where / LEDGER_NAME


@dataclass
class UnitState:
    code: str
    status: UnitStatus
    times: int = 0                 # files received (第 n 次报送)
    days_late: int | None = None
    history: str = ""              # every event, oldest first, one line each
    approved: bool = False
    detail: str = ""               # said after the status: 已退改，第 2 版 / 有警告

    @property
    def state(self) -> str:
        """As printed: 有问题（已退改，第 2 版）."""
        return f"{self.status}（{self.detail}）" if self.detail else str(self.status)


@dataclass
class Ledger:
    path: Path
    events: list = field(default_factory=list)
    due: str = ""                  # the deadline (YYYY-MM-DD) the coordinator gave last
    _keys: set = field(default_factory=set, repr=False)
    store: object = None           # a round's: the events live in its state (cycle.state), not in a JSON file
    decided: dict = field(default_factory=dict)   # a round's decisions on versions: sha256 → state.Decision
    _new: list = field(default_factory=list, repr=False)

    @classmethod
    def of_round(cls, store, due: str = "", old_json: Path | None = None) -> "Ledger":
        """The ledger of a round: its events and decisions from the round's state (an old 进度台账.json beside
        the summary is taken in once)."""
        ledger = cls(store.path, store=store, due=due)
        if old_json is not None and old_json.is_file():
            try:
                store.migrate_ledger(old_json, ledger._store_key)
            except (OSError, UnicodeDecodeError, ValueError) as exc:
                raise LedgerError(f"进度台账“{old_json}”无法读取（{exc}），没有并入本轮记录：请从备份恢复") from None
        for e in store.events():
            ledger._add(e, new=False)
        ledger.decided = store.decisions()
        return ledger

    def _store_key(self, e: dict) -> tuple:
        key = self._key(e)
        return (key[0], key[1], key[2] or "", key[3] if len(key) > 3 else "")

    @classmethod
    def load(cls, where) -> "Ledger":
        path = ledger_path(where)
        ledger = cls(path)
        if not path.is_file():
            return ledger
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            ledger.due = str(data.get("due", "") or "")
            for e in data["events"]:
                if not (isinstance(e, dict) and e.get("event") in EVENTS and e.get("unit") and e.get("time")):
                    raise ValueError(f"无法识别的记录 {str(e)[:80]}")
                ledger._add(e, new=False)
        except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
            raise LedgerError(f"进度台账“{path}”无法读取（{exc}）。台账只增不减，perftables 不会丢弃它重来："
                              "请从备份恢复；确实要从头记录，把它改名后重新运行") from None
        return ledger

    def _key(self, e: dict) -> tuple:
        if e["event"] in (RECEIVED, APPROVED, FEEDBACK, RETURNED):
            return (e["unit"], e["event"], e.get("sha256", ""))
        return (e["unit"], e["event"], e.get("sha256", ""), e["time"][:10])   # one a day

    def _add(self, e: dict, new: bool = True) -> bool:
        key = self._key(e)
        if key in self._keys:
            return False
        self._keys.add(key)
        self.events.append(e)
        if new:
            self._new.append(e)
        return True

    def has(self, unit: str, event: str, sha256: str = "", day: str | None = None) -> bool:
        key = (unit, event, sha256) if day is None else (unit, event, sha256, day)
        return key in self._keys

    def add(self, unit: str, event: str, when: dt.datetime | None = None, **info) -> bool:
        """Record an event once; returns whether it was new."""
        e = {"time": (when or dt.datetime.now()).strftime("%Y-%m-%d %H:%M:%S"), "unit": unit, "event": event}
        e.update({k: v for k, v in info.items() if v not in (None, "")})
        return self._add(e)

    def digest(self) -> str:
        decided = sorted((sha, d.action, d.time) for sha, d in self.decided.items())
        return hashlib.sha256(json.dumps([self.due, self.events, decided], ensure_ascii=False,
                                         sort_keys=True).encode()).hexdigest()

    def save(self) -> Path:
        if self.store is not None:   # one transaction; what another process added meanwhile is kept
            self.store.add_events([(self._store_key(e), e) for e in self._new])
            self._new = []
            return self.path
        body = {"说明": "perftables 进度台账：各单位在本轮填报中的每一步（只增不减，请勿手工修改）",
                "due": self.due, "events": self.events}
        write_text(self.path, json.dumps(body, ensure_ascii=False, indent=1) + "\n")
        return self.path

    # ----------------------------------------------------------------------------------------- reading

    def of(self, unit: str) -> list[dict]:
        return [e for e in self.events if e["unit"] == unit]

    def received(self, unit: str) -> list[dict]:
        """The unit's files received, without those the coordinator voided."""
        return [e for e in self.of(unit) if e["event"] == RECEIVED and not self._voided(e.get("sha256"))]

    def _voided(self, sha256) -> bool:
        d = self.decided.get(sha256 or "")
        return d is not None and d.action is Action.VOID

    def latest(self, unit: str) -> dict | None:
        """The 已收到 event of the unit's file that stands (None before any): the one the coordinator accepted,
        else the newest."""
        got = self.received(unit)
        if not got:
            return None
        pinned = [e for e in got if (d := self.decided.get(e.get("sha256") or "")) is not None and d.action is Action.ACCEPT]
        return _latest(pinned or got)

    def state(self, unit: str, today: dt.date | None = None) -> UnitState:
        today = today or dt.date.today()
        events = self.of(unit)
        got = self.received(unit)
        due = _date(self.due)
        st = UnitState(unit, UnitStatus.MISSING, times=len(got), history=_history(events))
        if not got:
            st.status = UnitStatus.ISSUED if any(e["event"] == SENT for e in events) else UnitStatus.MISSING
            if due and today > due:
                st.status, st.days_late = UnitStatus.MISSING, (today - due).days
            return st
        last = self.latest(unit)
        first_in = _arrived(got[0])
        if due and first_in and first_in > due:
            st.days_late = (first_in - due).days
        if any(e["event"] == APPROVED and e.get("sha256") == last.get("sha256") for e in events):
            st.status, st.approved = UnitStatus.PASSED, True
        elif any(e["event"] == RETURNED and e.get("sha256") == last.get("sha256") for e in events):
            st.status = UnitStatus.RETURNED
        elif last.get("errors"):
            fb = [e for e in events if e["event"] == FEEDBACK and e.get("sha256") == last.get("sha256")]
            sent = any(e["event"] == FEEDBACK_SENT and e.get("sha256") == last.get("sha256") for e in events)
            st.status = UnitStatus.PROBLEM
            st.detail = "" if not fb else f"已退改，第 {fb[-1].get('issue')} 版" if sent \
                else f"退改第 {fb[-1].get('issue')} 版已生成，未发送"
        else:   # no errors: the coordinator looks at it (and its warnings) and approves
            corrected = len(got) > 1 and any(e["event"] == FEEDBACK for e in events)
            st.status = UnitStatus.CORRECTED if corrected else UnitStatus.RECEIVED
            st.detail = "有警告" if last.get("warnings") else ""
        return st

    # ----------------------------------------------------------------------------------------- writing

    def observe(self, col, mailed: dict | None = None) -> int:
        """Each unit's files in this collection (accepted and superseded, oldest first) as 已收到, once
        each; mailed: sha256 → (mail time, sender) from fetch logs. Returns how many were new."""
        mailed = mailed or {}
        new = 0
        files = sorted((f for f in col.files if f.fate in (ACCEPTED, ACCEPTED_FINDINGS, SUPERSEDED) and f.unit_code),
                       key=lambda f: (f.when, f.display))
        reviewed_copy = {f.sha256: f for f in files if f.fate != SUPERSEDED}
        for f in files:
            f = reviewed_copy.get(f.sha256, f)    # the same bytes twice: the copy that was reviewed speaks
            if self.has(f.unit_code, RECEIVED, f.sha256):
                continue
            mail = mailed.get(f.sha256)
            reviewed = f.fate != SUPERSEDED
            new += self.add(f.unit_code, RECEIVED, sha256=f.sha256, file=f.display,
                            saved=f.when.strftime("%Y-%m-%d %H:%M:%S") if f.saved or f.mtime else None,
                            mailed=mail[0] if mail else None, sender=mail[1] if mail else None,
                            issue=f.stamp.issue if f.payload else None,
                            errors=f.errors if reviewed else None, warnings=f.warnings if reviewed else None,
                            note=None if reviewed else "已被更新的文件替代")
        return new

    def units(self) -> list[str]:
        """Every unit the ledger knows, in the order it first heard of them."""
        return list(dict.fromkeys(e["unit"] for e in self.events))

    def clean_unapproved(self) -> list[str]:
        """The units whose latest file has no error and no warning and is not approved yet (approve --all-clean)."""
        out = []
        for unit in self.units():
            last = self.latest(unit)
            if last and not last.get("errors") and not last.get("warnings") and not self.state(unit).approved:
                out.append(unit)
        return out

    def approve_many(self, units: list[str], by: str = "", force: bool = False) -> list[tuple[str, bool]]:
        """Approve each unit in turn: (what happened, whether it was approved) for each, in Chinese."""
        out = []
        for unit in units:
            try:
                out.append((self.approve(unit, by=by, force=force), True))
            except LedgerError as exc:
                out.append((str(exc), False))
        return out

    def approve(self, unit: str, by: str = "", force: bool = False) -> str:
        """Mark the unit's latest file 通过; returns what happened, in Chinese (raises LedgerError when it
        cannot be approved)."""
        got = self.received(unit)
        if not got:
            raise LedgerError(f"{unit}：还没有收到这个单位的文件，不能确认通过")
        last = self.latest(unit)
        n = got.index(last) + 1
        errors = self._open_errors(last)
        if errors and not force:
            raise LedgerError(f"{unit}：第 {n} 次报送的文件有 {errors} 个错误没有修改或豁免，不能确认通过"
                              "（先退改；确需通过请加 --force）")
        if self.add(unit, APPROVED, sha256=last.get("sha256"), file=last.get("file"), by=by or None):
            return f"{unit}：第 {n} 次报送的文件（{last.get('file')}）已确认通过"
        return f"{unit}：第 {n} 次报送的文件此前已确认通过"

    def _open_errors(self, last: dict) -> int:
        """The errors of a received file that the coordinator has not waived (a round keeps waivers)."""
        errors = last.get("errors") or 0
        if not errors or self.store is None:
            return errors
        waived = {f for sha, f in self.store.waivers(last.get("sha256"))}
        version = next((v for v in self.store.versions() if v["sha256"] == last.get("sha256")), None)
        if version is None:
            return errors
        from .upload import finding_id
        return sum(1 for f in json.loads(version["findings"]) if f.get("severity") == "错误"
                   and finding_id(f) not in waived)

    def send_back(self, unit: str, note: str, by: str = "") -> str:
        """退回: the unit's current file goes back to it with the coordinator's note (a new file reopens it)."""
        last = self.latest(unit)
        if last is None:
            raise LedgerError(f"{unit}：还没有收到这个单位的文件，无从退回")
        if not note.strip():
            raise LedgerError(f"{unit}：退回要写明原因（单位会看到它）")
        self.add(unit, RETURNED, sha256=last.get("sha256"), file=last.get("file"), note=note.strip()[:500], by=by or None)
        return f"{unit}：{last.get('file')} 已退回，单位在网页上会看到说明"

    def returned_note(self, unit: str) -> str:
        """The coordinator's note on the unit's current file, when it was sent back ('' otherwise)."""
        last = self.latest(unit)
        notes = [e.get("note", "") for e in self.of(unit) if e["event"] == RETURNED and last
                 and e.get("sha256") == last.get("sha256")]
        return notes[-1] if notes else ""

    def approvals_from_summary(self, summary: Path) -> list[str]:
        """Rows of the summary's 报送情况 whose 确认通过 cell the coordinator filled: approved, for the
        file that row shows (a newer file since then is not approved by it)."""
        try:
            from python_calamine import CalamineWorkbook
            book = CalamineWorkbook.from_path(str(summary))
            if "报送情况" not in book.sheet_names:
                return []
            rows = book.get_sheet_by_name("报送情况").to_python(skip_empty_area=False)
        except Exception:   # noqa: BLE001 — a summary we cannot read has no approvals to carry over
            return []
        head = next((i for i, r in enumerate(rows[:5]) if "单位编码" in [str(c).strip() for c in r]), None)
        if head is None:
            return []
        names = [str(c).strip() for c in rows[head]]
        if APPROVE_COLUMN not in names or "文件SHA-256" not in names:
            return []
        ci, ai, si = names.index("单位编码"), names.index(APPROVE_COLUMN), names.index("文件SHA-256")
        done = []
        for r in rows[head + 1:]:
            mark = str(r[ai]).strip().lower() if ai < len(r) and r[ai] is not None else ""
            code = str(r[ci]).strip() if ci < len(r) else ""
            digest = str(r[si]).strip() if si < len(r) else ""
            if code and digest and mark in APPROVE_WORDS and self.has(code, RECEIVED, digest) \
                    and self.add(code, APPROVED, sha256=digest, by="汇总表“确认通过”列",
                                 file=next((e.get("file") for e in self.received(code) if e.get("sha256") == digest), None)):
                done.append(code)
        return done


def _date(text) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(text)[:10]) if text else None
    except ValueError:
        return None


def _latest(received: list[dict]) -> dict:
    """The file that stands, as collect decides it (collect.newest_key: the stamp's issue, then the file's own
    saved time): an older file that came in later does not replace it."""
    return max(received, key=lambda e: (*newest_key(e.get("issue"), e.get("saved") or e["time"], e.get("file")),
                                        e["time"]))


def _arrived(e: dict) -> dt.date:
    """When a file came in: the mail's date (fetch log); else when it was saved, if that is before perftables
    first saw it; else when perftables first saw it."""
    seen = _date(e["time"])
    if _date(e.get("mailed")):
        return _date(e["mailed"])
    saved = _date(e.get("saved"))
    return saved if saved and seen and saved <= seen else seen


def _history(events: list[dict]) -> str:
    lines, n = [], 0
    for e in events:
        day = e["time"][:10]
        if e["event"] == RECEIVED:
            n += 1
            when = _arrived(e).isoformat()
            found = (f"错误 {e.get('errors', 0)}、警告 {e.get('warnings', 0)}" if e.get("errors") is not None
                     else e.get("note", ""))
            lines.append(f"{when} 第 {n} 次报送：{e.get('file', '')}（{found}）")
        elif e["event"] == FEEDBACK:
            lines.append(f"{day} 生成退改工作簿（第 {e.get('issue', '')} 版）")
        elif e["event"] == APPROVED:
            lines.append(f"{day} 通过" + (f"（{e['by']}）" if e.get("by") else ""))
        else:
            lines.append(f"{day} {e['event']}" + (f"：{e['note']}" if e.get("note") else ""))
    return "\n".join(lines)
