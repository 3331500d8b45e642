"""fetch: returns from a real IMAP server (Dovecot on loopback), sent the way Chinese mail clients send
them; nothing fetched twice, nothing in the mailbox changed, nothing partial left behind."""
from __future__ import annotations

import base64
import binascii
import csv
import email
import hashlib
import itertools
import os
import urllib.parse

import pytest

from conftest import EXAMPLES, run
from imapserver import PASSWORD
from perftables.mail.fetch import (DONE, SAME, SAVED, TOO_BIG, imap_utf7, imap_utf7_decode,
                              log_path_for, parse_mail, safe_name)

ROSTER = EXAMPLES / "roster.csv"
RETURNS = sorted((EXAMPLES / "returns").glob("*.xlsx"))
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_users = itertools.count(1)


@pytest.fixture
def user():
    return f"kx{next(_users)}@example.cn"


def b64(data: bytes) -> str:
    text = base64.b64encode(data).decode()
    return "\r\n".join(text[i:i + 76] for i in range(0, len(text), 76))


def word(text: str, charset: str = "GB2312") -> str:
    """An RFC 2047 encoded word, as Foxmail and QQ mail write Chinese headers."""
    return f"=?{charset}?B?{base64.b64encode(text.encode(charset)).decode()}?="


def mail(sender: str, subject: str, parts: list[str], msgid: str, date="Mon, 13 Jan 2025 09:30:00 +0800",
         from_name: str = "") -> bytes:
    boundary = "----=_NextPart_000_0012_01DB6590.5C1A2B30"
    head = (f"From: {word(from_name) + ' ' if from_name else ''}<{sender}>\r\nTo: <kx@example.cn>\r\n"
            f"Subject: {word(subject)}\r\nDate: {date}\r\nMessage-ID: {msgid}\r\nMIME-Version: 1.0\r\n"
            f'Content-Type: multipart/mixed; boundary="{boundary}"\r\n\r\nThis is a multi-part message in MIME format.\r\n')
    body = "".join(f"--{boundary}\r\n{p}\r\n" for p in [text_part("各位领导：附件是我单位的绩效目标表，请查收。"), *parts])
    return (head + body + f"--{boundary}--\r\n").encode("utf-8", "surrogateescape")


def text_part(text: str) -> str:
    return f"Content-Type: text/plain; charset=GB2312\r\nContent-Transfer-Encoding: base64\r\n\r\n{b64(text.encode('gb2312'))}\r\n"


def foxmail_part(name: str, data: bytes) -> str:
    """Foxmail / QQ: the name as an RFC 2047 word inside the quoted parameter (not what RFC 2231 says)."""
    w = word(name, "GB2312")
    return (f'Content-Type: {XLSX};\r\n\tname="{w}"\r\nContent-Transfer-Encoding: base64\r\n'
            f'Content-Disposition: attachment;\r\n\tfilename="{w}"\r\n\r\n{b64(data)}\r\n')


def rfc2231_part(name: str, data: bytes, charset="UTF-8") -> str:
    """Outlook / Thunderbird: RFC 2231, split into continuations."""
    escapes = [urllib.parse.quote(bytes([b]), safe="") for b in name.encode(charset)]
    pieces = ["".join(escapes[i:i + 14]) for i in range(0, len(escapes), 14)]   # split between escapes
    params = ";\r\n".join(f" filename*{i}*={charset}''{p}" if i == 0 else f" filename*{i}*={p}"
                          for i, p in enumerate(pieces))
    return (f"Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n"
            f"Content-Disposition: attachment;\r\n{params}\r\n\r\n{b64(data)}\r\n")


def raw_gbk_part(name: str, data: bytes) -> str:
    """An old client that writes the GBK bytes of the name straight into the header."""
    raw = name.encode("gbk").decode("utf-8", "surrogateescape")
    return (f'Content-Type: application/vnd.ms-excel; name="{raw}"\r\nContent-Transfer-Encoding: base64\r\n'
            f'Content-Disposition: attachment; filename="{raw}"\r\n\r\n{b64(data)}\r\n')


def qp_part(name: str, data: bytes) -> str:
    return (f'Content-Type: {XLSX}; name="{word(name, "UTF-8")}"\r\nContent-Transfer-Encoding: quoted-printable\r\n'
            f'Content-Disposition: attachment; filename="{word(name, "UTF-8")}"\r\n\r\n'
            + binascii.b2a_qp(data, istext=False).decode("ascii").replace("=\n", "=\r\n"))   # binary: line ends encoded


def forwarded_part(inner: bytes) -> str:
    return ("Content-Type: message/rfc822\r\nContent-Disposition: attachment\r\n\r\n"
            + inner.decode("utf-8", "surrogateescape") + "\r\n")


JPEG = b"\xff\xd8\xff\xe0" + bytes(50)


def image_part() -> str:
    return ('Content-Type: image/jpeg; name="signature.jpg"\r\nContent-Transfer-Encoding: base64\r\n'
            f'Content-Disposition: attachment; filename="signature.jpg"\r\n\r\n{b64(JPEG)}\r\n')


def run_fetch(imap_server, user, out, *extra, password=PASSWORD):
    env = {"PERFTABLES_IMAP_PASSWORD": password, "SSL_CERT_FILE": str(imap_server.cert)}
    return run("fetch", "--imap", "127.0.0.1", "--port", str(imap_server.ssl_port), "--user", user,
               "-o", str(out), "--roster", str(ROSTER), *map(str, extra), env=env)


def log_rows(out):
    with log_path_for(out).open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# ---------------------------------------------------------------------------------------------- names

@pytest.mark.parametrize("part", [foxmail_part, rfc2231_part, raw_gbk_part, qp_part,
                                  lambda n, d: rfc2231_part(n, d, "GBK"), lambda n, d: rfc2231_part(n, d, "GB18030")])
def test_chinese_file_names_as_clients_write_them(part):
    name = "丰宁满族自治县科协2025年绩效目标表（修改后）.xlsx"
    data = RETURNS[1].read_bytes()
    m = parse_mail(mail("fnkx@example.cn", "绩效目标表", [part(name, data)], "<a@b>"))
    [att] = m.attachments
    assert att.name == name and att.data == data and att.kind == "xlsx"
    assert m.subject == "绩效目标表" and m.sender == "fnkx@example.cn"


def test_names_safe_on_every_file_system():
    assert safe_name("..\\..\\evil/名单:?.xlsx") == "名单__.xlsx"
    assert safe_name("CON.xlsx") == "_CON.xlsx"
    assert safe_name("表" * 300 + ".xlsx").endswith(".xlsx") and len(safe_name("表" * 300 + ".xlsx")) <= 130
    assert safe_name("  .xlsx") == "xlsx"
    from perftables.core.files import safe_file_name      # the same rule for the files perftables names itself
    cut = safe_file_name("某" * 200 + "_2025年绩效目标表.xlsx")   # cut in bytes, marked, the extension kept
    assert cut.startswith("某某") and cut.endswith(".xlsx") and "~" in cut and len(cut.encode()) <= 180
    assert imap_utf7("已发送") == "&XfJT0ZAB-" and imap_utf7_decode("&XfJT0ZAB-") == "已发送"   # RFC 3501 §5.1.3
    assert imap_utf7("A&B 报表") == "A&-B &YqWIaA-" and imap_utf7_decode("A&-B &YqWIaA-") == "A&B 报表"


def test_a_name_in_an_unknown_charset_is_still_a_name():
    part = 'Content-Type: application/zip\r\nContent-Disposition: attachment; filename*=x-bogus\'\'%E6%B1%87.zip\r\n\r\nPK\x05\x06' + "\0" * 18
    m = parse_mail(mail("a@example.cn", "x", [part], "<n@b>"))
    assert len(m.attachments) == 1 and m.attachments[0].name.endswith(".zip")


# ---------------------------------------------------------------------------------------------- the loop

@pytest.mark.slow
def test_fetch_saves_every_return_once_and_leaves_the_mailbox_as_it_was(imap_server, user, tmp_path):
    files = {p.name: p.read_bytes() for p in RETURNS}
    r306, r307, r405, r731 = (files[p.name] for p in RETURNS)
    inner = mail("tskx@example.cn", "唐山市科协绩效目标表", [rfc2231_part("唐山市科协.xlsx", r405)], "<inner@ts>")
    big = os.urandom(int(1.5 * (1 << 20)))
    messages = [
        mail("bdhkx@example.cn", "北戴河区科协绩效目标表", [foxmail_part("北戴河.xlsx", r306)], "<1@bdh>",
             from_name="北戴河区科协"),
        mail("FNKX@Example.cn", "回复：绩效目标表", [raw_gbk_part("丰宁.xls", r307), image_part()], "<2@fn>"),
        mail("kx@example.cn", "转发：唐山市科协绩效目标表", [forwarded_part(inner)], "<3@fw>"),
        mail("bdkx@example.cn", "保定两份", [qp_part("保定.xlsx", r731), rfc2231_part("保定（副本）.xlsx", r731)], "<4@bd>"),
        mail("stranger@qq.com", "我们单位的表", [rfc2231_part("表.zip", b"PK\x05\x06" + bytes(18))], "<5@qq>"),
        mail("bdhkx@example.cn", "太大的附件", [rfc2231_part("大.zip", b"PK\x03\x04" + big)], "<6@bdh>"),
        mail("bdhkx@example.cn", "只有正文", [], "<7@bdh>"),
    ]
    imap_server.deliver(user, *messages)
    out = tmp_path / "收件箱"
    r = run_fetch(imap_server, user, out, "--max-size", "1")
    assert r.exit_code == 0, r.output
    saved = {p.name: p.read_bytes() for p in out.iterdir()}
    # every return, under a name that says who sent it when; duplicates in one mail saved once
    assert sorted(sha(d) for d in saved.values()) == sorted(map(sha, [r306, r307, r405, r731, b"PK\x05\x06" + bytes(18)]))
    assert "20250113_秦皇岛市北戴河区科学技术协会(本级)_北戴河.xlsx" in saved
    assert "20250113_丰宁满族自治县科学技术协会本级_丰宁.xls" in saved           # sender matched case-blind
    assert "20250113_stranger@qq.com_表.zip" in saved
    assert "20250113_唐山市科学技术协会_唐山市科协.xlsx" in saved               # forwarded: the unit that wrote it
    assert not any(n.startswith("~$") or n.endswith(".tmp") for n in saved)      # nothing partial
    assert "名单外的发件人 1 封" in r.output and "stranger@qq.com" in r.output
    assert "大.zip" in r.output and "超过上限 1 MB" in r.output
    rows = log_rows(out)
    results = [(row["Message-ID"], row["附件"], row["结果"]) for row in rows]
    assert ("<2@fn>", "signature.jpg", "未保存（不是报表文件）") in results
    assert ("<6@bdh>", "大.zip", TOO_BIG) in results
    assert ("<4@bd>", "保定（副本）.xlsx", SAME) in results
    assert ("<7@bdh>", "", "无附件") in results
    assert sum(1 for row in rows if row["结果"] == DONE) == 7
    by_hash = {row["SHA-256"]: row for row in rows if row["结果"] == SAVED}
    assert by_hash[sha(r405)]["发件人"] == "kx@example.cn" and by_hash[sha(r405)]["主题"] == "转发：唐山市科协绩效目标表"
    # when it reached us is the server's time, never the sender's own Date header (which is shown beside it)
    assert by_hash[sha(r306)]["单位编码"] == "306001" and by_hash[sha(r306)]["邮件时间"] == "2025-01-13 10:05:00"
    assert by_hash[sha(r306)]["信头时间"].startswith("2025-01-13 09:30:00")
    # read-only: not one message marked seen, none deleted
    assert imap_server.count(user) == 7 and not any(b"\\Seen" in f for f in imap_server.flags(user))
    # the password is nowhere on disk
    for path in [*out.iterdir(), log_path_for(out)]:
        assert PASSWORD.encode() not in path.read_bytes()
    # a second run fetches nothing; a new mail is fetched alone
    r = run_fetch(imap_server, user, out, "--max-size", "1")
    assert r.exit_code == 0 and "新邮件 0 封，保存附件 0 个" in r.output and "此前已取过 7 封" in r.output
    imap_server.deliver(user, mail("bdhkpzx@example.cn", "科普服务中心", [foxmail_part("中心.xlsx", r306 + b"")], "<8@c>"))
    r = run_fetch(imap_server, user, out, "--max-size", "1")
    assert "新邮件 1 封，保存附件 0 个，内容重复未再保存 1 个" in r.output       # same bytes as an earlier file
    assert sorted(p.name for p in out.iterdir()) == sorted(saved)
    # and collect reads the folder
    r = run("collect", str(out), "-o", str(tmp_path / "汇总" / "汇总.xlsx"), "--roster", str(ROSTER))
    assert r.exit_code == 0, r.output
    assert "已采用" in r.output


def test_since_mark_seen_and_another_folder(imap_server, user, tmp_path):
    data = RETURNS[0].read_bytes()
    imap_server.deliver(user, mail("bdhkx@example.cn", "旧", [foxmail_part("旧.xlsx", data)], "<old@x>"),
                   mail("bdhkx@example.cn", "新", [foxmail_part("新.xlsx", data + b"\0")], "<new@x>"),
                   folder=imap_utf7("绩效.回执"))     # Dovecot's Maildir hierarchy separator is "."
    out = tmp_path / "in"
    r = run_fetch(imap_server, user, out, "--folder", "不存在")
    assert r.exit_code == 1 and "没有文件夹“不存在”" in r.output and "绩效/回执、收件箱" in r.output
    r = run_fetch(imap_server, user, out, "--folder", "绩效/回执", "--since", "2099-01-01")
    assert r.exit_code == 0 and "新邮件 0 封" in r.output and not list(out.iterdir())
    r = run_fetch(imap_server, user, out, "--folder", "绩效/回执", "--since", "2000-01-01", "--mark-seen")
    assert r.exit_code == 0, r.output
    assert len(list(out.iterdir())) == 2
    assert all(b"\\Seen" in f for f in imap_server.flags(user, imap_utf7("绩效.回执")))


def test_interrupted_run_resumes_without_duplicates(imap_server, user, tmp_path, monkeypatch):
    from perftables.mail import fetch as f
    datas = [p.read_bytes() for p in RETURNS]
    imap_server.deliver(user, *(mail("bdhkx@example.cn", f"第{i}封", [rfc2231_part(f"{i}.xlsx", d)], f"<{i}@r>")
                           for i, d in enumerate(datas)))
    out = tmp_path / "in"
    real, calls = f._save, []

    def failing(*a):
        calls.append(a)
        if len(calls) == 3:
            raise ConnectionResetError(104, "Connection reset by peer")
        return real(*a)
    monkeypatch.setattr(f, "_save", failing)
    r = run_fetch(imap_server, user, out)
    assert r.exit_code == 1 and "连接中断" in r.output and "继续" in r.output
    assert len(list(out.iterdir())) == 2
    monkeypatch.setattr(f, "_save", real)
    r = run_fetch(imap_server, user, out)
    assert r.exit_code == 0, r.output
    assert sorted(sha(p.read_bytes()) for p in out.iterdir()) == sorted(map(sha, datas))
    assert "此前已取过 2 封" in r.output


@pytest.mark.slow
def test_wrong_password_and_untrusted_certificate_are_messages(imap_server, user, tmp_path):
    r = run_fetch(imap_server, user, tmp_path / "in", password="wrong")
    assert r.exit_code == 1 and "登录失败" in r.output and "授权码" in r.output
    env = {"PERFTABLES_IMAP_PASSWORD": PASSWORD, "SSL_CERT_FILE": str(EXAMPLES / "roster.csv")}
    r = run("fetch", "--imap", "127.0.0.1", "--port", str(imap_server.ssl_port), "--user", user,
            "-o", str(tmp_path / "in"), env={**env, "SSL_CERT_FILE": "/nonexistent"})
    assert r.exit_code == 1 and "证书无法验证" in r.output, r.output
    r = run("fetch", "--imap", "127.0.0.1", "--port", str(imap_server.plain_port), "--security",
            "starttls", "--user", user, "-o", str(tmp_path / "in"),
            env={"PERFTABLES_IMAP_PASSWORD": PASSWORD, "SSL_CERT_FILE": str(imap_server.cert)})
    assert r.exit_code == 0, r.output
    assert "Traceback" not in r.output


@pytest.mark.slow
def test_password_prompt_and_a_mail_too_big_to_download(imap_server, user, tmp_path):
    imap_server.deliver(user, mail("bdhkx@example.cn", "巨大", [rfc2231_part("大.zip", b"PK\x03\x04" + os.urandom(3 << 20))],
                              "<huge@x>"))
    out = tmp_path / "in"
    r = run("fetch", "--imap", "127.0.0.1", "--port", str(imap_server.ssl_port), "--user", user,
            "-o", str(out), "--max-size", "1", "--roster", str(ROSTER), input=PASSWORD + "\n",
            env={"SSL_CERT_FILE": str(imap_server.cert), "PERFTABLES_IMAP_PASSWORD": None})
    assert r.exit_code == 0, r.output
    assert PASSWORD not in r.output and "IMAP 密码" in r.output
    assert "（整封邮件）" in r.output and "未下载" in r.output
    assert not out.exists() or not list(out.iterdir())
    [row] = [row for row in log_rows(out) if row["结果"] == TOO_BIG]
    assert row["Message-ID"] == "<huge@x>" and row["发件人"] == "bdhkx@example.cn" and row["单位编码"] == "306001"


def test_a_sender_named_with_brackets_reads_as_written_however_the_client_folded_it():
    """“协会(本级)” as Python, Foxmail and Outlook write it: one encoded word, or two with the fold between them."""
    from email.message import EmailMessage
    from email.utils import formataddr

    from perftables.mail.fetch import _envelope, _POLICY
    name = "秦皇岛市北戴河区科学技术协会(本级)"
    folded = EmailMessage()
    folded["From"] = formataddr((name, "kx@example.cn"))
    raws = [bytes(folded).split(b"\n\n")[0] + b"\n\n",
            b"From: =?UTF-8?B?" + base64.b64encode(name.encode()) + b"?= <kx@example.cn>\n\n",
            b'From: "' + "张三".encode("gb18030") + b'" <zs@example.cn>\n\n',
            b"From: =?gbk?b?1cXI/Q==?= <ZS@Example.cn>\n\n"]
    got = [_envelope(email.message_from_bytes(raw, policy=_POLICY), "1") for raw in raws]
    assert [(m.sender_name, m.sender) for m in got] == [(name, "kx@example.cn"), (name, "kx@example.cn"),
                                                         ("张三", "zs@example.cn"), ("张三", "zs@example.cn")]
