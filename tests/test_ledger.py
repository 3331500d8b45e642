"""The ledger beside the summary: each unit's state through the cycle, across runs, never lost — and the
whole e-mail loop, from the first mail to the last approval, against real servers on loopback (SMTP:
aiosmtpd; IMAP: Dovecot)."""
from __future__ import annotations

import datetime as dt
import email
import json
from email import policy

import pytest
from python_calamine import CalamineWorkbook

from conftest import run, EXAMPLES, corrected_return, fix_731002
from perftables.cycle.ledger import (APPROVE_COLUMN, APPROVED, FEEDBACK, FEEDBACK_SENT, RECEIVED, REMINDED, SENT, Ledger, LedgerError,
                               ledger_path)

ROSTER = EXAMPLES / "roster.csv"
TODAY = dt.date.today()


def status(summary) -> dict:
    rows = CalamineWorkbook.from_path(str(summary)).get_sheet_by_name("报送情况").to_python()
    head = [str(c) for c in rows[0]]
    return {r[0]: dict(zip(head, r)) for r in rows[1:]}


# ------------------------------------------------------------------------------------------ the states

def test_a_unit_through_every_state(tmp_path):
    led = Ledger(tmp_path / "进度台账.json", due="2025-01-15")
    day = dt.datetime(2025, 1, 10, 9)
    assert led.state("A", dt.date(2025, 1, 12)).state == "未报送"
    led.add("A", SENT, day)
    assert led.state("A", dt.date(2025, 1, 12)).state == "已下发"
    late = led.state("A", dt.date(2025, 1, 20))
    assert (late.state, late.days_late) == ("未报送", 5)
    led.add("A", RECEIVED, day.replace(day=16), sha256="v1", file="a.xlsx", saved="2025-01-16 08:00:00", errors=3,
            warnings=1, mailed="2025-01-16 07:55:00")
    st = led.state("A", dt.date(2025, 1, 20))
    assert (st.state, st.times, st.days_late) == ("有问题", 1, 1)
    led.add("A", FEEDBACK, day.replace(day=17), sha256="v1", issue=2)
    assert led.state("A").state == "有问题（退改第 2 版已生成，未发送）"     # written is not sent
    led.add("A", FEEDBACK_SENT, day.replace(day=17), sha256="v1")
    assert led.state("A").state == "有问题（已退改，第 2 版）"
    with pytest.raises(LedgerError, match="3 个错误"):
        led.approve("A")
    led.add("A", RECEIVED, day.replace(day=19), sha256="v2", file="a2.xlsx", saved="2025-01-19 10:00:00", errors=0,
            warnings=2)
    assert led.state("A").state == "已修改（有警告）" and led.state("A").times == 2
    assert "第 2 次报送" in led.approve("A", by="张三") and led.state("A").state == "通过"
    # an older copy coming in later does not replace the file that stands; a newer one voids the approval
    led.add("A", RECEIVED, day.replace(day=20), sha256="v0", file="old.xlsx", saved="2025-01-12 10:00:00",
            note="已被更新的文件替代")
    assert led.state("A").state == "通过"
    led.add("A", RECEIVED, day.replace(day=21), sha256="v3", file="a3.xlsx", saved="2025-01-21 10:00:00", errors=0,
            warnings=0)
    st = led.state("A")
    assert st.state == "已修改" and not st.approved and st.times == 4
    assert st.history.splitlines() == [
        "2025-01-10 已下发", "2025-01-16 第 1 次报送：a.xlsx（错误 3、警告 1）", "2025-01-17 生成退改工作簿（第 2 版）", "2025-01-17 已发退改",
        "2025-01-19 第 2 次报送：a2.xlsx（错误 0、警告 2）", f"{TODAY} 通过（张三）",
        "2025-01-12 第 3 次报送：old.xlsx（已被更新的文件替代）", "2025-01-21 第 4 次报送：a3.xlsx（错误 0、警告 0）"]
    # each event once; saved and read back whole
    assert not led.add("A", RECEIVED, sha256="v1") and not led.add("A", APPROVED, sha256="v2")
    assert led.add("A", REMINDED, day) and not led.add("A", REMINDED, day.replace(hour=15))
    assert led.add("A", REMINDED, day + dt.timedelta(days=1))        # once a day, not once
    led.save()
    again = Ledger.load(tmp_path)
    assert again.events == led.events and again.due == "2025-01-15" and again.digest() == led.digest()


@pytest.mark.parametrize("body", ["{not json", '{"events": [{"event": "乱写"}]}', '{"due": ""}', "\udcff"])
def test_a_ledger_that_cannot_be_read_stops_the_run_and_is_kept(tmp_path, body):
    out = tmp_path / "汇总"
    out.mkdir()
    path = out / "进度台账.json"
    path.write_bytes(body.encode("utf-8", "surrogateescape"))
    r = run("collect", EXAMPLES / "returns", "-o", out / "汇总.xlsx", "--roster", ROSTER)
    assert r.exit_code == 2 and "进度台账" in r.output and "不会丢弃" in r.output and "Traceback" not in r.output
    assert path.read_bytes() == body.encode("utf-8", "surrogateescape")
    assert sorted(p.name for p in out.iterdir()) == ["进度台账.json"]


def test_ledger_path_from_summary_folder_or_file(tmp_path):
    (tmp_path / "汇总.xlsx").write_bytes(b"x")
    assert ledger_path(tmp_path / "汇总.xlsx") == ledger_path(tmp_path) == tmp_path / "进度台账.json"
    assert ledger_path(tmp_path / "x.json") == tmp_path / "x.json"


# ------------------------------------------------------------------------------------------ collect, approve

corrected = corrected_return


def test_collect_keeps_every_units_state_and_approvals(tmp_path):
    inbox, out = tmp_path / "收件箱", tmp_path / "汇总"
    inbox.mkdir()
    for p in (EXAMPLES / "returns").iterdir():
        (inbox / p.name).write_bytes(p.read_bytes())
    due = TODAY - dt.timedelta(days=3)
    r = run("collect", inbox, "-o", out / "汇总.xlsx", "--roster", ROSTER, "--due", due, "--feedback", tmp_path / "退改")
    assert r.exit_code == 0, r.output
    st = status(out / "汇总.xlsx")
    assert st["306001"]["进度"] == st["731002"]["进度"] == "有问题（退改第 2 版已生成，未发送）"
    assert st["307001"]["进度"] == st["405002"]["进度"] == "已收到（有警告）"
    assert (st["306002"]["进度"], st["306002"]["逾期天数"]) == ("未报送", 3)
    assert st["307001"]["逾期天数"] == "" and st["307001"]["报送次数"] == 1          # saved 2025-01-10, before due
    assert "第 1 次报送" in st["731002"]["经过"] and "生成退改工作簿（第 2 版）" in st["731002"]["经过"]
    events = json.loads((out / "进度台账.json").read_text(encoding="utf-8"))["events"]
    # run again: nothing new, the summary stands
    r = run("collect", inbox, "-o", out / "汇总.xlsx", "--roster", ROSTER, "--feedback", tmp_path / "退改")
    assert r.exit_code == 0 and "收件箱与上次相同" in r.output, r.output
    assert json.loads((out / "进度台账.json").read_text(encoding="utf-8"))["events"] == events
    # the corrected file comes back
    first = next(p for p in inbox.iterdir() if p.name.startswith("731002"))
    (inbox / "731002_改好了.xlsx").write_bytes(corrected(first, fix_731002))
    # approvals: one by command (errors refused), one typed into the summary's column
    r = run("approve", out / "汇总.xlsx", "306001")
    assert r.exit_code == 2 and "10 个错误" in r.output
    r = run("approve", out, "405002", "--by", "张三")
    assert r.exit_code == 0 and "已确认通过" in r.output
    import openpyxl
    wb = openpyxl.load_workbook(out / "汇总.xlsx")
    ws = wb["报送情况"]
    head = [c.value for c in ws[1]]
    row = next(r for r in ws.iter_rows(min_row=2) if r[0].value == "307001")
    row[head.index(APPROVE_COLUMN)].value = "是"
    wb.save(out / "汇总.xlsx")
    r = run("collect", inbox, "-o", out / "汇总.xlsx", "--roster", ROSTER)
    assert r.exit_code == 0, r.output
    st = status(out / "汇总.xlsx")
    assert (st["731002"]["进度"], st["731002"]["报送次数"]) == ("已修改（有警告）", 2)
    assert "第 2 次报送：收件箱/731002_改好了.xlsx（错误 0" in st["731002"]["经过"].replace("\\", "/") or \
        "第 2 次报送：731002_改好了.xlsx（错误 0" in st["731002"]["经过"]
    assert st["405002"]["进度"] == "通过" and "通过（张三）" in st["405002"]["经过"]
    assert st["307001"]["进度"] == "通过" and st["307001"][APPROVE_COLUMN] == "是"
    assert st["306001"]["进度"] == "有问题（退改第 2 版已生成，未发送）" and st["306001"][APPROVE_COLUMN] == ""
    r = run("approve", out, "--all-clean")
    assert r.exit_code == 0 and "731002" not in r.output            # it has warnings: the coordinator decides
    r = run("approve", out, "999999")
    assert r.exit_code == 2 and "没有这些单位编码" in r.output


# ------------------------------------------------------------------------------------------ the whole loop

@pytest.mark.slow
def test_the_loop_from_the_first_mail_to_the_last_approval(tmp_path, smtp_server, imap_server):
    from imapserver import PASSWORD
    from test_fetch import foxmail_part, mail, rfc2231_part
    outbox, port = smtp_server
    imap = imap_server
    smtp_args = ["--from", "kx@example.cn", "--send", "--smtp", "127.0.0.1", "--port", port, "--security", "none",
                 "--interval", "0"]
    env = {"PERFTABLES_IMAP_PASSWORD": PASSWORD, "SSL_CERT_FILE": str(imap.cert)}
    sent, inbox, summary = tmp_path / "下发", tmp_path / "收件箱", tmp_path / "汇总"
    fetch = ["fetch", "--imap", "127.0.0.1", "--port", imap.ssl_port, "--user", "loop@example.cn", "-o", inbox,
             "--roster", ROSTER]
    # week 1: templates out
    assert run("generate", ROSTER, "-o", sent, "--year", 2025).exit_code == 0
    r = run("mail", sent, "--roster", ROSTER, "--ledger", summary, *smtp_args)
    assert r.exit_code == 0, r.output
    assert len(outbox.messages) == 5
    led = Ledger.load(summary)
    assert {e["unit"] for e in led.events if e["event"] == SENT} == {"306001", "306002", "307001", "405002", "731002"}
    # week 2: returns come in by mail, are fetched and collected; problems go back
    returns = {p.name[:6]: p.read_bytes() for p in (EXAMPLES / "returns").iterdir()}
    addr = {"306001": "bdhkx", "307001": "fnkx", "405002": "tskx", "731002": "bdkx"}
    day = (TODAY - dt.timedelta(days=1)).strftime("%a, %d %b %Y 10:00:00 +0800")
    imap.deliver("loop@example.cn", *(mail(f"{addr[c]}@example.cn", "绩效目标表", [foxmail_part(f"{c}.xlsx", d)],
                                           f"<{c}@w2>", date=day) for c, d in returns.items()),
                 received=dt.datetime.combine(TODAY - dt.timedelta(days=1), dt.time(10)))
    assert run(*fetch, env=env).exit_code == 0
    r = run("collect", inbox, "-o", summary / "汇总.xlsx", "--roster", ROSTER, "--due", TODAY - dt.timedelta(days=2),
            "--feedback", tmp_path / "退改")
    assert r.exit_code == 0, r.output
    st = status(summary / "汇总.xlsx")
    assert st["731002"]["进度"] == "有问题（退改第 2 版已生成，未发送）" and st["731002"]["逾期天数"] == 1   # a day late
    assert "已下发" in st["731002"]["经过"] and st["306002"]["进度"] == "未报送"
    before = len(outbox.messages)
    r = run("mail", tmp_path / "退改", "--roster", ROSTER, "--feedback", "--ledger", summary, *smtp_args)
    assert r.exit_code == 0 and len(outbox.messages) == before + 4, r.output
    assert run("collect", inbox, "-o", summary / "汇总.xlsx", "--roster", ROSTER, "--feedback", tmp_path / "退改").exit_code == 0
    assert status(summary / "汇总.xlsx")["731002"]["进度"] == "有问题（已退改，第 2 版）"     # sent: now it is 已退改
    # week 3: reminders — the silent unit gets its template, the units with errors their feedback workbook
    before = len(outbox.messages)
    remind = ["mail", sent, "--roster", ROSTER, "--remind", "--ledger", summary / "汇总.xlsx", "--feedback-dir",
              tmp_path / "退改", *smtp_args]
    r = run(*remind)
    assert r.exit_code == 0, r.output
    got = {to[0]: m for to, m in outbox.messages[before:]}
    assert set(got) == {"bdhkpzx@example.cn", "bdhkx@example.cn", "bdkx@example.cn"}
    [att] = got["bdkx@example.cn"].iter_attachments()
    assert "审核意见第1轮" in att.get_filename() and "项目5" in got["bdkx@example.cn"].get_body().get_content()
    [att] = got["bdhkpzx@example.cn"].iter_attachments()
    assert att.get_content() == next(sent.glob("306002_*.xlsx")).read_bytes()
    assert "逾期 2 天" in got["bdhkpzx@example.cn"]["Subject"]
    r = run(*remind)                                           # not twice on one day
    assert r.exit_code == 0 and "今天已催报过" in r.output and len(outbox.messages) == before + 3
    # week 4: the corrected file comes back by mail; the coordinator approves it
    fixed = corrected(next(inbox.glob("*731002.xlsx")), fix_731002)
    imap.deliver("loop@example.cn", mail("bdkx@example.cn", "回复：审核意见", [rfc2231_part("改好了.xlsx", fixed)],
                                         "<731002@w4>"))
    assert run(*fetch, env=env).exit_code == 0
    assert run("collect", inbox, "-o", summary / "汇总.xlsx", "--roster", ROSTER).exit_code == 0
    assert status(summary / "汇总.xlsx")["731002"]["进度"] == "已修改（有警告）"
    assert run("approve", summary, "731002", "405002", "307001").exit_code == 0
    assert run("collect", inbox, "-o", summary / "汇总.xlsx", "--roster", ROSTER).exit_code == 0
    st = status(summary / "汇总.xlsx")
    assert [st[c]["进度"] for c in ("731002", "405002", "307001")] == ["通过"] * 3
    history = st["731002"]["经过"].splitlines()
    assert [h.split(" ", 1)[1].split("：")[0] for h in history] == [
        "已下发", "第 1 次报送", "生成退改工作簿（第 2 版）", "已发退改", "已催报", "第 2 次报送", "通过"]


def test_a_run_that_fails_leaves_the_ledger_as_it_was(tmp_path, monkeypatch):
    import errno

    from perftables.api import pipeline as summary   # where the run is orchestrated
    from perftables.model.roster import read_roster
    inbox, out = tmp_path / "收件箱", tmp_path / "汇总"
    inbox.mkdir()
    files = sorted((EXAMPLES / "returns").iterdir())
    (inbox / files[0].name).write_bytes(files[0].read_bytes())
    summary.run_collect([inbox], out / "汇总.xlsx", summary.CollectOptions(roster=read_roster(ROSTER), workers=1))
    before = (out / "进度台账.json").read_bytes()
    (inbox / files[1].name).write_bytes(files[1].read_bytes())

    def full(*a, **k):
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(summary, "write_xlsx", full)
    with pytest.raises(OSError):
        summary.run_collect([inbox], out / "汇总.xlsx", summary.CollectOptions(roster=read_roster(ROSTER), workers=1))
    assert (out / "进度台账.json").read_bytes() == before
    monkeypatch.undo()
    summary.run_collect([inbox], out / "汇总.xlsx", summary.CollectOptions(roster=read_roster(ROSTER), workers=1))
    assert len(Ledger.load(out).events) == 2


@pytest.mark.slow
def test_reminder_drafts_without_sending(tmp_path):
    """Without --send, reminders are drafts (X-Unsent) in 下发_邮件/催报日期/: the silent unit's carries its
    template; nothing is recorded as a reminder, since nothing went out."""
    sent, summary = tmp_path / "下发", tmp_path / "汇总"
    assert run("generate", ROSTER, "-o", sent, "--year", 2025).exit_code == 0
    assert run("collect", EXAMPLES / "returns", "-o", summary / "汇总.xlsx", "--roster", ROSTER,
               "--feedback", tmp_path / "退改").exit_code == 0
    r = run("mail", sent, "--roster", ROSTER, "--remind", "--ledger", summary, "--feedback-dir", tmp_path / "退改",
            "--from", "kx@example.cn")
    assert r.exit_code == 0, r.output
    folder = tmp_path / "下发_邮件" / f"催报{TODAY.isoformat()}"
    drafts = {p.name: email.message_from_bytes(p.read_bytes(), policy=policy.default) for p in folder.glob("*.eml")}
    assert sorted(n[:6] for n in drafts) == ["306001", "306002", "731002"]
    silent = next(m for n, m in drafts.items() if n.startswith("306002"))
    assert silent["X-Unsent"] == "1" and silent["Subject"].startswith("催报：2025年度项目支出绩效目标表")
    [att] = silent.iter_attachments()
    assert att.get_content() == next(sent.glob("306002_*.xlsx")).read_bytes()
    assert not [e for e in Ledger.load(summary).events if e["event"] == REMINDED]
    r = run("mail", sent, "--roster", ROSTER, "--remind", "--ledger", tmp_path / "nowhere", "--from", "kx@example.cn")
    assert r.exit_code == 2 and "没有进度台账" in r.output


def test_which_units_all_clean_approves_is_the_ledgers_decision(tmp_path):
    """approve --all-clean: the units whose latest file has no error and no warning, not yet approved — decided
    by the ledger (the command line only prints what happened)."""
    from perftables.cycle.ledger import RECEIVED, Ledger
    book = Ledger.load(tmp_path)
    book.add("A", RECEIVED, sha256="a", file="a.xlsx", errors=0, warnings=0)
    book.add("B", RECEIVED, sha256="b", file="b.xlsx", errors=1, warnings=0)
    book.add("C", RECEIVED, sha256="c", file="c.xlsx", errors=0, warnings=2)
    book.add("D", RECEIVED, sha256="d", file="d.xlsx", errors=0, warnings=0)
    book.approve("D")
    assert book.units() == ["A", "B", "C", "D"] and book.clean_unapproved() == ["A"]
    said = book.approve_many(["A", "B"])
    assert [ok for _, ok in said] == [True, False] and "错误" in said[1][0]
    assert book.clean_unapproved() == []


def test_the_ledger_and_collect_agree_on_which_file_stands(tmp_path):
    """A feedback round's workbook (issue 2) saved on a PC whose clock is behind: collect takes it over the
    template, and so does the ledger's state — one ordering (collect.newest_key), not two."""
    from perftables.cycle.collect import newest_key
    book = Ledger(tmp_path / "进度台账.json")
    files = [("第一次.xlsx", 1, "2025-01-10 09:00:00", 3), ("退改后.xlsx", 2, "2025-01-05 09:00:00", 0)]
    for i, (name, issue, saved, errors) in enumerate(files):
        book.add("306001", RECEIVED, when=dt.datetime(2025, 1, 11 + i), sha256=f"{i}" * 64, file=name, saved=saved,
                 issue=issue, errors=errors)
    standing = max(files, key=lambda f: newest_key(f[1], f[2], f[0]))
    assert book.latest("306001")["file"] == standing[0] == "退改后.xlsx"
    assert book.state("306001").status == "已收到"   # about the corrected file, which has no error
