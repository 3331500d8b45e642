"""mail: drafts and real sending through an SMTP server started on loopback."""
import email
from email import policy

import pytest

from conftest import EXAMPLES, run

pytest.importorskip("aiosmtpd.controller")


@pytest.fixture
def templates(tmp_path):
    out = tmp_path / "下发"
    r = run("generate", str(EXAMPLES / "roster.csv"), "-o", str(out), "--year", "2025")
    assert r.exit_code == 0, r.output
    return out


def test_drafts_open_as_mail_with_the_template_attached(templates):
    r = run("mail", str(templates), "--roster", str(EXAMPLES / "roster.csv"), "--from",
            "kx@example.cn", "--year", "2025", "--deadline", "2025年1月15日")
    assert r.exit_code == 0, r.output
    drafts = sorted((templates.parent / "下发_邮件").glob("*.eml"))
    assert len(drafts) == 5
    msg = email.message_from_bytes(drafts[0].read_bytes(), policy=policy.default)
    assert msg["To"].addresses[0].addr_spec == "bdhkx@example.cn"
    assert msg["Subject"].startswith("2025年度项目支出绩效目标表（") and "2025年1月15日" in msg.get_body().get_content()
    [att] = list(msg.iter_attachments())
    assert att.get_content() == (templates / att.get_filename()).read_bytes()


def test_units_without_email_are_listed(templates, tmp_path):
    roster = tmp_path / "r.csv"
    text = (EXAMPLES / "roster.csv").read_text(encoding="utf-8-sig").replace("bdhkpzx@example.cn", "")
    roster.write_text(text, encoding="utf-8")
    r = run("mail", str(templates), "--roster", str(roster), "--dry-run")
    assert "未生成：306002 秦皇岛市北戴河区科普服务中心：名单中没有邮箱" in r.output
    assert "共 4 封（未写草稿、未发送）" in r.output and not (templates.parent / "下发_邮件").exists()


def test_send_over_smtp_is_complete_and_resumable(templates, smtp_server, monkeypatch):
    handler, port = smtp_server
    monkeypatch.delenv("PERFTABLES_SMTP_PASSWORD", raising=False)
    args = ["mail", str(templates), "--roster", str(EXAMPLES / "roster.csv"), "--from", "kx@example.cn",
            "--year", "2025", "--send", "--smtp", "127.0.0.1", "--port", str(port), "--security", "none",
            "--interval", "0.01"]
    r = run(*args)
    assert r.exit_code == 0, r.output
    assert "已发送 5 封" in r.output
    assert len(handler.messages) == 5
    from perftables.model.roster import read_roster
    codes = {u.email: u.code for u in read_roster(EXAMPLES / "roster.csv").units}
    for rcpt, msg in handler.messages:
        [att] = list(msg.iter_attachments())
        assert att.get_content() == (templates / att.get_filename()).read_bytes()
        assert rcpt == [msg["To"].addresses[0].addr_spec]
        assert att.get_filename().startswith(codes[rcpt[0]] + "_")     # each unit gets its own workbook
    # resumable: nothing is sent twice
    r = run(*args)
    assert "已发送 0 封，此前已发送跳过 5 封" in r.output and len(handler.messages) == 5
    log = (templates.parent / "下发_邮件" / "发送记录.csv").read_text(encoding="utf-8-sig")
    assert log.count("已发送") == 5 and "bdhkx@example.cn" in log


def test_feedback_mail_has_the_review_as_body(tmp_path, smtp_server):
    handler, port = smtp_server
    r = run("collect", str(EXAMPLES / "returns"), "-o", str(tmp_path / "s.xlsx"),
            "--feedback", str(tmp_path / "退改"))
    assert r.exit_code == 0, r.output
    r = run("mail", str(tmp_path / "退改"), "--roster", str(EXAMPLES / "roster.csv"),
            "--feedback", "--from", "kx@example.cn", "--send", "--smtp", "127.0.0.1",
            "--port", str(port), "--security", "none", "--interval", "0",
            env={"PERFTABLES_SMTP_PASSWORD": ""})
    assert r.exit_code == 0, r.output
    bodies = {msg["To"].addresses[0].addr_spec: msg.get_body().get_content() for _, msg in handler.messages}
    assert "“%”是占位符" in bodies["bdkx@example.cn"] and "12月底" in bodies["bdkx@example.cn"]
    assert len(handler.messages) == 4
