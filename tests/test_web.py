"""The round's web console (issue 30), through Flask's test client: links, the clerk's upload and review, 问题销号,
the annotated workbook, the board and its decisions, and the security rules."""
from __future__ import annotations

import io
import re

import openpyxl
import pytest

from conftest import CONSOLE_PASSWORD, console_round, corrected_return, returns_of, run
from perftables.api.console import console
from perftables.cycle.links import token_hash
from perftables.cycle.round import Round
from perftables.io import keys
from perftables.web.app import ADMIN_META
from perftables.web.security import check_password, hash_password

PASSWORD = CONSOLE_PASSWORD


@pytest.fixture
def site(round_dir):
    """The console of a round whose templates were made, with the coordinator's password set; the units' links."""
    rnd, tokens = console_round(round_dir)
    with rnd.using_key():
        app = console(rnd)
        app.config["TESTING"] = True
        yield app, tokens, rnd


def clerk(app, token):
    c = app.test_client()
    r = c.get(f"/t/{token}")
    assert r.status_code == 302 and r.headers["Location"] == "/u" and token not in r.headers["Location"]
    return c


def csrf_of(client, path="/u"):
    return re.search(r'name="csrf" value="([^"]+)"', client.get(path).get_data(as_text=True))[1]


def upload(client, name, data):
    token = csrf_of(client)
    return client.post("/u/upload", data={"csrf": token, "file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def admin(app):
    c = app.test_client()
    token = re.search(r'name="csrf" value="([^"]+)"', c.get("/login").get_data(as_text=True))[1]
    r = c.post("/login", data={"csrf": token, "password": PASSWORD, "name": "张三"})
    assert r.status_code == 303, r.get_data(as_text=True)
    return c


def test_password_hash_is_salted_scrypt():
    stored = hash_password(PASSWORD)
    assert stored.startswith("scrypt$") and PASSWORD not in stored and stored != hash_password(PASSWORD)
    assert check_password(PASSWORD, stored) and not check_password("wrong", stored)


def test_a_clerk_uploads_sees_the_review_and_fixes_it(site):
    app, tokens, rnd = site
    c = clerk(app, tokens["731002"])
    page = c.get("/u").get_data(as_text=True)
    assert "731002 保定市科学技术协会（机关）" in page and "2025年1月15日" in page
    t = c.get("/u/template")
    assert t.status_code == 200 and "filename*=UTF-8''731002_" in t.headers["Content-Disposition"]
    data = returns_of(rnd.folder, ["731002"])["731002"]
    r = upload(c, "保定的表.xlsx", data)
    assert r.status_code == 303
    result = c.get(r.headers["Location"]).get_data(as_text=True)
    assert "个错误必须修改" in result and "怎么改" in result and "新出现" in result
    # the clerk's own workbook back, annotated, nothing typed rewritten
    link = re.search(r'href="(/u/annotated/\d+)"', result)[1]
    book = c.get(link)
    from urllib.parse import quote
    assert book.status_code == 200 and quote("审核意见") in book.headers["Content-Disposition"]
    wb = openpyxl.load_workbook(io.BytesIO(book.data))
    assert any(cell.comment for ws in wb.worksheets for row in ws.iter_rows() for cell in row)
    # the fix: findings tracked across versions
    stored = next((rnd.inbox / "网页上传").glob("*.xlsx"))
    with keys.using(rnd.key_path):
        fixed = corrected_return(stored)
    r = upload(c, "改好了.xlsx", fixed)
    result = c.get(r.headers["Location"]).get_data(as_text=True)
    resolved = int(re.search(r"已解决 (\d+) 个", result)[1])
    assert resolved >= 1 and "仍存在" in result
    detail = admin(app).get("/units/731002").get_data(as_text=True)
    assert re.search(r"比上一版：已解决 (\d+)，仍存在 \d+，新出现 \d+", detail)[1] == str(resolved)
    # what the fix changed, cell by cell: the two cells fix_731002 typed, nothing else
    diff = admin(app).get(re.search(r'href="(/units/731002/diff/[0-9a-f]{64})"', detail)[1]).get_data(as_text=True)
    rows = re.findall(r"<tr><td>(.*?)</td><td>(.*?)</td><td>(.*?)</td><td>(.*?)</td>\s*"
                      r'<td class="before">(.*?)</td><td class="after">(.*?)</td></tr>', diff)
    assert ("项目3", "群众满意度") in {(r[0], r[2].split("·")[0]) for r in rows}, diff
    assert {r[0] for r in rows} == {"项目3", "项目5"} and all(r[4] != r[5] for r in rows), rows
    # the same file is collected by collect, and the board agrees
    assert run("collect").exit_code == 0
    st = run("status").output
    assert re.search(r"731002 .*2 次报送", st), st


def test_another_units_workbook_uploaded_is_held(site):
    app, tokens, rnd = site
    c = clerk(app, tokens["306001"])
    data = returns_of(rnd.folder, ["307001"])["307001"]
    r = upload(c, "表.xlsx", data)
    result = c.get(r.headers["Location"]).get_data(as_text=True)
    assert "待确认" in result and "307001" in result and "306001" in result
    assert "待确认" in run("status").output


def test_a_unit_sees_only_its_own(site):
    app, tokens, rnd = site
    a = clerk(app, tokens["731002"])
    r = upload(a, "a.xlsx", returns_of(rnd.folder, ["731002"])["731002"])
    result_path = r.headers["Location"]
    b = clerk(app, tokens["307001"])
    assert b.get(result_path).status_code == 404
    assert b.get(result_path.replace("result", "annotated")).status_code == 404


def test_not_a_return_and_too_big(site):
    app, tokens, rnd = site
    c = clerk(app, tokens["307001"])
    r = upload(c, "照片.jpg", b"\xff\xd8\xff\xe0" + b"0" * 100)
    assert r.status_code == 400 and "不是可以上传的文件" in r.get_data(as_text=True)
    app.config["MAX_CONTENT_LENGTH"] = 1 << 20
    r = upload(c, "大.xlsx", b"PK\x03\x04" + b"0" * (2 << 20))
    assert r.status_code == 413 and "文件太大" in r.get_data(as_text=True) and "1 MB" in r.get_data(as_text=True)
    assert not (rnd.inbox / "网页上传").exists() or not any((rnd.inbox / "网页上传").iterdir())


def test_unknown_and_revoked_links_look_the_same_and_guessing_is_throttled(site):
    app, tokens, rnd = site
    c = app.test_client()
    unknown = c.get("/t/" + "A" * 32)
    assert run("links", "--revoke", "307001").exit_code == 0
    revoked = c.get(f"/t/{tokens['307001']}")
    assert unknown.status_code == revoked.status_code == 404 and unknown.data == revoked.data
    assert "链接可能已失效" in unknown.get_data(as_text=True)
    for _ in range(20):
        c.get("/t/" + "B" * 32)
    assert c.get(f"/t/{tokens['306001']}").status_code == 429     # even a right token, once throttled


def test_every_response_has_the_security_headers_and_the_cookie_is_strict(site):
    app, tokens, rnd = site
    c = app.test_client()
    for path in ("/login", "/t/x", "/nosuch", "/static/style.css"):
        r = c.get(path)
        assert "script-src 'self'" in r.headers["Content-Security-Policy"] and "frame-ancestors 'none'" in \
            r.headers["Content-Security-Policy"]
        assert r.headers["X-Frame-Options"] == "DENY" and r.headers["X-Content-Type-Options"] == "nosniff"
        assert r.headers["Referrer-Policy"] == "no-referrer"
    r = app.test_client().get(f"/t/{tokens['306001']}")
    cookie = r.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie


def test_state_changes_need_the_csrf_token_and_our_origin(site):
    app, tokens, rnd = site
    c = admin(app)
    assert c.post("/units/307001/approve", data={}).status_code == 403
    good = csrf_of(c, "/")
    assert c.post("/units/307001/approve", data={"csrf": good}, headers={"Origin": "http://evil.example"}
                  ).status_code == 403
    assert c.post("/units/307001/approve", data={"csrf": good}, headers={"Sec-Fetch-Site": "cross-site"}
                  ).status_code == 403
    assert c.post("/units/307001/approve", data={"csrf": good}, headers={"Origin": "null"}).status_code == 303
    assert c.get("/collect").status_code == 405                      # GET never changes anything


def test_login_says_one_thing_and_is_throttled(site):
    app, tokens, rnd = site
    c = app.test_client()
    token = csrf_of(c, "/login")
    r = c.post("/login", data={"csrf": token, "password": "wrong"})
    assert r.status_code == 401 and "密码不对" in r.get_data(as_text=True)
    for _ in range(5):
        c.post("/login", data={"csrf": token, "password": "wrong"})
    r = c.post("/login", data={"csrf": token, "password": PASSWORD})
    assert r.status_code == 429
    assert c.get("/").status_code == 302                               # the board is behind the login


def test_the_board_decides_and_records(site):
    app, tokens, rnd = site
    c = clerk(app, tokens["307001"])
    upload(c, "丰宁.xlsx", returns_of(rnd.folder, ["307001"])["307001"])
    a = admin(app)
    board = a.get("/").get_data(as_text=True)
    assert "307001" in board and "丰宁满族自治县科学技术协会本级" in board and "已收到" in board
    r = a.post("/units/307001/approve", data={"csrf": csrf_of(a, "/")})
    assert r.status_code == 303 and "已确认通过" in a.get(r.headers["Location"]).get_data(as_text=True)
    assert "  通过" in run("status").output
    detail = a.get("/units/307001").get_data(as_text=True)
    sha = re.search(r'/versions/([0-9a-f]{64})/void', detail)[1]
    r = a.post(f"/versions/{sha}/void", data={"csrf": csrf_of(a, "/"), "note": "测试"})
    assert r.status_code == 303
    log = a.get("/audit").get_data(as_text=True)
    assert "作废" in log and "张三" in log and "测试" in log
    r = a.post("/collect", data={"csrf": csrf_of(a, "/")})
    assert "已收集" in a.get(r.headers["Location"]).get_data(as_text=True)
    assert a.get("/summary").status_code == 200


def test_names_typed_by_people_are_escaped(site):
    app, tokens, rnd = site
    c = clerk(app, tokens["307001"])
    r = upload(c, "<script>alert(1)</script>.xlsx", returns_of(rnd.folder, ["307001"])["307001"])
    page = c.get(r.headers["Location"]).get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page
    assert "<script>" not in c.get("/u").get_data(as_text=True)


@pytest.mark.parametrize("host, exposed", [("127.0.0.1", False), ("::1", False), ("localhost", False),
                                           ("0.0.0.0", True), ("192.168.1.20", True)])
def test_serve_says_what_a_host_exposes(round_dir, monkeypatch, host, exposed):
    """Nothing is bound here: the server's run is replaced; what serve prints before it is what is tested."""
    import perftables.web.serve as serving
    started = []
    monkeypatch.setattr(serving, "run", lambda app, h, p, **kw: started.append((h, p)))
    console_round(round_dir)
    r = run("serve", "--host", host, "--port", "8123")
    assert r.exit_code == 0 and started == [(host, 8123)], r.output
    assert ("局域网内能访问这台电脑的人都能打开它" in r.output) is exposed, r.output


def test_serve_refuses_without_a_password(round_dir):
    r = run("serve")
    assert r.exit_code == 2 and "--set-password" in r.output
    r = run("serve", "--set-password", env={"PERFTABLES_ADMIN_PASSWORD": "short"})
    assert r.exit_code == 2 and "至少 8 位" in r.output
    r = run("serve", "--set-password", env={"PERFTABLES_ADMIN_PASSWORD": PASSWORD})
    assert r.exit_code == 0
    with Round.load(round_dir).store() as store:
        assert check_password(PASSWORD, store.meta(ADMIN_META))


def test_links_are_stable_revocable_and_hashed(round_dir):
    first = run("links", "--csv", round_dir / "链接.csv")
    assert first.exit_code == 0 and first.output.count("/t/") == 5 and "base_url" in first.output
    again = run("links")
    assert again.output == first.output.replace(f"CSV：{round_dir / '链接.csv'}\n", "")     # listed again, the same
    token = re.search(r"306001 .* /t/(\S+)", first.output)[1]
    assert len(token) == 32
    with Round.load(round_dir).store() as store:
        assert store.unit_of_link(token_hash(token)) == "306001"
        assert token not in str(store.links())                      # only a hash is kept
    run("links", "--revoke", "306001")
    assert token not in run("links").output


def test_the_letter_carries_each_units_upload_link(round_dir):
    settings = round_dir / "设置.toml"
    settings.write_text(settings.read_text(encoding="utf-8").replace('base_url = ""', 'base_url = "http://192.168.1.20:8080"'),
                        encoding="utf-8")
    assert run("generate").exit_code == 0
    r = run("mail")
    assert r.exit_code == 0, r.output
    import email
    from email import policy
    drafts = sorted((round_dir / "1-下发_邮件").glob("*.eml"))
    bodies = {}
    for path in drafts:
        msg = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        bodies[path.name[:6]] = msg.get_body(("plain",)).get_content()
    links = {line.split()[0]: line.split()[-1] for line in run("links").output.splitlines() if "/t/" in line}
    assert links["306001"].startswith("http://192.168.1.20:8080/t/")
    assert links["306001"] in bodies["306001"] and links["307001"] not in bodies["306001"]
    assert "网页上传" in bodies["306001"]


def test_two_uploads_of_one_unit_at_once_are_both_kept_one_current(site):
    import datetime as dt
    import threading
    app, tokens, rnd = site
    first = returns_of(rnd.folder, ["307001"])["307001"]
    second = returns_of(rnd.folder, ["307001"], created=dt.datetime(2025, 1, 12, 9))["307001"]
    clients = [clerk(app, tokens["307001"]) for _ in range(2)]
    tokens_ = [csrf_of(c) for c in clients]
    codes = []

    def send(c, t, name, data):
        r = c.post("/u/upload", data={"csrf": t, "file": (io.BytesIO(data), name)}, content_type="multipart/form-data")
        codes.append(r.status_code)
    threads = [threading.Thread(target=send, args=(c, t, n, d)) for c, t, n, d in
               zip(clients, tokens_, ("一.xlsx", "二.xlsx"), (first, second))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert codes == [303, 303]
    with rnd.store() as store:
        assert len(store.uploads("307001")) == 2 and len(store.versions()) == 2
        ledger = rnd.ledger(store)
        assert len(ledger.received("307001")) == 2 and ledger.latest("307001") is not None
    assert "2 次报送" in run("status").output


def test_many_part_uploads_are_refused(site):
    app, tokens, rnd = site
    c = clerk(app, tokens["307001"])
    data = {"csrf": csrf_of(c), **{f"f{i}": "x" for i in range(40)}}
    r = c.post("/u/upload", data=data, content_type="multipart/form-data")
    assert r.status_code == 413


def test_the_coordinator_returns_a_file_with_a_note_the_clerk_sees(site):
    app, tokens, rnd = site
    c = clerk(app, tokens["307001"])
    upload(c, "丰宁.xlsx", returns_of(rnd.folder, ["307001"])["307001"])
    a = admin(app)
    r = a.post("/units/307001/return", data={"csrf": csrf_of(a, "/"), "note": ""})
    assert "要写明原因" in a.get(r.headers["Location"]).get_data(as_text=True)
    r = a.post("/units/307001/return", data={"csrf": csrf_of(a, "/"), "note": "项目2的绩效目标请写具体<b>"})
    assert "已退回" in a.get(r.headers["Location"]).get_data(as_text=True)
    page = c.get("/u").get_data(as_text=True)
    assert "协调人退回了这份文件：项目2的绩效目标请写具体&lt;b&gt;" in page and "已退回" in page
    assert "  已退回" in run("status").output
    import datetime as dt
    later = returns_of(rnd.folder, ["307001"], created=dt.datetime(2025, 1, 12, 9))["307001"]
    upload(c, "改了.xlsx", later)                                            # a new file reopens it
    assert "已退回" not in run("status").output


def test_publish_from_the_board_has_the_gate(site):
    app, tokens, rnd = site
    for code in ("307001", "405002"):
        upload(clerk(app, tokens[code]), f"{code}.xlsx", returns_of(rnd.folder, [code])[code])
    a = admin(app)
    r = a.post("/publish", data={"csrf": csrf_of(a, "/")})
    page = a.get(r.headers["Location"]).get_data(as_text=True)
    assert "未发布" in page and "306002" in page and not any(rnd.public.iterdir())
    r = a.post("/publish", data={"csrf": csrf_of(a, "/"), "force": "1"})
    page = a.get(r.headers["Location"]).get_data(as_text=True)
    assert "已发布" in page and "青溪县2025年项目支出绩效目标汇总.docx" in page
    got = a.get("/public/" + "青溪县2025年项目支出绩效目标汇总.docx")
    assert got.status_code == 200 and got.data[:2] == b"PK"
    assert a.get("/public/..%2F设置.toml").status_code == 404 and a.get("/public/nosuch.docx").status_code == 404


def test_an_error_is_waived_with_a_reason_and_then_the_unit_can_pass(site):
    app, tokens, rnd = site
    c = clerk(app, tokens["731002"])
    result = upload(c, "保定.xlsx", returns_of(rnd.folder, ["731002"])["731002"]).headers["Location"]
    a = admin(app)
    r = a.post("/units/731002/approve", data={"csrf": csrf_of(a, "/")})
    assert "没有修改或豁免" in a.get(r.headers["Location"]).get_data(as_text=True)
    detail = a.get("/units/731002").get_data(as_text=True)
    ids = re.findall(r'name="finding" value="([^"]+)"', detail)
    errors = [i for i, row in zip(ids, re.findall(r'<tr class="(error|warning)">', detail)) if row == "error"]
    assert len(errors) == 2
    import html as h
    r = a.post("/units/731002/waive", data={"csrf": csrf_of(a, "/"), "finding": h.unescape(errors[0]), "reason": ""})
    assert "要写明理由" in a.get(r.headers["Location"]).get_data(as_text=True)
    for k, fid in enumerate(errors):
        if k == 1:   # the command line sees the waivers too
            r = run("approve", "731002")
            assert r.exit_code == 2 and "1 个错误没有修改或豁免" in r.output, r.output
        r = a.post("/units/731002/waive", data={"csrf": csrf_of(a, "/"), "finding": h.unescape(fid),
                                                "reason": "经核实，项目批复如此"})
        assert "已豁免" in a.get(r.headers["Location"]).get_data(as_text=True)
    r = a.post("/units/731002/approve", data={"csrf": csrf_of(a, "/")})
    assert "已确认通过" in a.get(r.headers["Location"]).get_data(as_text=True) and "2 个问题已豁免" in \
        a.get(r.headers["Location"]).get_data(as_text=True)
    assert "  通过" in run("status").output
    page = c.get(result).get_data(as_text=True)
    assert page.count("协调人已豁免") == 2 and "个错误必须修改" not in page
    log = a.get("/audit").get_data(as_text=True)
    assert log.count("经核实，项目批复如此") == 2


def _set(folder, section, **values):
    """Settings typed into 设置.toml as the coordinator types them."""
    path = folder / "设置.toml"
    text = path.read_text(encoding="utf-8")
    for key, value in values.items():
        text, n = re.subn(rf"(?m)^(\[{section}\][^\[]*?^){key} = [^\n]*$", lambda m: m[1] + f"{key} = {value}", text,
                          flags=re.S)
        assert n == 1, (section, key)
    path.write_text(text, encoding="utf-8")


def _remind(c, path):
    r = c.post(path, data={"csrf": csrf_of(c, "/")})
    assert r.status_code == 303
    job = c.application.extensions["perftables"]["remind"]
    job.thread.join(30)
    return c.get("/").get_data(as_text=True)


def test_the_board_reminds_one_unit_then_the_rest_once_a_day(round_dir, smtp_server, monkeypatch):
    outbox, port = smtp_server
    _set(round_dir, "mail", sender='"kx@example.cn"', smtp='"127.0.0.1"', port=port, security='"none"', interval=0)
    rnd, tokens = console_round(round_dir)
    with rnd.using_key():
        app = console(rnd)
        upload(clerk(app, tokens["731002"]), "保定.xlsx", returns_of(rnd.folder, ["731002"])["731002"])
        c = admin(app)
        c.post("/collect", data={"csrf": csrf_of(c, "/")})
        page = _remind(c, "/units/306001/remind")
        assert "已发送 1 封" in page and [m[0] for m in outbox.messages] == [["bdhkx@example.cn"]], page
        page = _remind(c, "/remind")
        units = len(rnd.roster().units)
        assert f"已发送 {units - 1} 封" in page, page
        sent = {m["Subject"]: m for _, m in outbox.messages}
        problem = [m for s, m in sent.items() if "问题尚未修改" in s]
        assert len(problem) == 1 and "保定市" in problem[0]["Subject"], list(sent)
        assert any("审核意见" in (a.get_filename() or "") for a in problem[0].iter_attachments())
        page = _remind(c, "/remind")
        assert "没有要催报的单位" in page and len(outbox.messages) == units
    assert run("status").exit_code == 0
    with rnd.store() as store:
        reminded = {e["unit"] for e in rnd.ledger(store).events if e["event"] == "已催报"}
    assert len(reminded) == units


def test_without_smtp_the_board_writes_drafts(site):
    app, tokens, rnd = site
    c = admin(app)
    page = _remind(c, "/remind")
    assert "催报草稿" in page and "没有设置 SMTP" in page, page
    assert len(list((rnd.folder / "1-下发_邮件").rglob("*_催报.eml"))) == len(rnd.roster().units)


def test_the_board_filters_by_a_units_status(site):
    """The counts link to the units in each status — a status with its detail (有问题（…）) counts as that status."""
    app, tokens, rnd = site
    assert upload(clerk(app, tokens["731002"]), "保定的表.xlsx", returns_of(rnd.folder, ["731002"])["731002"]).status_code == 303
    a = admin(app)
    board = a.get("/").get_data(as_text=True)
    assert 'href="/?state=%E6%9C%89%E9%97%AE%E9%A2%98"' in board and "有问题 1" in board and "未报送 4" in board
    rows = lambda page: set(re.findall(r'href="/units/(\d+)"', page))
    assert rows(a.get("/?state=有问题").get_data(as_text=True)) == {"731002"}
    assert rows(a.get("/?state=未报送").get_data(as_text=True)) == {"306001", "306002", "307001", "405002"}
    assert rows(board) == rows(a.get("/?state=未报送").get_data(as_text=True)) | {"731002"}
