"""The network rules for every request Switchboard sends on a builder's behalf: to a remote MCP server and
its authorization server, and to the apps that connections call (their actions and OAuth endpoints).

Their URLs come from whoever configured the server or wrote the connector and the connection, and from
metadata the server publishes, so every request goes through ``GuardedTransport``: https only and public
addresses only, checked on the address connected to. An admin may widen this for one remote server
(``NetworkPolicy.allow_private``: private addresses, and with them plain http, for the server and what its
metadata names) or for one connection (the origins its URLs had when the admin allowed it). A connector's
actions reach only what a connection's allowance names (``allowed_on_connection``); its OAuth requests
also what a remote server's does, since a remote server's connections get their tokens there
(``allowed_on_connection_or_server``).
"""

from __future__ import annotations

import ssl
from typing import Any

import httpx
import msgspec

from switchboard.connectors.tables import Connection as ConnectionRow
from switchboard.connectors.tables import RemoteServer as RemoteServerRow
from switchboard.platform.core import tls
from switchboard.platform.core.safe_fetch import (
    FetchPolicy,
    FetchRefused,
    GuardedClient,
    GuardedTransport,
    Resolver,
    SafeFetcher,
    TrustedOrigin,
    checked_url,
    resolve_host,
)
from switchboard.platform.core.safe_fetch import origin as origin_of

USER_AGENT = "Switchboard (MCP client)"
TIMEOUT_SECONDS = 10.0
_METADATA = FetchPolicy(timeout_seconds=TIMEOUT_SECONDS, max_bytes=64 * 1024, max_redirects=3)
# The authorization server URLs in a remote server's settings that its connections' OAuth requests go to.
_SERVER_URLS = ("token_url", "revocation_url")


class NetworkPolicy(msgspec.Struct, frozen=True, kw_only=True):
    """What an admin allowed for one remote server: private addresses (and with them plain http), or
    named hosts that may resolve to private addresses (still over https)."""

    allow_private: bool = False
    allowed_hosts: frozenset[str] = frozenset()

    def fetch_policy(self) -> FetchPolicy:
        return msgspec.structs.replace(
            _METADATA,
            allow_private=self.allow_private,
            allowed_hosts=self.allowed_hosts,
            require_https=not self.allow_private,
        )


class Network:
    """Guarded HTTP clients and metadata fetchers, one of each per policy, shared by all remote servers."""

    def __init__(
        self, *, resolver: Resolver = resolve_host, ssl_context: ssl.SSLContext | None = None
    ) -> None:
        self._resolver = resolver
        self._ssl_context = ssl_context
        self._fetchers: dict[NetworkPolicy, SafeFetcher] = {}

    def fetcher(self, policy: NetworkPolicy) -> SafeFetcher:
        """A JSON metadata fetcher (with its HTTP cache) for the policy."""
        fetcher = self._fetchers.get(policy)
        if fetcher is None:
            fetcher = self._fetchers[policy] = SafeFetcher(
                policy.fetch_policy(), resolver=self._resolver, ssl_context=self._ssl_context
            )
        return fetcher

    def transport(self, policy: NetworkPolicy) -> GuardedTransport:
        return GuardedTransport(policy.fetch_policy(), resolver=self._resolver, ssl_context=self._ssl_context)

    def app_transport(self, trusted: TrustedOrigin) -> GuardedTransport:
        """For connections' requests to their apps: https and public addresses, except at the origins
        ``trusted`` says an admin allowed. The CA bundle may come from the environment (``SSL_CERT_FILE``),
        as for any httpx client; a proxy never does."""
        return GuardedTransport(
            NetworkPolicy().fetch_policy(),
            resolver=self._resolver,
            ssl_context=self._ssl_context or tls.client_context(),
            trusted=trusted,
        )

    def client(self, policy: NetworkPolicy, *, timeout: float = TIMEOUT_SECONDS) -> httpx.AsyncClient:
        """A new guarded client; the caller closes it. Redirects are not followed (the callers decide)."""
        return GuardedClient(
            transport=self.transport(policy),
            timeout=timeout,
            follow_redirects=False,
            trust_env=False,
            headers={"User-Agent": USER_AGENT},
        )


async def allowed_on_connection(origin: str) -> bool:
    """Whether an admin allowed ``origin`` (``scheme://host:port``) onto private addresses on a connection
    (the origins its URLs had then).

    Asked by the transport of connections' requests only when the policy alone refuses one (plain http,
    or a private address), so the common request costs no query.
    """
    rows = await ConnectionRow.select(ConnectionRow.private_origins).where(
        ConnectionRow.private_origins != ""
    )
    return any(origin in str(row["private_origins"]).split() for row in rows)


async def allowed_on_connection_or_server(origin: str) -> bool:
    """``allowed_on_connection``, or an admin allowed a remote server onto private addresses and ``origin``
    is that of its token or revocation endpoint (as its settings hold them): its connections' OAuth
    requests go there."""
    if await allowed_on_connection(origin):
        return True
    servers = await RemoteServerRow.select(RemoteServerRow.settings).where(
        RemoteServerRow.allow_private.eq(True)
    )
    return any(origin in _server_origins(row) for row in servers)


def _server_origins(row: dict[str, Any]) -> set[str]:
    settings = row["settings"]
    if isinstance(settings, str):
        settings = msgspec.json.decode(settings)
    found: set[str] = set()
    for url in (str((settings or {}).get(name) or "") for name in _SERVER_URLS):
        try:
            found.add(origin_of(checked_url(url, FetchPolicy(require_https=False))))
        except FetchRefused:
            continue
    return found


MAX_ANSWER_BYTES = 256 * 1024


class AnswerTooLarge(httpx.HTTPError):
    pass


async def send(client: httpx.AsyncClient, method: str, url: str, **kwargs: object) -> httpx.Response:
    """One request whose answer is read whole, but no further than ``MAX_ANSWER_BYTES``.

    Raises AnswerTooLarge (an ``httpx.HTTPError``) past the limit, and ``FetchRefused`` when the URL breaks
    the client's network policy.
    """
    async with client.stream(method, url, **kwargs) as response:  # type: ignore[arg-type]
        body = bytearray()
        async for chunk in response.aiter_bytes():
            body += chunk
            if len(body) > MAX_ANSWER_BYTES:
                raise AnswerTooLarge(f"the answer from {url} is larger than {MAX_ANSWER_BYTES} bytes")
    return httpx.Response(
        response.status_code, headers=response.headers, content=bytes(body), request=response.request
    )
