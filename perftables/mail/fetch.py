"""fetch: the returns, from the mailbox into the inbox folder.

Every attachment that can be a return (a workbook, a document, an archive — recognised by its bytes as
much as by its name) of every received mail is saved under a safe, unique name; every mail and every
attachment, saved or not, is a row of the fetch log beside the folder (收件箱_取信记录.csv) with its sender,
date, subject, Message-ID and SHA-256. A second run fetches nothing twice (by the mailbox's UIDs, by
Message-ID and by the attachment's hash) and a run that was interrupted resumes where it stopped. Mail is
opened read-only (BODY.PEEK): nothing is deleted, moved or flagged unless --mark-seen is asked.

Mail as Chinese clients send it: file names in RFC 2231 or RFC 2047 (GBK, GB18030, UTF-8), or raw GBK
bytes in the header; base64 and quoted-printable bodies; forwarded mails with their attachments inside.
"""
from __future__ import annotations

import csv
import datetime as dt
import email
from email.parser import BytesHeaderParser
import hashlib
import imaplib
import re
import socket
import ssl
import unicodedata
from dataclasses import dataclass, field
from email import policy
from email.header import decode_header, make_header
from email.utils import parseaddr, parsedate_to_datetime
from pathlib import Path

from ..core.errors import WorldError
from ..core.files import atomic_path, safe_cell, safe_file_name, unguard
from ..io.book import Format, sniff
from ..model.roster import Roster

PASSWORD_ENV = "PERFTABLES_IMAP_PASSWORD"
LOG_SUFFIX = "_取信记录.csv"
LOG_HEADER = ["取信时间", "服务器", "账号", "文件夹", "UIDVALIDITY", "UID", "Message-ID", "发件人", "单位编码", "单位名称",
              "邮件时间", "主题", "附件", "保存为", "大小（字节）", "SHA-256", "结果", "说明", "信头时间"]
# 邮件时间 is when the mail server received the message (IMAP INTERNALDATE): lateness counts from it. 信头时间 is the
# Date header the sender's program wrote — the sender's own clock, shown, never trusted.
SAVED, SAME, TOO_BIG, NOT_A_RETURN, NO_ATTACHMENT, DONE, UNREADABLE = (
    "已保存", "重复（未再保存）", "未保存（过大）", "未保存（不是报表文件）", "无附件", "本封已处理", "未保存（无法解析）")
# what a return can be: workbooks, documents, archives (by name); by content, what read.sniff recognises
RETURN_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".et", ".ett", ".ods", ".csv", ".zip", ".rar", ".7z", ".docx", ".doc",
                   ".wps", ".odt"}
RETURN_SNIFFS = {Format.XLSX, Format.XLS, Format.ODS, Format.DOCX, Format.ZIP, Format.RAR, Format.SEVEN_Z,
                 Format.ENCRYPTED, Format.BROKEN_ZIP}
DEFAULT_MAX_MB = 50


class FetchError(WorldError):
    """The mailbox could not be read: a Chinese message."""


def log_path_for(folder) -> Path:
    """The fetch log of an inbox folder: beside it, never inside it (collect reads the folder)."""
    folder = Path(folder).resolve()
    return folder.parent / f"{folder.name}{LOG_SUFFIX}"


def imap_utf7(name: str) -> str:
    """A folder name as IMAP spells it (RFC 3501 modified UTF-7): 收件箱 → &ZTZO9k7Sc7E-."""
    out, run = [], []

    def flush():
        if run:
            import base64
            b = base64.b64encode("".join(run).encode("utf-16-be")).decode().rstrip("=").replace("/", ",")
            out.append(f"&{b}-")
            run.clear()
    for ch in name:
        if 0x20 <= ord(ch) <= 0x7e:
            flush()
            out.append("&-" if ch == "&" else ch)
        else:
            run.append(ch)
    flush()
    return "".join(out)


def imap_utf7_decode(name: str) -> str:
    import base64

    def one(m):
        body = m.group(1)
        if not body:
            return "&"
        body = body.replace(",", "/")
        return base64.b64decode(body + "=" * (-len(body) % 4)).decode("utf-16-be", "replace")
    return re.sub(r"&([A-Za-z0-9+,]*)-", one, name)


def mailbox_name(folder: str, delimiter: str = "/") -> str:
    """The folder the user named, as the server knows it: 收件箱 (as clients show INBOX) is INBOX; a
    sub-folder written 绩效/回执 uses the server's own separator."""
    folder = folder.strip().strip("/")
    if folder.lower() in ("inbox", "收件箱"):
        return "INBOX"
    return imap_utf7(folder.replace("/", delimiter or "/"))


def _delimiter(conn) -> str:
    try:
        typ, data = conn.list('""', '""')
        m = re.search(rb'\) "(.)"', data[0] or b"") if typ == "OK" and data else None
        return m.group(1).decode() if m else "/"
    except (imaplib.IMAP4.error, IndexError, TypeError):
        return "/"


def _header_text(value) -> str:
    """A header as text, whatever the client did: encoded words in any charset, raw GBK bytes."""
    if value is None:
        return ""
    text = str(value)
    if "=?" in text:
        try:
            text = str(make_header(decode_header(text)))
        except (UnicodeError, LookupError, ValueError, email.errors.HeaderParseError):
            pass
    return _undo_raw_bytes(text)


def _undo_raw_bytes(text: str) -> str:
    """Header bytes that were not ASCII reach Python as surrogates (or as Latin-1): read them as GB18030
    (what Chinese clients send without encoding), else UTF-8."""
    if any("\udc80" <= ch <= "\udcff" for ch in text):
        raw = text.encode("utf-8", "surrogateescape")
    elif any("\x80" <= ch <= "\xff" for ch in text) and all(ord(ch) < 256 for ch in text):
        raw = text.encode("latin-1")
    else:
        return text
    for charset in ("utf-8", "gb18030"):
        try:
            return raw.decode(charset)
        except UnicodeDecodeError:
            continue
    return raw.decode("gb18030", "replace")


def attachment_name(part) -> str:
    """The file name of a part, decoded (RFC 2231 / RFC 2047 / raw bytes), '' when it has none."""
    name = None
    try:
        name = part.get_filename()
    except (UnicodeError, LookupError, ValueError, email.errors.HeaderParseError):
        name = None
    if not name:
        for header, param in (("content-disposition", "filename"), ("content-type", "name")):
            raw = part.get(header)
            if raw is None:
                continue
            m = re.search(rf'{param}\s*=\s*"?([^";]+)"?', str(raw), re.I)
            if m:
                name = m.group(1)
                break
    if not name:
        return ""
    if isinstance(name, tuple):     # (charset, language, text) of an undecoded RFC 2231 value
        charset, _, text = name
        name = text.encode("latin-1", "replace").decode(charset or "utf-8", "replace")
    return _header_text(name).strip()


def safe_name(name: str, fallback: str = "附件") -> str:
    """An attachment's name as a file name (files.safe_file_name): a path sent as a name gives its last
    part only; shorter, since the date and the unit are put before it."""
    name = unicodedata.normalize("NFC", name).replace("\u3000", " ")
    return safe_file_name(name.replace("\\", "/").rsplit("/", 1)[-1], fallback, max_stem=120)


@dataclass
class Attachment:
    name: str          # as the sender named it (decoded)
    data: bytes
    kind: str          # sniffed

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


@dataclass
class Mail:
    uid: str
    message_id: str
    sender: str            # address
    sender_name: str
    subject: str
    date: dt.datetime | None              # the Date header: what the sender's program says
    attachments: list[Attachment] = field(default_factory=list)
    skipped: list[tuple[str, str, int]] = field(default_factory=list)   # (name, why, size)
    forwarded: list[str] = field(default_factory=list)   # senders of the mails forwarded inside it
    received: dt.datetime | None = None   # when our mail server received it (INTERNALDATE, local time)

    @property
    def when(self) -> dt.datetime | None:
        """When it reached us: the server's time; the Date header only when the server gave none."""
        return self.received or (self.date.astimezone().replace(tzinfo=None) if self.date and self.date.tzinfo
                                 else self.date)

    def unit(self, senders: dict):
        """The roster unit that sent it: its sender, or the sender of a mail it forwards."""
        for addr in (self.sender, *self.forwarded):
            if addr in senders:
                return senders[addr]
        return None


class _KeepBytes(policy.Compat32):
    """Headers as received: bytes that are not ASCII stay as surrogates (compat32 would turn them into
    U+FFFD), for _undo_raw_bytes to read as GB18030 or UTF-8."""

    def header_fetch_parse(self, name, value):
        return value


_POLICY = _KeepBytes()


# a mail's structure, bounded: real mail nests a few levels (a forward of a forward), never hundreds
MAX_MIME_DEPTH = 40
MAX_MIME_PARTS = 1000


class _Shape(Exception):
    """A message whose structure is beyond the bounds (a Chinese reason)."""


def parse_mail(raw: bytes, uid: str = "") -> Mail:
    """A received message → its sender, subject, date and every attachment, forwarded ones included. Never
    raises: a message that cannot be read, or nests beyond the bounds, has its reason among `skipped` (fetch
    records it and marks it done, so one bad mail never stops the mails after it, nor is retried forever)."""
    try:
        msg = email.message_from_bytes(raw, policy=_POLICY)
        mail = _envelope(msg, uid)
    except Exception:  # noqa: BLE001 (RecursionError, a header the parser chokes on: the mail is recorded, not fatal)
        try:   # who sent it and when, from its headers alone
            mail = _envelope(BytesHeaderParser(policy=_POLICY).parsebytes(raw), uid)
        except Exception:  # noqa: BLE001
            mail = Mail(uid=uid, message_id="", sender="", sender_name="", subject="", date=None)
        mail.skipped.append(("", "邮件无法解析（格式损坏或结构异常），未读取附件；请让发件单位重新发送", len(raw)))
        return mail
    try:
        parts = _parts(msg)
    except _Shape as exc:
        mail.skipped.append(("", str(exc), len(raw)))
        return mail
    for part in parts:
        try:
            _read_part(mail, part)
        except Exception:  # noqa: BLE001 (one damaged part: said, the others read)
            mail.skipped.append((_safe_part_name(part), "附件无法解析（格式损坏）", 0))
    return mail


def _address(value) -> tuple[str, str]:
    """(display name, address) of a From header: the address parsed first, then the name's encoded words
    decoded — decoded first, “协会(本级)” would read as a name and a comment (协会 (本级)), and Python's own
    parser leaves a space where a client folded the name (协会( 本级))."""
    name, addr = parseaddr(str(value or ""))
    return _header_text(name).strip(), _undo_raw_bytes(addr)


def _envelope(msg, uid: str) -> Mail:
    sender_name, sender = _address(msg.get("From", ""))
    if not sender:
        sender = _address(msg.get("Sender", ""))[1]
    try:
        date = parsedate_to_datetime(msg.get("Date")) if msg.get("Date") else None
    except (TypeError, ValueError, IndexError):
        date = None
    message_id = (msg.get("Message-ID") or "").strip()
    return Mail(uid=uid, message_id=message_id, sender=sender.strip().lower(), sender_name=sender_name,
                subject=_header_text(msg.get("Subject", "")).replace("\r", " ").replace("\n", " ").strip(),
                date=date)


def _parts(msg) -> list:
    """Every part of the message in the order Message.walk() gives them — without its recursion, and
    bounded in depth and count."""
    out, stack = [], [(msg, 0)]
    while stack:
        part, depth = stack.pop()
        if depth > MAX_MIME_DEPTH:
            raise _Shape(f"邮件结构嵌套超过 {MAX_MIME_DEPTH} 层（疑似恶意邮件），未读取附件；请让发件单位直接附上报表重新发送")
        out.append(part)
        if len(out) > MAX_MIME_PARTS:
            raise _Shape(f"邮件含有超过 {MAX_MIME_PARTS} 个部分（疑似恶意邮件），未读取附件")
        payload = part.get_payload() if part.is_multipart() else None
        if isinstance(payload, list):
            stack.extend((p, depth + 1) for p in reversed(payload))
    return out


def _safe_part_name(part) -> str:
    try:
        return attachment_name(part) or part.get_content_type()
    except Exception:  # noqa: BLE001
        return ""


def _read_part(mail: Mail, part) -> None:
    if part.get_content_type() == "message/rfc822" and part.is_multipart():
        for inner in part.get_payload():
            addr = _address(inner.get("From", ""))[1].strip().lower()
            if addr:
                mail.forwarded.append(addr)
    if part.is_multipart():
        return
    name = attachment_name(part)
    disposition = (part.get("Content-Disposition") or "").split(";")[0].strip().lower()
    ctype = part.get_content_type()
    if not name and disposition != "attachment" and ctype.startswith(("text/", "multipart/", "message/")):
        return    # the letter itself
    if not name and ctype.startswith("image/"):
        return    # a signature picture
    try:
        data = part.get_payload(decode=True) or b""
    except (ValueError, TypeError):
        mail.skipped.append((name or ctype, "附件编码无法解析", 0))
        return
    kind = sniff(data)
    suffix = Path(name).suffix.lower()
    if suffix in RETURN_SUFFIXES or kind in RETURN_SNIFFS:
        if not name:
            name = f"附件.{ {Format.BROKEN_ZIP: 'zip', Format.ENCRYPTED: 'xls'}.get(kind, kind) }"
        mail.attachments.append(Attachment(name, data, kind))
    elif name:
        mail.skipped.append((name, f"不是报表文件（{suffix or ctype}）", len(data)))


@dataclass
class Log:
    """The fetch log: what was fetched before (read) and a row for everything done now (appended and
    flushed row by row, so an interrupted run leaves a true record)."""
    path: Path
    done_uids: set = field(default_factory=set)         # (server, user, folder, uidvalidity, uid) fully handled
    done_ids: set = field(default_factory=set)          # Message-IDs fully handled
    saved: dict = field(default_factory=dict)           # sha256 → the file it was saved as

    @classmethod
    def read(cls, path: Path) -> "Log":
        log = cls(Path(path))
        if not log.path.is_file():
            return log
        try:
            with log.path.open(encoding="utf-8-sig", newline="") as fh:
                for r in csv.DictReader(fh):
                    r = {k: unguard(v or "") for k, v in r.items() if k}
                    if r.get("结果") == DONE:
                        log.done_uids.add((r["服务器"], r["账号"], r["文件夹"], r["UIDVALIDITY"], r["UID"]))
                        if r["Message-ID"]:
                            log.done_ids.add(r["Message-ID"])
                    elif r.get("结果") in (SAVED, SAME) and r.get("SHA-256"):
                        log.saved.setdefault(r["SHA-256"], r.get("保存为", ""))
        except (OSError, UnicodeDecodeError, csv.Error, KeyError) as exc:
            raise FetchError(f"取信记录“{path}”无法读取（{exc}）：请修复或改名后重试（改名后会重新下载全部附件）") from None
        return log


@dataclass
class FetchResult:
    mails: int = 0            # new mails looked at
    saved: list = field(default_factory=list)        # (path, Mail, Attachment)
    same: int = 0
    refused: list = field(default_factory=list)      # (Mail, name, why)
    unknown: list = field(default_factory=list)      # Mails from senders not in the roster
    already: int = 0          # mails handled by an earlier run
    log: Path | None = None


def connect(host: str, port: int | None, security: str, timeout: float = 60) -> imaplib.IMAP4:
    context = ssl.create_default_context()
    try:
        if security == "ssl":
            return imaplib.IMAP4_SSL(host, port or 993, ssl_context=context, timeout=timeout)
        conn = imaplib.IMAP4(host, port or 143, timeout=timeout)
        if security == "starttls":
            conn.starttls(ssl_context=context)
        return conn
    except ssl.SSLCertVerificationError as exc:
        raise FetchError(f"服务器 {host} 的证书无法验证（{exc.verify_message}）：请确认服务器地址；"
                         "单位自建的邮件服务器请让管理员提供证书，用环境变量 SSL_CERT_FILE 指定") from None
    except ssl.SSLError as exc:
        raise FetchError(f"与 {host} 建立加密连接失败（{exc}）：请检查端口和 --security（ssl 通常用 993，"
                         "starttls 用 143）") from None
    except socket.gaierror:
        raise FetchError(f"找不到服务器“{host}”：请检查服务器地址和网络") from None
    except (OSError, imaplib.IMAP4.error) as exc:
        raise FetchError(f"无法连接 {host}:{port or (993 if security == 'ssl' else 143)}（{exc}）") from None


def login(conn: imaplib.IMAP4, user: str, password: str) -> None:
    try:
        if password.isascii() and user.isascii():
            conn.login(user, password)
        else:   # LOGIN is ASCII only; SASL PLAIN carries UTF-8
            conn.authenticate("PLAIN", lambda _: f"\0{user}\0{password}".encode("utf-8"))
    except imaplib.IMAP4.error as exc:
        raise FetchError(f"登录失败（{_text(exc)}）：请检查账号和密码；QQ、163 等邮箱要用“授权码”而不是登录密码，"
                         "并在邮箱设置里开启 IMAP") from None


def _text(exc) -> str:
    arg = exc.args[0] if exc.args else exc
    return arg.decode("utf-8", "replace") if isinstance(arg, bytes) else str(arg)


def _folders(conn) -> list[str]:
    """The folders of the mailbox as a user writes them (收件箱, 绩效/回执)."""
    delimiter = _delimiter(conn)
    try:
        typ, data = conn.list()
    except imaplib.IMAP4.error:
        return []
    out = []
    for line in data or []:
        if isinstance(line, bytes):
            m = re.search(rb'\) "?[^"]*"? (.+)$', line)
            if m:
                name = imap_utf7_decode(m.group(1).decode("ascii", "replace").strip('"'))
                out.append("收件箱" if name.upper() == "INBOX" else name.replace(delimiter, "/"))
    return out


@dataclass(frozen=True)
class Mailbox:
    """The mailbox returns come to (the round's [fetch] settings, or the command's options); the password (a
    授权码 at QQ or 163) is never written anywhere."""
    host: str
    user: str
    password: str = field(repr=False)   # never printed, not even in a traceback
    port: int | None = None            # None: 993 for ssl, 143 otherwise
    security: str = "ssl"              # ssl / starttls
    folder: str = "INBOX"              # as the user writes it: 收件箱, 绩效/回执
    timeout: float = 60


def fetch(mailbox: Mailbox, outdir, *, since: dt.date | None = None, roster: Roster | None = None,
          mark_seen: bool = False, max_bytes: int = DEFAULT_MAX_MB << 20, echo=print, now=None) -> FetchResult:
    """Fetch the new mail of the mailbox's folder into outdir; see the module's text."""
    outdir = Path(outdir)
    log = Log.read(log_path_for(outdir))
    box = mailbox
    conn = connect(box.host, box.port, box.security, box.timeout)
    try:
        login(conn, box.user, box.password)
        validity, uids = _open_folder(conn, box.folder, since, mark_seen)
        run = _Fetch(conn, log, outdir, (box.host, box.user, box.folder, validity), _senders(roster), mark_seen,
                     max_bytes, echo, now)
        todo = [u for u in uids if (*run.where, u) not in log.done_uids]
        run.result.already = len(uids) - len(todo)
        new_log = not log.path.is_file()
        log.path.parent.mkdir(parents=True, exist_ok=True)
        with log.path.open("a", encoding="utf-8-sig" if new_log else "utf-8", newline="") as fh:
            run.start_log(fh, new_log)
            for uid in todo:
                run.one(uid)
        return run.result
    except (OSError, imaplib.IMAP4.abort) as exc:
        if isinstance(exc, OSError) and exc.filename:
            raise
        raise FetchError(f"与邮件服务器的连接中断（{_text(exc)}）：已取的记录在 {log.path}，重新运行会从中断处继续") from None
    finally:
        try:
            conn.logout()
        except (OSError, imaplib.IMAP4.error, imaplib.IMAP4.abort):
            pass


def _open_folder(conn, folder: str, since: dt.date | None, mark_seen: bool) -> tuple[str, list[str]]:
    """Select the folder (read-only unless mail is to be marked seen): its UIDVALIDITY and the UIDs to look at."""
    box = mailbox_name(folder, _delimiter(conn))
    try:
        typ, data = conn.select(_quoted(box), readonly=not mark_seen)
    except imaplib.IMAP4.error as exc:
        typ, data = "NO", [str(exc).encode()]
    if typ != "OK":
        there = "、".join(_folders(conn)) or "（无法列出）"
        raise FetchError(f"邮箱中没有文件夹“{folder}”（服务器上有：{there}）")
    validity = (conn.response("UIDVALIDITY")[1] or [b""])[0]
    validity = validity.decode() if isinstance(validity, bytes) else str(validity or "")
    criteria = ["SINCE", since.strftime("%d-%b-%Y")] if since else ["ALL"]
    typ, data = conn.uid("SEARCH", None, *criteria)
    if typ != "OK":
        raise FetchError(f"在文件夹“{folder}”中查找邮件失败（{_text(data and data[0] or '')}）")
    return validity, [u.decode() for u in (data[0] or b"").split()]


class _Fetch:
    """One run over one folder: each mail fetched, its attachments saved, every step written to the log."""

    def __init__(self, conn, log, outdir: Path, where: tuple, senders, mark_seen: bool, max_bytes: int, echo, now):
        self.conn, self.log, self.outdir, self.where = conn, log, outdir, where
        self.senders, self.mark_seen, self.max_bytes, self.echo, self.now = senders, mark_seen, max_bytes, echo, now
        self.result = FetchResult(log=log.path)
        self.fh = self.writer = None

    def start_log(self, fh, new_log: bool) -> None:
        self.fh, self.writer = fh, csv.writer(fh)
        if new_log:
            self.writer.writerow(LOG_HEADER)

    def row(self, mail: Mail | None, uid, *rest) -> None:
        host, user, folder, validity = self.where
        unit = mail.unit(self.senders) if mail else None
        stamp = (self.now or dt.datetime.now)().strftime("%Y-%m-%d %H:%M:%S")
        values = [stamp, host, user, folder, validity, uid, mail.message_id if mail else "",
                  mail.sender if mail else "", unit.code if unit else "", unit.name if unit else "",
                  mail.when.strftime("%Y-%m-%d %H:%M:%S") if mail and mail.when else "",
                  mail.subject if mail else "", *rest,
                  mail.date.strftime("%Y-%m-%d %H:%M:%S %z").strip() if mail and mail.date else ""]
        self.writer.writerow([safe_cell(v) for v in values])
        self.fh.flush()

    def one(self, uid) -> None:
        conn, log, result, max_bytes = self.conn, self.log, self.result, self.max_bytes
        size = _size(conn, uid)
        if size is not None and size > max_bytes * 4 // 3 + (1 << 20):
            self.too_big(uid, size)
            return
        typ, data = conn.uid("FETCH", uid, "(INTERNALDATE BODY.PEEK[])")
        part = next((d for d in data or [] if isinstance(d, tuple)), None) if typ == "OK" else None
        if part is None:
            self.row(None, uid, "", "", "", "", UNREADABLE, f"服务器没有返回这封邮件（{typ}）")
            return
        mail = parse_mail(part[1], uid)
        mail.received = _internaldate(data)
        if mail.message_id and mail.message_id in log.done_ids:
            self.row(mail, uid, "", "", "", "", DONE, "此前已取过（Message-ID 相同）")
            result.already += 1
            return
        result.mails += 1
        if self.senders and mail.unit(self.senders) is None:
            result.unknown.append(mail)
        for name, why, n in mail.skipped:
            self.row(mail, uid, name, "", n, "", NOT_A_RETURN if "不是报表" in why else UNREADABLE, why)
        if not mail.attachments and not mail.skipped:
            self.row(mail, uid, "", "", "", "", NO_ATTACHMENT, "")
        for att in mail.attachments:
            self.attachment(mail, uid, att)
        if self.mark_seen:
            conn.uid("STORE", uid, "+FLAGS", r"(\Seen)")
        self.row(mail, uid, "", "", "", "", DONE, "")
        if mail.message_id:
            log.done_ids.add(mail.message_id)

    def too_big(self, uid, size: int) -> None:
        """A mail over the limit: its headers only, never its body."""
        mail = _headers(self.conn, uid)
        if mail.message_id and mail.message_id in self.log.done_ids:
            self.row(mail, uid, "", "", "", "", DONE, "此前已取过（Message-ID 相同）")
            self.result.already += 1
            return
        why = f"邮件 {size / (1 << 20):.1f} MB，超过上限 {self.max_bytes >> 20} MB，未下载（可用 --max-size 放宽）"
        self.row(mail, uid, "", "", size, "", TOO_BIG, why)
        self.row(mail, uid, "", "", "", "", DONE, "")
        self.result.refused.append((mail, "（整封邮件）", why))
        self.result.mails += 1

    def attachment(self, mail: Mail, uid, att) -> None:
        log, result, max_bytes = self.log, self.result, self.max_bytes
        digest = att.sha256
        if len(att.data) > max_bytes:
            why = f"附件 {len(att.data) / (1 << 20):.1f} MB，超过上限 {max_bytes >> 20} MB，未保存"
            self.row(mail, uid, att.name, "", len(att.data), digest, TOO_BIG, why)
            result.refused.append((mail, att.name, why))
            return
        if digest in log.saved:
            self.row(mail, uid, att.name, log.saved[digest], len(att.data), digest, SAME,
                     f"与已保存的“{log.saved[digest]}”内容相同")
            result.same += 1
            return
        path = _save(self.outdir, _file_name(mail, att, self.senders), att.data, digest)
        log.saved[digest] = path.name
        self.row(mail, uid, att.name, path.name, len(att.data), digest, SAVED, "")
        result.saved.append((path, mail, att))
        self.echo(f"  {path.name}（{mail.sender}，{mail.subject[:30]}）")


def _quoted(box: str) -> str:
    return box if re.fullmatch(r"[A-Za-z0-9&+,.\-_]+", box) else '"' + box.replace('"', '\\"') + '"'


def _size(conn, uid) -> int | None:
    typ, data = conn.uid("FETCH", uid, "(RFC822.SIZE)")
    for d in data or []:
        line = d[0] if isinstance(d, tuple) else d
        m = re.search(rb"RFC822\.SIZE (\d+)", line or b"")
        if m:
            return int(m.group(1))
    return None


def _headers(conn, uid) -> Mail:
    typ, data = conn.uid("FETCH", uid, "(INTERNALDATE BODY.PEEK[HEADER])")
    raw = next((d[1] for d in data or [] if isinstance(d, tuple)), b"") if typ == "OK" else b""
    mail = parse_mail(raw + b"\r\n", uid)
    mail.received = _internaldate(data)
    return mail


def _internaldate(data) -> dt.datetime | None:
    """The server's INTERNALDATE in a FETCH response, as local time (None when absent or unreadable)."""
    import time
    for d in data or []:
        line = d[0] if isinstance(d, tuple) else d
        if isinstance(line, bytes) and b"INTERNALDATE" in line:
            parsed = imaplib.Internaldate2tuple(line)
            if parsed:
                return dt.datetime.fromtimestamp(time.mktime(parsed))
    return None


def _senders(roster: Roster | None) -> dict:
    out = {}
    for unit in roster.units if roster is not None else ():
        for addr in (unit.email or "").split(";"):
            if addr.strip():
                out.setdefault(addr.strip().lower(), unit)
    return out


def _file_name(mail: Mail, att: Attachment, senders: dict) -> str:
    unit = mail.unit(senders)
    who = unit.name if unit else (mail.sender or "未知发件人")
    day = mail.when.strftime("%Y%m%d") if mail.when else "日期不明"
    return safe_name(f"{day}_{who}_{safe_name(att.name)}")


def _save(outdir: Path, name: str, data: bytes, digest: str) -> Path:
    """Written atomically under a name not yet taken (a file of that name with these bytes is reused:
    a run stopped between writing and logging)."""
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    for n in range(1, 10_000):
        candidate = outdir / (name if n == 1 else f"{stem} ({n}){dot}{ext}")
        if not candidate.exists():
            with atomic_path(candidate) as tmp:
                tmp.write_bytes(data)
            return candidate
        if candidate.is_file() and hashlib.sha256(candidate.read_bytes()).hexdigest() == digest:
            return candidate
    raise FetchError(f"“{outdir}”中同名文件过多：{name}")


def received(folder) -> dict:
    """sha256 → (when the server received the mail, sender, sender's unit code, Message-ID) of what fetch saved into
    this inbox folder (for 报送情况 and the round's record of versions)."""
    path = log_path_for(folder)
    out = {}
    if not path.is_file():
        return out
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            for r in csv.DictReader(fh):
                r = {k: unguard(v or "") for k, v in r.items() if k}
                if r.get("结果") == SAVED and r.get("SHA-256"):
                    out.setdefault(r["SHA-256"], (r.get("邮件时间", ""), r.get("发件人", ""), r.get("单位编码", ""),
                                                  r.get("Message-ID", "")))
    except (OSError, UnicodeDecodeError, csv.Error):
        return {}
    return out
