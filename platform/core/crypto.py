"""Encryption of secrets kept in the database, with a key derived from the secret key.

AES-256-GCM; the key is derived with HKDF-SHA256 for one purpose, so keys for different uses (signing
keys, third-party tokens) never coincide. Values look like ``v1.<nonce>.<ciphertext>`` (base64url).
"""

from __future__ import annotations

import base64
import os

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


class SecretBox:
    def __init__(self, secret_key: str, purpose: str) -> None:
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose.encode()).derive(
            secret_key.encode()
        )
        self._aead = AESGCM(key)
        self._purpose = purpose.encode()

    def encrypt(self, plaintext: str) -> str:
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, plaintext.encode(), self._purpose)
        return f"{_VERSION}.{_b64(nonce)}.{_b64(sealed)}"

    def decrypt(self, value: str) -> str:
        try:
            version, nonce, sealed = value.split(".")
            if version != _VERSION:
                raise ValueError(version)
            return self._aead.decrypt(_unb64(nonce), _unb64(sealed), self._purpose).decode()
        except (ValueError, InvalidTag) as exc:
            raise DecryptionFailed("the value cannot be decrypted with this secret key") from exc
