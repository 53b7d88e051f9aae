"""Random tokens, their stored hashes and signed cookie values."""

from __future__ import annotations

import hashlib
import hmac
import secrets


def new_token(prefix: str = "") -> str:
    """A URL-safe random token with 256 bits of entropy."""
    return prefix + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """What is stored instead of a token: its SHA-256, hex-encoded."""
    return hashlib.sha256(token.encode()).hexdigest()


class Signer:
    """HMAC-SHA256 signatures for values kept in cookies, keyed by the secret key and a purpose."""

    def __init__(self, secret_key: str, purpose: str) -> None:
        self._key = hashlib.sha256(f"{purpose}:{secret_key}".encode()).digest()

    def sign(self, value: str) -> str:
        return f"{value}.{self._signature(value)}"

    def unsign(self, signed: str) -> str | None:
        value, _, signature = signed.rpartition(".")
        if not value or not hmac.compare_digest(signature, self._signature(value)):
            return None
        return value

    def _signature(self, value: str) -> str:
        return hmac.new(self._key, value.encode(), hashlib.sha256).hexdigest()[:43]
