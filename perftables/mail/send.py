"""mail: the e-mails that carry templates and feedback to units — drafts (.eml) and, if asked, sending.

Drafts open in Outlook, Foxmail or any client. Sending goes over SMTP with SSL or
STARTTLS; the password comes from an environment variable or a prompt and is never
written anywhere. A 发送记录.csv makes sending resumable: what went out is not sent again.
"""
from __future__ import annotations

import csv
import datetime as dt
import hashlib
import mimetypes
import smtplib
import ssl
import time
from enum import StrEnum
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid
from pathlib import Path

from ..model.stamp import Stamp
from ..core.errors import PerftablesError, WorldError
from ..core.files import fit_name, safe_cell, safe_file_name, unguard, write_bytes
from ..model.roster import parse_emails, Roster
from ..core.resources import CONTROL_RE
from ..cycle.generate import LISTING
from ..cycle.ledger import FEEDBACK, FEEDBACK_SENT, REMINDED, SENT, UnitStatus
from ..io.book import read_book
from ..io.stamp import read_stamp, STAMP_SHEET

DEFAULT_LETTER = """{unit_name}：

    现将{year}年度{form_title}发给贵单位，请按附件“填报说明”工作表的要求填写，于{deadline}前将填好的文件直接回复本邮件发回（文件名可以修改，请勿另存为其他格式的模板）。

    填写时只需填黄色单元格，灰色内容已按预算数据预填并锁定；如预填内容有误，请来电说明，不要自行修改。

    联系人：{contact}

{sender}
{date}
"""
FEEDBACK_LETTER = """{review_text}
{sender}
{date}
"""
REMIND_MISSING_LETTER = """{unit_name}：

    {year}年度{form_title}至今尚未收到贵单位的报送（截止时间：{deadline}）。现将模板再次发给贵单位，请尽快按附件“填报说明”填写，直接回复本邮件发回。如已发送，请忽略本邮件，并告知我们发送的时间和邮箱，以便核对。

    联系人：{contact}

{sender}
{date}
"""
REMIND_PROBLEM_LETTER = """{unit_name}：

    贵单位报送的{year}年度{form_title}经审核有以下问题尚未修改，请按附件退改工作簿（问题单元格已标出）修改后尽快发回。

{review_text}
    联系人：{contact}

{sender}
{date}
"""
SENT_LOG = "发送记录.csv"
REMIND_LOG = "催报记录.csv"


def mail_dir_for(outdir) -> Path:
    """Where the drafts and the sending log of an outbox go: beside it, never inside it."""
    outdir = Path(outdir).resolve()
    return outdir.parent / f"{outdir.name}_邮件"
PASSWORD_ENV = "PERFTABLES_SMTP_PASSWORD"


class MailKind(StrEnum):
    """What a message carries; sent, it is this event in the ledger."""
    TEMPLATE = "模板"
    FEEDBACK = "退改"
    REMINDER = "催报"

    @property
    def event(self) -> str:
        return {MailKind.TEMPLATE: SENT, MailKind.FEEDBACK: FEEDBACK_SENT, MailKind.REMINDER: REMINDED}[self]


@dataclass
class Outgoing:
    unit_code: str
    unit_name: str
    to: str
    subject: str
    body: str
    attachment: Path
    kind: MailKind = MailKind.TEMPLATE
    version: str = ""          # feedback: the SHA-256 of the unit's file it answers (recorded when sent)

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.attachment.read_bytes()).hexdigest()

    def message(self, sender: str, sender_name: str = "") -> EmailMessage:
        msg = EmailMessage()
        msg["From"] = formataddr((sender_name, sender)) if sender_name else sender
        msg["To"] = ", ".join(formataddr((self.unit_name, addr)) for addr in self.to.split(";"))
        msg["Subject"] = self.subject
        msg["Date"] = formatdate(localtime=True)
        msg["Message-ID"] = make_msgid(domain=sender.split("@")[-1] or "perftables")
        msg.set_content(self.body)
        ctype, _ = mimetypes.guess_type(self.attachment.name)
        maintype, subtype = (ctype or "application/octet-stream").split("/", 1)
        msg.add_attachment(self.attachment.read_bytes(), maintype=maintype, subtype=subtype,
                           filename=self.attachment.name)
        return msg


def header_problem(*texts: str) -> str | None:
    """Text that would go into a mail header: a line break or control character is refused, never sent."""
    for text in texts:
        if CONTROL_RE.search(str(text)):
            return f"“{str(text)[:40]!s}”含有换行或控制字符，不能作为邮件的收件人或主题"
    return None


def _recipient(unit, row_email: str) -> tuple[str, str | None]:
    """The unit's addresses as a checked list (the roster given now is authoritative)."""
    text = unit.email if unit else row_email
    if not text:
        return "", None
    addresses, problem = parse_emails(text)
    return ";".join(addresses), problem


def stamp_context(path: Path) -> dict:
    """Year and form title of a workbook we generated, from its stamp ({} when it has none)."""
    try:
        book = read_book(path.read_bytes())
        payload = read_stamp(book.sheets[STAMP_SHEET])
    except Exception:
        return {}
    st = Stamp.of(payload)   # (validated by read_stamp: a known kind, a four-digit year)
    return {"year": st.year, "form_title": st.kind.title}


def _context(context: dict, attachment: Path) -> dict:
    """The caller's context, with year and form title from the attachment's stamp where not given."""
    found = stamp_context(attachment)
    ctx = dict(context)
    for key in ("year", "form_title"):
        if not ctx.get(key) and found.get(key):
            ctx[key] = found[key]
    return ctx


def _listing(outdir: Path) -> list[dict] | None:
    """The rows of the 发送清单.csv `generate` wrote into its folder (None when there is none)."""
    path = outdir / LISTING
    if not path.is_file():
        return None
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return [{k: unguard(v) for k, v in r.items()} for r in csv.DictReader(fh)]


def _add_checked(message: Outgoing, out: list, notes: list, what: str) -> None:
    """The message joins `out` when its subject, unit name and attachment name make a sound mail header;
    otherwise a note says why it was not made."""
    problem = header_problem(message.subject, message.unit_name, message.attachment.name)
    if problem:
        notes.append(f"{message.unit_code}：{problem}，未生成{what}")
    else:
        out.append(message)


UPLOAD_NOTE = "\n    也可以在网页上传填好的表，上传后几秒内即可看到审核结果和修改意见：{upload_url}\n"


def plan_templates(outdir, roster: Roster, letter: str, subject: str, context: dict,
                   links: dict | None = None) -> tuple[list[Outgoing], list[str]]:
    """One message per unit for the templates of `generate` (read from its 发送清单.csv). links: each unit's
    upload address on the round's web console ({upload_url} or {上传地址} in the letter; said after the letter's
    first paragraph when the letter does not name it)."""
    outdir = Path(outdir)
    rows = _listing(outdir)
    if rows is None:
        raise FileNotFoundError(f"{outdir} 中没有发送清单.csv（请先运行 perftables generate）")
    out, missing = [], []
    for row in rows:
        unit = roster.unit(row["单位编码"])
        name = unit.name if unit else row["单位名称"]
        email, problem = _recipient(unit, row.get("邮箱", ""))
        if not email:
            missing.append(f"{row['单位编码']} {name}：{problem or '名单中没有邮箱'}，未生成邮件")
            continue
        url = (links or {}).get(row["单位编码"], "")
        ctx = {**_context(context, outdir / Path(row["文件"]).name), "unit_name": name, "unit_code": row["单位编码"],
               "file": row["文件"], "upload_url": url, "上传地址": url}
        body = letter
        if url and "{upload_url}" not in letter and "{上传地址}" not in letter:
            head, sep, rest = letter.partition("\n\n    填写时")
            body = head + "\n" + UPLOAD_NOTE + "\n" + sep.lstrip("\n") + rest if sep else letter + UPLOAD_NOTE
        message = Outgoing(row["单位编码"], name, email, subject.format(**ctx), body.format(**ctx),
                           outdir / Path(row["文件"]).name)
        _add_checked(message, out, missing, "邮件")
    return out, missing


def plan_feedback(folder, roster: Roster, subject: str, context: dict, ledger=None) -> tuple[list[Outgoing], list[str]]:
    """One message per unit for the feedback workbooks of `collect --feedback`, the 审核意见 as the body.
    ledger: a feedback workbook that answers a file the unit has since replaced (or the coordinator voided or
    approved) is stale: never sent."""
    folder = Path(folder)
    out, missing = [], []
    for book in sorted(folder.glob("*.xlsx")):
        code = book.name.split("_", 1)[0]
        answers, stale = _answers(ledger, code, book.name)
        if stale:
            missing.append(f"{code}：{book.name} {stale}，不再发送")
            continue
        unit = roster.unit(code)
        name = unit.name if unit else book.name.split("_")[1]
        email, problem = _recipient(unit, "") if unit else ("", None)
        if not email:
            missing.append(f"{code} {name}：{problem or '名单中没有邮箱'}，未生成邮件")
            continue
        ctx = {**_context(context, book), "unit_name": name, "unit_code": code,
               "review_text": _review_text(folder, code, name),
               "file": book.name}
        message = Outgoing(code, name, email, subject.format(**ctx), FEEDBACK_LETTER.format(**ctx), book, kind=MailKind.FEEDBACK,
                           version=answers)
        _add_checked(message, out, missing, "邮件")
    return out, missing


def _answers(ledger, code: str, name: str) -> tuple[str, str]:
    """Which file of the unit a feedback workbook answers (its SHA-256), and why it is stale ('' when not)."""
    if ledger is None:
        return "", ""
    made = [e for e in ledger.of(code) if e["event"] == FEEDBACK and e.get("feedback") == name]
    if not made:
        return "", ""
    answers = made[-1].get("sha256", "")
    latest = ledger.latest(code)
    if latest is None or latest.get("sha256") != answers:
        return answers, "针对的是单位已被替代（或已作废）的文件"
    if ledger.state(code).approved:
        return answers, "针对的文件已确认通过"
    return answers, ""


def _review_text(folder: Path, code: str, name: str) -> str:
    """The 审核意见 collect --feedback wrote beside a unit's feedback workbook ('' when there is none)."""
    path = folder / fit_name(folder, safe_file_name(f"{code}_{name}_审核意见.txt"))
    return path.read_text(encoding="utf-8") if path.is_file() else ""


def plan_reminders(outdir, roster: Roster, ledger, feedback_dir, subject: str, context: dict,
                   today: dt.date | None = None, log: Path | None = None) -> tuple[list[Outgoing], list[str]]:
    """Reminders from the ledger: units that have sent nothing get their template again (from the
    templates folder of `generate`); units whose latest file still has problems get their feedback
    workbook (from `collect --feedback`) with the review as the letter. Never a second reminder to a
    unit on the same day (the ledger and the reminder log say who was reminded today)."""
    today = today or dt.date.today()
    outdir = Path(outdir)
    templates = {r["单位编码"]: outdir / Path(r["文件"]).name for r in _listing(outdir) or []}
    reminded_today = {code for code, _, when in _log_rows(log) if when[:10] == today.isoformat()} if log else set()
    out, notes = [], []
    for unit in roster.units:
        st = ledger.state(unit.code, today)
        if st.times and st.status is not UnitStatus.PROBLEM:
            continue
        if unit.code in reminded_today or ledger.has(unit.code, REMINDED, "", today.isoformat()):
            notes.append(f"{unit.code} {unit.name}：今天已催报过，不再发送")
            continue
        email, problem = _recipient(unit, "")
        if not email:
            notes.append(f"{unit.code} {unit.name}：{problem or '名单中没有邮箱'}，未生成催报邮件")
            continue
        if not st.times:
            attachment = templates.get(unit.code)
            if attachment is None or not attachment.is_file():
                notes.append(f"{unit.code} {unit.name}：{outdir} 中没有它的模板（发送清单.csv），未生成催报邮件")
                continue
            ctx = {**_context(context, attachment), "unit_name": unit.name, "unit_code": unit.code}
            body, late = REMIND_MISSING_LETTER.format(**ctx), f"（逾期 {st.days_late} 天）" if st.days_late else ""
            subj = subject.format(**ctx) + late
        else:
            found = sorted(Path(feedback_dir).glob(f"{unit.code}_*审核意见第*轮*.xlsx"),
                           key=lambda p: p.stat().st_mtime) if feedback_dir else []
            if not found:
                notes.append(f"{unit.code} {unit.name}：问题未改，但{'没有给 --feedback-dir' if not feedback_dir else f'{feedback_dir} 中没有它的退改工作簿'}，"
                             "未生成催报邮件")
                continue
            attachment = found[-1]
            ctx = {**_context(context, attachment), "unit_name": unit.name, "unit_code": unit.code,
                   "review_text": _review_text(Path(feedback_dir), unit.code, unit.name)}
            body, subj = REMIND_PROBLEM_LETTER.format(**ctx), subject.format(**ctx) + "（问题尚未修改）"
        message = Outgoing(unit.code, unit.name, email, subj, body, attachment, kind=MailKind.REMINDER)
        _add_checked(message, out, notes, "催报邮件")
    return out, notes


def _log_rows(log: Path | None) -> list[tuple[str, str, str]]:
    """(unit code, result, time) of every row of a sending log."""
    if log is None or not Path(log).is_file():
        return []
    with Path(log).open(encoding="utf-8-sig", newline="") as fh:
        return [(unguard(r["单位编码"]), r["结果"], unguard(r["时间"])) for r in csv.DictReader(fh) if r["结果"] == "已发送"]


def write_drafts(messages: list[Outgoing], folder, sender: str, sender_name: str = "") -> list[Path]:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for m in messages:
        name = safe_file_name(f"{m.unit_code}_{m.unit_name}{'_催报' if m.kind is MailKind.REMINDER else ''}.eml")
        path = folder / fit_name(folder, name)
        msg = m.message(sender, sender_name)
        msg["X-Unsent"] = "1"   # Outlook and Foxmail open it as a draft to send, not as a received mail
        write_bytes(path, bytes(msg))
        paths.append(path)
    return paths


def already_sent(log: Path) -> set[tuple[str, str, str]]:
    """(unit, recipients, attachment) of what this log says went out; a reminder log keys by the day too
    (a unit is reminded once a day, not once)."""
    if not log.is_file():
        return set()
    daily = log.name == REMIND_LOG
    with log.open(encoding="utf-8-sig", newline="") as fh:
        return {(unguard(r["单位编码"]), unguard(r["收件人"]), r["附件SHA-256"] + (unguard(r["时间"])[:10] if daily else ""))
                for r in csv.DictReader(fh) if r["结果"] == "已发送"}


@dataclass(frozen=True)
class SmtpServer:
    """Where mail goes out and how (the round's [mail] settings, or the command's options); the password is
    never written anywhere."""
    host: str
    port: int | None = None            # None: the security's usual port
    security: str = "ssl"              # ssl / starttls / none
    user: str | None = None            # None: the sender's address
    password: str | None = field(default=None, repr=False)   # never printed, not even in a traceback
    interval: float = 2.0              # seconds between two messages
    timeout: float = 30

    @classmethod
    def of(cls, settings, password: str | None) -> "SmtpServer":
        """From a round's settings (cycle.settings: mail.smtp, mail.port …)."""
        return cls(settings["mail.smtp"], settings["mail.port"] or None, settings["mail.security"],
                   settings["mail.user"] or None, password, settings["mail.interval"])

    @property
    def usual_port(self) -> int:
        return self.port or {"ssl": 465, "starttls": 587, "none": 25}[self.security]

    def connect(self):
        """A connection to the server, encrypted as its security says (logging in is the sender's)."""
        context = ssl.create_default_context()
        if self.security == "ssl":
            return smtplib.SMTP_SSL(self.host, self.usual_port, timeout=self.timeout, context=context)
        server = smtplib.SMTP(self.host, self.usual_port, timeout=self.timeout)
        if self.security == "starttls":
            server.starttls(context=context)
        return server


def send(messages: list[Outgoing], log, server: SmtpServer, sender: str, sender_name: str = "", echo=print,
         on_sent=None) -> dict:
    """Send what has not been sent yet, one message every `server.interval` seconds; log every attempt.
    on_sent(message): called after each message the server accepted (the ledger records it)."""
    log = Path(log)
    done = already_sent(log)
    new_log = not log.is_file()
    counts = {"sent": 0, "skipped": 0, "failed": 0}
    day = dt.date.today().isoformat() if log.name == REMIND_LOG else ""
    pending = [m for m in messages if (m.unit_code, m.to, m.digest + day) not in done]
    counts["skipped"] = len(messages) - len(pending)
    if not pending:
        return counts
    with log.open("a", encoding="utf-8-sig" if new_log else "utf-8", newline="") as fh:
        w = csv.writer(fh)
        if new_log:
            w.writerow(["时间", "单位编码", "单位名称", "收件人", "主题", "附件", "附件SHA-256", "结果", "说明"])
        smtp = server.connect()
        try:
            if server.password:
                smtp.login(server.user or sender, server.password)
            for i, m in enumerate(pending):
                if i:
                    time.sleep(server.interval)
                now = dt.datetime.now().strftime("%Y-%m-%d %H:%M:%S")
                try:
                    smtp.send_message(m.message(sender, sender_name))
                    result, note = "已发送", ""
                    counts["sent"] += 1
                    if on_sent is not None:
                        on_sent(m)
                except smtplib.SMTPException as exc:
                    result, note = "失败", f"{type(exc).__name__}: {exc}"[:200]
                    counts["failed"] += 1
                w.writerow([safe_cell(v) for v in (now, m.unit_code, m.unit_name, m.to, m.subject, m.attachment.name,
                                                    m.digest, result, note)])
                fh.flush()
                echo(f"  [{result}] {m.unit_code} {m.unit_name} <{m.to}> {note}")
        finally:
            try:
                smtp.quit()
            except smtplib.SMTPException:
                pass
    return counts


class MailError(PerftablesError):
    """A mail job that cannot be planned (a subject or letter naming what does not exist, a missing file); the
    message is for the user, in Chinese."""


class SendError(MailError, WorldError):
    """The mail server could not be reached or refused the login: nothing wrong with what the user asked."""
    exit_code = 1


MODES = ("templates", "feedback", "remind")
DEFAULT_SUBJECTS = {"templates": "{year}年度{form_title}（{unit_name}）",
                    "feedback": "{unit_name}{form_title}审核意见（请修改后发回）",
                    "remind": "催报：{year}年度{form_title}（{unit_name}）"}


@dataclass
class MailJob:
    """One mail run's settings: what is sent (mode: templates, feedback or remind) from which folder, to whom,
    with which words; the ledger that records what was sent (a Ledger, or None)."""
    outdir: Path
    roster: Roster
    mode: str = "templates"
    sender: str = "perftables@localhost"
    from_name: str = ""
    subject: str | None = None
    letter: str | None = None          # the template letter's text (templates mode)
    year: int | None = None
    deadline: str = "（见通知）"
    contact: str = ""
    folder: Path | None = None        # drafts and the log; default: beside outdir
    feedback_dir: Path | None = None  # remind: where the feedback workbooks are
    ledger: object = None
    today: dt.date | None = None
    links: dict | None = None         # unit → its upload address on the round's web console

    def __post_init__(self):
        self.outdir = Path(self.outdir)
        self.today = self.today or dt.date.today()
        base = Path(self.folder) if self.folder else mail_dir_for(self.outdir)
        self.folder = base / f"催报{self.today.isoformat()}" if self.mode == "remind" else base

    @property
    def log(self) -> Path:
        """Where each sending is recorded (a day's reminders in the log beside the dated folder)."""
        return self.folder.parent / REMIND_LOG if self.mode == "remind" else self.folder / SENT_LOG

    def plan(self) -> tuple[list[Outgoing], list[str]]:
        """The messages to send, and a line for each unit that gets none (no address, no file)."""
        context = {"year": self.year or "", "deadline": self.deadline, "contact": self.contact,
                   "sender": self.from_name or self.sender, "date": self.today.strftime("%Y年%m月%d日"),
                   "form_title": ""}
        subject = self.subject or DEFAULT_SUBJECTS[self.mode]
        try:
            if self.mode == "remind":
                return plan_reminders(self.outdir, self.roster, self.ledger, self.feedback_dir, subject, context,
                                      today=self.today, log=self.log)
            if self.mode == "feedback":
                return plan_feedback(self.outdir, self.roster, subject, context, self.ledger)
            return plan_templates(self.outdir, self.roster, self.letter or DEFAULT_LETTER, subject, context,
                                  self.links)
        except FileNotFoundError as exc:
            raise MailError(f"无法生成邮件：{exc}") from None
        except (KeyError, ValueError, IndexError) as exc:
            raise MailError(f"主题或正文模板有误：{{{exc}}} 不是可用的名称（可用 unit_name、year、form_title、deadline、"
                            "contact、sender、date、upload_url 即 上传地址）") from None

    def send(self, messages: list[Outgoing], server: SmtpServer, echo=print) -> dict:
        """Send what was not sent before; each message the server accepted goes into the ledger."""
        book, sent_now = self.ledger, []

        def on_sent(msg):
            if book is not None:
                book.add(msg.unit_code, msg.kind.event, file=msg.attachment.name, note=msg.to, sha256=msg.version or None)
                sent_now.append(msg)
                if len(sent_now) % 50 == 0:
                    book.save()
        try:
            return send(messages, self.log, server, self.sender, self.from_name, echo=echo, on_sent=on_sent)
        except (OSError, smtplib.SMTPException) as exc:
            raise SendError(f"连接或登录 SMTP 服务器失败：{exc}（已发送的记录在 {self.log}，重试不会重发）") from None
        finally:
            if book is not None and sent_now:
                book.save()
