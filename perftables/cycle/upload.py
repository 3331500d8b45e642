"""A return uploaded on the round's web console: kept, reviewed at once, recorded — the same checks as collect.

The uploaded bytes are stored by their content hash under the round's inbox (2-收件箱/网页上传/), never under the
name the browser sent; the next `perftables collect` reads them like any other return. The review is collect's
own, on this one file, with the unit of the link as where it came from (a workbook stamped for another unit is
待确认, never current). Findings are compared with the unit's previous upload (问题销号)."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from ..core.errors import PerftablesError
from ..core.files import write_bytes
from ..io.book import Format, sniff
from .collect import Collection, FileRecord, collect
from .state import StateStore, versions

UPLOADS = "网页上传"
ACCEPTED_KINDS = {Format.XLSX: "xlsx", Format.XLS: "xls", Format.ODS: "ods", Format.DOCX: "docx", Format.DOC: "doc",
                  Format.ZIP: "zip"}   # what an upload may be, and the extension it is stored under
RESOLVED, OPEN, NEW = "已解决", "仍存在", "新出现"


class UploadError(PerftablesError):
    """An upload that is not a return at all (a Chinese message for the clerk)."""


@dataclass
class Upload:
    """What an upload became: its records (an archive's members too), and each finding against the last upload."""
    sha256: str
    name: str
    records: list[FileRecord]
    collection: Collection
    tracked: list[tuple[str, dict]] = field(default_factory=list)   # (已解决/仍存在/新出现, finding)

    @property
    def main(self) -> FileRecord:
        """The record the clerk cares about: the reviewed return (or the first, with its reason)."""
        return next((r for r in self.records if r.packed is not None), self.records[-1])


def _key(f: dict) -> tuple:
    """A finding's identity across versions: its sheet, rule and place in the form (not the cell address)."""
    return (f.get("sheet"), f.get("rule"), tuple(f.get("target") or ()) or f.get("cell"))


def finding_id(f: dict) -> str:
    """A finding's identity as text (what a waiver names)."""
    return json.dumps(_key(f), ensure_ascii=False)


def track(previous: list[dict], now: list[dict]) -> list[tuple[str, dict]]:
    """Each finding of the new version as 仍存在 or 新出现, and each of the last one that is gone as 已解决."""
    before = {_key(f) for f in previous}
    after = {_key(f) for f in now}
    return ([(OPEN if _key(f) in before else NEW, f) for f in now]
            + [(RESOLVED, f) for f in previous if _key(f) not in after])


def receive(rnd, store: StateStore, unit: str, name: str, data: bytes) -> Upload:
    """Keep, review and record one upload of a unit (see the module's note)."""
    kind = sniff(data)
    if kind not in ACCEPTED_KINDS:
        raise UploadError(f"“{name}”不是可以上传的文件（可上传 xlsx、xls、et、ods、docx 或 zip），请上传填好的表")
    sha = hashlib.sha256(data).hexdigest()
    stored = rnd.inbox / UPLOADS / f"{sha}.{ACCEPTED_KINDS[kind]}"
    if not stored.is_file():
        write_bytes(stored, data)
    previous = _last_findings(store, unit)
    up = store.add_upload(sha, unit, name[:200], len(data), str(stored.relative_to(rnd.folder)))
    ledger = rnd.ledger(store)
    col = collect([stored], roster=rnd.roster(), year=rnd.year, kind=rnd.kind, workers=1,
                  decisions=ledger.decided, claims={sha: (unit, "上传链接")})
    for rec in col.files:
        rec.display = name if rec.display == stored.name else rec.display.replace(stored.name, name, 1)
    arrival = {sha: (up["time"], "网页上传", unit, "")}
    ledger.observe(col, mailed=arrival)
    ledger.save()
    store.record_versions(versions(col, uploaded={sha: (up["time"], unit, name)}))
    result = Upload(sha, name, col.files, col)
    now = json.loads(next((v["findings"] for v in store.versions() if v["sha256"] == result.main.sha256), "[]"))
    result.tracked = track(previous, now) if previous is not None else [(NEW, f) for f in now]
    return result


def _last_findings(store: StateStore, unit: str) -> list[dict] | None:
    """The findings of the unit's last reviewed upload (None before any)."""
    shas = [u["sha256"] for u in store.uploads(unit)]
    by_sha = {v["sha256"]: v for v in store.versions()}
    for sha in reversed(shas):
        v = by_sha.get(sha)
        if v is not None:
            return json.loads(v["findings"] or "[]")
    return None


def stored_path(rnd, upload: dict) -> Path:
    return rnd.folder / upload["stored"]


def review_of(store: StateStore, upload_id: int, unit: str) -> dict | None:
    """What one upload of the unit became, from the round's state: the upload, its versions (an archive's
    members too) and its findings against the unit's previous upload. None: not this unit's upload."""
    ups = store.uploads(unit)
    at = next((i for i, u in enumerate(ups) if u["id"] == upload_id), None)
    if at is None:
        return None
    up = ups[at]
    by_sha = {v["sha256"]: v for v in store.versions()}
    mine = [v for v in by_sha.values() if v["sha256"] == up["sha256"] or v["source"].startswith(up["name"] + "!")]
    reviewed = next((v for v in mine if v["unit"]), mine[0] if mine else None)
    now = json.loads(reviewed["findings"]) if reviewed else []
    before = next((by_sha[u["sha256"]] for u in reversed(ups[:at]) if u["sha256"] in by_sha), None)
    tracked = track(json.loads(before["findings"]), now) if before else [(NEW, f) for f in now]
    order = {NEW: 0, OPEN: 1, RESOLVED: 2}
    tracked.sort(key=lambda t: (order[t[0]], t[1].get("severity") != "错误"))
    waived = {f for sha, f in store.waivers(reviewed["sha256"])} if reviewed else set()
    for status, f in tracked:
        f["waived"] = status != RESOLVED and finding_id(f) in waived
    return {"upload": up, "versions": mine, "version": reviewed, "tracked": tracked, "first": before is None,
            "errors": sum(1 for s, f in tracked if s != RESOLVED and f.get("severity") == "错误" and not f["waived"]),
            "warnings": sum(1 for s, f in tracked if s != RESOLVED and f.get("severity") != "错误"),
            "resolved": sum(1 for s, _ in tracked if s == RESOLVED)}


def compare_versions(versions: list[dict]) -> dict[str, dict]:
    """Each version against the one of the same unit before it (in the order received): how many of the earlier
    version's findings it resolved, kept and added. sha256 → {已解决, 仍存在, 新出现, before: the earlier
    version's sha256}; the first has none."""
    out, last, last_sha = {}, {}, {}
    for v in versions:
        if not v["unit"] or v["fate"] in ("未采用", "已作废"):
            continue
        now = json.loads(v["findings"] or "[]")
        before = last.get(v["unit"])
        if before is not None:
            counts = {RESOLVED: 0, OPEN: 0, NEW: 0}
            for status, _ in track(before, now):
                counts[status] += 1
            out[v["sha256"]] = {**counts, "before": last_sha[v["unit"]]}
        last[v["unit"]], last_sha[v["unit"]] = now, v["sha256"]
    return out
