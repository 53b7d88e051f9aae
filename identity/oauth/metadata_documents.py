"""Client ID metadata documents (draft-ietf-oauth-client-id-metadata-document): a ``client_id`` that is
an https URL names a JSON document describing the client, which Switchboard fetches through the
SSRF-guarded fetcher and keeps as a client of its own kind.

Private and loopback addresses are refused unless an admin allows them in the console; each choice has
its own fetcher so that a document fetched under one rule is never served from the cache under the other.
The document is the truth for what it says; approval follows the registration policy and stays the
admins'.
"""

from __future__ import annotations

import ssl
from typing import Any, Protocol

import msgspec

from switchboard.identity.audit import AuditLog
from switchboard.identity.oauth.client_lifecycle import ClientLifecycle
from switchboard.identity.oauth.client_store import (
    ClientStore,
    client_entry,
    fingerprint,
    json_value,
    registered_row,
)
from switchboard.identity.oauth.errors import OAuthError
from switchboard.identity.oauth.models import Client, ClientKind, ClientStatus, RegistrationPolicy
from switchboard.identity.oauth.registration import validate_client_metadata
from switchboard.identity.tables import OAuthClient
from switchboard.platform.core.safe_fetch import (
    FetchPolicy,
    FetchRefused,
    Resolver,
    SafeFetcher,
    resolve_host,
)

# Small documents, fetched while a person waits on the authorization page.
_POLICY = FetchPolicy(timeout_seconds=5.0, max_bytes=16 * 1024, max_redirects=0, cache_default_seconds=300.0)
_STATUS_BY_POLICY = {
    RegistrationPolicy.OPEN: ClientStatus.APPROVED,
    RegistrationPolicy.ADMIN_APPROVAL: ClientStatus.PENDING,
    RegistrationPolicy.CLOSED: ClientStatus.REFUSED,
}


class MetadataFetchFailed(Exception):
    """A client ID metadata document could not be fetched; the message says why, for the user."""


class MetadataFetcher(Protocol):
    async def fetch(self, url: str, *, allow_private: bool) -> Any:
        """The parsed JSON document at ``url``; raises ``MetadataFetchFailed``."""


def is_metadata_document_url(client_id: str) -> bool:
    return client_id.startswith("https://")


class MetadataDocumentFetcher:
    def __init__(
        self, *, ssl_context: ssl.SSLContext | None = None, resolver: Resolver = resolve_host
    ) -> None:
        self._public = SafeFetcher(_POLICY, ssl_context=ssl_context, resolver=resolver)
        self._private = SafeFetcher(
            msgspec.structs.replace(_POLICY, allow_private=True), ssl_context=ssl_context, resolver=resolver
        )

    async def fetch(self, url: str, *, allow_private: bool) -> Any:
        fetcher = self._private if allow_private else self._public
        try:
            document = await fetcher.get_json(url)
        except FetchRefused as exc:
            raise MetadataFetchFailed(exc.detail) from None
        return document.data


class MetadataDocumentClients:
    def __init__(
        self,
        *,
        store: ClientStore,
        lifecycle: ClientLifecycle,
        audit: AuditLog,
        fetcher: MetadataFetcher | None,
    ) -> None:
        self._store = store
        self._lifecycle = lifecycle
        self._audit = audit
        self._fetcher = fetcher

    async def client(self, url: str) -> Client:
        """The client a metadata-document ``client_id`` names, fetched (through the cache) and checked;
        ``MetadataFetchFailed`` when it cannot be used."""
        if self._fetcher is None:
            raise MetadataFetchFailed("client ID metadata documents are not enabled on this server")
        if len(url) > 500 or "#" in url:
            raise MetadataFetchFailed("the client ID URL is too long or has a fragment")
        allow_private = await self._lifecycle.allow_private_metadata_hosts()
        document = await self._fetcher.fetch(url, allow_private=allow_private)
        if not isinstance(document, dict):
            raise MetadataFetchFailed("the client ID metadata document is not a JSON object")
        if document.get("client_id") != url:
            raise MetadataFetchFailed("the document's client_id is not the URL it was fetched from")
        method = document.get("token_endpoint_auth_method", "none")
        if method != "none":
            raise MetadataFetchFailed(
                "only public clients (token_endpoint_auth_method none) can use a metadata document"
            )
        try:
            cleaned = validate_client_metadata({**document, "token_endpoint_auth_method": "none"})
        except OAuthError as exc:
            raise MetadataFetchFailed(
                f"the client ID metadata document is invalid: {exc.description}"
            ) from None
        name = cleaned.get("client_name") or url
        existing = await OAuthClient.objects().where(OAuthClient.client_id == url).first()
        if existing is None:
            status = _STATUS_BY_POLICY[await self._lifecycle.policy()]
            await OAuthClient.insert(
                registered_row(url, ClientKind.METADATA_DOCUMENT, name, cleaned, status, None)
            ).on_conflict(action="DO NOTHING")
            await self._audit.record(
                client_entry(
                    "client.registered", url, name, reason=f"client ID metadata document, {status.value}"
                )
            )
        elif (before := json_value(existing.metadata)) != cleaned:
            await OAuthClient.update(
                {
                    OAuthClient.name: name[:200],
                    OAuthClient.redirect_uris: cleaned["redirect_uris"],
                    OAuthClient.grant_types: cleaned["grant_types"],
                    OAuthClient.scope: cleaned.get("scope", ""),
                    OAuthClient.client_uri: str(cleaned.get("client_uri", "")),
                    OAuthClient.logo_uri: str(cleaned.get("logo_uri", "")),
                    OAuthClient.fingerprint: fingerprint(name, cleaned["redirect_uris"]),
                    OAuthClient.metadata: cleaned,
                }
            ).where(OAuthClient.id == existing.id)
            changed = sorted(key for key in {*before, *cleaned} if before.get(key) != cleaned.get(key))
            await self._audit.record(
                client_entry(
                    "client.changed",
                    url,
                    name,
                    reason=f"client ID metadata document changed: {', '.join(changed)}",
                )
            )
        return await self._store.get(url)
