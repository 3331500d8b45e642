"""mail.send: one message per unit planned from generate's 发送清单 — recipients checked, the letter filled in,
the upload link said — written as drafts a mail program opens to send; nothing unsafe reaches a header."""
import email
from email import policy

from conftest import EXAMPLES, run
from perftables.mail.send import header_problem, plan_templates, write_drafts
from perftables.model.roster import read_roster

LETTER = "{unit_name}：\n\n请填写附件中的{year}年{form_title}。\n\n    填写时请用 Excel 或 WPS。"


def generated(tmp_path):
    out = tmp_path / "下发"
    assert run("generate", EXAMPLES / "roster.csv", "-o", out, "--year", "2025").exit_code == 0
    return out


def test_one_message_per_unit_with_its_own_template_and_link(tmp_path):
    out = generated(tmp_path)
    roster = read_roster(EXAMPLES / "roster.csv")
    links = {u.code: f"http://127.0.0.1:8000/u/{u.code}" for u in roster.units}
    messages, missing = plan_templates(out, roster, LETTER, "{year}年绩效目标表（{unit_name}）", {}, links)
    with_mail = [u for u in roster.units if u.email]
    assert len(messages) == len(with_mail) and len(missing) == len(roster.units) - len(with_mail)
    for m in messages:
        assert m.attachment.name.startswith(m.unit_code) and m.attachment.is_file()
        assert m.subject == f"2025年绩效目标表（{m.unit_name}）"
        assert m.body.startswith(f"{m.unit_name}：") and links[m.unit_code] in m.body   # the link, said
    drafts = write_drafts(messages, tmp_path / "草稿", "kx@example.org", "科协")
    msg = email.message_from_bytes(drafts[0].read_bytes(), policy=policy.default)
    assert msg["X-Unsent"] == "1" and msg["To"].addresses[0].addr_spec == messages[0].to.split(";")[0]
    attachment = next(msg.iter_attachments())
    assert attachment.get_filename() == messages[0].attachment.name
    assert attachment.get_content() == messages[0].attachment.read_bytes()


def test_nothing_with_a_line_break_reaches_a_header():
    assert header_problem("年度表", "kx@example.org") is None
    assert "换行" in header_problem("主题\r\nBcc: all@example.org")
    assert header_problem("a\x00b") is not None


def test_a_server_or_mailbox_never_prints_its_password():
    from perftables.mail.fetch import Mailbox
    from perftables.mail.send import SmtpServer
    for obj in (SmtpServer("smtp.example.cn", password="授权码secret"), Mailbox("imap.example.cn", "u", "授权码secret")):
        assert "secret" not in repr(obj) and obj.password == "授权码secret"
    assert SmtpServer("h", security="starttls").usual_port == 587 and SmtpServer("h", 2525).usual_port == 2525
