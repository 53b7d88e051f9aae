"""Checking the bearer tokens presented to the tasks API and userinfo (RFC 6750)."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

import msgspec

from switchboard.platform.core.requests import bearer_token
from switchboard.platform.core.tokens import token_hash
from switchboard.platform.demo_tasks import spec
from switchboard.platform.demo_tasks.errors import insufficient_scope, invalid_token
from switchboard.platform.demo_tasks.tables import Token


class AccessToken(msgspec.Struct, frozen=True):
    account_id: UUID
    scopes: tuple[str, ...]

    def require(self, scope: str) -> None:
        """RFC 6750 §3.1: a valid token without the scope is ``insufficient_scope`` (403)."""
        if scope not in self.scopes:
            raise insufficient_scope(scope)


async def verify(authorization: str | None) -> AccessToken:
    """The access token in an ``Authorization: Bearer`` header, if it is known, unexpired and neither it
    nor its grant is revoked; otherwise ``invalid_token`` (401)."""
    token = bearer_token(authorization)
    if token is None:
        raise invalid_token("Send an access token as Authorization: Bearer.")
    row = (
        await Token.select(
            Token.scope, Token.expires_at, Token.revoked_at, Token.grant.account, Token.grant.revoked_at
        )
        .where((Token.token_hash == token_hash(token)) & (Token.kind == "access"))
        .first()
    )
    if row is None or row["revoked_at"] is not None or row["grant.revoked_at"] is not None:
        raise invalid_token("The access token is unknown or revoked.")
    if row["expires_at"] <= datetime.now(UTC):
        raise invalid_token("The access token has expired.")
    return AccessToken(account_id=row["grant.account"], scopes=spec.parse_scope(row["scope"]))
