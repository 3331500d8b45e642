"""The round's board (perftables status) and the coordinator's decisions on versions (void, accept).

One line per roster unit, from the round's state alone (nothing is re-read): its state as the ledger says it
(the same words as the summary's 报送情况), 待确认 when a version concerning it waits for the coordinator,
how many versions, when the last reached us, open errors and warnings, days late."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ..core.errors import PerftablesError
from ..core.kinds import Fate
from .ledger import UnitStatus
from .state import Action, Decision, StateStore

HEAD = ["单位编码", "单位名称", "状态", "报送次数", "最近收到", "错误数", "警告数", "逾期天数", "待确认的文件"]


@dataclass
class BoardLine:
    code: str
    name: str
    status: UnitStatus
    detail: str          # said after the status (已退改，第 2 版)
    versions: int
    last: str            # when the last version reached us
    errors: int | None
    warnings: int | None
    days_late: int | None
    pending: str = ""    # the 待确认 versions concerning the unit (file names)

    @property
    def state(self) -> str:
        """As printed: 有问题（已退改，第 2 版）."""
        return f"{self.status}（{self.detail}）" if self.detail else str(self.status)

    def row(self) -> list:
        return [self.code, self.name, self.state, self.versions, self.last, self.errors, self.warnings,
                self.days_late, self.pending]


def pending_versions(store: StateStore) -> list[dict]:
    """Versions the last collect held as 待确认 and the coordinator has not decided on since."""
    decided = store.decisions()
    return [v for v in store.versions() if v["fate"] == Fate.PENDING and v["sha256"] not in decided]


def board(roster, ledger, store: StateStore, today: dt.date | None = None) -> list[BoardLine]:
    today = today or dt.date.today()
    pending = pending_versions(store)
    lines = []
    for unit in roster.units:
        st = ledger.state(unit.code, today)
        last = ledger.latest(unit.code)
        mine = [v["source"] for v in pending if unit.code in (v["unit"], v["claimed"])]
        got = ledger.received(unit.code)
        arrived = max(((e.get("mailed") or e["time"]) for e in got), default="")
        status, detail = (UnitStatus.PENDING, "") if mine else (st.status, st.detail)
        lines.append(BoardLine(unit.code, unit.name, status, detail, st.times, arrived[:16],
                               last.get("errors") if last else None, last.get("warnings") if last else None,
                               st.days_late, "、".join(mine)))
    return lines


def counts(lines: list[BoardLine]) -> dict[UnitStatus, int]:
    out: dict[UnitStatus, int] = {}
    for line in lines:
        out[line.status] = out.get(line.status, 0) + 1
    return out


class DecisionError(PerftablesError):
    """The version named cannot be decided on (a Chinese message)."""


def decide(store: StateStore, named: str, action: Action, by: str = "", note: str = "") -> tuple[Decision, dict]:
    """Record the coordinator's decision on the version a person names (its SHA-256 or a prefix of 8+, or its
    file name). Refuses a name that matches no version or several."""
    found = store.find_versions(named)
    if not found:
        raise DecisionError(f"本轮记录中没有“{named}”（文件名或 SHA-256 的前 8 位以上）。文件刚放进收件箱的，"
                            "先运行 perftables collect；perftables status 列出各单位的文件")
    if len({v["sha256"] for v in found}) > 1:
        listing = "；".join(f"{v['sha256'][:12]} {v['source']}" for v in found[:10])
        raise DecisionError(f"“{named}”对应多个版本，请用 SHA-256 的前 12 位指明：{listing}")
    version = found[0]
    if action == Action.ACCEPT and not version["unit"]:
        raise DecisionError(f"“{version['source']}”认不出是哪个单位的表（{version['reason']}），不能采用")
    return store.decide(action, version["sha256"], version["unit"] or version["claimed"], by, note), version


def publish_blockers(col, ledger=None) -> list[str]:
    """Why the collection should not be published yet, one line a unit (empty: nothing stands in the way):
    返回 with open errors, files 待确认, and — where the round's ledger says — roster units not approved."""
    lines = []
    for rec in col.files:
        if rec.fate == Fate.PENDING:
            lines.append(f"{rec.unit_code} {rec.unit_name}：有待确认的文件 {rec.display}")
    accepted = {rec.unit_code: rec for rec in col.accepted}
    units = col.roster.units if col.roster is not None else []
    named = {u.code: u.name for u in units}
    for code in sorted(accepted.keys() | named.keys()):
        rec = accepted.get(code)
        name = named.get(code) or rec.unit_name
        if rec is None:
            lines.append(f"{code} {name}：未报送")
        elif rec.errors:
            lines.append(f"{code} {name}：有 {rec.errors} 个错误未改")
        elif ledger is not None and not ledger.state(code).approved:
            lines.append(f"{code} {name}：{ledger.state(code).state}，未确认通过（perftables approve {code}）")
    return lines


def current_findings(store: StateStore, ledger, unit: str) -> tuple[dict | None, list[tuple[dict, dict | None]]]:
    """The unit's current version (as the ledger says) and each of its findings with its waiver (or None)."""
    import json
    from .upload import finding_id
    last = ledger.latest(unit)
    if last is None:
        return None, []
    version = next((v for v in store.versions() if v["sha256"] == last.get("sha256")), None)
    if version is None:
        return None, []
    waived = store.waivers(version["sha256"])
    return version, [(f, waived.get((version["sha256"], finding_id(f)))) for f in json.loads(version["findings"])]


def waive(store: StateStore, ledger, unit: str, finding: str, reason: str, by: str = "") -> str:
    """Waive one finding of the unit's current version, with a reason; what happened, in Chinese."""
    from .upload import finding_id
    version, findings = current_findings(store, ledger, unit)
    if version is None:
        raise DecisionError(f"{unit}：还没有收到这个单位的文件")
    match = next((f for f, _ in findings if finding_id(f) == finding), None)
    if match is None:
        raise DecisionError(f"{unit}：当前版本里没有这条问题（单位可能已交来新文件），请刷新后再看")
    if not reason.strip():
        raise DecisionError("豁免要写明理由（会记入操作记录）")
    store.waive(version["sha256"], finding, unit, reason.strip()[:500], by)
    return f"{unit}：已豁免“{match['message'][:40]}”"


def approve(store: StateStore, ledger, unit: str, by: str = "") -> str:
    """Approve the unit's current version: refused while an error of it is neither fixed nor waived."""
    version, findings = current_findings(store, ledger, unit)
    open_errors = [f for f, w in findings if f.get("severity") == "错误" and w is None]
    if version is not None and open_errors:
        raise DecisionError(f"{unit}：当前版本还有 {len(open_errors)} 个错误没有修改或豁免，不能确认通过")
    waived = sum(1 for _, w in findings if w is not None)
    said = ledger.approve(unit, by=by)
    return said + (f"（其中 {waived} 个问题已豁免）" if waived else "")
