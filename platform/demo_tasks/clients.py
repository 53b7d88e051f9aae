"""Demo Tasks' client registry: the OAuth clients allowed to ask its users for access.

A client's secret is stored encrypted with a key derived from the secret key, not hashed: Switchboard's
demo seed calls ``ensure_client`` on every run and must be able to read the secret back to configure its
connection. Clients are confidential and authenticate with client_secret_basic or client_secret_post.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

import msgspec
from piccolo.columns import Column

from switchboard.platform.core.crypto import DecryptionFailed, SecretBox
from switchboard.platform.core.database import is_unique_violation
from switchboard.platform.core.errors import Conflict, InvalidInput
from switchboard.platform.core.tokens import new_token
from switchboard.platform.demo_tasks.errors import invalid_client
from switchboard.platform.demo_tasks.tables import Client

SECRET_PURPOSE = "demo-tasks-client"  # noqa: S105 - a key-derivation label, not a secret
SECRET_PREFIX = "dts_"  # noqa: S105
MAX_NAME = 200


class DemoClient(msgspec.Struct, frozen=True):
    """A client's credentials, as the app that uses them needs them."""

    client_id: str
    client_secret: str


class RegisteredClient(msgspec.Struct, frozen=True):
    """What the authorization server knows of a client (never its secret)."""

    id: UUID
    client_id: str
    name: str
    redirect_uris: tuple[str, ...]


def _checked_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > MAX_NAME:
        raise InvalidInput(f"The client name must be 1 to {MAX_NAME} characters.", field="name")
    return name


def _checked_redirect_uris(redirect_uris: Sequence[str]) -> tuple[str, ...]:
    """Absolute http(s) URIs without a fragment (RFC 6749 §3.1.2), compared exactly at authorization."""
    checked = tuple(dict.fromkeys(uri.strip() for uri in redirect_uris if uri.strip()))
    if not checked:
        raise InvalidInput("Give at least one redirect URI.", field="redirect_uris")
    for uri in checked:
        parts = urlsplit(uri)
        if parts.scheme not in {"http", "https"} or not parts.hostname or parts.fragment or "#" in uri:
            raise InvalidInput(
                f"The redirect URI {uri[:200]!r} must be an absolute http(s) URL without a fragment.",
                field="redirect_uris",
            )
    return checked


def _registered(row: Client) -> RegisteredClient:
    return RegisteredClient(
        id=row.id,
        client_id=row.client_id,
        name=row.name,
        redirect_uris=tuple(row.redirect_uris.splitlines()),
    )


class ClientRegistry:
    def __init__(self, secret_key: str, previous_keys: Sequence[str] = ()) -> None:
        # Secrets sealed under an earlier secret key still open until ``reencrypt`` moves them.
        self._box = SecretBox(secret_key, SECRET_PURPOSE, previous_keys)

    async def create_client(self, name: str, redirect_uris: Sequence[str]) -> DemoClient:
        """Register a new client; its name must be unused."""
        name = _checked_name(name)
        uris = _checked_redirect_uris(redirect_uris)
        client_id = "dtc_" + secrets.token_urlsafe(18)
        client_secret = new_token(SECRET_PREFIX)
        row = Client(
            client_id=client_id,
            name=name,
            secret_encrypted=self._box.encrypt(client_secret),
            redirect_uris="\n".join(uris),
        )
        try:
            await row.save()
        except Exception as exc:
            if is_unique_violation(exc):
                raise Conflict(f"A client named {name!r} exists already.", field="name") from None
            raise
        return DemoClient(client_id=client_id, client_secret=client_secret)

    async def ensure_client(self, name: str, redirect_uris: Sequence[str]) -> DemoClient:
        """The client of this name with exactly these redirect URIs, created if missing (safe to repeat:
        the same client ID and secret every time)."""
        name = _checked_name(name)
        uris = _checked_redirect_uris(redirect_uris)
        row = await Client.objects().where(Client.name == name).first()
        if row is None:
            try:
                return await self.create_client(name, uris)
            except Conflict:  # created by another process meanwhile
                row = await Client.objects().where(Client.name == name).first()
                if row is None:
                    raise
        changes: dict[Column | str, Any] = {}
        if tuple(row.redirect_uris.splitlines()) != uris:
            changes[Client.redirect_uris] = "\n".join(uris)
        try:
            client_secret = self._box.decrypt(row.secret_encrypted)
        except DecryptionFailed:
            # Made under another secret key: nobody can use the old secret any more, so issue a new one.
            client_secret = new_token(SECRET_PREFIX)
            changes[Client.secret_encrypted] = self._box.encrypt(client_secret)
        if changes:
            await Client.update(changes).where(Client.id == row.id)
        return DemoClient(client_id=row.client_id, client_secret=client_secret)

    async def find(self, client_id: str) -> RegisteredClient | None:
        row = await Client.objects().where(Client.client_id == client_id[:64]).first()
        return _registered(row) if row else None

    async def authenticate(self, client_id: str, client_secret: str, *, basic: bool) -> RegisteredClient:
        """The client whose ID and secret these are (RFC 6749 §2.3.1), else ``invalid_client``."""
        row = await Client.objects().where(Client.client_id == client_id[:64]).first()
        if row is None:
            raise invalid_client("Unknown client.", basic=basic)
        try:
            expected = self._box.decrypt(row.secret_encrypted)
        except DecryptionFailed:  # the secret key changed since the client was made
            raise invalid_client("The client's secret can no longer be checked.", basic=basic) from None
        if not secrets.compare_digest(expected.encode(), client_secret.encode()):
            raise invalid_client("The client secret is wrong.", basic=basic)
        return _registered(row)

    async def reencrypt(self) -> int:
        """Seal every client secret with the current secret key; returns how many changed."""
        changed = 0
        for row in await Client.select(Client.id, Client.secret_encrypted):
            try:
                sealed = self._box.reencrypt(row["secret_encrypted"])
            except DecryptionFailed:
                continue  # unreadable with any known key: ``ensure_client`` replaces it
            if sealed is not None:
                await Client.update({Client.secret_encrypted: sealed}).where(Client.id == row["id"])
                changed += 1
        return changed
