"""Hostile world, round 2: file-system faults, links, the cache, formulas and numerals in returns,
every CSV the tool writes, e-mail headers, summaries beyond Excel's row limit, and mutation fuzzing."""
import csv
import hashlib
import io
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from conftest import run, EXAMPLES, make_workbook, patch_zip, rewrite_zip
from perftables.cycle import collect as collect_module
from perftables.cycle.collect import ACCEPTED, REJECTED, collect, read_input
from perftables.io.book import _REL_TAG, _SHEET_TAG

ROSTER = EXAMPLES / "roster.csv"
FORMULA_START = ("=", "+", "-", "@")


def tree(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and not p.is_symlink()}


def filled_fill(**plan):
    return {"texts": {"overall_goal": "开展科普活动"},
            "projects": {"项目1": {"fields": {"goal": "完成年度任务", "plan1": 25, "plan2": 50, "plan3": 75,
                                              "plan4": 100, **plan},
                                   "indicators": [{"level1": "产出指标", "level2": "数量指标", "name": "活动次数",
                                                   "description": "开展活动", "op": "≥", "num": "4", "unit": "次",
                                                   "basis": "计划标准"}]}}}


def sheet_part(data: bytes, sheet: str) -> str:
    zf = zipfile.ZipFile(io.BytesIO(data))
    rels = dict(_REL_TAG.findall(zf.read("xl/_rels/workbook.xml.rels")))
    sheets = dict(_SHEET_TAG.findall(zf.read("xl/workbook.xml")))
    return "xl/" + rels[sheets[sheet.encode()]].decode()


def put_formula(data: bytes, sheet: str, address: str, formula: str) -> bytes:
    """A formula typed into a cell (its cached result kept), as Excel saves it."""
    part = sheet_part(data, sheet)
    xml = zipfile.ZipFile(io.BytesIO(data)).read(part)
    m = re.search(rf'<c r="{address}"([^>]*?)(/>|>(.*?)</c>)'.encode(), xml)
    assert m, address
    attrs = re.sub(rb'\s*t="[^"]*"', b"", m.group(1))
    new = b'<c r="' + address.encode() + b'"' + attrs + b"><f>" + formula.encode() + b"</f><v>25</v></c>"
    return patch_zip(data, part, m.group(0), new)


# --------------------------------------------------------------------------- file-system faults

def test_an_unreadable_file_is_listed_and_the_run_goes_on(tmp_path, small_unit, monkeypatch):
    inbox = tmp_path / "in"
    inbox.mkdir()
    (inbox / "好.xlsx").write_bytes(make_workbook(small_unit, fill=filled_fill()))
    bad = inbox / "没权限.xlsx"
    bad.write_bytes(make_workbook(small_unit))
    real = Path.read_bytes

    def read_bytes(self):
        if self.name == "没权限.xlsx":
            raise PermissionError(13, "Permission denied", str(self))
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    monkeypatch.setenv("PERFTABLES_WORKERS", "1")
    r = run("collect", inbox, "-o", tmp_path / "s.xlsx", "--no-cache")
    assert r.exit_code == 0, r.output
    assert "[未采用] in/没权限.xlsx：无法读取“" in r.output and "没有权限" in r.output
    assert "[已采用" in r.output


def test_a_cache_that_cannot_be_used_is_set_aside_and_rebuilt(tmp_path):
    out = tmp_path / "s.xlsx"
    cache = tmp_path / "s.xlsx.cache.sqlite"
    for kind in ("other schema", "garbage", "folder"):
        for p in tmp_path.glob("s.xlsx.cache.sqlite*"):
            shutil.rmtree(p) if p.is_dir() else p.unlink()
        if kind == "other schema":
            db = sqlite3.connect(cache)
            db.execute("CREATE TABLE files (sha256 TEXT PRIMARY KEY, blob BLOB)")
            db.commit()
            db.close()
        elif kind == "garbage":
            cache.write_bytes(b"SQLite format 3\0" + os.urandom(3000))
        else:
            cache.mkdir()
        r = run("collect", EXAMPLES / "returns", "-o", out)
        assert r.exit_code == 0, (kind, r.output)
        assert "缓存" in r.output and "Traceback" not in r.output, (kind, r.output)
        assert any(p.name.startswith("s.xlsx.cache.sqlite.unusable-") for p in tmp_path.iterdir()), kind
        r = run("collect", EXAMPLES / "returns", "-o", out)   # the rebuilt cache works
        assert r.exit_code == 0 and "收件箱与上次相同" in r.output, (kind, r.output)


def test_cache_entries_are_never_trusted_unsigned(tmp_path, monkeypatch):
    """A cache entry changed by someone else (without the key) is not used: the file is read again."""
    out = tmp_path / "s.xlsx"
    assert run("collect", EXAMPLES / "returns", "-o", out).exit_code == 0
    db = sqlite3.connect(tmp_path / "s.xlsx.cache.sqlite")
    rows = db.execute("SELECT sha256, data FROM files").fetchall()
    assert len(rows) == 4
    # swap two units' cached results: with a valid-looking entry, a return would be read as another one
    (a, da), (b, dbb) = rows[:2]
    db.execute("UPDATE files SET data = ? WHERE sha256 = ?", (dbb, a))
    db.execute("UPDATE files SET data = ? WHERE sha256 = ?", (da, b))
    db.execute("DELETE FROM runs")
    db.commit()
    db.close()
    seen = []
    real = collect_module.read_input
    monkeypatch.setattr(collect_module, "read_input", lambda *a: seen.append(a[1]) or real(*a))
    monkeypatch.setenv("PERFTABLES_WORKERS", "1")
    fresh = collect([EXAMPLES / "returns"])
    cache = collect_module.CollectCache(tmp_path / "s.xlsx.cache.sqlite")
    col = collect([EXAMPLES / "returns"], cache=cache, workers=1)
    cache.close()
    assert len(seen) >= 4 + 2    # the two swapped entries were read again
    assert [(f.display, f.unit_code) for f in col.files] == [(f.display, f.unit_code) for f in fresh.files]


def _tiny_disk(path: Path, size="160k") -> bool:
    path.mkdir()
    try:
        return subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                              capture_output=True, timeout=20).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


@pytest.mark.slow
def test_a_full_disk_is_a_message_and_leaves_nothing_half_written(tmp_path):
    disk = tmp_path / "小盘"
    if not _tiny_disk(disk):
        pytest.skip("cannot mount a small tmpfs here")
    try:
        inbox = tmp_path / "in"
        inbox.mkdir()
        for i in range(12):
            for p in (EXAMPLES / "returns").glob("*.xlsx"):
                shutil.copy(p, inbox / f"{i}_{p.name}")
        (disk / "占位").write_bytes(b"\0" * 60_000)
        r = subprocess.run([sys.executable, "-m", "perftables", "collect", str(inbox), "-o", str(disk / "汇总.xlsx"),
                            "--export", str(disk / "导出")], capture_output=True, text=True, timeout=300)
        assert r.returncode == 1, r.stdout + r.stderr
        assert "磁盘已满" in r.stderr and str(disk) in r.stderr and "Traceback" not in r.stderr, r.stderr
        if (disk / "汇总.xlsx").exists():   # written whole before the export filled the disk: complete
            from perftables.outputs.summary import workbook_sheets
            assert "指标明细" in workbook_sheets(disk / "汇总.xlsx")
        assert not [p for p in disk.rglob("*") if p.name.startswith("~$perftables-")]
        # generate onto the full disk: the same
        r = subprocess.run([sys.executable, "-m", "perftables", "generate", str(ROSTER), "-o", str(disk / "下发"),
                            "--year", "2025"], capture_output=True, text=True, timeout=300)
        assert r.returncode in (1, 2) and "磁盘已满" in r.stderr and "Traceback" not in r.stderr, r.stderr
        assert not [p for p in disk.rglob("*") if p.name.startswith("~$perftables-")]
    finally:
        subprocess.run(["umount", str(disk)], capture_output=True, timeout=20)


# --------------------------------------------------------------------------- links

def test_links_in_the_inbox_are_listed_never_followed(tmp_path, small_unit):
    secret = tmp_path / "机密" / "工资表.xlsx"
    secret.parent.mkdir()
    secret.write_bytes(make_workbook(small_unit, fill=filled_fill()))
    inbox = tmp_path / "in"
    inbox.mkdir()
    (inbox / "看这个.xlsx").symlink_to(secret)
    (inbox / "文件夹").symlink_to(secret.parent, target_is_directory=True)
    (inbox / "坏链接.xlsx").symlink_to(tmp_path / "不存在.xlsx")
    out = tmp_path / "s" / "汇总.xlsx"
    r = run("collect", inbox, "-o", out)
    assert r.exit_code == 0, r.output
    for name in ("看这个.xlsx", "文件夹", "坏链接.xlsx"):
        assert re.search(rf"\[未采用\] in/{name}：这是一个链接", r.output), (name, r.output)
    held = out.parent / "待处理"
    copies = [p for p in held.iterdir() if p.name != "待处理清单.csv"]
    assert copies == []   # nothing of this machine carried into 待处理
    listed = list(csv.DictReader((held / "待处理清单.csv").open(encoding="utf-8-sig")))
    assert len(listed) == 3 and all(r["副本"] == "" for r in listed)
    # a link the user names on the command line is what they asked for
    r = run("collect", inbox / "看这个.xlsx", "-o", tmp_path / "t.xlsx")
    assert r.exit_code == 0 and "[已采用" in r.output


# --------------------------------------------------------------------------- formulas and numbers

def test_a_formula_in_an_input_cell_is_reported_and_its_cached_value_never_read(tmp_path, small_unit):
    data = make_workbook(small_unit, fill=filled_fill())
    ret = read_input_ret(tmp_path, data)
    plan_cell, num_cell = ret.projects[0].cells["plan1"], ret.projects[0].indicators[0].cells["num"]
    data = put_formula(data, "项目1", plan_cell, "SUM(A1:A3)")
    data = put_formula(data, "项目1", num_cell, "1/0")
    ret = read_input_ret(tmp_path, data)
    found = {(f.cell, f.rule) for f in ret.findings}
    assert (plan_cell, "公式") in found and (num_cell, "公式") in found
    msg = next(f.message for f in ret.findings if f.cell == plan_cell and f.rule == "公式")
    assert "=SUM(A1:A3)" in msg
    assert ret.projects[0].plan[0] is None   # not the cached 25


def read_input_ret(tmp_path, data):
    path = tmp_path / "f.xlsx"
    path.write_bytes(data)
    rec = read_input(path, path.name)[0]
    assert rec.result is not None, rec.reason
    return rec.result


def test_numbers_not_typed_canonically_get_a_notice_and_chinese_numerals_an_error(tmp_path, small_unit):
    fill = filled_fill(plan1="１２")
    fill["projects"]["项目1"]["indicators"].append(
        {"level1": "产出指标", "level2": "质量指标", "name": "覆盖人数", "description": "覆盖", "op": "定性",
         "num": "≥二十万%", "basis": "计划标准"})
    fill["projects"]["项目1"]["indicators"].append(
        {"level1": "产出指标", "level2": "时效指标", "name": "及时率", "description": "及时", "op": "≥",
         "num": "９０", "unit": "%", "basis": "计划标准"})
    ret = read_input_ret(tmp_path, make_workbook(small_unit, fill=fill))
    pr = ret.projects[0]
    notes = [f for f in ret.findings if f.rule == "数字格式"]
    assert any(f.cell == pr.cells["plan1"] and "１２" in f.message and "12" in f.message for f in notes)
    assert any(f.severity == "错误" and "中文数字" in f.message and f.cell == pr.indicators[1].cells["num"]
               for f in notes)
    assert any(f.severity == "警告" and "全角数字" in f.message and f.cell == pr.indicators[2].cells["num"]
               for f in notes)


# --------------------------------------------------------------------------- every CSV, every header

def test_no_csv_the_tool_writes_starts_a_formula(tmp_path):
    roster = tmp_path / "名单.csv"
    rows = list(csv.reader(ROSTER.open(encoding="utf-8-sig")))
    with roster.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([[c.replace("唐山市科学技术协会", '=HYPERLINK("http://x","唐山")')
                                    .replace("0312", "+0312") for c in row] for row in rows])
    r = run("generate", roster, "-o", tmp_path / "下发", "--year", 2025)
    assert r.exit_code == 0, r.output
    inbox = tmp_path / "in"
    shutil.copytree(tmp_path / "下发", inbox)
    (inbox / '=HYPERLINK("http:x","click").xlsx').write_bytes(b"not a workbook")
    (inbox / "@SUM(1).txt").write_bytes(b"x")
    for p in (EXAMPLES / "returns").glob("*.xlsx"):
        shutil.copy(p, inbox)
    r = run("collect", inbox, "-o", tmp_path / "s" / "汇总.xlsx", "--export", tmp_path / "导出", "--roster", roster)
    assert r.exit_code == 0, r.output
    written = list(tmp_path.glob("下发/*.csv")) + list(tmp_path.glob("导出/*.csv")) + \
        list(tmp_path.glob("s/待处理/*.csv"))
    assert len(written) >= 9 and any(p.name == "指标结构.csv" for p in written)
    for path in written:
        for row in csv.reader(path.open(encoding="utf-8-sig")):
            for cell in row:
                assert not cell.startswith(FORMULA_START), (path.name, cell)
    header = next(csv.reader((tmp_path / "导出" / "指标结构.csv").open(encoding="utf-8-sig")))
    assert header  # unit names as columns are guarded like any cell


@pytest.mark.parametrize("name, email, words", [
    ("甲县\r\n科协", "a@b.cn", "换行或控制字符"),
    ("甲县科协", "a@b.cn\r\nBcc: x@y.z", "换行或控制字符"),
    ("甲县科协", "a@b.cn, evil@attacker.example", "分号"),
    ("甲县科协", "张三 <a@b.cn>", "不是有效的邮箱"),
    ("甲县科协", "a@b", "不是有效的邮箱"),
])
def test_roster_cells_that_would_break_a_header_are_refused_with_row_and_column(tmp_path, name, email, words):
    roster = tmp_path / "名单.csv"
    with roster.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["单位编码", "单位名称", "邮箱"])
        w.writerow(["100001", name, email])
    r = run("generate", roster, "-o", tmp_path / "o", "--year", 2025)
    assert r.exit_code == 2 and "第2行" in r.output and words in r.output and "Traceback" not in r.output, r.output
    assert not (tmp_path / "o").exists()


def test_several_addresses_are_separated_by_semicolons(tmp_path):
    import email
    from email import policy
    roster = tmp_path / "名单.csv"
    with roster.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["单位编码", "单位名称", "邮箱"])
        w.writerow(["100001", "甲县科协", "a@b.cn；c@d.cn"])
    assert run("generate", roster, "-o", tmp_path / "o", "--year", 2025).exit_code == 0
    r = run("mail", tmp_path / "o", "--roster", roster, "--from", "kx@example.cn")
    assert r.exit_code == 0, r.output
    msg = email.message_from_bytes(next((tmp_path / "o_邮件").glob("*.eml")).read_bytes(), policy=policy.default)
    assert [a.addr_spec for a in msg["To"].addresses] == ["a@b.cn", "c@d.cn"]
    r = run("mail", tmp_path / "o", "--roster", roster, "--from", "kx@example.cn", "--from-name", "科协\r\nBcc: x@y.z")
    assert r.exit_code == 2 and "换行" in r.output


# --------------------------------------------------------------------------- beyond Excel's row limit

def test_a_table_longer_than_a_sheet_continues_in_further_sheets(tmp_path, monkeypatch):
    from perftables.outputs import summary
    monkeypatch.setattr(summary, "MAX_SHEET_ROWS", 10)
    r = run("collect", EXAMPLES / "returns", "-o", tmp_path / "s.xlsx", "--export", tmp_path / "导出", "--no-cache")
    assert r.exit_code == 0, r.output
    assert "指标明细" in r.output and "分在" in r.output
    from python_calamine import CalamineWorkbook
    names = CalamineWorkbook.from_path(str(tmp_path / "s.xlsx")).sheet_names
    assert names[0] == "说明" and "指标明细（2）" in names
    back = summary.read_summary_tables(tmp_path / "s.xlsx")
    exported = list(csv.DictReader((tmp_path / "导出" / "指标明细.csv").open(encoding="utf-8-sig")))
    assert len(back["指标明细"]) == len(exported) == 111
    assert [r["三级指标"] for r in back["指标明细"]] == [r["三级指标"] for r in exported]


# --------------------------------------------------------------------------- mutation fuzzing

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_VALUES = st.one_of(st.none(), st.text(max_size=40), st.integers(-10**12, 10**12),
                    st.floats(allow_nan=True, allow_infinity=True), st.booleans(),
                    st.sampled_from(["=SUM(A1)", "１２", "二十", "≥", "12万元", "\u202e", "\x00", "0" * 400, "—"]))


@pytest.fixture(scope="module")
def base_return(tmp_path_factory):
    from perftables.model.roster import Project, Unit
    unit = Unit(code="999001", name="测试县科学技术协会",
                projects=[Project(code="999001P001", name="科普活动经费", budget=12.0, fiscal=10.0, other=2.0)])
    return unit, make_workbook(unit, fill=filled_fill())


def _check(tmp_path, data: bytes):
    path = tmp_path / "变异.xlsx"
    path.write_bytes(data)
    digest = hashlib.sha256(data).hexdigest()
    records = read_input(path, path.name)      # never raises
    assert records and all(r.fate in (REJECTED, ACCEPTED) or r.fate for r in records)
    for rec in records:
        assert rec.reason or rec.packed is not None or rec.payload is not None, rec
    assert hashlib.sha256(path.read_bytes()).hexdigest() == digest


@pytest.mark.slow
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(plan=st.lists(_VALUES, min_size=4, max_size=4), num=_VALUES, op=_VALUES, name=_VALUES, goal=_VALUES)
def test_fuzz_cell_values_and_types(tmp_path, base_return, plan, num, op, name, goal):
    unit, _ = base_return
    fill = filled_fill()
    fields = fill["projects"]["项目1"]["fields"]
    fields.update({f"plan{i}": v for i, v in enumerate(plan, 1)}, goal=goal)
    fill["projects"]["项目1"]["indicators"][0].update(num=num, op=op, name=name)
    try:
        data = make_workbook(unit, fill=fill)
    except (TypeError, ValueError, OverflowError):
        return   # not a value a spreadsheet cell can hold
    _check(tmp_path, data)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(field=st.sampled_from(["year", "issue", "unit_code", "unit_name", "form", "form_version", "projects",
                              "spares", "kind", "taxonomy", "links", "key_id"]),
       value=st.one_of(_VALUES, st.lists(_VALUES, max_size=3), st.dictionaries(st.text(max_size=5), _VALUES,
                                                                                max_size=3)))
def test_fuzz_stamp_fields(tmp_path, base_return, field, value):
    from perftables.io import keys
    from test_forgery import restamp
    _, data = base_return
    try:
        data = restamp(data, lambda p: p.__setitem__(field, value), keys.load_key())
    except (TypeError, ValueError, AssertionError):
        return
    _check(tmp_path, data)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(member=st.sampled_from(["xl/workbook.xml", "xl/sharedStrings.xml", "xl/styles.xml", "[Content_Types].xml",
                               "xl/_rels/workbook.xml.rels", "docProps/core.xml", "xl/worksheets/sheet3.xml"]),
       at=st.floats(0, 1), cut=st.integers(0, 64), insert=st.binary(max_size=64), drop=st.booleans())
def test_fuzz_zip_members_and_xml_parts(tmp_path, base_return, member, at, cut, insert, drop):
    _, data = base_return

    def mutate(body):
        i = int(at * len(body))
        return None if drop else body[:i] + insert + body[i + cut:]

    _check(tmp_path, rewrite_zip(data, member, mutate))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(at=st.floats(0, 1), flips=st.binary(min_size=1, max_size=16))
def test_fuzz_raw_bytes(tmp_path, base_return, at, flips):
    _, data = base_return
    i = int(at * (len(data) - len(flips)))
    _check(tmp_path, data[:i] + bytes(a ^ b for a, b in zip(data[i:i + len(flips)], flips)) + data[i + len(flips):])


@pytest.fixture(scope="module")
def xls_return(tmp_path_factory, base_return):
    """An .xls as LibreOffice (and WPS, as .et) saves it, with a formula typed into a cell."""
    from conftest import libreoffice_available
    if not libreoffice_available():
        pytest.skip("LibreOffice not installed")
    import json
    folder = tmp_path_factory.mktemp("xls")
    (folder / "in.xlsx").write_bytes(base_return[1])
    job = {"input": str(folder / "in.xlsx"), "formulas": [["项目1", "B7", "=SUM(1;2)"]],
           "outputs": {"xls": str(folder / "out.xls")}}
    (folder / "job.json").write_text(json.dumps(job, ensure_ascii=False), encoding="utf-8")
    subprocess.run(["/usr/bin/python3", str(Path(__file__).with_name("lo_fill.py")), str(folder / "job.json")],
                   check=True, timeout=300)
    return (folder / "out.xls").read_bytes()


@pytest.mark.slow
def test_xls_formula_cells_are_found(xls_return):
    from perftables.io.biff import xls_formulas
    assert (6, 1) in xls_formulas(xls_return)["项目1"]


@pytest.mark.slow
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(at=st.floats(0, 1), flips=st.binary(min_size=1, max_size=32), cut=st.integers(0, 4096))
def test_fuzz_xls_container(tmp_path, xls_return, at, flips, cut):
    from perftables.io.biff import xls_formulas
    data = xls_return
    i = int(at * (len(data) - len(flips)))
    mutant = data[:i] + bytes(a ^ b for a, b in zip(data[i:i + len(flips)], flips)) + data[i + len(flips):]
    xls_formulas(mutant)                 # never raises
    xls_formulas(mutant[:len(mutant) - cut])
    _check(tmp_path, mutant)


def test_a_link_to_another_workbook_is_an_error(tmp_path, small_unit):
    data = make_workbook(small_unit, fill=filled_fill())
    rel = (b'<Relationship Id="rId999" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
           b'externalLink" Target="externalLinks/externalLink1.xml"/></Relationships>')
    data = rewrite_zip(data, "xl/_rels/workbook.xml.rels", lambda body: body.replace(b"</Relationships>", rel))
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info, src.read(info.filename))
        dst.writestr("xl/externalLinks/externalLink1.xml",
                     '<externalLink xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
                     'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
                     '<externalBook r:id="rId1"/></externalLink>')
        dst.writestr("xl/externalLinks/_rels/externalLink1.xml.rels",
                     '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                     '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                     'relationships/externalLinkPath" Target="file:///C:/Users/张三/Desktop/预算底稿.xlsx" '
                     'TargetMode="External"/></Relationships>')
    ret = read_input_ret(tmp_path, out.getvalue())
    hits = [f for f in ret.findings if f.rule == "外部链接"]
    assert hits and hits[0].severity == "错误" and "预算底稿.xlsx" in hits[0].message


@pytest.mark.slow
def test_a_cell_far_out_is_refused_before_the_reader_allocates_it(tmp_path):
    """Two cells, A1 and XFD1048576: a reader that builds the dense range would need ~17 billion cells and
    abort the whole run. Refused with its reason; the other files are collected."""
    import xlsxwriter
    inbox = tmp_path / "in"
    inbox.mkdir()
    wb = xlsxwriter.Workbook(str(inbox / "角落.xlsx"))
    ws = wb.add_worksheet()
    ws.write("A1", 1)
    ws.write("XFD1048576", 2)
    wb.close()
    shutil.copy(next((EXAMPLES / "returns").glob("405002_*.xlsx")), inbox)
    r = subprocess.run([sys.executable, "-m", "perftables", "collect", str(inbox), "-o", str(tmp_path / "s.xlsx")],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "[未采用] in/角落.xlsx：工作表“Sheet1”的数据区域过大" in r.stdout and "[已采用" in r.stdout


@pytest.mark.parametrize("cell", [
    '<c r="XFD1048576"><v>2</v></c>',            # as written by any writer
    "<c r='XFD1048576'><v>2</v></c>",            # single quotes are XML too
    '<c\n  r="XFD1048576"\n><v>2</v></c>',     # attributes on their own lines
    '<c s="0" r="A99999999"><v>2</v></c>',       # a row number past 7 digits
    '<c r="AAAA1"><v>2</v></c>',                 # four letters
])
def test_every_spelling_of_a_far_cell_is_seen_before_the_reader_allocates(cell):
    """The extent guard reads references as text however they are spelled: one it missed would let the
    reader build a dense range of billions of cells and abort the whole run."""
    import io
    import zipfile
    from perftables.io.book import ReadError, read_book
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/'
                   'package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-'
                   'package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override '
                   'PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.'
                   'spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="'
                   'application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>')
        z.writestr("_rels/.rels", '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/'
                   'package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
                   'officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>')
        z.writestr("xl/workbook.xml", '<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/'
                   'spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/'
                   'relationships"><sheets><sheet name="表" sheetId="1" r:id="rId1"/></sheets></workbook>')
        z.writestr("xl/_rels/workbook.xml.rels", '<?xml version="1.0"?><Relationships xmlns="http://schemas.'
                   'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.'
                   'openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
                   '</Relationships>')
        z.writestr("xl/worksheets/sheet1.xml", '<?xml version="1.0"?><worksheet xmlns="http://schemas.'
                   'openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1"><v>1</v></c>'
                   f'{cell}</row></sheetData></worksheet>')
    with pytest.raises(ReadError) as err:
        read_book(buf.getvalue())
    assert "数据区域过大" in err.value.reason


def test_an_xls_declaring_a_huge_range_is_refused(xls_return):
    """A DIMENSIONS record claiming billions of rows (what one reader reserves memory for)."""
    import struct
    from perftables.io.biff import _stream
    from perftables.io.book import ReadError, read_book
    data = bytearray(xls_return)
    stream = _stream(bytes(data), "Workbook")
    pos = stream.find(b"\x00\x02\x0e\x00")   # a DIMENSIONS record of a sheet
    assert pos > 0
    needle = stream[pos:pos + 18]
    at = bytes(data).find(needle)
    assert at > 0
    data[at + 8:at + 12] = struct.pack("<I", 0x7FFFFFF0)
    with pytest.raises(ReadError) as err:
        read_book(bytes(data))
    assert "数据区域过大" in err.value.reason


def test_an_ods_repeating_a_value_a_million_times_is_refused(tmp_path):
    from perftables.io.book import ReadError, read_book
    content = ('<?xml version="1.0" encoding="UTF-8"?><office:document-content '
               'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
               'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
               'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"><office:body><office:spreadsheet>'
               '<table:table table:name="表1"><table:table-row table:number-rows-repeated="1000000">'
               '<table:table-cell table:number-columns-repeated="1000" office:value-type="float" office:value="1">'
               '<text:p>1</text:p></table:table-cell></table:table-row></table:table>'
               '</office:spreadsheet></office:body></office:document-content>')
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        z.writestr("content.xml", content)
        z.writestr("META-INF/manifest.xml", '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:'
                   'manifest:1.0"><manifest:file-entry manifest:full-path="/" manifest:media-type="application/'
                   'vnd.oasis.opendocument.spreadsheet"/></manifest:manifest>')
    with pytest.raises(ReadError) as err:
        read_book(out.getvalue())
    assert "数据区域过大" in err.value.reason


def test_a_zip_directory_naming_an_unknown_version_is_damaged(tmp_path, small_unit):
    """zipfile raises NotImplementedError (not BadZipFile) for a central directory entry that needs a newer
    zip version — found by the raw-bytes fuzzer: it is a damaged file, not a crash."""
    from conftest import make_workbook
    from perftables.cycle.collect import REJECTED, collect
    data = bytearray(make_workbook(small_unit))
    at = data.find(b"PK\x01\x02")                    # the first central directory entry
    data[at + 6] = 84                                # "version needed to extract": 8.4
    (tmp_path / "a.xlsx").write_bytes(bytes(data))
    rec = collect([tmp_path / "a.xlsx"]).files[0]
    assert rec.fate == REJECTED and "损坏" in rec.reason, rec.reason
