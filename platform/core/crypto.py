"""Encryption of secrets kept in the database, with a key derived from the secret key.

AES-256-GCM; the key is derived with HKDF-SHA256 for one purpose, so keys for different uses (signing
keys, third-party tokens) never coincide. Values look like ``v1.<nonce>.<ciphertext>`` (base64url).

Key rotation: a box also holds the keys derived from previous secret keys. It encrypts with the current
key only and decrypts with any of them, so after ``SWITCHBOARD_SECRET_KEY`` changes (the old one moved to
``SWITCHBOARD_PREVIOUS_SECRET_KEYS``) stored values still open, and ``reencrypt`` moves them to the new key.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_VERSION = "v1"


class DecryptionFailed(Exception):
    """The value was not made with this secret key and purpose (or was altered)."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _derive(secret_key: str, purpose: str) -> AESGCM:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose.encode()).derive(
        secret_key.encode()
    )
    return AESGCM(key)


class SecretBox:
    def __init__(self, secret_key: str, purpose: str, previous_keys: Sequence[str] = ()) -> None:
        self._aead = _derive(secret_key, purpose)
        self._previous = tuple(_derive(key, purpose) for key in previous_keys if key and key != secret_key)
        self._purpose = purpose.encode()

    def encrypt(self, plaintext: str) -> str:
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, plaintext.encode(), self._purpose)
        return f"{_VERSION}.{_b64(nonce)}.{_b64(sealed)}"

    def decrypt(self, value: str) -> str:
        return self._open(value)[0]

    def reencrypt(self, value: str) -> str | None:
        """The value sealed with the current key, or None when it already is."""
        plaintext, current = self._open(value)
        return None if current else self.encrypt(plaintext)

    def _open(self, value: str) -> tuple[str, bool]:
        try:
            version, nonce, sealed = value.split(".")
            if version != _VERSION:
                raise ValueError(version)
            parts = (_unb64(nonce), _unb64(sealed))
        except ValueError as exc:
            raise DecryptionFailed("the value is not an encrypted value") from exc
        for index, aead in enumerate((self._aead, *self._previous)):
            try:
                return aead.decrypt(*parts, self._purpose).decode(), index == 0
            except InvalidTag:
                continue
        raise DecryptionFailed("the value cannot be decrypted with this secret key")
