"""Who holds a live refresh token for a client (RFC 6749 §1.5): the people whose client keeps working past
its access token's life, without asking them to sign in again.

A live refresh token is one not yet exchanged for its successor, not expired, on a grant not revoked.
"""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

from piccolo.custom_types import Combinable

from switchboard.identity.tables import OAuthRefreshToken


class OfflineAccess:
    async def holders(self, client_id: str) -> set[UUID]:
        """The people holding a live refresh token of the client."""
        grant = OAuthRefreshToken.grant
        rows = await OAuthRefreshToken.select(grant.user.as_alias("user_id")).where(
            _live() & (grant.client.client_id == client_id)  # type: ignore[union-attr]
        )
        return {row["user_id"] for row in rows}

    async def clients_of(self, user_id: UUID) -> set[str]:
        """The ids of the clients the person holds a live refresh token of."""
        grant = OAuthRefreshToken.grant
        rows = await OAuthRefreshToken.select(
            grant.client.client_id.as_alias("client_id")  # type: ignore[union-attr]
        ).where(_live() & (grant.user == user_id))
        return {row["client_id"] for row in rows}


def _live() -> Combinable:
    return (
        OAuthRefreshToken.used_at.is_null()
        & (OAuthRefreshToken.expires_at > datetime.now(UTC))
        & OAuthRefreshToken.grant.revoked_at.is_null()
    )
