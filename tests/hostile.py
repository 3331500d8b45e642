"""Build the hostile inbox: every kind of return that comes back from county bureaus.

    python tests/hostile.py OUTDIR      (the tests call build(OUTDIR, ...))

Returns {file name: expected fate} — "accepted" (with or without findings), "rejected",
"superseded", "unpacked", or a tuple of allowed fates.
"""
from __future__ import annotations

import copy
import datetime as dt
import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from conftest import FIXED, libreoffice_available, patch_zip, seed_return  # noqa: E402
from perftables.forms.form import load_form  # noqa: E402
from perftables.cycle.generate import Options, workbook_bytes  # noqa: E402
from perftables.model.roster import Unit  # noqa: E402

OK, BAD, OLD, ZIP = "accepted", "rejected", "superseded", "unpacked"


class _GbkInfo(zipfile.ZipInfo):
    """A member name stored as GBK bytes without the UTF-8 flag, as Chinese Windows writes it."""

    def _encodeFilenameFlags(self):
        return self.filename.encode("gb18030"), self.flag_bits & ~0x800


def _zip(members: dict[str, bytes], gbk_names=False) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, body in members.items():
            info = (_GbkInfo if gbk_names else zipfile.ZipInfo)(name)
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, body)
    return out.getvalue()


def _bomb(size: int) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        with zf.open("returns/huge.xlsx", "w", force_zip64=True) as fh:
            chunk = b"\0" * (1 << 20)
            for _ in range(size >> 20):
                fh.write(chunk)
    return out.getvalue()


def _spare_fill(**fields) -> dict:
    base = {"project_code": "999001P009", "project_name": "新增项目", "budget": 1.0, "fiscal": 1.0, "other": 0.0,
            "use": "用途", "goal": "1.目标", "plan1": 25.0, "plan2": 50.0, "plan3": 75.0, "plan4": 100.0}
    base.update(fields)
    return base


def build(out: Path, roster, seed_tables) -> dict[str, object]:
    out.mkdir(parents=True, exist_ok=True)
    expect: dict[str, object] = {}

    def put(name, data, fate):
        (out / name).write_bytes(data)
        expect[name] = fate

    good = {code: seed_return(roster, seed_tables, code) for code in ("306001", "405002", "731002", "307001")}
    put("北戴河.xlsx", good["306001"], OK)
    put("唐山 - 副本.xlsx", good["405002"], OLD)          # the same return twice: one is superseded
    put("唐山.xlsx", good["405002"], OK)
    put("截断.xlsx", good["307001"][:5000], BAD)
    put("乱码.xlsx", b"PK\x03\x04" + b"\x00garbage" * 100, BAD)
    put("空文件.xlsx", b"", BAD)
    put("正文.xlsx", "请查收附件。".encode("gbk"), BAD)
    put("报告.docx", _zip({"[Content_Types].xml": b"<x/>", "word/document.xml": b"<x/>"}), BAD)
    put("附件.rar", b"Rar!\x1a\x07\x01\x00" + b"\0" * 64, BAD)
    put("炸弹.zip", _bomb(300 << 20), BAD)
    put("炸弹.xlsx", _zip({"[Content_Types].xml": b"<x/>", "xl/workbook.xml": b"<x/>",
                          "xl/sharedStrings.xml": b" " * (40 << 20)}), BAD)
    xxe = (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
           b'<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties"'
           b' xmlns:dcterms="http://purl.org/dc/terms/"><dcterms:modified>&e;</dcterms:modified></cp:coreProperties>')
    put("外部实体.xlsx", _replace_member(good["731002"], "docProps/core.xml", xxe), (OK, OLD))
    laughs = (b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
              b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>'
              b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>&d;</t></si></sst>')
    put("实体膨胀.xlsx", _replace_member(good["307001"], "xl/sharedStrings.xml", laughs), (BAD, OK))
    encrypted = _encrypt(good["307001"])
    if encrypted:
        put("加密.xlsx", encrypted, BAD)
    put("去年的.xlsx", seed_return(roster, seed_tables, "307001", year=2024), BAD)
    put("别的表式.xlsx", workbook_bytes(load_form("tangshan-project"), roster.unit("307001"),
                                       Options(year=2025, created=FIXED)), BAD)
    old_form = copy.copy(load_form("hebei-project"))
    old_form.version = "0.9"
    put("旧版本模板.xlsx", workbook_bytes(old_form, roster.unit("307001"), Options(year=2025, created=FIXED)), BAD)
    put("名单外单位.xlsx", workbook_bytes(load_form("hebei-project"), Unit("999999", "外县科协"),
                                        Options(year=2025, created=FIXED)), BAD)
    put("标识被删.xlsx", patch_zip(good["731002"], "xl/workbook.xml", b'name="_stamp"', b'name="_gone"'), OLD)
    tampered = patch_zip(good["306001"], "xl/sharedStrings.xml", "<t>人事代理经费</t>".encode(), "<t>人事经费</t>".encode())
    put("改了锁定格.xlsx", patch_zip(tampered, "docProps/core.xml", b'W3CDTF">2025-01-10T09:30:00Z</dcterms:modified',
                                        b'W3CDTF">2025-01-09T09:30:00Z</dcterms:modified'), OLD)
    # a unit that pasted over the dropdowns, typed numbers as text, dates, huge and hostile texts
    unit = roster.unit("307001")
    rows = [{"level1": "投入指标", "level2": "数量指标", "name": "粘贴的一级", "op": "约", "num": "90", "unit": "%",
             "basis": "年度工作计划"},
            {"level1": "产出指标", "level2": "满意度指标", "name": "粘贴的二级", "op": "≥", "num": "１２",
             "unit": "次", "basis": "=HYPERLINK(\"http://evil\")"},
            {"level1": "效益指标", "level2": "社会效益指标", "name": "@SUM(1)", "op": "定性", "num": "长" * 30000,
             "basis": "+1"},
            {"level1": "满意度指标", "level2": "服务对象满意度指标", "name": "群众满意度", "op": "≥", "num": "12.0 ",
             "unit": "%", "basis": "调查问卷"}]
    rows += [{"level1": "产出指标", "level2": "数量指标", "name": f"第{i}项", "op": "≥", "num": str(i), "unit": "次",
              "basis": "年度工作计划"} for i in range(10_000)]
    fill = {"texts": {"overall_goal": "-" + "很长的文字" * 6000},
            "projects": {"项目1": {"fields": {"goal": "目标", "plan1": "2025-03-31", "plan2": dt.date(2025, 6, 30),
                                              "plan3": "2025年9月", "plan4": "１００"}, "indicators": rows},
                         "新增项目1": {"fields": _spare_fill(budget="2,000", fiscal="12万元", other="１２"),
                                       "indicators": rows[:3]}}}
    put("粘贴覆盖.xlsx", workbook_bytes(load_form("hebei-project"), unit, Options(year=2025, created=FIXED,
                                                                              issue=2), fill), OK)
    # a .zip of returns, with Chinese names as Windows writes them and a path-traversal name
    put("打包.zip", _zip({"保定/保定市科协绩效目标表.xlsx": good["731002"], "../../逃逸.xlsx": b"not a workbook",
                        "说明.txt": "见附件".encode()}, gbk_names=True), ZIP)
    expect["打包.zip!保定/保定市科协绩效目标表.xlsx"] = (OK, OLD)
    expect["打包.zip!../../逃逸.xlsx"] = BAD
    expect["打包.zip!说明.txt"] = BAD
    if libreoffice_available():
        conv = out.parent / "lo-conversions"
        conv.mkdir(exist_ok=True)
        src = conv / "丰宁.xlsx"
        src.write_bytes(good["307001"])
        for fmt in ("xls", "ods"):
            subprocess.run(["soffice", "--headless", f"-env:UserInstallation=file://{conv}/profile",
                            "--convert-to", fmt, "--outdir", str(conv), str(src)], check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=180)
        put("丰宁.xls", (conv / "丰宁.xls").read_bytes(), (OK, OLD))
        put("丰宁.et", (conv / "丰宁.xls").read_bytes(), (OK, OLD))   # WPS .et is the same CFB/BIFF file
        put("丰宁.ods", (conv / "丰宁.ods").read_bytes(), (OK, OLD))
        # unprotected, a row inserted above the budget block and two grid rows deleted, then re-saved
        job = conv / "job.json"
        job.write_text(json.dumps({"input": str(src), "insert_rows": [["项目1", 3, 1], ["项目2", 12, 2]],
                                   "delete_rows": [["项目1", 16, 2]],
                                   "outputs": {"xlsx": str(conv / "改行.xlsx")}}, ensure_ascii=False), encoding="utf-8")
        subprocess.run(["/usr/bin/python3", str(Path(__file__).with_name("lo_fill.py")), str(job)], check=True,
                       timeout=300)
        put("增删行.xlsx", (conv / "改行.xlsx").read_bytes(), (OK, OLD))
    return expect


def _replace_member(data: bytes, member: str, body: bytes) -> bytes:
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info, body if info.filename == member else src.read(info.filename))
    return out.getvalue()


def _encrypt(data: bytes) -> bytes | None:
    try:
        from msoffcrypto.format.ooxml import OOXMLFile
    except ImportError:
        return None
    out = io.BytesIO()
    OOXMLFile(io.BytesIO(data)).encrypt("secret", out)
    return out.getvalue()


if __name__ == "__main__":
    import json
    from perftables.cli.demo import EXAMPLES
    from perftables.model.roster import read_roster
    seeds = json.loads((EXAMPLES / "seed_tables.json").read_text(encoding="utf-8"))
    for name, fate in build(Path(sys.argv[1]), read_roster(EXAMPLES / "roster.csv"), seeds).items():
        print(fate, name)
