"""Password hashing with argon2id (argon2-cffi's recommended parameters).

Hashing and checking take a deliberate fraction of a second of CPU, so they run in a worker thread:
the event loop keeps serving other requests meanwhile.
"""

from __future__ import annotations

from anyio import to_thread
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 256

_hasher = PasswordHasher()
# Verified against when the e-mail is unknown, so that answering takes as long either way.
_DUMMY_HASH = _hasher.hash("switchboard-timing-equaliser")


def _hash(password: str) -> str:
    return _hasher.hash(password)


def _verify(password_hash: str | None, password: str) -> bool:
    try:
        # No stored hash (or an empty one, as service accounts have) never verifies; the dummy hash only
        # makes the refusal take as long as a real check.
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


async def hash_password(password: str) -> str:
    return await to_thread.run_sync(_hash, password)


async def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches; with no hash (unknown user) a dummy is checked and False returned."""
    return await to_thread.run_sync(_verify, password_hash, password)


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)
