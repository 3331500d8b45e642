"""The hidden stamp: what a workbook is, for whom, and what its locked cells hold.

The payload lives as JSON in a very-hidden sheet (it survives re-saving by WPS
and LibreOffice, and conversion to .xls and .ods) and is mirrored in custom
document properties. Its fingerprint is a hash of the payload, so an edited
stamp is detected; the locked cells are compared with what the payload says.
"""
from __future__ import annotations

import hashlib
import json
import re

from ..core.errors import PerftablesError
from ..core.kinds import FormKind
from ..core.resources import ID_RE
from ..core.text import UNIT_CODE_RE

STAMP_SHEET = "_stamp"
LISTS_SHEET = "_lists"
FINDINGS_SHEET = "审核意见"   # first sheet of a feedback workbook
MAGIC = "perftables-stamp"
STAMP_FORMAT = 1


def _canonical(payload: dict) -> bytes:
    return json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def fingerprint(payload: dict) -> str:
    return hashlib.sha256(_canonical(payload)).hexdigest()[:32]


def stamp_rows(payload: dict, key=None) -> list[tuple[str, str]]:
    """Key/value rows written to the stamp sheet (column A keys, column B values).
    key: the coordinator's signing key (io.keys.Key); payload["key_id"] names it."""
    rows = [
        ("magic", MAGIC),
        ("stamp_format", str(STAMP_FORMAT)),
        ("form", payload["form"]),
        ("form_version", payload["form_version"]),
        ("year", str(payload["year"])),
        ("unit_code", payload["unit_code"]),
        ("fingerprint", fingerprint(payload)),
        ("payload", json.dumps(payload, ensure_ascii=False, sort_keys=True)),
    ]
    if key is not None:
        rows.append(("signature", key.sign(_canonical(payload))))
    return rows


class StampError(PerftablesError):
    pass


def _stamp_values(rows: list[list]) -> dict:
    kv = {}
    for row in rows:
        if len(row) >= 2 and isinstance(row[0], str):
            kv[row[0].strip()] = row[1]
    return kv


def read_stamp(rows: list[list], key=None) -> dict:
    """Parse, validate and verify the stamp sheet's rows; raise StampError with a Chinese reason.
    key: the coordinator's key (None: none on this machine — the signature cannot be checked, and
    the caller says so). A payload of the wrong shape is 标识无效, never a crash later on."""
    kv = _stamp_values(rows)
    if kv.get("magic") != MAGIC:
        raise StampError("标识页内容不是 perftables 标识")
    try:
        payload = json.loads(kv.get("payload") or "")
    except (TypeError, ValueError, RecursionError):
        raise StampError("标识内容已损坏，无法解析") from None
    if not isinstance(payload, dict) or fingerprint(payload) != str(kv.get("fingerprint", "")).strip():
        raise StampError("标识内容与指纹不符（标识被改动）")
    validate_payload(payload)
    if key is not None:
        signature = kv.get("signature")
        if not signature:
            raise StampError("标识无效：没有签名（不是本机生成的模板，或标识被改动）")
        if payload.get("key_id") != key.id:
            raise StampError("标识无效：由另一把签名密钥签署——不是用本机的签名密钥生成的模板（若换过电脑，"
                             "请把原来电脑上的签名密钥文件复制过来，或用环境变量 PERFTABLES_KEY 指定）")
        if not key.verify(_canonical(payload), str(signature)):
            raise StampError("标识无效：签名不符（标识被伪造或改动）")
    return payload


_NAME = ID_RE
_CODE = re.compile(f"^{UNIT_CODE_RE.pattern}$")


def validate_payload(p: dict) -> None:
    """Every field of the stamp has the type and range the reader relies on."""
    def bad(what: str):
        raise StampError(f"标识无效：{what}")

    if p.get("tool") not in (None, "perftables"):
        bad("来源不是 perftables")
    for name in ("form", "taxonomy"):
        value = p.get(name)
        if name == "taxonomy" and value is None:
            continue
        if not isinstance(value, str) or not _NAME.match(value):
            bad(f"“{name}”不是表式名称")
    if not isinstance(p.get("form_version"), (str, int)) or isinstance(p.get("form_version"), bool):
        bad("模板版本格式不对")
    year = p.get("year")
    if not isinstance(year, int) or isinstance(year, bool) or not 2000 <= year <= 2099:
        bad(f"年度“{year}”不是四位数的年份")
    issue = p.get("issue", 1)
    if not isinstance(issue, int) or isinstance(issue, bool) or not 1 <= issue <= 999:
        bad(f"版次“{issue}”不对")
    if p.get("kind", FormKind.PROJECT_TARGET) not in tuple(FormKind):
        bad("表的种类不对")
    for name in ("unit_code", "unit_name"):
        if not isinstance(p.get(name), str) or not _CODE.match(p[name]) and name == "unit_code" or not p[name].strip():
            bad(f"“{name}”缺失或格式不对")
    projects = p.get("projects")
    if not isinstance(projects, list) or len(projects) > 500:
        bad("项目清单格式不对")
    for pr in projects:
        if not isinstance(pr, dict) or not isinstance(pr.get("sheet"), str) or not isinstance(pr.get("seq"), int) \
                or isinstance(pr.get("seq"), bool):
            bad("项目清单格式不对")
        for name in ("code", "name", "use"):
            if pr.get(name) is not None and not isinstance(pr[name], str):
                bad(f"项目的“{name}”格式不对")
        for name in ("budget", "fiscal", "other"):
            v = pr.get(name)
            if v is not None and (not isinstance(v, (int, float)) or isinstance(v, bool)):
                bad(f"项目的“{name}”不是数")
        if pr.get("indicators") is not None and not isinstance(pr["indicators"], list):
            bad("项目的指标格式不对")
        if pr.get("tables") is not None and not isinstance(pr["tables"], dict):
            bad("项目的内嵌表格式不对")
    spares = p.get("spares", [])
    if not isinstance(spares, list) or not all(isinstance(x, str) for x in spares):
        bad("备用工作表格式不对")
    if p.get("links") is not None and not isinstance(p["links"], dict):
        bad("关联信息格式不对")
