"""Hostile world, round 3 (issue 31), class by class: numbers that are not numbers, invisible and control
characters, codes that cannot round-trip. Each class has a property test over the one function that decides
it, and a test through the command line as a coordinator meets it."""
import csv
import io
import math
import re
import zipfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import EXAMPLES, make_workbook, rewrite_zip, run
from perftables.core.files import MAX_NAME_BYTES, safe_file_name
from perftables.core.text import BIDI, INVISIBLE, code_key, shown_name, xml_safe
from perftables.core.value import MAX_AMOUNT, parse_amount
from perftables.cycle.collect import collect
from perftables.model.roster import Project, RosterError, Unit, read_roster

HIDDEN = INVISIBLE + BIDI


def fill(goal="完成年度任务", **plan):
    return {"texts": {"overall_goal": "开展科普活动"},
            "projects": {"项目1": {"fields": {"goal": goal, "plan1": 25, "plan2": 50, "plan3": 75, "plan4": 100,
                                              **plan},
                                   "indicators": [{"level1": "产出指标", "level2": "数量指标", "name": "活动次数",
                                                   "description": "开展活动", "op": "≥", "num": "4", "unit": "次",
                                                   "basis": "计划标准"}]}}}


UNIT = Unit(code="999001", name="测试县科学技术协会",
            projects=[Project(code="999001P001", name="科普活动经费", budget=12.0, fiscal=10.0, other=2.0)])


def roster_with(tmp_path, change, name="名单.csv"):
    """The example roster with its first data row changed (change(row) edits the list of cells)."""
    rows = list(csv.reader((EXAMPLES / "roster.csv").open(encoding="utf-8-sig")))
    change(rows[1])
    path = tmp_path / name
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        csv.writer(fh).writerows(rows)
    return path


# --------------------------------------------------------------------------- 3. numbers that are not numbers

_NUMBERISH = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True), st.integers(min_value=-10**30, max_value=10**30),
    st.sampled_from(["NaN", "nan", "inf", "-inf", "Infinity", "1e308", "-1e308", "1e400", "1_000", "0x10",
                     "-5", "−5", "１２", "1,000", "12万元", "120000元", "1e3", ".5", "5.", "+3", "--3", ""]),
    st.text(alphabet="0123456789.,-+eE万元 naifNIF_", max_size=12))


@settings(max_examples=400, deadline=None)
@given(value=_NUMBERISH, signed=st.booleans())
def test_an_amount_is_finite_bounded_and_signed_only_where_allowed(value, signed):
    amount = parse_amount(value, signed=signed)
    if amount.value is None:
        return
    assert amount.error is None
    assert math.isfinite(amount.value) and abs(amount.value) <= MAX_AMOUNT
    assert signed or amount.value >= 0


@pytest.mark.parametrize("typed, said", [("NaN", "不是数字"), ("inf", "不是数字"), ("Infinity", "不是数字"),
                                         ("1e308", "不是合理的数字"), ("-5", "是负数"), ("1_000", "不是数字")])
def test_a_number_that_is_not_one_is_a_finding_on_its_cell(tmp_path, typed, said):
    path = tmp_path / "回执.xlsx"
    path.write_bytes(make_workbook(UNIT, fill=fill(plan1=typed)))
    col = collect([path], workers=1)
    rec = col.files[0]
    assert rec.fate.accepted, rec.reason
    found = [f for f in rec.result.findings if typed in f.message]
    assert [(f.cell, f.severity.value) for f in found] == [("B7", "错误")] and said in found[0].message, \
        [(f.cell, f.message) for f in rec.result.findings]
    assert not any("为空" in f.message and f.cell == "B7" for f in rec.result.findings)


def test_a_number_stored_as_nan_or_infinity_in_the_file_is_not_read_as_one(tmp_path):
    data = make_workbook(UNIT, fill=fill(plan1=25))
    zf = zipfile.ZipFile(io.BytesIO(data))
    part = next(n for n in zf.namelist() if n.startswith("xl/worksheets/") and b'<c r="B7" s="14"><v>25</v>' in zf.read(n))
    for stored in (b"NaN", b"INF", b"-INF", b"1e400"):
        path = tmp_path / f"{stored.decode()}.xlsx"
        path.write_bytes(rewrite_zip(data, part, lambda b, s=stored: re.sub(
            rb'(<c r="B7"[^>]*>)<v>[^<]*</v>', lambda m: m[1] + b"<v>" + s + b"</v>", b)))
        rec = collect([path], workers=1).files[0]
        assert rec.fate.accepted, rec.reason
        assert any(f.cell == "B7" and "支出进度" in f.message for f in rec.result.findings), stored


@pytest.mark.parametrize("typed, said", [("NaN", "不是数字"), ("inf", "不是数字"), ("1e308", "不是合理的数字"),
                                         ("-3", "是负数")])
def test_a_roster_amount_that_is_not_one_is_refused_with_row_and_column(tmp_path, typed, said):
    def change(row):
        row[4] = typed
    r = run("generate", roster_with(tmp_path, change), "-o", tmp_path / "下发", "--year", 2025)
    assert r.exit_code == 2 and "第2行“预算数”列" in r.output and said in r.output, r.output
    assert not (tmp_path / "下发").exists()


# --------------------------------------------------------------------------- 4. invisible and control characters

_NAMES = st.text(alphabet=st.sampled_from(list("报表回执xlsx.exe_ 1") + list(HIDDEN) + ["\x1b", "\x07", "\u3000"]),
                 max_size=40)


@settings(max_examples=300, deadline=None)
@given(name=_NAMES)
def test_names_never_carry_hidden_or_control_characters(name):
    safe = safe_file_name(name + ".xlsx")
    assert not any(c in HIDDEN or ord(c) < 32 for c in safe) and len(safe.encode()) <= MAX_NAME_BYTES
    shown = shown_name(name)
    assert not any(c in HIDDEN or ord(c) < 32 or 0x7f <= ord(c) <= 0x9f for c in shown)
    assert xml_safe(name) == "".join(c for c in name if ord(c) >= 32 or c in "\t\n\r")


@settings(max_examples=200, deadline=None)
@given(code=st.text(alphabet=st.sampled_from(list("0123456789") + list("０１２３４５６７８９") + list(HIDDEN) + [" ", "\u3000"]),
                    min_size=1, max_size=12))
def test_a_code_is_compared_as_a_person_means_it(code):
    plain = code_key(code)
    assert plain == code_key(plain) and all(c in "0123456789" for c in plain)


def test_a_code_typed_in_full_width_or_with_a_zero_width_space_is_the_same_unit(tmp_path):
    rows = list(csv.reader((EXAMPLES / "roster.csv").open(encoding="utf-8-sig")))
    first = rows[1][0]
    rows[2][0] = first.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    rows[3][0] = first[:2] + "\u200b" + first[2:]
    path = tmp_path / "名单.csv"
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        csv.writer(fh).writerows(rows)
    roster = read_roster(path)
    assert [u.code for u in roster.units].count(first) == 1 and len(roster.units) == len(read_roster(EXAMPLES / "roster.csv").units)
    assert roster.unit(rows[2][0]) is roster.unit(first) is roster.unit(rows[3][0])


@pytest.mark.parametrize("mark", ["\u202e", "\u2066", "\u200b"])
def test_a_roster_name_with_a_hidden_character_is_refused_with_row_and_column(tmp_path, mark):
    def change(row):
        row[1] = "回执" + mark + "xslx.exe"
    with pytest.raises(RosterError, match="第2行“单位名称”列：含有看不见的字符"):
        read_roster(roster_with(tmp_path, change))


def test_hidden_and_control_characters_in_a_return_are_flagged_and_never_written(tmp_path):
    inbox = tmp_path / "收件箱"
    inbox.mkdir()
    typed = "完成\u202e年度任务\x1b[31m"   # xlsxwriter stores the escape as _x001B_, as Excel does
    (inbox / "回执\x1b[2J\u202exslx.xlsx").write_bytes(make_workbook(UNIT, fill=fill(goal=typed)))
    r = run("collect", inbox, "-o", tmp_path / "汇总" / "汇总.xlsx", "--export", tmp_path / "导出")
    assert r.exit_code == 0, r.output
    assert "\x1b" not in r.output and "\u202e" not in r.output and "⟨U+202E⟩" in r.output, r.output
    rec = collect([inbox], workers=1).files[0]
    hidden = [f for f in rec.result.findings if f.rule == "看不见的字符"]
    assert [(f.cell, f.severity.value) for f in hidden] == [("B8", "错误")], [(f.cell, f.message) for f in rec.result.findings]
    for path in (tmp_path / "导出").rglob("*.csv"):
        assert "\x1b" not in path.read_text(encoding="utf-8-sig")
    r = run("publish", inbox, "-o", tmp_path / "公开", "--no-pdf", "--force")
    assert r.exit_code == 0, r.output
    assert list((tmp_path / "公开").glob("*.docx"))


# --------------------------------------------------------------------------- 5. codes that cannot round-trip

@pytest.mark.parametrize("code, said", [("ZX/001", "含有“/”"), ("9" * 80, "太长"), ("ZX\\001", "含有“/”")])
def test_a_code_collect_could_not_carry_is_refused_at_the_roster(tmp_path, code, said):
    def change(row):
        row[0] = code
    r = run("generate", roster_with(tmp_path, change), "-o", tmp_path / "下发", "--year", 2025)
    assert r.exit_code == 2 and "第2行“单位编码”列" in r.output and said in r.output, r.output


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(code=st.text(alphabet=st.sampled_from(list("09AZaz-_.（）·ＸＹ９ ") + ["\u200b", "/", "ö", "县"]),
                    min_size=1, max_size=70))
def test_what_the_roster_accepts_collect_accepts(tmp_path, code):
    """Any code a roster takes comes back from its own template as that unit's return."""
    def change(row):
        row[0] = code
    path = roster_with(tmp_path, change, name=f"名单{abs(hash(code))}.csv")
    try:
        roster = read_roster(path)
    except RosterError:
        return
    unit = roster.units[0]
    ret = tmp_path / f"{abs(hash(code))}.xlsx"
    ret.write_bytes(make_workbook(unit, fill=None))
    rec = collect([ret], roster=roster, workers=1).files[0]
    assert rec.payload and rec.unit_code == unit.code and "标识无效" not in rec.reason, rec.reason


# --------------------------------------------------------------------------- 1, 2. names in bytes, mail that never ends

def _nested(depth: int, sender: str, msgid: str) -> bytes:
    """A multipart mail nested `depth` levels deep (no client writes one; an attacker does)."""
    head = (f"From: <{sender}>\r\nTo: <kx@example.cn>\r\nSubject: nested\r\nMessage-ID: {msgid}\r\n"
            "MIME-Version: 1.0\r\n").encode()
    opens = b"".join(b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (i, i) for i in range(depth))
    closes = b"".join(b"\r\n--b%d--\r\n" % i for i in reversed(range(depth)))
    return head + opens + b"Content-Type: text/plain\r\n\r\nhello\r\n" + closes


@pytest.mark.parametrize("depth", [41, 1200, 5000])
def test_a_mail_nested_beyond_reason_is_a_reason_not_a_crash(depth):
    from perftables.mail.fetch import parse_mail
    mail = parse_mail(_nested(depth, "bdhkx@example.cn", "<deep@x>"))
    assert mail.sender == "bdhkx@example.cn" and not mail.attachments
    assert len(mail.skipped) == 1 and ("嵌套" in mail.skipped[0][1] or "无法解析" in mail.skipped[0][1])


def test_one_bad_mail_never_stops_fetch_and_is_not_fetched_again(imap_server, tmp_path):
    from test_fetch import log_rows, mail, rfc2231_part, run_fetch
    user = "hostile3@example.cn"
    data = (EXAMPLES / "returns").glob("306001*.xlsx").__next__().read_bytes()
    long_name = "北戴河区科学技术协会" * 11 + "绩效目标表.xlsx"      # 111 Chinese characters and more: 300+ bytes
    imap_server.deliver(user, _nested(1200, "bdhkx@example.cn", "<deep@x>"),
                        mail("bdhkx@example.cn", "长名字", [rfc2231_part(long_name, data)], "<long@x>"))
    out = tmp_path / "收件箱"
    r = run_fetch(imap_server, user, out)
    assert r.exit_code == 0, r.output
    [saved] = list(out.iterdir())
    assert saved.read_bytes() == data and len(saved.name.encode()) <= 255
    rows = log_rows(out)
    assert any(row["Message-ID"] == "<deep@x>" and "无法解析" in row["说明"] for row in rows), rows
    r = run_fetch(imap_server, user, out)
    assert r.exit_code == 0 and "新邮件 0 封" in r.output, r.output


@pytest.mark.parametrize("cells", [1, 2])
def test_a_word_table_nested_thousands_deep_is_a_reason(tmp_path, cells):
    from worddoc import docx
    inner = "<w:p><w:r><w:t>项目编码</w:t></w:r></w:p>"
    for _ in range(3000):
        extra = "<w:tc><w:p/></w:tc>" * (cells - 1)
        inner = f"<w:tbl><w:tr><w:tc>{inner}</w:tc>{extra}</w:tr></w:tbl><w:p/>"
    path = tmp_path / "套娃.docx"
    path.write_bytes(docx([("xml", inner)]))
    rec = collect([path], workers=1).files[0]
    assert not rec.fate.accepted and rec.reason and not re.search(r"[A-Za-z]+(Error|Exception)", rec.reason), rec.reason


# --------------------------------------------------------------------------- 6. keys

def test_the_public_example_key_never_signs_outside_the_demo_and_is_named_when_it_checks(tmp_path, monkeypatch):
    monkeypatch.delenv("PERFTABLES_DEMO")
    r = run("generate", EXAMPLES / "roster.csv", "-o", tmp_path / "下发", "--year", 2025)
    assert r.exit_code != 0 and "示例密钥" in r.output and not (tmp_path / "下发").exists(), r.output
    r = run("collect", EXAMPLES / "returns", "-o", tmp_path / "汇总" / "汇总.xlsx", "--feedback", tmp_path / "退改")
    assert r.exit_code != 0 and "示例密钥" in r.output, r.output
    r = run("collect", EXAMPLES / "returns", "-o", tmp_path / "汇总" / "汇总.xlsx")
    assert r.exit_code == 0 and "示例密钥" in r.output and "核验结果不可信" in r.output, r.output


@pytest.mark.slow
def test_the_demo_signs_with_the_example_key_on_its_own(tmp_path, monkeypatch):
    monkeypatch.delenv("PERFTABLES_DEMO")
    r = run("demo", "-o", tmp_path / "演示")
    assert r.exit_code == 0 and "示例密钥" not in r.output, r.output


# --------------------------------------------------------------------------- 7. documents that call out

_LINKED = """<?xml version="1.0" encoding="UTF-8"?>
<office:document xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"
 xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0"
 xmlns:xlink="http://www.w3.org/1999/xlink" xmlns:svg="urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0"
 office:version="1.2" office:mimetype="application/vnd.oasis.opendocument.text"><office:body><office:text>
<text:p>项目编码<draw:frame draw:name="i" text:anchor-type="as-char" svg:width="2cm" svg:height="2cm">
<draw:image xlink:href="{url}/picture.png" xlink:type="simple" xlink:show="embed" xlink:actuate="onLoad"/></draw:frame></text:p>
<text:p><text:a xlink:type="simple" xlink:href="{url}/link">链接</text:a></text:p>
</office:text></office:body></office:document>"""


@pytest.fixture
def listener():
    """A loopback HTTP server that counts what it is asked for."""
    import http.server
    import threading
    asked = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def _any(self):
            asked.append((self.command, self.path))
            self.send_response(404)
            self.end_headers()
        do_GET = do_HEAD = do_OPTIONS = do_PROPFIND = _any

        def log_message(self, *args):
            pass
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}", asked
    server.shutdown()


@pytest.mark.slow
@pytest.mark.parametrize("isolated", [True, False], ids=["linux-namespace", "profile-only (as on Windows)"])
def test_converting_a_document_never_fetches_what_it_links(tmp_path, listener, monkeypatch, isolated):
    from conftest import libreoffice_available
    from perftables.core import office
    from perftables.core.files import find_soffice
    from perftables.io.word import convert_to_docx
    if not libreoffice_available():
        pytest.skip("没有 LibreOffice")
    url, asked = listener
    (tmp_path / "linked.fodt").write_text(_LINKED.format(url=url), encoding="utf-8")
    office.run_soffice(find_soffice(), tmp_path / "make", ["--convert-to", "doc:MS Word 97", "--outdir",
                                                          str(tmp_path), str(tmp_path / "linked.fodt")])
    doc = (tmp_path / "linked.doc").read_bytes()
    asked.clear()
    if not isolated:
        monkeypatch.setattr(office, "_isolation", lambda: ())
    converted = convert_to_docx(doc)
    assert b"picture.png" in zipfile.ZipFile(io.BytesIO(converted)).read("word/_rels/document.xml.rels")   # kept, not fetched
    assert asked == []


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(__import__("os"), "mkfifo"), reason="a FIFO shows that a file was opened: POSIX")
def test_converting_a_document_never_opens_a_file_it_links(tmp_path, monkeypatch):
    """A link to a file (what a \\\\server\\share link is on Windows, where opening it sends the user's
    credentials): the profile alone, without the network namespace, never opens it. The linked “picture” is a
    FIFO, so any open of it is seen."""
    import os
    import threading
    from conftest import libreoffice_available
    from perftables.core import office
    from perftables.core.files import find_soffice
    from perftables.io.word import convert_to_docx
    if not libreoffice_available():
        pytest.skip("没有 LibreOffice")
    share = tmp_path / "share"
    share.mkdir()
    (tmp_path / "linked.fodt").write_text(_LINKED.format(url=share.as_uri()), encoding="utf-8")
    office.run_soffice(find_soffice(), tmp_path / "make", ["--convert-to", "doc:MS Word 97", "--outdir",
                                                          str(tmp_path), str(tmp_path / "linked.fodt")])
    os.mkfifo(share / "picture.png")
    opened, done = [], threading.Event()

    def watch():   # opening a FIFO for writing succeeds only while someone has it open for reading
        while not done.is_set():
            try:
                os.close(os.open(share / "picture.png", os.O_WRONLY | os.O_NONBLOCK))
                opened.append(1)
            except OSError:
                pass
            done.wait(0.005)
    threading.Thread(target=watch, daemon=True).start()
    monkeypatch.setattr(office, "_isolation", lambda: ())
    try:
        convert_to_docx((tmp_path / "linked.doc").read_bytes())
    finally:
        done.set()
    assert opened == []


# --------------------------------------------------------------------------- 10. resource limits

@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="RLIMIT_FSIZE: POSIX only")
def test_a_file_size_limit_is_a_chinese_message_and_the_cache_survives(tmp_path):
    import os
    import resource
    import shutil
    import subprocess
    import sys
    inbox = tmp_path / "收件箱"
    shutil.copytree(EXAMPLES / "returns", inbox)
    out = tmp_path / "汇总" / "汇总.xlsx"
    env = {**os.environ, "PERFTABLES_KEY": str(EXAMPLES / "示例签名密钥.key")}
    cmd = [sys.executable, "-m", "perftables", "collect", str(inbox), "-o", str(out)]
    assert subprocess.run(cmd, env=env, capture_output=True).returncode == 0
    cache = out.with_name(out.name + ".cache.sqlite")
    before = cache.read_bytes()
    for f in inbox.glob("306001*"):
        f.rename(f.with_name("重发_" + f.name))          # the inbox changed: the summary is written again

    def limit():
        resource.setrlimit(resource.RLIMIT_FSIZE, (20 << 10, 20 << 10))
    r = subprocess.run(cmd, env=env, capture_output=True, text=True, preexec_fn=limit)
    said = r.stdout + r.stderr
    assert r.returncode == 1 and "文件大小上限" in said, said
    assert "Traceback" not in said and "File too large" not in said, said
    assert not list(cache.parent.glob("*.unusable*")) and cache.read_bytes()[:16] == before[:16]


def test_a_damaged_file_of_any_kind_is_a_chinese_reason(tmp_path, roster, seed_tables):
    """Bytes flipped at random in a workbook, an OpenDocument sheet, a Word document and a zip: each file gets
    a fate and a reason in Chinese, never a Python exception's name or a reader library's English."""
    import random

    from conftest import seed_return
    from worddoc import docx, seed_document
    good = {"xlsx": seed_return(roster, seed_tables, "306001"),
            "docx": docx(seed_document(seed_tables["units"][0]))}
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("a.xlsx", good["xlsx"])
    good["zip"] = buf.getvalue()
    rng = random.Random(31)
    for kind, data in good.items():
        for k in range(12):
            bad = bytearray(data)
            for _ in range(rng.randint(1, 40)):
                bad[rng.randrange(len(bad))] = rng.randrange(256)
            (tmp_path / f"{kind}{k}.{kind}").write_bytes(bytes(bad))
        (tmp_path / f"{kind}-cut.{kind}").write_bytes(data[:len(data) // 2])
    col = collect([tmp_path], roster=roster)
    python = re.compile(r"[A-Z][A-Za-z]*(Error|Exception|Panic)|Traceback|BadZipFile|\w+\.py\b")
    assert all(f.fate for f in col.files)
    said = [(f.display, f.reason) for f in col.files if f.reason and python.search(f.reason)]
    assert not said, said
