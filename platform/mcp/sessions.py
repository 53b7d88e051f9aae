"""Stateless MCP sessions: the session id is a signed note of what the client declared at initialize.

Handshake-era clients (protocol 2025-06-18, 2025-11-25) declare their capabilities once, in
``initialize``; later requests do not repeat them. Any Switchboard process must be able to answer any
request, so nothing is kept in memory: the ``Mcp-Session-Id`` given back to ``initialize`` carries the one
capability the endpoint acts on (URL-mode elicitation), signed with a key derived from the secret key.
The id grants nothing (every request still carries its own bearer token); a forged or altered id is
treated as unknown (404, after which a client initializes again).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

import msgspec

_PREFIX = "sb1"


class SessionNote(msgspec.Struct, frozen=True):
    url_elicitation: bool = False


class SessionIds:
    def __init__(self, secret_key: str) -> None:
        self._key = hashlib.sha256(b"switchboard mcp session ids\x00" + secret_key.encode()).digest()

    def issue(self, note: SessionNote) -> str:
        """A new session id holding ``note`` (visible ASCII only, as the transport requires)."""
        flags = "u" if note.url_elicitation else "-"
        body = f"{_PREFIX}.{flags}.{secrets.token_urlsafe(12)}"
        return f"{body}.{self._mac(body)}"

    def read(self, session_id: str) -> SessionNote | None:
        """The note of a session id this server issued, or None."""
        body, _, mac = session_id.rpartition(".")
        parts = body.split(".")
        if len(parts) != 3 or parts[0] != _PREFIX or not hmac.compare_digest(mac, self._mac(body)):
            return None
        return SessionNote(url_elicitation=parts[1] == "u")

    def _mac(self, body: str) -> str:
        digest = hmac.new(self._key, body.encode(), hashlib.sha256).digest()[:18]
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")
