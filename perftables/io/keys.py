"""The coordinator's signing key: stamps are signed with it (HMAC-SHA-256), so a return cannot claim
to be another unit's, and only the coordinator's own machine can tell a genuine stamp.

A key is made only when asked: by `perftables init` (the round's key, in the round folder) or by
`perftables key new` (outside rounds: kept in the user's settings folder — Windows:
%APPDATA%\\perftables\\签名密钥.key; elsewhere ~/.config/perftables/签名密钥.key — or in the file named by the
environment variable PERFTABLES_KEY). Nothing mints one on the side: a new key would make every template
already sent unverifiable. Whoever has the file can make stamps that
verify: copy it only to the machines the coordinator collects on, never send it to units.
The bundled examples are signed with a published example key (examples/示例签名密钥.key), which the
demo uses; it proves nothing and is never used for real templates.
"""
from __future__ import annotations

import hashlib
from contextlib import contextmanager
import hmac
import os
import secrets
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ..core.errors import PerftablesError, describe_exception
from ..core.resources import environ

KEY_ENV = "PERFTABLES_KEY"
KEY_NAME = "签名密钥.key"
HEADER = "perftables-signing-key 1"


class KeyError_(PerftablesError):
    """The key file exists but cannot be used (a Chinese message)."""


@dataclass(frozen=True)
class Key:
    secret: bytes
    path: str = ""

    @property
    def id(self) -> str:
        """Names the key in stamps (not secret: a hash of the secret)."""
        return hashlib.sha256(b"perftables-key-id\0" + self.secret).hexdigest()[:16]

    def sign(self, body: bytes) -> str:
        return hmac.new(self.secret, body, hashlib.sha256).hexdigest()

    def verify(self, body: bytes, signature: str) -> bool:
        return hmac.compare_digest(self.sign(body), str(signature or "").strip().lower())


EXAMPLE_KEY_NAME = "示例签名密钥.key"
EXAMPLE_KEY_ID = "13d522fdb7cdb92a"   # examples/示例签名密钥.key: public, signs the bundled examples only
DEMO_ENV = "PERFTABLES_DEMO"          # "1": the demo (and the tests) may sign with the public example key


def using(path):
    """Within the block, the key at `path` is the coordinator's key (the demo, tests)."""
    return environ(KEY_ENV, str(path))


@contextmanager
def demo(path):
    """Within the block, the public example key at `path` signs and checks: the demo's walk-through only."""
    with environ(KEY_ENV, str(path)), environ(DEMO_ENV, "1"):
        yield


def is_example(key: Key | None) -> bool:
    return key is not None and key.id == EXAMPLE_KEY_ID


def example_refused(key: Key, what: str) -> str:
    """Why the public example key cannot sign what goes to units ('' in the demo, or for another key)."""
    if not is_example(key) or os.environ.get(DEMO_ENV) == "1":
        return ""
    return (f"签名密钥“{key.path}”是随软件公开的示例密钥（任何人都能用它伪造标识），只能用于演示，不能{what}。"
            f"请用 perftables init 建立一轮（生成本轮的密钥），或 perftables key new 生成本机的密钥，"
            f"并让环境变量 {KEY_ENV} 不再指向示例密钥")


def default_key_path() -> Path:
    if os.name == "nt":
        base = Path(os.environ.get("APPDATA") or Path.home() / "AppData" / "Roaming")
    else:
        base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return base / "perftables" / KEY_NAME


def key_path() -> Path:
    env = os.environ.get(KEY_ENV)
    return Path(env) if env else default_key_path()


def _parse(path: Path) -> Key:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise KeyError_(f"签名密钥文件“{path}”无法读取（{describe_exception(exc)}）") from None
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]
    if len(lines) != 2 or lines[0] != HEADER or len(lines[1]) != 64:
        raise KeyError_(f"签名密钥文件“{path}”内容不对（不是 perftables 的密钥文件，或被改动过）")
    try:
        return Key(bytes.fromhex(lines[1]), str(path))
    except ValueError:
        raise KeyError_(f"签名密钥文件“{path}”内容不对（不是 perftables 的密钥文件，或被改动过）") from None


@lru_cache(maxsize=8)
def _load(path: str, mtime: float) -> Key:
    return _parse(Path(path))


def load_key(path: Path | None = None) -> Key | None:
    """The coordinator's key; None when there is none (never made here: see new_key)."""
    path = Path(path) if path else key_path()
    if path.is_dir():
        raise KeyError_(f"签名密钥“{path}”是一个文件夹，不是密钥文件（{KEY_ENV} 应指向密钥文件本身，"
                        f"如 {path / KEY_NAME}）")
    if path.is_file():
        return _load(str(path), path.stat().st_mtime)
    return None


def new_key(path: Path | None = None) -> Key:
    """Make a new key at `path` (default: where load_key looks); an existing key is never replaced."""
    path = Path(path) if path else key_path()
    if path.exists():
        raise KeyError_(f"“{path}”已有签名密钥，不会覆盖它（覆盖会让用它签名的模板都无法核验）")
    return _create(path)


def missing_key_message(what: str) -> str:
    path = key_path()
    named = f"环境变量 {KEY_ENV} 指定的" if os.environ.get(KEY_ENV) else "本机的"
    return (f"{named}签名密钥“{path}”不存在，不能{what}。在一轮中工作：用 perftables init 建立本轮（生成本轮的密钥），"
            f"在本轮文件夹里运行命令；已有一轮：把生成模板那台电脑上的密钥文件复制过来，或用环境变量 {KEY_ENV} 指定它；"
            "第一次使用、不建立一轮：perftables key new。不会悄悄生成新密钥：新密钥会让已下发的模板都无法核验")


def require_key(what: str = "生成退改工作簿") -> Key:
    """The coordinator's key for signing what goes to units: it must be the key the round's templates were made
    with, so none is made here."""
    key = load_key()
    if key is None:
        raise KeyError_(missing_key_message(what))
    refused = example_refused(key, what)
    if refused:
        raise KeyError_(refused)
    return key


def _create(path: Path) -> Key:
    secret = secrets.token_bytes(32)
    text = (f"# perftables 签名密钥：用来签署和核验模板里的隐藏标识。只复制到收表用的电脑，不要发给填表单位。\n"
            f"{HEADER}\n{secret.hex()}\n")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o600)
    except FileExistsError:
        raise KeyError_(f"“{path}”已有签名密钥，不会覆盖它") from None
    except OSError as exc:
        raise KeyError_(f"无法创建签名密钥文件“{path}”（{exc.strerror}）；可用环境变量 {KEY_ENV} 指定别处") from None
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    return Key(secret, str(path))
