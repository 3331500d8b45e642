"""The console's defences: password hashes, the CSRF token, response headers, throttling of guesses."""
from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time

SCRYPT = {"n": 2 ** 14, "r": 8, "p": 1}
HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                               "frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def hash_password(password: str) -> str:
    """A salted scrypt hash, as stored: scrypt$n$r$p$salt$hash."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, dklen=32, **SCRYPT)
    return f"scrypt${SCRYPT['n']}${SCRYPT['r']}${SCRYPT['p']}${salt.hex()}${digest.hex()}"


def check_password(password: str, stored: str) -> bool:
    try:
        kind, n, r, p, salt, digest = stored.split("$")
        if kind != "scrypt":
            return False
        mine = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), dklen=32, n=int(n), r=int(r), p=int(p))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(mine.hex(), digest)


class Throttle:
    """At most `limit` failures per `window` seconds from one address; afterwards every try is refused until
    the window has passed (the same answer whether the guess was right or wrong)."""

    def __init__(self, limit: int, window: float):
        self.limit, self.window = limit, window
        self.failures: dict[str, list[float]] = {}
        self.lock = threading.Lock()

    def blocked(self, who: str) -> bool:
        now = time.monotonic()
        with self.lock:
            recent = [t for t in self.failures.get(who, []) if now - t < self.window]
            self.failures[who] = recent
            return len(recent) >= self.limit

    def failed(self, who: str) -> None:
        with self.lock:
            self.failures.setdefault(who, []).append(time.monotonic())
            if len(self.failures) > 10_000:   # bounded: the oldest addresses forgotten
                for key in list(self.failures)[:5_000]:
                    del self.failures[key]


def new_csrf() -> str:
    return secrets.token_urlsafe(32)
