"""Where grants are kept: one row per (user, connection), its tokens sealed with the secret key, and the
audit records of what happened to it.

A shared connection has at most one grant, whoever connected it; an end user's connection has one per
person. Tokens sealed with a secret key this process no longer has cannot be opened: such a grant is
treated as needing reconnection, never as an error of the caller's.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any, Protocol
from uuid import UUID

import msgspec

from switchboard.connectors.connections.models import Connection, GrantStatus, Mode, TokenSet
from switchboard.connectors.tables import Connection as ConnectionRow
from switchboard.connectors.tables import UserGrant
from switchboard.identity.audit import AuditEntry, AuditLog
from switchboard.platform.core.crypto import DecryptionFailed, SecretBox

log = logging.getLogger("switchboard.connectors")

Row = dict[str, Any]
UNREADABLE = (
    "The stored tokens were encrypted with an earlier secret key that is no longer configured; connect again."
)


class UserEmails(Protocol):
    """How grants learn a user's e-mail address for their audit records ("" when there is no such user)."""

    async def email_of(self, user_id: UUID) -> str: ...


class StoredTokens(msgspec.Struct, frozen=True):
    access_token: str
    refresh_token: str | None = None
    token_type: str = "Bearer"


class GrantStore:
    def __init__(self, *, box: SecretBox, audit: AuditLog, users: UserEmails) -> None:
        self._box = box
        self._audit = audit
        self._users = users

    # -- rows -----------------------------------------------------------------------------------------

    async def of(self, connection: Connection, user_id: UUID | None) -> Row | None:
        """The grant a call uses: the user's own, or the shared connection's one grant (anyone's)."""
        if connection.mode is Mode.SHARED:
            return await UserGrant.select().where(UserGrant.connection == connection.id).first()
        return None if user_id is None else await self.own(connection.id, user_id)

    async def own(self, connection_id: UUID, user_id: UUID) -> Row | None:
        return (
            await UserGrant.select()
            .where((UserGrant.connection == connection_id) & (UserGrant.user == user_id))
            .first()
        )

    async def by_id(self, grant_id: UUID) -> Row | None:
        return await UserGrant.select().where(UserGrant.id == grant_id).first()

    async def users_of(self, connection_id: UUID) -> list[UUID]:
        rows = await UserGrant.select(UserGrant.user).where(UserGrant.connection == connection_id)
        return [row["user"] for row in rows]

    async def save(
        self,
        connection: Connection,
        user_id: UUID,
        tokens: TokenSet,
        *,
        account: str,
        scopes: tuple[str, ...],
        issuer: str,
    ) -> None:
        """Keep a new grant of ``user_id``; for a shared connection it replaces whoever's came before."""
        now = datetime.now(UTC)
        values: dict[Any, Any] = {
            "status": GrantStatus.CONNECTED.value,
            "reason": "",
            "account": account,
            "scopes": " ".join(scopes),
            "scopes_version": connection.scopes_version,
            "tokens": self.seal(tokens),
            "expires_at": tokens.expires_at,
            "issuer": issuer,
            "lease_until": None,
            "connected_at": now,
            "refreshed_at": None,
        }
        if connection.mode is Mode.SHARED:  # one grant for everyone: the builder who connected last
            others = (UserGrant.connection == connection.id) & (UserGrant.user != user_id)
            await UserGrant.delete().where(others)
        existing = await self.own(connection.id, user_id)
        if existing is not None:
            await UserGrant.update(values).where(UserGrant.id == existing["id"])
        else:
            await UserGrant(connection=connection.id, user=user_id, **values).save()

    async def mark(self, grant_id: UUID, reason: str) -> None:
        """The grant cannot be used any more: its person (or a builder) must connect again."""
        await UserGrant.update(
            {
                UserGrant.status: GrantStatus.NEEDS_RECONNECT.value,
                UserGrant.reason: reason[:300],
                UserGrant.lease_until: None,
            }
        ).where(UserGrant.id == grant_id)

    async def delete(self, grant_id: UUID) -> None:
        await UserGrant.delete().where(UserGrant.id == grant_id)

    # -- tokens ---------------------------------------------------------------------------------------

    def open(self, grant: Row) -> StoredTokens | None:
        """The stored tokens, or None when they were sealed with a secret key this process no longer has."""
        try:
            return msgspec.json.decode(self._box.decrypt(grant["tokens"]), type=StoredTokens)
        except DecryptionFailed:
            log.warning("grant %s was encrypted with an unknown secret key", grant["id"])
            return None

    def seal(self, tokens: TokenSet, *, keep_refresh: str | None = None) -> str:
        stored = StoredTokens(tokens.access_token, tokens.refresh_token or keep_refresh, tokens.token_type)
        return self._box.encrypt(msgspec.json.encode(stored).decode())

    async def reencrypt(self) -> int:
        """Seal every grant's tokens again with the current secret key; returns how many changed."""
        changed = 0
        for row in await UserGrant.select(UserGrant.id, UserGrant.tokens):
            value = self._box.reencrypt(row["tokens"])
            if value is not None:
                await UserGrant.update({UserGrant.tokens: value}).where(UserGrant.id == row["id"])
                changed += 1
        return changed

    # -- audit ----------------------------------------------------------------------------------------

    async def email_of(self, user_id: UUID) -> str:
        return await self._users.email_of(user_id)

    async def record(
        self,
        action: str,
        connection: Connection,
        actor_id: UUID | None,
        *,
        outcome: str = "ok",
        reason: str = "",
        scope: str = "",
    ) -> None:
        """Audit what ``actor_id`` did to a grant of ``connection``: always the person who acted, whoever
        the grant is of (None: Switchboard acted on its own, and the record names nobody)."""
        await self._audit.record(
            AuditEntry(
                action=action,
                outcome=outcome,
                actor=await self._users.email_of(actor_id) if actor_id is not None else "",
                subject=connection.name,
                client_name=connection.connector,
                scope=scope,
                reason=reason,
            )
        )

    async def record_refusal(self, connection_id: UUID, user_id: UUID, reason: str) -> None:
        """A connect link or callback refused to ``user_id`` (another person's, say)."""
        row = await ConnectionRow.select(ConnectionRow.name).where(ConnectionRow.id == connection_id).first()
        await self._audit.record(
            AuditEntry(
                action="connection.link",
                outcome="refused",
                actor=await self._users.email_of(user_id),
                subject=row["name"] if row else "",
                reason=reason,
            )
        )
