"""Dynamic client registration (RFC 7591): the client metadata a client may register (§2), registering
it under the registration policy, and the registration endpoint's answer (§3.2.1).

Metadata-document clients describe themselves with the same metadata, checked by the same rules.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from typing import Any

from switchboard.identity.audit import AuditLog
from switchboard.identity.oauth import redirects, scopes, spec
from switchboard.identity.oauth.client_authentication import AUTH_METHODS
from switchboard.identity.oauth.client_lifecycle import ClientLifecycle
from switchboard.identity.oauth.client_store import (
    ClientStore,
    client_entry,
    new_client_id,
    new_secret,
    registered_row,
)
from switchboard.identity.oauth.errors import OAuthError
from switchboard.identity.oauth.models import Client, ClientKind, ClientStatus, RegistrationPolicy
from switchboard.identity.oauth.rate_limits import EndpointLimits
from switchboard.identity.services.users import validate_text
from switchboard.identity.tables import OAuthClient
from switchboard.platform.core.errors import InvalidInput

USER_GRANTS = frozenset({"authorization_code", "refresh_token"})
# The client metadata of RFC 7591 §2 this server keeps and answers with. Anything else a client sends is
# ignored (§2: "the authorization server MUST ignore any client metadata sent by the client that it does
# not understand"), notably values only the server issues, such as client_id and client_secret.
_CLIENT_METADATA = frozenset(
    {
        "redirect_uris",
        "token_endpoint_auth_method",
        "grant_types",
        "response_types",
        "client_name",
        "client_uri",
        "logo_uri",
        "scope",
        "contacts",
        "tos_uri",
        "policy_uri",
        "software_id",
        "software_version",
    }
)
# Web addresses a client describes itself with. The consent page links to client_uri, so a script URL
# there would run in Switchboard's origin when clicked: only http(s) URLs are accepted.
_CLIENT_WEB_ADDRESSES = ("client_uri", "logo_uri", "tos_uri", "policy_uri")
# Enough for any real client (MCP clients register one to three); the console lists them all.
MAX_REDIRECT_URIS = 20


def validate_client_metadata(metadata: Mapping[str, Any]) -> dict[str, Any]:
    """The metadata this server keeps of a client (RFC 7591 §2), with defaults filled in;
    ``invalid_client_metadata`` or ``invalid_redirect_uri`` (§3.2.2) for what it refuses."""
    if not isinstance(metadata, Mapping):
        raise OAuthError("invalid_client_metadata", "The registration request must be a JSON object.")
    redirect_uris = metadata.get("redirect_uris", [])
    if not isinstance(redirect_uris, list) or not all(isinstance(uri, str) for uri in redirect_uris):
        raise OAuthError("invalid_redirect_uri", "redirect_uris must be an array of strings.")
    if len(redirect_uris) > MAX_REDIRECT_URIS:
        raise OAuthError(
            "invalid_redirect_uri", f"Register at most {MAX_REDIRECT_URIS} redirect URIs per client."
        )
    redirects.check_all(redirect_uris)
    for field in ("client_name", "scope", "token_endpoint_auth_method", *_CLIENT_WEB_ADDRESSES):
        if field in metadata and not isinstance(metadata[field], str):
            raise OAuthError("invalid_client_metadata", f"{field} must be a string.")
    for field in _CLIENT_WEB_ADDRESSES:
        if metadata.get(field) and not redirects.is_web_url(metadata[field]):
            raise OAuthError(
                "invalid_client_metadata",
                f"{field} must be an http or https URL of at most 500 characters.",
            )
    cleaned = {
        key: value
        for key, value in spec.validate_client_metadata(metadata).items()
        if key in _CLIENT_METADATA
    }
    # RFC 7591 defaults to authorization_code alone; MCP clients need refreshes too, and the
    # registration response tells the client what it got.
    grant_types = cleaned.get("grant_types") or ["authorization_code", "refresh_token"]
    response_types = cleaned.get("response_types") or ["code"]
    if not isinstance(grant_types, list) or not set(grant_types) <= USER_GRANTS:
        raise OAuthError(
            "invalid_client_metadata",
            "grant_types may only contain authorization_code and refresh_token; clients for the "
            "client_credentials grant are created by an administrator.",
        )
    if not isinstance(response_types, list) or set(response_types) != {"code"}:
        raise OAuthError("invalid_client_metadata", 'response_types must be ["code"].')
    if "authorization_code" in grant_types and not redirect_uris:
        raise OAuthError("invalid_redirect_uri", "The authorization_code grant needs redirect_uris.")
    method = cleaned["token_endpoint_auth_method"]
    if method not in AUTH_METHODS:
        raise OAuthError(
            "invalid_client_metadata",
            f"token_endpoint_auth_method must be one of {', '.join(AUTH_METHODS)}.",
        )
    name = str(cleaned.get("client_name", "")).strip()
    if len(name) > 200 or not validate_text_ok(name):
        raise OAuthError("invalid_client_metadata", "client_name must be at most 200 characters of text.")
    scope = str(cleaned.get("scope", ""))
    for item in scopes.parse(scope):
        if not scopes.is_well_formed(item):
            raise OAuthError("invalid_client_metadata", f"scope {item[:50]!r} is not a valid scope.")
    cleaned.update(
        grant_types=grant_types,
        response_types=response_types,
        redirect_uris=redirect_uris,
        client_name=name,
        scope=scopes.join(scopes.parse(scope)),
    )
    return cleaned


def validate_text_ok(text: str) -> bool:
    """Text without control characters, nor invisible formatting ones (such as right-to-left overrides
    and zero-width joiners) that could make a client's name read as another's on the consent page."""
    try:
        validate_text(text, field="client_name")
    except InvalidInput:
        return False
    return not any(unicodedata.category(char) in ("Cf", "Zl", "Zp") for char in text)


class DynamicRegistration:
    def __init__(self, *, store: ClientStore, lifecycle: ClientLifecycle, audit: AuditLog) -> None:
        self._store = store
        self._lifecycle = lifecycle
        self._audit = audit

    async def register(
        self, metadata: Mapping[str, Any], *, ip_address: str = ""
    ) -> tuple[Client, str | None, dict[str, Any]]:
        """Register a client (RFC 7591 §3.1); returns it, its secret (confidential clients) and its
        metadata. A closed registration is ``access_denied``."""
        policy = await self._lifecycle.policy()
        if policy is RegistrationPolicy.CLOSED:
            await self._audit.record(
                client_entry(
                    "client.registered",
                    "",
                    "",
                    outcome="refused",
                    reason="registration is closed",
                    ip_address=ip_address,
                )
            )
            raise OAuthError(
                "access_denied",
                "Client registration is closed on this server; ask an administrator to create a client.",
                status=403,
            )
        await self._lifecycle.remove_unused()
        cleaned = validate_client_metadata(metadata)
        name = cleaned.get("client_name") or "Unnamed client"
        confidential = cleaned["token_endpoint_auth_method"] != "none"
        secret = new_secret() if confidential else None
        status = ClientStatus.APPROVED if policy is RegistrationPolicy.OPEN else ClientStatus.PENDING
        row = registered_row(new_client_id(), ClientKind.DYNAMIC, name, cleaned, status, secret)
        # A client registering again (a new machine, lost credentials) stays within the scope cap an
        # admin gave its earlier registration (same name and redirect URIs).
        row.scope_cap = await _cap_of_earlier_registration(row.fingerprint)
        await row.save()
        client = await self._store.get(row.client_id)
        capped = f"; scopes capped to {row.scope_cap} as before" if row.scope_cap else ""
        await self._audit.record(
            client_entry(
                "client.registered",
                client.client_id,
                client.name,
                reason=f"dynamic registration, {status.value}{capped}",
                ip_address=ip_address,
            )
        )
        return client, secret, cleaned


async def _cap_of_earlier_registration(fingerprint: str) -> str:
    """The scope cap of the newest earlier registration of the same client that has one, else ""."""
    row = (
        await OAuthClient.select(OAuthClient.scope_cap)
        .where((OAuthClient.fingerprint == fingerprint) & (OAuthClient.scope_cap != ""))
        .order_by(OAuthClient.created_at, ascending=False)
        .first()
    )
    return str(row["scope_cap"]) if row else ""


class RegistrationEndpoint:
    """The registration endpoint: anyone may call it, so registrations are limited per network."""

    def __init__(self, *, registration: DynamicRegistration, limits: EndpointLimits) -> None:
        self._registration = registration
        self._limits = limits

    async def register(self, body: Any, *, ip_address: str) -> dict[str, Any]:
        """The client information response (RFC 7591 §3.2.1)."""
        await self._limits.registration_from(ip_address)
        client, secret, metadata = await self._registration.register(body, ip_address=ip_address)
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
