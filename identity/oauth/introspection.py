"""Token introspection (RFC 7662): a confidential client asks whether a token is active, and what it
grants.

A client learns only of its own tokens; a client allowed to introspect any token (a resource server's
credentials) learns of every one. Any other token, like an unknown, expired, spent or revoked one, is
``{"active": false}`` (§2.2).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from switchboard.identity.oauth.client_authentication import ClientAuthenticator
from switchboard.identity.oauth.errors import invalid_client, invalid_request
from switchboard.identity.oauth.parameters import RequestContext, single
from switchboard.identity.oauth.verifier import TokenVerifier
from switchboard.identity.tables import OAuthRefreshToken
from switchboard.platform.core.tokens import token_hash


class IntrospectionEndpoint:
    def __init__(self, *, issuer: str, authenticator: ClientAuthenticator, verifier: TokenVerifier) -> None:
        self._issuer = issuer
        self._authenticator = authenticator
        self._verifier = verifier

    async def introspect(self, context: RequestContext) -> dict[str, Any]:
        """The introspection response (§2.2) for the ``token`` sent (§2.1)."""
        client = await self._authenticator.authenticate(context)
        if not client.is_confidential:
            raise invalid_client("Introspection needs client authentication with a secret.")
        token = single(context.form, "token")
        if not token:
            raise invalid_request("Send the token to introspect.")
        inactive: dict[str, Any] = {"active": False}
        claims = await self._verifier.claims_if_valid(token)
        if claims is not None:
            if claims.client_id != client.client_id and not client.may_introspect_any:
                return inactive
            return {
                "active": True,
                "token_type": "Bearer",
                "scope": " ".join(claims.scopes),
                "client_id": claims.client_id,
                "sub": claims.subject,
                "aud": claims.audience,
                "iss": self._issuer,
                "exp": claims.expires_at,
                "jti": claims.token_id,
            }
        row = (
            await OAuthRefreshToken.select(
                OAuthRefreshToken.expires_at,
                OAuthRefreshToken.used_at,
                OAuthRefreshToken.grant.scope,
                OAuthRefreshToken.grant.user,
                OAuthRefreshToken.grant.revoked_at,
                OAuthRefreshToken.grant.resource,
                OAuthRefreshToken.grant.client.client_id.as_alias("client_id"),  # type: ignore[union-attr]
            )
            .where(OAuthRefreshToken.token_hash == token_hash(token))
            .first()
        )
        if (
            row is None
            or row["used_at"] is not None
            or row["grant.revoked_at"] is not None
            or row["expires_at"] <= datetime.now(UTC)
            or (row["client_id"] != client.client_id and not client.may_introspect_any)
        ):
            return inactive
        return {
            "active": True,
            "token_type": "refresh_token",
            "scope": row["grant.scope"],
            "client_id": row["client_id"],
            "sub": str(row["grant.user"]),
            "aud": row["grant.resource"] or self._issuer,
            "iss": self._issuer,
            "exp": int(row["expires_at"].timestamp()),
        }
