"""The hidden stamp: what a workbook is, for whom, and what its locked cells hold.

The payload lives as JSON in a very-hidden sheet (it survives re-saving by WPS
and LibreOffice, and conversion to .xls and .ods) and is mirrored in custom
document properties. Its fingerprint is a hash of the payload, so an edited
stamp is detected; the locked cells are compared with what the payload says.
"""
from __future__ import annotations

import hashlib
import json

STAMP_SHEET = "_stamp"
LISTS_SHEET = "_lists"
FINDINGS_SHEET = "审核意见"   # first sheet of a feedback workbook
MAGIC = "perftables-stamp"
STAMP_FORMAT = 1


def fingerprint(payload: dict) -> str:
    body = json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(body.encode("utf-8")).hexdigest()[:32]


def stamp_rows(payload: dict) -> list[tuple[str, str]]:
    """Key/value rows written to the stamp sheet (column A keys, column B values)."""
    return [
        ("magic", MAGIC),
        ("stamp_format", str(STAMP_FORMAT)),
        ("form", payload["form"]),
        ("form_version", payload["form_version"]),
        ("year", str(payload["year"])),
        ("unit_code", payload["unit_code"]),
        ("fingerprint", fingerprint(payload)),
        ("payload", json.dumps(payload, ensure_ascii=False, sort_keys=True)),
    ]


class StampError(Exception):
    pass


def read_stamp(rows: list[list]) -> dict:
    """Parse the stamp sheet's rows; raise StampError with a Chinese reason."""
    kv = {}
    for row in rows:
        if len(row) >= 2 and isinstance(row[0], str):
            kv[row[0].strip()] = row[1]
    if kv.get("magic") != MAGIC:
        raise StampError("标识页内容不是 perftables 标识")
    try:
        payload = json.loads(kv.get("payload") or "")
    except (TypeError, ValueError):
        raise StampError("标识内容已损坏，无法解析") from None
    if not isinstance(payload, dict) or fingerprint(payload) != str(kv.get("fingerprint", "")).strip():
        raise StampError("标识内容与指纹不符（标识被改动）")
    return payload
