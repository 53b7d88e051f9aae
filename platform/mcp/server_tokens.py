"""API tokens of MCP servers that take the Token access method.

A token is shown once, when created; only its SHA-256 is stored, and a presented token is compared by
hash, in constant time. Revoking deletes it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from uuid import UUID, uuid4

from switchboard.identity.audit import AuditLog
from switchboard.identity.principal import Actor
from switchboard.platform.core.errors import NotFound
from switchboard.platform.mcp.models import NewServerToken, ServerToken
from switchboard.platform.mcp.servers import clean_name, record_server_change
from switchboard.platform.mcp.tables import ServerToken as TokenRow

if TYPE_CHECKING:
    from switchboard.platform.mcp.servers import ServerRecords

TOKEN_PREFIX = "sbt_"  # noqa: S105 (how server API tokens start, not a secret)
_TOUCH_EVERY = timedelta(minutes=1)


class ServerTokens:
    def __init__(self, *, records: ServerRecords, audit: AuditLog | None = None) -> None:
        self._records = records
        self._audit = audit or AuditLog()

    async def create(self, server_id: UUID, name: str, *, actor: Actor) -> NewServerToken:
        actor.require_admin()
        server = await self._records.get(server_id)
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        row = TokenRow(
            id=uuid4(),
            server=server_id,
            name=clean_name(name),
            prefix=secret[:12],
            secret_hash=_hash(secret),
            created_at=datetime.now(UTC),
            created_by=actor.email,
        )
        await row.save()
        await record_server_change(self._audit, actor, "server.token_created", server, f"token {row.name}")
        token = next(token for token in await self.list_all(server_id) if token.id == row.id)
        return NewServerToken(token=token, secret=secret)

    async def list_all(self, server_id: UUID) -> list[ServerToken]:
        rows = await TokenRow.select().where(TokenRow.server == server_id).order_by(TokenRow.created_at)
        return [_token(row) for row in rows]

    async def revoke(self, server_id: UUID, token_id: UUID, *, actor: Actor) -> None:
        actor.require_admin()
        deleted = (
            await TokenRow.delete()
            .where((TokenRow.server == server_id) & (TokenRow.id == token_id))
            .returning(TokenRow.name)
        )
        if not deleted:
            raise NotFound("There is no such API token.", field="token_id")
        server = await self._records.get(server_id)
        reason = f"token {deleted[0]['name']}"
        await record_server_change(self._audit, actor, "server.token_revoked", server, reason)

    async def verify(self, server_id: UUID, secret: str) -> ServerToken | None:
        """The token ``secret`` is, if it belongs to the server (compared by hash, in constant time)."""
        if not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
            return None
        digest = _hash(secret)
        row = (
            await TokenRow.select()
            .where((TokenRow.server == server_id) & (TokenRow.secret_hash == digest))
            .first()
        )
        if row is None or not hmac.compare_digest(row["secret_hash"], digest):
            return None
        now = datetime.now(UTC)
        if row["last_used_at"] is None or row["last_used_at"] < now - _TOUCH_EVERY:
            await TokenRow.update({TokenRow.last_used_at: now}).where(TokenRow.id == row["id"])
        return _token(row)


def _token(row: dict[str, Any]) -> ServerToken:
    return ServerToken(
        id=row["id"],
        server_id=row["server"],
        name=row["name"],
        prefix=row["prefix"],
        created_at=row["created_at"],
        created_by=row["created_by"],
        last_used_at=row["last_used_at"],
    )


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()
