"""Each unit's upload link: a secret address that opens the unit's page on the round's web console.

The token is derived from the round's signing key (HMAC of the unit and the link's generation, 192 bits), so
`perftables links` can list every link again at any time, while the state keeps only a hash of it for the
lookup; revoking a link moves its generation on (the old token no longer matches anything)."""
from __future__ import annotations

import base64
import hashlib
import hmac

from .state import StateStore

TOKEN_CHARS = 32   # 32 base64url characters: 192 bits


def _token(secret: bytes, unit: str, generation: int) -> str:
    mac = hmac.new(secret, f"perftables-link\0{unit}\0{generation}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode()[:TOKEN_CHARS]


def token_hash(token: str) -> str:
    return hashlib.sha256(b"perftables-link-hash\0" + token.encode()).hexdigest()


def unit_links(store: StateStore, key, units, revoke: tuple = ()) -> dict[str, str]:
    """unit → its token, making the links a unit does not have yet and new ones for the units revoked."""
    known = store.links()
    out = {}
    for unit in units:
        generation = known.get(unit, ("", 0))[1]
        if unit in revoke or not generation:
            generation += 1
            store.set_link(unit, token_hash(_token(key.secret, unit, generation)), generation)
        out[unit] = _token(key.secret, unit, generation)
    return out


def link_url(base_url: str, token: str) -> str:
    """The address a unit opens; the base is the round's setting, never a request's Host header."""
    return f"{base_url.rstrip('/')}/t/{token}" if base_url else f"/t/{token}"
