"""The authorization endpoint (RFC 6749 §4.1.1-4.1.2): checking an authorization request, issuing its
code, and answering the client at its redirect URI.

PKCE is required, with S256 only (RFC 7636 §4.3); a request may name one resource (RFC 8707); every
answer names the issuer (RFC 9207). Until the client and its redirect URI are trusted, a problem is a
``PageError`` shown to the person (§4.1.2.1), never a redirect. The pages (sign-in, consent) live in
``ui.pages.oauth`` and call ``validate``, ``issue_code`` and ``redirect_with``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Mapping, Sequence
from datetime import UTC, datetime
from urllib.parse import urlsplit
from uuid import UUID

import msgspec

from switchboard.identity.audit import AuditEntry, AuditLog
from switchboard.identity.oauth import redirects, scopes, spec
from switchboard.identity.oauth.client_store import ClientStore
from switchboard.identity.oauth.errors import OAuthError, PageError, RedirectError, ReturnTo
from switchboard.identity.oauth.metadata_documents import (
    MetadataDocumentClients,
    MetadataFetchFailed,
    is_metadata_document_url,
)
from switchboard.identity.oauth.models import Client, ClientStatus
from switchboard.identity.oauth.parameters import single
from switchboard.identity.oauth.rate_limits import EndpointLimits
from switchboard.identity.oauth.resources import ProtectedResource, ResourceDirectory, requested_resource
from switchboard.identity.oauth.scope_caps import within_cap
from switchboard.identity.oauth.tokens import Lifetimes
from switchboard.identity.tables import OAuthCode
from switchboard.platform.core.tokens import new_token, token_hash

CODE_PREFIX = "sbo_"
# OpenID Connect's prompt values, which OAuth clients (the MCP SDK among them) also send.
_PROMPTS = frozenset({"none", "login", "consent", "select_account"})
_NOT_VALID = "This sign-in link is not valid"


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
        """Where the person is sent back to, as shown on the consent page."""
        return redirects.shown_host(self.redirect_uri)

    @property
    def redirect_is_loopback(self) -> bool:
        parts = urlsplit(self.redirect_uri)
        return parts.scheme == "http" and redirects.is_loopback_host(parts.hostname)


class AuthorizationEndpoint:
    def __init__(
        self,
        *,
        issuer: str,
        clients: ClientStore,
        metadata_documents: MetadataDocumentClients,
        resources: ResourceDirectory,
        audit: AuditLog,
        lifetimes: Lifetimes,
        limits: EndpointLimits,
    ) -> None:
        self._issuer = issuer
        self._clients = clients
        self._metadata_documents = metadata_documents
        self._resources = resources
        self._audit = audit
        self._lifetimes = lifetimes
        self._limits = limits

    async def validate(
        self, params: Mapping[str, Sequence[str]], *, ip_address: str = ""
    ) -> AuthorizationRequest:
        """Check an authorization request (§4.1.1); ``PageError`` before the redirect URI is trusted,
        ``RedirectError`` after.

        Anyone can send one without signing in, so what it costs the server beyond a lookup (fetching a
        metadata document, an audit event) is counted per ``ip_address``.
        """
        try:
            client_id = single(params, "client_id")
            redirect_uri = single(params, "redirect_uri")
        except OAuthError as exc:
            raise PageError(_NOT_VALID, exc.description) from None
        if not client_id:
            raise PageError(_NOT_VALID, "The request names no client (client_id).")
        client = await self._client(client_id, ip_address)
        if redirect_uri is None:
            if len(client.redirect_uris) != 1:
                raise PageError(_NOT_VALID, "The request has no redirect_uri.")
            redirect_uri = client.redirect_uris[0]
        if not redirects.matches(redirect_uri, client.redirect_uris):
            await self._page_limit(
                self._limits.refused_authorization_from(ip_address), title="Too many refused sign-in links"
            )
            await self._audit.record(
                AuditEntry(
                    action="authorization.refused",
                    outcome="refused",
                    client_id=client.client_id,
                    client_name=client.name,
                    reason=f"unregistered redirect URI {redirect_uri[:300]}",
                )
            )
            raise PageError(
                _NOT_VALID,
                f"The redirect URI is not registered for {client.name}, "
                "so Switchboard will not send you there.",
            )
        state = params.get("state", [None])[0]
        if client.status is ClientStatus.REFUSED:
            refused = f"An administrator refused {client.name}; it cannot sign in."
            raise PageError(
                "This app was refused",
                refused,
                status=403,
                return_to=self.return_to(client, redirect_uri, state, refused),
            )

        def fail(error: str, description: str) -> RedirectError | PageError:
            if client.status is not ClientStatus.APPROVED:
                # Nobody vouched for a pending client's redirect URIs yet: redirecting there would make
                # Switchboard an open redirector for whoever registered one.
                return PageError(_NOT_VALID, description)
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
                single(params, name)
        except OAuthError as exc:
            raise fail("invalid_request", exc.description) from None
        response_type = single(params, "response_type")
        if not response_type:
            raise fail("invalid_request", "Send response_type=code.")
        if response_type != "code":
            raise fail("unsupported_response_type", "Only response_type=code is supported.")
        if "authorization_code" not in client.grant_types:
            raise fail("unauthorized_client", "This client may not use the authorization code grant.")
        challenge = single(params, "code_challenge")
        method = single(params, "code_challenge_method")
        if not challenge:
            raise fail(
                "invalid_request", "PKCE is required: send code_challenge with code_challenge_method=S256."
            )
        if method != "S256":
            raise fail("invalid_request", "Only code_challenge_method=S256 is supported.")
        if not spec.valid_code_challenge(challenge):
            raise fail("invalid_request", "The code_challenge is malformed.")
        try:
            resource = await requested_resource(self._resources, params)
            # The consent page offers only what the client's scope cap allows.
            requested = within_cap(
                client,
                scopes.requested(
                    single(params, "scope"),
                    registered=client.scope,
                    catalogue=resource.scopes if resource else (),
                ),
            )
        except OAuthError as exc:
            raise fail(exc.code, exc.description) from None
        prompt = frozenset((single(params, "prompt") or "").split())
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

    async def _client(self, client_id: str, ip_address: str) -> Client:
        if is_metadata_document_url(client_id):
            if await self._clients.find(client_id) is None:
                # A new metadata-document client is a registration: the same limit as /oauth/register.
                await self._page_limit(self._limits.registration_from(ip_address), title="Too many new apps")
            try:
                return await self._metadata_documents.client(client_id)
            except MetadataFetchFailed as exc:
                await self._audit.record(
                    AuditEntry(
                        action="client.registered", outcome="refused", client_id=client_id, reason=str(exc)
                    )
                )
                raise PageError(
                    "This app cannot sign in", f"Switchboard could not use the app's metadata: {exc}."
                ) from None
        client = await self._clients.find(client_id)
        if client is None:
            raise PageError(
                "This app is not known",
                "The app that sent you here is not registered with Switchboard (unknown client_id).",
                status=400,
            )
        return client

    @staticmethod
    async def _page_limit(counted: Awaitable[None], *, title: str) -> None:
        """Count a request against a limit; past it, the person reads ``title`` and when to retry."""
        try:
            await counted
        except OAuthError as exc:
            raise PageError(title, exc.description, status=exc.status, retry_after=exc.retry_after) from None

    def return_to(self, client: Client, redirect_uri: str, state: str | None, description: str) -> ReturnTo:
        """The way back to ``client`` telling it the person was refused (``access_denied``)."""
        return ReturnTo(
            location=self.redirect_with(
                redirect_uri,
                state,
                error="access_denied",
                error_description=spec.error_description(description),
            ),
            host=redirects.shown_host(redirect_uri),
            client_name=client.name,
            automatic=client.status is ClientStatus.APPROVED,
        )

    def redirect_with(self, redirect_uri: str, state: str | None, **params: str) -> str:
        """The redirect URI with the response parameters, ``state`` and ``iss`` (RFC 9207 §2)."""
        pairs = list(params.items())
        if state is not None:
            pairs.append(("state", state))
        pairs.append(("iss", self._issuer))
        return spec.add_params_to_uri(redirect_uri, pairs)

    async def issue_code(self, request: AuthorizationRequest, *, user_id: UUID) -> str:
        """A single-use code (§4.1.2) bound to the client, redirect URI, PKCE challenge, user, scopes and
        resource; only its hash is stored."""
        code = new_token(CODE_PREFIX)
        now = datetime.now(UTC)
        await OAuthCode(
            code_hash=token_hash(code),
            client=request.client.id,
            user=user_id,
            redirect_uri=request.redirect_uri,
            scope=scopes.join(request.scopes),
            resource=request.audience,
            code_challenge=request.code_challenge,
            created_at=now,
            expires_at=now + self._lifetimes.code,
        ).save()
        return code
