"""A real IMAP server on loopback for the tests: Dovecot (Debian's dovecot-imapd, installed by .ci/run),
started with its own configuration in a temporary folder — TLS with a certificate made here (trusted by
the client through SSL_CERT_FILE), any user name with the password PASSWORD, Maildir storage.

Messages are put into a mailbox with APPEND, as a mail client stores them."""
from __future__ import annotations

import imaplib
import os
import pwd
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
from pathlib import Path

PASSWORD = "授权码-secret"   # not ASCII: the client must log in with SASL PLAIN in UTF-8


# when the test server says it received a message (the Date headers the tests write say 2025-01-13 09:30)
RECEIVED = __import__("datetime").datetime(2025, 1, 13, 10, 5)


def dovecot_binary() -> str | None:
    found = shutil.which("dovecot") or next((p for p in ("/usr/sbin/dovecot",) if os.path.exists(p)), None)
    if not found and os.environ.get("CI"):
        raise RuntimeError("CI 上必须安装 Dovecot（dovecot-imapd）：.ci/run 会安装它，跳过会掩盖它的缺失")
    return found


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Dovecot:
    def __init__(self, binary: str):
        self.binary = binary
        self.dir = Path(tempfile.mkdtemp(prefix="perftables-imap-"))
        os.chmod(self.dir, 0o755)    # the mail processes run as an unprivileged user when we are root
        self.ssl_port, self.plain_port = _free_port(), _free_port()
        self.cert = self.dir / "cert.pem"
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(self.dir / "key.pem"),
                        "-out", str(self.cert), "-days", "2", "-subj", "/CN=localhost",
                        "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"], check=True, capture_output=True)
        homes = self.dir / "homes"
        homes.mkdir()
        os.chmod(homes, 0o777)
        if os.getuid() == 0:
            who = pwd.getpwnam("nobody")
            uid, gid, login_user, internal_user = who.pw_uid, who.pw_gid, "dovenull", "dovecot"
        else:
            me = pwd.getpwuid(os.getuid())
            uid, gid, login_user, internal_user = me.pw_uid, me.pw_gid, me.pw_name, me.pw_name
        self.conf = self.dir / "dovecot.conf"
        self.conf.write_text(f"""
protocols = imap
listen = 127.0.0.1
base_dir = {self.dir}/run
state_dir = {self.dir}/state
log_path = {self.dir}/dovecot.log
ssl = yes
ssl_cert = <{self.cert}
ssl_key = <{self.dir}/key.pem
auth_mechanisms = plain login
disable_plaintext_auth = no
default_login_user = {login_user}
default_internal_user = {internal_user}
mail_location = maildir:~/Maildir
service imap-login {{
  chroot =
  inet_listener imap {{
    port = {self.plain_port}
  }}
  inet_listener imaps {{
    port = {self.ssl_port}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
}}
service pop3-login {{
  chroot =
}}
passdb {{
  driver = static
  args = password={PASSWORD}
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={homes}/%u
}}
""", encoding="utf-8")
        self.proc = subprocess.Popen([binary, "-F", "-c", str(self.conf)], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE)
        deadline = time.monotonic() + 15
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.ssl_port), timeout=1).close()
                break
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"Dovecot 未能启动：{self.proc.stderr.read().decode(errors='replace')}"
                                       f"{self.log()}")
                time.sleep(0.05)

    def log(self) -> str:
        path = self.dir / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def client(self, user: str) -> imaplib.IMAP4_SSL:
        conn = imaplib.IMAP4_SSL("127.0.0.1", self.ssl_port, ssl_context=ssl.create_default_context(cafile=str(self.cert)))
        conn.authenticate("PLAIN", lambda _: f"\0{user}\0{PASSWORD}".encode())
        return conn

    def deliver(self, user: str, *messages: bytes, folder: str = "INBOX", received=RECEIVED) -> None:
        """Put messages in the mailbox as the server received them at `received` (local time; its INTERNALDATE)."""
        conn = self.client(user)
        try:
            if folder != "INBOX":
                conn.create(folder)
            for raw in messages:
                typ, data = conn.append(folder, None, received.astimezone() if received else None, raw)
                assert typ == "OK", data
        finally:
            conn.logout()

    def flags(self, user: str, folder: str = "INBOX") -> list[bytes]:
        conn = self.client(user)
        try:
            conn.select(folder, readonly=True)
            typ, data = conn.uid("FETCH", "1:*", "(FLAGS)")
            return [d for d in data if d]
        finally:
            conn.logout()

    def count(self, user: str, folder: str = "INBOX") -> int:
        conn = self.client(user)
        try:
            typ, data = conn.select(folder, readonly=True)
            return int(data[0])
        finally:
            conn.logout()

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        shutil.rmtree(self.dir, ignore_errors=True)
