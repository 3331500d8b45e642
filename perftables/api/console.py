"""What the web console asks of the layers above it (web.app.Services): the annotated workbook of an upload,
collect, publish and the reminder on the whole round."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

from ..cycle.collect import collect
from ..cycle.links import link_url, unit_links
from ..mail import send as mail_send
from ..outputs.feedback import needs_feedback, write_feedback
from ..web.app import Services, create_app
from .pipeline import CollectOptions, run_collect


def annotated(rnd, path: Path, display: str):
    """The clerk's return with every finding marked (the feedback workbook: what the clerk typed, unchanged, the
    cells of the findings red with 怎么改, 审核意见 listing them); None when there is nothing to mark."""
    col = collect([path], roster=rnd.roster(), year=rnd.year, kind=rnd.kind, workers=1)
    if not needs_feedback(col):
        return None
    with tempfile.TemporaryDirectory() as tmp:
        [made] = write_feedback(col, tmp, deadline=rnd.deadline_text, contact=rnd.settings["contact"])[:1]
        return made.name, made.read_bytes()


def collect_round(rnd) -> str:
    """collect on the round as `perftables collect` runs it inside the round; what it did, in a line."""
    opts = CollectOptions(roster=rnd.roster(), year=rnd.year, export_dir=rnd.export, workers=1,
                          due=rnd.settings.deadline,
                          feedback=dict(outdir=rnd.feedback, deadline=rnd.deadline_text, contact=rnd.settings["contact"]))
    result = run_collect([rnd.inbox], rnd.summary, opts, rnd=rnd)
    col = result.collection
    return (f"已收集：{len(col.files)} 个文件，采用 {len(col.accepted)} 个；汇总"
            + ("未变（收件箱与上次相同）" if result.reused else "已更新"))


def publish_round(rnd, force: bool = False, by: str = "") -> str:
    """publish as `perftables publish` runs it inside the round, with its gate; what happened, in a line."""
    import datetime as dt

    from ..core.dates import chinese
    from ..cycle.board import publish_blockers
    from ..outputs.publish import publish
    from ..outputs.schema import Heading
    from .pipeline import read_collection
    with rnd.store() as store:
        col = read_collection([rnd.inbox], roster=rnd.roster(), year=rnd.year, ledger=rnd.ledger(store),
                              cache_for=rnd.summary)
        blockers = publish_blockers(col, rnd.ledger(store))
    if blockers and not force:
        return f"未发布：还有 {len(blockers)} 个单位没有通过审核——" + "；".join(blockers[:10])
    if not col.accepted:
        return "未发布：还没有已采用的回执"
    remarks = (f"注：发布时仍有 {len(blockers)} 个单位未通过审核，经确认照常发布。",) if blockers else ()
    written = publish(col, rnd.public, pdf=False, heading=Heading(rnd.title, rnd.settings.issuer,
                                                                  chinese(dt.date.today()), remarks))
    return f"已发布 {len(written)} 个文件到 {rnd.public.name}" + ("（有单位未通过审核，已在汇总中注明）" if blockers else "")


def upload_links(rnd, store) -> dict | None:
    """Each unit's upload address, when the round's web console has an address ([web] base_url)."""
    base = rnd.settings["web.base_url"]
    if not base:
        return None
    tokens = unit_links(store, rnd.key(), [u.code for u in rnd.roster().units])
    return {code: link_url(base, token) for code, token in tokens.items()}


def remind_round(rnd, codes: list[str] | None = None) -> str:
    """`perftables mail --remind` on the round (all units, or the ones named): drafts always, sent when the round
    has an SMTP server and the server's environment has the password; what happened, in a line."""
    s = rnd.settings
    with rnd.store() as store:
        job = mail_send.MailJob(rnd.templates, rnd.roster(), mode="remind", sender=s["mail.sender"] or "perftables@localhost",
                                from_name=s["mail.sender_name"], year=rnd.year, deadline=rnd.deadline_text or "（见通知）",
                                contact=s["contact"], feedback_dir=rnd.feedback, ledger=rnd.ledger(store),
                                links=upload_links(rnd, store))
        messages, notes = job.plan()
        if codes is not None:
            messages = [m for m in messages if m.unit_code in codes]
            notes = [n for n in notes if n.split(" ", 1)[0] in codes]
        unsent = ("；" + "；".join(notes[:5])) if notes else ""
        if not messages:
            return "没有要催报的单位（都已报送且没有未改的问题，或今天已催过）" + unsent
        mail_send.write_drafts(messages, job.folder, job.sender, job.from_name)
        drafts = f"催报草稿 {len(messages)} 封已写到“{job.folder.name}”"
        if not s["mail.smtp"]:
            return drafts + "（本轮没有设置 SMTP 服务器：用 Outlook、Foxmail 打开草稿发送）" + unsent
        password = os.environ.get(mail_send.PASSWORD_ENV)
        if password is None and s["mail.security"] != "none":
            return drafts + f"；未发送：启动 perftables serve 前设置环境变量 {mail_send.PASSWORD_ENV}（SMTP 密码）" + unsent
        try:
            done = job.send(messages, mail_send.SmtpServer.of(s, password), echo=lambda *_: None)
        except mail_send.SendError as exc:
            return drafts + f"；{exc}"
        return (drafts + f"；已发送 {done['sent']} 封，此前已发送 {done['skipped']} 封，失败 {done['failed']} 封"
                + unsent)


def console(rnd):
    """The round's web console, with everything it needs."""
    return create_app(rnd, Services(feedback=annotated, collect=collect_round, publish=publish_round,
                                    remind=remind_round))
