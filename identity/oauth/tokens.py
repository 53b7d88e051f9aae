"""What a grant issues (RFC 6749 §5.1): a signed JWT access token (RFC 9068) and, when the client may
have one, a refresh token, stored only as its hash; and how long codes and tokens live."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from uuid import UUID

import msgspec

from switchboard.identity.oauth import scopes
from switchboard.identity.oauth.errors import invalid_grant
from switchboard.identity.oauth.keys import SigningKeys
from switchboard.identity.oauth.models import Client
from switchboard.identity.oauth.revocation_list import user_revoked_since
from switchboard.identity.oauth.scope_caps import capped
from switchboard.identity.tables import OAuthGrant, OAuthRefreshToken, User
from switchboard.platform.core.tokens import new_token, token_hash

REFRESH_PREFIX = "sbr_"


class Lifetimes(msgspec.Struct, frozen=True, kw_only=True):
    access_token: timedelta = timedelta(hours=1)
    refresh_token: timedelta = timedelta(days=30)
    code: timedelta = timedelta(minutes=10)
    refresh_reuse_grace: timedelta = timedelta(seconds=10)


class TokenResponse(msgspec.Struct, frozen=True, omit_defaults=True):
    access_token: str
    token_type: str
    expires_in: int
    scope: str
    refresh_token: str | None = None


class TokenIssuer:
    def __init__(self, *, issuer: str, keys: SigningKeys, lifetimes: Lifetimes) -> None:
        self._issuer = issuer
        self._keys = keys
        self._lifetimes = lifetimes

    async def issue(
        self,
        client: Client,
        grant: OAuthGrant,
        *,
        with_refresh: bool,
        scope: Sequence[str] | None = None,
        rotated_from: UUID | None = None,
    ) -> TokenResponse:
        """Tokens for ``grant``, for its scopes unless ``scope`` narrows them, and never beyond the
        client's scope cap (the grants refuse a request the cap leaves nothing of before they get here).
        The access token names the grant (``gid``), so that revoking the grant reaches it; a refresh
        token comes only with ``offline_access`` to a client registered for the refresh grant, and names
        the refresh token it was issued for (``rotated_from``)."""
        granted = capped(scope if scope is not None else scopes.parse(grant.scope), client.scope_cap)
        issued_at = await _issue_second(grant.user)
        lifetime = int(self._lifetimes.access_token.total_seconds())
        claims = {
            "iss": self._issuer,
            "sub": str(grant.user),
            "aud": grant.resource or self._issuer,
            "client_id": client.client_id,
            "scope": scopes.join(granted),
            "iat": issued_at,
            "exp": issued_at + lifetime,
            "jti": new_token()[:32],
            "gid": str(grant.id),
        }
        access_token = await self._keys.sign(claims)
        refresh_token = None
        if with_refresh and scopes.OFFLINE_ACCESS in granted and "refresh_token" in client.grant_types:
            refresh_token = new_token(REFRESH_PREFIX)
            now = datetime.now(UTC)
            await OAuthRefreshToken(
                token_hash=token_hash(refresh_token),
                grant=grant.id,
                created_at=now,
                expires_at=now + self._lifetimes.refresh_token,
                rotated_from=rotated_from,
            ).save()
        return TokenResponse(
            access_token=access_token,
            token_type="Bearer",
            expires_in=lifetime,
            scope=scopes.join(granted),
            refresh_token=refresh_token,
        )


async def _issue_second(user_id: UUID) -> int:
    """The ``iat`` of an access token issued now for the user ``user_id``.

    A revocation of a user's tokens refuses those issued up to its moment, and ``iat`` counts whole
    seconds: a token issued after it within the same second (the user deactivated and at once
    reactivated) would be refused with the earlier ones for its whole life. It is signed in the next
    second instead, once the user is seen active then.
    """
    second = int(time.time())
    while await user_revoked_since(str(user_id), datetime.fromtimestamp(second, UTC)):
        await asyncio.sleep(second + 1 - time.time())
        second = int(time.time())
        if not await User.exists().where((User.id == user_id) & (User.is_active == True)):  # noqa: E712
            raise invalid_grant("The account this grant belongs to is deactivated.")
    return second
