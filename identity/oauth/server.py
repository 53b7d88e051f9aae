"""The authorization server: authorization requests, codes, the token endpoint, revocation, introspection.

Every method is async and does its own database work; Authlib contributes the spec rules through
``spec`` (PKCE, client metadata, credentials parsing). The pages (sign-in, consent) live in ``ui`` and
call ``validate_authorization``, ``issue_code`` and ``redirect_with``.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, cast
from urllib.parse import urlsplit
from uuid import UUID

import msgspec

from switchboard.identity.oauth import redirects, scopes, spec
from switchboard.identity.oauth.audit import AuditEntry, AuditLog
from switchboard.identity.oauth.clients import (
    AUTH_METHODS,
    ClientService,
    MetadataFetchFailed,
    is_metadata_document_url,
)
from switchboard.identity.oauth.consent import ConsentService, revoke_grant
from switchboard.identity.oauth.errors import (
    OAuthError,
    invalid_client,
    invalid_grant,
    invalid_request,
    invalid_scope,
    invalid_target,
    unauthorized_client,
)
from switchboard.identity.oauth.keys import SigningKeys
from switchboard.identity.oauth.models import Client, ClientStatus
from switchboard.identity.oauth.ratelimit import RateLimiter, client_network
from switchboard.identity.oauth.resources import ProtectedResource, ResourceDirectory
from switchboard.identity.oauth.revocation import RevocationList, Revoked
from switchboard.identity.oauth.verifier import AccessToken, InvalidToken, TokenVerifier
from switchboard.identity.tables import OAuthCode, OAuthGrant, OAuthRefreshToken, User
from switchboard.platform.core.tokens import new_token, token_hash

GRANT_TYPES = ("authorization_code", "refresh_token", "client_credentials")
# OpenID Connect's prompt values, which OAuth clients (the MCP SDK among them) also send.
_PROMPTS = frozenset({"none", "login", "consent", "select_account"})
CODE_PREFIX = "sbo_"
REFRESH_PREFIX = "sbr_"


class Lifetimes(msgspec.Struct, frozen=True, kw_only=True):
    access_token: timedelta = timedelta(hours=1)
    refresh_token: timedelta = timedelta(days=30)
    code: timedelta = timedelta(minutes=10)
    refresh_reuse_grace: timedelta = timedelta(seconds=10)


class RateLimits(msgspec.Struct, frozen=True, kw_only=True):
    token_per_client_per_minute: int = 120
    token_per_ip_per_minute: int = 600
    registrations_per_ip_per_hour: int = 60


class PageError(Exception):
    """An authorization request that cannot be answered to the client (unknown client or redirect URI, a
    client no admin approved yet, too many requests): shown to the person on an error page, never
    redirected."""

    def __init__(
        self, title: str, message: str, *, status: int = 400, retry_after: int | None = None
    ) -> None:
        super().__init__(message)
        self.title = title
        self.message = message
        self.status = status
        self.retry_after = retry_after


class RedirectError(Exception):
    """An authorization error answered to the client at its (verified) redirect URI."""

    def __init__(self, location: str, error: str) -> None:
        super().__init__(error)
        self.location = location
        self.error = error


class AuthorizationRequest(msgspec.Struct, frozen=True, kw_only=True):
    client: Client
    redirect_uri: str
    state: str | None
    scopes: tuple[str, ...]
    resource: ProtectedResource | None
    code_challenge: str
    prompt: frozenset[str] = frozenset()

    @property
    def audience(self) -> str:
        return self.resource.url if self.resource else ""

    @property
    def redirect_host(self) -> str:
        """Where the person is sent back to, as shown on the consent page: the host and port only
        (never a user name, which could read as a trusted host), else the app's scheme."""
        parts = urlsplit(self.redirect_uri)
        if not parts.hostname:
            return f"{parts.scheme}:"
        host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
        return f"{host}:{parts.port}" if parts.port is not None else host

    @property
    def redirect_is_loopback(self) -> bool:
        parts = urlsplit(self.redirect_uri)
        return parts.scheme == "http" and redirects.is_loopback_host(parts.hostname)


class TokenResponse(msgspec.Struct, frozen=True, omit_defaults=True):
    access_token: str
    token_type: str
    expires_in: int
    scope: str
    refresh_token: str | None = None


class RequestContext(msgspec.Struct, frozen=True):
    """What the token endpoints know of the HTTP request."""

    form: Mapping[str, Sequence[str]]
    headers: Mapping[str, str]
    ip_address: str = ""


def _now() -> datetime:
    return datetime.now(UTC)


def _single(params: Mapping[str, Sequence[str]], name: str) -> str | None:
    """A parameter that may appear at most once (RFC 6749 §3.1)."""
    values = params.get(name) or []
    if len(values) > 1:
        raise invalid_request(f"The {name} parameter was sent more than once.")
    return values[0] if values else None


class AuthorizationServer:
    def __init__(
        self,
        *,
        issuer: str,
        clients: ClientService,
        consents: ConsentService,
        keys: SigningKeys,
        revocations: RevocationList,
        verifier: TokenVerifier,
        audit: AuditLog,
        resources: ResourceDirectory,
        lifetimes: Lifetimes,
        limits: RateLimits,
    ) -> None:
        self.issuer = issuer
        self.clients = clients
        self.consents = consents
        self.keys = keys
        self.revocations = revocations
        self.verifier = verifier
        self.audit = audit
        self.resources = resources
        self.lifetimes = lifetimes
        self.limits = limits
        self._limiter = RateLimiter()

    # Metadata (RFC 8414) -------------------------------------------------------------------------------

    def metadata(self) -> dict[str, Any]:
        base = self.issuer
        return {
            "issuer": base,
            "authorization_endpoint": f"{base}/oauth/authorize",
            "token_endpoint": f"{base}/oauth/token",
            "registration_endpoint": f"{base}/oauth/register",
            "revocation_endpoint": f"{base}/oauth/revoke",
            "introspection_endpoint": f"{base}/oauth/introspect",
            "jwks_uri": f"{base}/oauth/jwks",
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": list(GRANT_TYPES),
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": list(AUTH_METHODS),
            "revocation_endpoint_auth_methods_supported": list(AUTH_METHODS),
            "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "scopes_supported": list(scopes.SUPPORTED_SCOPES),
            "client_id_metadata_document_supported": True,
            "authorization_response_iss_parameter_supported": True,
        }

    # Authorization endpoint ----------------------------------------------------------------------------

    async def validate_authorization(
        self, params: Mapping[str, Sequence[str]], *, ip_address: str = ""
    ) -> AuthorizationRequest:
        """Check an authorization request; ``PageError`` before the redirect URI is trusted,
        ``RedirectError`` after.

        Anyone can send one without signing in, so what it costs the server beyond a lookup (fetching a
        metadata document, an audit event) is counted per ``ip_address``.
        """
        try:
            client_id = _single(params, "client_id")
            redirect_uri = _single(params, "redirect_uri")
        except OAuthError as exc:
            raise PageError("This sign-in link is not valid", exc.description) from None
        if not client_id:
            raise PageError("This sign-in link is not valid", "The request names no client (client_id).")
        client = await self._client_for_authorization(client_id, ip_address)
        if redirect_uri is None:
            if len(client.redirect_uris) != 1:
                raise PageError("This sign-in link is not valid", "The request has no redirect_uri.")
            redirect_uri = client.redirect_uris[0]
        if not redirects.matches(redirect_uri, client.redirect_uris):
            await self._page_limit(
                f"authorize-refused-ip:{client_network(ip_address)}",
                limit=self.limits.token_per_ip_per_minute,
                window=timedelta(minutes=1),
                title="Too many refused sign-in links",
            )
            await self.audit.record(
                AuditEntry(
                    action="authorization.refused",
                    outcome="refused",
                    client_id=client.client_id,
                    client_name=client.name,
                    reason=f"unregistered redirect URI {redirect_uri[:300]}",
                )
            )
            raise PageError(
                "This sign-in link is not valid",
                f"The redirect URI is not registered for {client.name}, "
                "so Switchboard will not send you there.",
            )
        if client.status is ClientStatus.REFUSED:
            raise PageError(
                "This app was refused",
                f"An administrator refused {client.name}; it cannot sign in.",
                status=403,
            )
        state = params.get("state", [None])[0]

        def fail(error: str, description: str) -> RedirectError | PageError:
            if client.status is not ClientStatus.APPROVED:
                # Nobody vouched for a pending client's redirect URIs yet: redirecting there would make
                # Switchboard an open redirector for whoever registered one.
                return PageError("This sign-in link is not valid", description)
            location = self.redirect_with(redirect_uri, state, error=error, error_description=description)
            return RedirectError(location, error)

        try:
            for name in (
                "response_type",
                "code_challenge",
                "code_challenge_method",
                "scope",
                "state",
                "prompt",
            ):
                _single(params, name)
        except OAuthError as exc:
            raise fail("invalid_request", exc.description) from None
        response_type = _single(params, "response_type")
        if not response_type:
            raise fail("invalid_request", "Send response_type=code.")
        if response_type != "code":
            raise fail("unsupported_response_type", "Only response_type=code is supported.")
        if "authorization_code" not in client.grant_types:
            raise fail("unauthorized_client", "This client may not use the authorization code grant.")
        challenge = _single(params, "code_challenge")
        method = _single(params, "code_challenge_method")
        if not challenge:
            raise fail(
                "invalid_request", "PKCE is required: send code_challenge with code_challenge_method=S256."
            )
        if method != "S256":
            raise fail("invalid_request", "Only code_challenge_method=S256 is supported.")
        if not spec.valid_code_challenge(challenge):
            raise fail("invalid_request", "The code_challenge is malformed.")
        try:
            resource = await self._resource(params)
            requested = self._requested_scopes(_single(params, "scope"), client, resource)
        except OAuthError as exc:
            raise fail(exc.code, exc.description) from None
        prompt = frozenset((_single(params, "prompt") or "").split())
        if not prompt <= _PROMPTS or ("none" in prompt and len(prompt) > 1):
            raise fail("invalid_request", "prompt may be none, or any of login, consent and select_account.")
        return AuthorizationRequest(
            client=client,
            redirect_uri=redirect_uri,
            state=state,
            scopes=requested,
            resource=resource,
            code_challenge=challenge,
            prompt=prompt,
        )

    async def _client_for_authorization(self, client_id: str, ip_address: str) -> Client:
        if is_metadata_document_url(client_id):
            if await self.clients.find(client_id) is None:
                # A new metadata-document client is a registration: the same limit as /oauth/register.
                await self._page_limit(
                    f"register-ip:{client_network(ip_address)}",
                    limit=self.limits.registrations_per_ip_per_hour,
                    window=timedelta(hours=1),
                    title="Too many new apps",
                )
            try:
                return await self.clients.from_metadata_document(client_id)
            except MetadataFetchFailed as exc:
                await self.audit.record(
                    AuditEntry(
                        action="client.registered", outcome="refused", client_id=client_id, reason=str(exc)
                    )
                )
                raise PageError(
                    "This app cannot sign in", f"Switchboard could not use the app's metadata: {exc}."
                ) from None
        client = await self.clients.find(client_id)
        if client is None:
            raise PageError(
                "This app is not known",
                "The app that sent you here is not registered with Switchboard (unknown client_id).",
                status=400,
            )
        return client

    async def _page_limit(self, key: str, *, limit: int, window: timedelta, title: str) -> None:
        try:
            await self._limiter.hit(key, limit=limit, window=window)
        except OAuthError as exc:
            raise PageError(title, exc.description, status=exc.status, retry_after=exc.retry_after) from None

    async def _resource(self, params: Mapping[str, Sequence[str]]) -> ProtectedResource | None:
        """The one resource (RFC 8707) a request names, if any; an unknown one is ``invalid_target``."""
        named = params.get("resource") or []
        if len(named) > 1:
            raise invalid_target("Ask for one resource per request.")
        if not named:
            return None
        resource = await self.resources.find(named[0])
        if resource is None:
            raise invalid_target("The requested resource is not known to this server.")
        return resource

    def _requested_scopes(
        self, scope: str | None, client: Client, resource: ProtectedResource | None
    ) -> tuple[str, ...]:
        registered = scopes.parse(client.scope)
        # Without a scope: the scopes the client registered, else every tool the user may use and a
        # refresh token.
        requested = scopes.parse(scope) or registered or scopes.DEFAULT_SCOPES
        catalogue = resource.scopes if resource else ()
        for item in requested:
            if not scopes.is_well_formed(item) or not scopes.is_known(item, catalogue):
                raise invalid_scope(f"The scope {item[:60]} is not offered by this server.")
        if registered and not scopes.covers(registered, requested):
            raise invalid_scope("The client asked for scopes beyond those it registered.")
        return requested

    def redirect_with(self, redirect_uri: str, state: str | None, **params: str) -> str:
        """The redirect URI with the response parameters, ``state`` and ``iss`` (RFC 9207)."""
        pairs = list(params.items())
        if state is not None:
            pairs.append(("state", state))
        pairs.append(("iss", self.issuer))
        return spec.add_params_to_uri(redirect_uri, pairs)

    async def issue_code(self, request: AuthorizationRequest, *, user_id: UUID) -> str:
        """A single-use code bound to the client, redirect URI, PKCE challenge, user, scopes and resource."""
        code = new_token(CODE_PREFIX)
        now = _now()
        await OAuthCode(
            code_hash=token_hash(code),
            client=request.client.id,
            user=user_id,
            redirect_uri=request.redirect_uri,
            scope=scopes.join(request.scopes),
            resource=request.audience,
            code_challenge=request.code_challenge,
            created_at=now,
            expires_at=now + self.lifetimes.code,
        ).save()
        return code

    # Token endpoint ------------------------------------------------------------------------------------

    async def token(self, context: RequestContext) -> TokenResponse:
        form = context.form
        grant_type = _single(form, "grant_type")
        await self._limiter.hit(
            f"token-ip:{client_network(context.ip_address)}",
            limit=self.limits.token_per_ip_per_minute,
            window=timedelta(minutes=1),
        )
        client: Client | None = None
        try:
            client = await self._authenticate(context)
            await self._limiter.hit(
                f"token-client:{client.client_id}",
                limit=self.limits.token_per_client_per_minute,
                window=timedelta(minutes=1),
            )
            if not grant_type:
                raise invalid_request("Send grant_type.")
            if grant_type not in GRANT_TYPES:
                raise OAuthError(
                    "unsupported_grant_type", "Use authorization_code, refresh_token or client_credentials."
                )
            if grant_type not in client.grant_types:
                raise unauthorized_client(f"This client may not use the {grant_type} grant.")
            if grant_type == "authorization_code":
                response, subject = await self._exchange_code(client, form)
            elif grant_type == "refresh_token":
                response, subject = await self._refresh(client, form)
            else:
                response, subject = await self._client_credentials(client, form)
        except OAuthError as exc:
            await self.audit.record(
                AuditEntry(
                    action="token.refused",
                    outcome="refused",
                    subject=await self._subject_of_refused(grant_type, form, client),
                    client_id=client.client_id if client else (_single_or_none(form, "client_id") or ""),
                    client_name=client.name if client else "",
                    grant_type=(grant_type or "")[:40],
                    reason=f"{exc.code}: {exc.description}",
                    ip_address=context.ip_address,
                )
            )
            raise
        await self.clients.touch(client)
        await self.audit.record(
            AuditEntry(
                action="token.issued",
                subject=subject,
                client_id=client.client_id,
                client_name=client.name,
                grant_type=grant_type,
                scope=response.scope,
                ip_address=context.ip_address,
            )
        )
        return response

    @staticmethod
    async def _subject_of_refused(
        grant_type: str | None, form: Mapping[str, Sequence[str]], client: Client | None
    ) -> str:
        """Whose token a refused request was after, when the code or refresh token says (for audit)."""
        if grant_type == "client_credentials":
            return (client.service_account_email or "") if client else ""
        presented = _single_or_none(form, "code" if grant_type == "authorization_code" else "refresh_token")
        if not presented or grant_type not in ("authorization_code", "refresh_token"):
            return ""
        if grant_type == "authorization_code":
            row = (
                await OAuthCode.select(OAuthCode.user.email.as_alias("email"))
                .where(OAuthCode.code_hash == token_hash(presented))
                .first()
            )
        else:
            row = (
                await OAuthRefreshToken.select(
                    OAuthRefreshToken.grant.user.email.as_alias("email")  # type: ignore[union-attr]
                )
                .where(OAuthRefreshToken.token_hash == token_hash(presented))
                .first()
            )
        return str(row["email"]) if row else ""

    async def _authenticate(self, context: RequestContext) -> Client:
        basic_id, basic_secret = spec.basic_credentials(context.headers)
        form_id = _single(context.form, "client_id")
        form_secret = _single(context.form, "client_secret")
        if basic_id is not None:
            if form_secret is not None or (form_id is not None and form_id != basic_id):
                raise invalid_request("Use one client authentication method per request.")
            return await self.clients.authenticate(
                client_id=basic_id, client_secret=basic_secret, method="client_secret_basic"
            )
        if form_secret is not None:
            return await self.clients.authenticate(
                client_id=form_id, client_secret=form_secret, method="client_secret_post"
            )
        if form_id is None:
            raise invalid_client("Send client_id (and the client secret for a confidential client).")
        return await self.clients.authenticate(client_id=form_id, client_secret=None, method="none")

    async def _exchange_code(
        self, client: Client, form: Mapping[str, Sequence[str]]
    ) -> tuple[TokenResponse, str]:
        code = _single(form, "code")
        redirect_uri = _single(form, "redirect_uri")
        verifier = _single(form, "code_verifier")
        if not code:
            raise invalid_request("Send the authorization code.")
        row = await OAuthCode.objects().where(OAuthCode.code_hash == token_hash(code)).first()
        if row is None:
            raise invalid_grant("The authorization code is unknown, expired or already used.")
        if cast("datetime | None", row.used_at) is not None:
            await self._code_replayed(row.id)
        # Checked before the code is spent, so that a mistaken request leaves the client its code.
        now = _now()
        if row.client != client.id:
            raise invalid_grant("The authorization code was issued to another client.")
        if row.expires_at <= now:
            raise invalid_grant("The authorization code has expired.")
        if redirect_uri != row.redirect_uri:
            raise invalid_grant("redirect_uri does not match the one of the authorization request.")
        if not verifier or not spec.verify_pkce(verifier, row.code_challenge):
            raise invalid_grant("The code_verifier does not match the code_challenge (PKCE).")
        resource = _single(form, "resource")
        if resource is not None and resource != row.resource:
            raise invalid_target("The resource differs from the one that was authorized.")
        user = await self._active_user(row.user)
        grant = OAuthGrant(
            client=client.id,
            user=row.user,
            grant_type="authorization_code",
            scope=row.scope,
            resource=row.resource,
            created_at=now,
            last_used_at=now,
        )
        await grant.save()
        # Spending the code and recording what it produced is one statement: a concurrent replay
        # either finds the code unspent (and loses here) or finds the grant to revoke.
        spent = (
            await OAuthCode.update({OAuthCode.used_at: now, OAuthCode.grant: grant.id})
            .where((OAuthCode.id == row.id) & OAuthCode.used_at.is_null())
            .returning(OAuthCode.id)
        )
        if not spent:
            await OAuthGrant.delete().where(OAuthGrant.id == grant.id)
            await self._code_replayed(row.id)
        response = await self._tokens(client, grant, with_refresh=True)
        return response, user

    async def _code_replayed(self, code_id: UUID) -> None:
        """The code leaked: whatever it produced is revoked (OAuth 2.1 §4.1.3), and the request refused."""
        spent = await OAuthCode.select(OAuthCode.grant).where(OAuthCode.id == code_id).first()
        if spent and spent["grant"]:
            await revoke_grant(self.revocations, spent["grant"], reason="authorization code replayed")
        raise invalid_grant("The authorization code was already used; the tokens it produced are revoked.")

    async def _refresh(self, client: Client, form: Mapping[str, Sequence[str]]) -> tuple[TokenResponse, str]:
        presented = _single(form, "refresh_token")
        if not presented:
            raise invalid_request("Send the refresh_token.")
        row = (
            await OAuthRefreshToken.objects()
            .where(OAuthRefreshToken.token_hash == token_hash(presented))
            .first()
        )
        if row is None:
            raise invalid_grant("The refresh token is unknown, expired or revoked.")
        grant = await OAuthGrant.objects().where(OAuthGrant.id == row.grant).first()
        if grant is None or grant.client != client.id:
            raise invalid_grant("The refresh token was issued to another client.")
        if cast("datetime | None", grant.revoked_at) is not None:
            raise invalid_grant("The refresh token has been revoked.")
        now = _now()
        if row.expires_at <= now:
            raise invalid_grant("The refresh token has expired.")
        if cast("datetime | None", row.used_at) is not None:
            await self._reused(row.id, grant.id)
        # A request refused for its scope or resource leaves an unused token usable (RFC 6749 §5.2).
        requested = scopes.parse(_single(form, "scope"))
        granted = scopes.parse(grant.scope)
        if requested and not scopes.covers(granted, requested):
            raise invalid_scope("A refresh can only keep or narrow the granted scopes.")
        resource = _single(form, "resource")
        if resource is not None and resource != grant.resource:
            raise invalid_target("The resource differs from the one that was authorized.")
        used = (
            await OAuthRefreshToken.update({OAuthRefreshToken.used_at: now})
            .where((OAuthRefreshToken.id == row.id) & OAuthRefreshToken.used_at.is_null())
            .returning(OAuthRefreshToken.id)
        )
        if not used:
            await self._reused(row.id, grant.id)
        user = await self._active_user(grant.user)
        await OAuthGrant.update({OAuthGrant.last_used_at: now}).where(OAuthGrant.id == grant.id)
        response = await self._tokens(client, grant, with_refresh=True, scope=requested or granted)
        return response, user

    async def _reused(self, token_id: UUID, grant_id: UUID) -> None:
        """A refresh token presented again: allowed only within the grace window after its first use
        (a client that sent the same refresh twice concurrently); otherwise the token leaked and the
        whole grant is revoked. A grace of zero allows no second use at all."""
        first_use = (
            await OAuthRefreshToken.select(OAuthRefreshToken.used_at)
            .where(OAuthRefreshToken.id == token_id)
            .first()
        )
        used_at = first_use["used_at"] if first_use else None
        grace = self.lifetimes.refresh_reuse_grace
        if used_at is None or grace <= timedelta(0) or _now() - used_at > grace:
            await revoke_grant(self.revocations, grant_id, reason="refresh token reused")
            raise invalid_grant("The refresh token was already used; every token of this grant is revoked.")

    async def _client_credentials(
        self, client: Client, form: Mapping[str, Sequence[str]]
    ) -> tuple[TokenResponse, str]:
        if not client.is_confidential or client.service_account_id is None:
            raise unauthorized_client(
                "Only a confidential client bound to a service account may use this grant."
            )
        resource = await self._resource(form)
        requested = self._requested_scopes(_single(form, "scope"), client, resource)
        requested = tuple(item for item in requested if item != scopes.OFFLINE_ACCESS)
        user = await self._active_user(client.service_account_id)
        now = _now()
        grant = OAuthGrant(
            client=client.id,
            user=client.service_account_id,
            grant_type="client_credentials",
            scope=scopes.join(requested),
            resource=resource.url if resource else "",
            created_at=now,
            last_used_at=now,
        )
        await grant.save()
        return await self._tokens(client, grant, with_refresh=False), user

    async def _active_user(self, user_id: UUID) -> str:
        row = await User.select(User.email, User.is_active).where(User.id == user_id).first()
        if row is None or not row["is_active"]:
            raise invalid_grant("The account this grant belongs to is deactivated.")
        return str(row["email"])

    async def _tokens(
        self, client: Client, grant: OAuthGrant, *, with_refresh: bool, scope: Sequence[str] | None = None
    ) -> TokenResponse:
        granted = tuple(scope) if scope is not None else scopes.parse(grant.scope)
        issued_at = int(time.time())
        lifetime = int(self.lifetimes.access_token.total_seconds())
        claims = {
            "iss": self.issuer,
            "sub": str(grant.user),
            "aud": grant.resource or self.issuer,
            "client_id": client.client_id,
            "scope": scopes.join(granted),
            "iat": issued_at,
            "exp": issued_at + lifetime,
            "jti": new_token()[:32],
            "gid": str(grant.id),
        }
        access_token = await self.keys.sign(claims)
        refresh_token = None
        if with_refresh and scopes.OFFLINE_ACCESS in granted and "refresh_token" in client.grant_types:
            refresh_token = new_token(REFRESH_PREFIX)
            now = _now()
            await OAuthRefreshToken(
                token_hash=token_hash(refresh_token),
                grant=grant.id,
                created_at=now,
                expires_at=now + self.lifetimes.refresh_token,
            ).save()
        return TokenResponse(
            access_token=access_token,
            token_type="Bearer",
            expires_in=lifetime,
            scope=scopes.join(granted),
            refresh_token=refresh_token,
        )

    # Revocation (RFC 7009) and introspection (RFC 7662) ---------------------------------------------------

    async def revoke(self, context: RequestContext) -> None:
        client = await self._authenticate(context)
        token = _single(context.form, "token")
        if not token:
            raise invalid_request("Send the token to revoke.")
        row = (
            await OAuthRefreshToken.select(OAuthRefreshToken.grant, OAuthRefreshToken.grant.client)
            .where(OAuthRefreshToken.token_hash == token_hash(token))
            .first()
        )
        if row is not None:
            if row["grant.client"] == client.id:
                await revoke_grant(
                    self.revocations, row["grant"], reason="refresh token revoked by the client"
                )
                await self.audit.record(
                    AuditEntry(
                        action="token.revoked",
                        client_id=client.client_id,
                        client_name=client.name,
                        reason="refresh token",
                    )
                )
            return
        claims = await self._access_claims(token)
        if claims is not None and claims.client_id == client.client_id:
            await self.revocations.revoke(Revoked.TOKEN, claims.token_id)
            await self.audit.record(
                AuditEntry(
                    action="token.revoked",
                    client_id=client.client_id,
                    client_name=client.name,
                    reason="access token",
                )
            )

    async def introspect(self, context: RequestContext) -> dict[str, Any]:
        client = await self._authenticate(context)
        if not client.is_confidential:
            raise invalid_client("Introspection needs client authentication with a secret.")
        token = _single(context.form, "token")
        if not token:
            raise invalid_request("Send the token to introspect.")
        inactive: dict[str, Any] = {"active": False}
        claims = await self._access_claims(token)
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
                "iss": self.issuer,
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
            or row["expires_at"] <= _now()
            or (row["client_id"] != client.client_id and not client.may_introspect_any)
        ):
            return inactive
        return {
            "active": True,
            "token_type": "refresh_token",
            "scope": row["grant.scope"],
            "client_id": row["client_id"],
            "sub": str(row["grant.user"]),
            "aud": row["grant.resource"] or self.issuer,
            "iss": self.issuer,
            "exp": int(row["expires_at"].timestamp()),
        }

    async def _access_claims(self, token: str) -> AccessToken | None:
        """A valid access token's claims whatever its audience, or None."""
        try:
            return await self.verifier.verify(token, audience=None)
        except InvalidToken:
            return None

    # Registration (RFC 7591) ---------------------------------------------------------------------------

    async def register(self, body: Any, *, ip_address: str) -> dict[str, Any]:
        await self._limiter.hit(
            f"register-ip:{client_network(ip_address)}",
            limit=self.limits.registrations_per_ip_per_hour,
            window=timedelta(hours=1),
        )
        client, secret, metadata = await self.clients.register(body, ip_address=ip_address)
        answer: dict[str, Any] = {
            **{key: value for key, value in metadata.items() if value not in ("", None)},
            "client_id": client.client_id,
            "client_id_issued_at": int(client.created_at.timestamp()),
            "token_endpoint_auth_method": client.token_endpoint_auth_method,
            "grant_types": client.grant_types,
            "redirect_uris": client.redirect_uris,
        }
        if secret:
            answer["client_secret"] = secret
            answer["client_secret_expires_at"] = 0
        return answer


def _single_or_none(form: Mapping[str, Sequence[str]], name: str) -> str | None:
    values = form.get(name) or []
    return values[0][:500] if values else None
