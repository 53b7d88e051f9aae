"""Fetching client ID metadata documents: a ``client_id`` that is an https URL names a JSON document
describing the client, which Switchboard fetches through the SSRF-guarded fetcher.

Private and loopback addresses are refused unless an admin allows them in the console; each choice has
its own fetcher so that a document fetched under one rule is never served from the cache under the other.
"""

from __future__ import annotations

import ssl
from typing import Any

import msgspec

from switchboard.identity.oauth.clients import MetadataFetchFailed
from switchboard.platform.core.safe_fetch import (
    FetchPolicy,
    FetchRefused,
    Resolver,
    SafeFetcher,
    resolve_host,
)

# Small documents, fetched while a person waits on the authorization page.
_POLICY = FetchPolicy(timeout_seconds=5.0, max_bytes=16 * 1024, max_redirects=0, cache_default_seconds=300.0)


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
