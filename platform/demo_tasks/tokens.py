"""The token endpoint (RFC 6749 §4.1.3 and §6, RFC 7636 §4.6) and token revocation (RFC 7009).

Tokens are opaque random strings; only their SHA-256 hashes are stored. A code exchange starts a grant;
refresh tokens rotate, and presenting a used one again (or a used code) revokes the whole grant, as
OAuth 2.1 asks of a server that detects a leaked token. Revoking a refresh token ends its grant too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from uuid import UUID

import msgspec

from switchboard.platform.core.tokens import new_token, token_hash
from switchboard.platform.demo_tasks import spec
from switchboard.platform.demo_tasks.clients import ClientRegistry, RegisteredClient
from switchboard.platform.demo_tasks.errors import (
    OAuthError,
    invalid_client,
    invalid_grant,
    invalid_request,
    invalid_scope,
)
from switchboard.platform.demo_tasks.tables import AuthorizationCode, Grant, Token

ACCESS_PREFIX = "dta_"
REFRESH_PREFIX = "dtr_"
REFRESH_TOKEN_LIFETIME = timedelta(days=30)
GRANT_TYPES = ("authorization_code", "refresh_token")


class TokenResponse(msgspec.Struct, frozen=True, kw_only=True):
    access_token: str
    expires_in: int
    refresh_token: str
    scope: str
    token_type: str = "Bearer"  # noqa: S105 - the RFC 6750 token type


def _now() -> datetime:
    return datetime.now(UTC)


def single(form: Mapping[str, Sequence[str]], name: str) -> str | None:
    """A parameter that may appear at most once (RFC 6749 §3.2)."""
    values = form.get(name) or ()
    if len(values) > 1:
        raise invalid_request(f"The {name} parameter was sent more than once.")
    return values[0] if values else None


async def revoke_grant(grant_id: UUID) -> None:
    await Grant.update({Grant.revoked_at: _now()}).where((Grant.id == grant_id) & Grant.revoked_at.is_null())


class TokenEndpoint:
    def __init__(self, *, clients: ClientRegistry, access_token_lifetime: timedelta) -> None:
        self.clients = clients
        self.access_token_lifetime = access_token_lifetime

    async def token(self, form: Mapping[str, Sequence[str]], headers: Mapping[str, str]) -> TokenResponse:
        client = await self.authenticate(form, headers)
        grant_type = single(form, "grant_type")
        if not grant_type:
            raise invalid_request("Send grant_type.")
        if grant_type == "authorization_code":
            return await self._exchange_code(client, form)
        if grant_type == "refresh_token":
            return await self._refresh(client, form)
        raise OAuthError("unsupported_grant_type", "Use authorization_code or refresh_token.")

    async def authenticate(
        self, form: Mapping[str, Sequence[str]], headers: Mapping[str, str]
    ) -> RegisteredClient:
        """RFC 6749 §2.3.1: client_secret_basic or client_secret_post, one of them per request."""
        basic_id, basic_secret = spec.basic_credentials(headers)
        form_id = single(form, "client_id")
        form_secret = single(form, "client_secret")
        if basic_id is not None and basic_secret is not None:
            if form_secret is not None or (form_id is not None and form_id != basic_id):
                raise invalid_request("Use one client authentication method per request.")
            return await self.clients.authenticate(basic_id, basic_secret, basic=True)
        if form_id and form_secret is not None:
            return await self.clients.authenticate(form_id, form_secret, basic=False)
        raise invalid_client("Authenticate the client with client_secret_basic or client_secret_post.")

    async def _exchange_code(
        self, client: RegisteredClient, form: Mapping[str, Sequence[str]]
    ) -> TokenResponse:
        code = single(form, "code")
        redirect_uri = single(form, "redirect_uri")
        verifier = single(form, "code_verifier")
        if not code:
            raise invalid_request("Send the authorization code.")
        row = await AuthorizationCode.objects().where(AuthorizationCode.code_hash == token_hash(code)).first()
        if row is None:
            raise invalid_grant("The authorization code is unknown.")
        if row.used_at is not None:
            await self._code_replayed(row.id)
        # Checked before the code is spent, so that a mistaken request leaves the client its code.
        if row.client != client.id:
            raise invalid_grant("The authorization code was issued to another client.")
        now = _now()
        if row.expires_at <= now:
            raise invalid_grant("The authorization code has expired.")
        if redirect_uri != row.redirect_uri:
            raise invalid_grant("redirect_uri differs from the one of the authorization request.")
        if not verifier or not spec.verify_pkce(verifier, row.code_challenge):
            raise invalid_grant("The code_verifier does not match the code_challenge (PKCE).")
        grant = Grant(client=client.id, account=row.account, scope=row.scope, created_at=now)
        await grant.save()
        # Spending the code and recording its grant is one statement: a concurrent replay either finds the
        # code unspent (and loses here) or finds the grant to revoke.
        spent = (
            await AuthorizationCode.update(
                {AuthorizationCode.used_at: now, AuthorizationCode.grant: grant.id}
            )
            .where((AuthorizationCode.id == row.id) & AuthorizationCode.used_at.is_null())
            .returning(AuthorizationCode.id)
        )
        if not spent:
            await Grant.delete().where(Grant.id == grant.id)
            await self._code_replayed(row.id)
        return await self._issue(grant.id, row.scope)

    async def _code_replayed(self, code_id: UUID) -> None:
        spent = (
            await AuthorizationCode.select(AuthorizationCode.grant)
            .where(AuthorizationCode.id == code_id)
            .first()
        )
        if spent and spent["grant"]:
            await revoke_grant(spent["grant"])
        raise invalid_grant("The authorization code was already used; the tokens it produced are revoked.")

    async def _refresh(self, client: RegisteredClient, form: Mapping[str, Sequence[str]]) -> TokenResponse:
        presented = single(form, "refresh_token")
        if not presented:
            raise invalid_request("Send the refresh_token.")
        row = (
            await Token.select(
                Token.id,
                Token.expires_at,
                Token.used_at,
                Token.grant,
                Token.grant.client,
                Token.grant.scope,
                Token.grant.revoked_at,
            )
            .where((Token.token_hash == token_hash(presented)) & (Token.kind == "refresh"))
            .first()
        )
        if row is None:
            raise invalid_grant("The refresh token is unknown.")
        if row["grant.client"] != client.id:
            raise invalid_grant("The refresh token was issued to another client.")
        if row["grant.revoked_at"] is not None:
            raise invalid_grant("The refresh token has been revoked.")
        if row["used_at"] is not None:
            await self._refresh_reused(row["grant"])
        now = _now()
        if row["expires_at"] <= now:
            raise invalid_grant("The refresh token has expired.")
        granted = spec.parse_scope(row["grant.scope"])
        requested = spec.parse_scope(single(form, "scope"))
        if not set(requested) <= set(granted):
            raise invalid_scope("A refresh can keep or narrow the granted scopes, not widen them.")
        used = (
            await Token.update({Token.used_at: now})
            .where((Token.id == row["id"]) & Token.used_at.is_null())
            .returning(Token.id)
        )
        if not used:
            await self._refresh_reused(row["grant"])
        return await self._issue(row["grant"], spec.join_scope(requested or granted))

    @staticmethod
    async def _refresh_reused(grant_id: UUID) -> None:
        await revoke_grant(grant_id)
        raise invalid_grant("The refresh token was already used; every token of its grant is revoked.")

    async def _issue(self, grant_id: UUID, scope: str) -> TokenResponse:
        access_token = new_token(ACCESS_PREFIX)
        refresh_token = new_token(REFRESH_PREFIX)
        now = _now()
        await Token.insert(
            Token(
                token_hash=token_hash(access_token),
                kind="access",
                grant=grant_id,
                scope=scope,
                created_at=now,
                expires_at=now + self.access_token_lifetime,
            ),
            Token(
                token_hash=token_hash(refresh_token),
                kind="refresh",
                grant=grant_id,
                scope=scope,
                created_at=now,
                expires_at=now + REFRESH_TOKEN_LIFETIME,
            ),
        )
        return TokenResponse(
            access_token=access_token,
            expires_in=int(self.access_token_lifetime.total_seconds()),
            refresh_token=refresh_token,
            scope=scope,
        )

    async def revoke(self, form: Mapping[str, Sequence[str]], headers: Mapping[str, str]) -> None:
        """RFC 7009 §2.1: unknown tokens and other clients' tokens are answered like revoked ones
        (``token_type_hint`` is only a hint: both kinds are looked up)."""
        client = await self.authenticate(form, headers)
        token = single(form, "token")
        single(form, "token_type_hint")
        if not token:
            raise invalid_request("Send the token to revoke.")
        row = (
            await Token.select(Token.id, Token.kind, Token.grant, Token.grant.client)
            .where(Token.token_hash == token_hash(token))
            .first()
        )
        if row is None or row["grant.client"] != client.id:
            return
        if row["kind"] == "refresh":
            await revoke_grant(row["grant"])
        else:
            await Token.update({Token.revoked_at: _now()}).where(Token.id == row["id"])
