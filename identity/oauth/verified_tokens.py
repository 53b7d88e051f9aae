"""The access tokens whose signature this process has checked, so that a repeated one is not checked again.

Held by the SHA-256 of the whole token (32 bytes an entry, whatever the token's size; a token differing
by one byte is another entry), at most ``size`` of them, the least recently used leaving first. An entry
is never returned past its deadline (the token's expiry plus leeway): it is dropped when looked up then,
and every entry past it is dropped at the latest a second later.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from typing import Generic, NamedTuple, TypeVar

_Value = TypeVar("_Value")
_SWEEP_INTERVAL = 1.0


class Verified(NamedTuple, Generic[_Value]):
    kid: str
    key: object  # the key that verified the signature: the entry holds only while it is still the one
    claims: _Value
    deadline: float  # a POSIX time


class VerifiedTokens(Generic[_Value]):
    def __init__(self, size: int) -> None:
        self._size = size
        self._entries: OrderedDict[bytes, Verified[_Value]] = OrderedDict()
        self._swept_at = 0.0

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, token: str, now: float) -> Verified[_Value] | None:
        self._sweep(now)
        digest = _digest(token)
        found = self._entries.get(digest)
        if found is None:
            return None
        if found.deadline <= now:
            del self._entries[digest]
            return None
        self._entries.move_to_end(digest)
        return found

    def put(self, token: str, verified: Verified[_Value], now: float) -> None:
        if verified.deadline <= now:
            return
        digest = _digest(token)
        self._entries[digest] = verified
        self._entries.move_to_end(digest)
        while len(self._entries) > self._size:
            self._entries.popitem(last=False)

    def _sweep(self, now: float) -> None:
        if now - self._swept_at < _SWEEP_INTERVAL:
            return
        self._swept_at = now
        expired = [digest for digest, entry in self._entries.items() if entry.deadline <= now]
        for digest in expired:
            del self._entries[digest]


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()
