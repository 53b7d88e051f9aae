"""``GuardedTransport``: the fetcher's URL and address checks on every request of an httpx client, and
``GuardedClient``, whose URL errors are refusals like the transport's."""

from __future__ import annotations

import ssl
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import msgspec

from switchboard.platform.core import tls
from switchboard.platform.core.safe_fetch.addresses import (
    Resolver,
    Target,
    checked_addresses,
    checked_url,
    normal_host,
    origin,
    resolve_host,
    why_invalid,
)
from switchboard.platform.core.safe_fetch.policy import FetchPolicy, FetchRefused, Refusal, one_line

TrustedOrigin = Callable[[str], Awaitable[bool]]
"""Whether an admin allowed an origin (``scheme://host:port``, see ``addresses.origin``) onto private
addresses and plain http. Asked only for a request that the policy alone refuses for one of those."""


class GuardedTransport(httpx.AsyncBaseTransport):
    """An httpx transport that applies a ``FetchPolicy``'s URL and address checks to every request.

    For talking to servers whose URLs came from untrusted metadata or from a builder with more than a GET
    (registration and token requests, MCP calls, connectors' actions): each request, redirects included
    when the client follows them, is checked like ``SafeFetcher`` checks a URL, and its connection goes to
    a checked address. Size limits and deadlines are the caller's, through the client's own timeout and
    the way it reads the answer. ``trusted`` lifts the policy's refusal of plain http or of a private
    address for the origins an admin allowed (never for an unspecified or multicast address).

    Connections are kept per host name (one pool per scheme, name and port), so a connection verified
    for one name is never reused for another that happens to share its address.
    """

    def __init__(
        self,
        policy: FetchPolicy,
        *,
        resolver: Resolver = resolve_host,
        ssl_context: ssl.SSLContext | None = None,
        trusted: TrustedOrigin | None = None,
    ) -> None:
        self._policy = policy
        self._waived = msgspec.structs.replace(policy, allow_private=True, require_https=False)
        self._allowed_hosts = frozenset(normal_host(host) for host in policy.allowed_hosts)
        self._resolver = resolver
        self._ssl_context = ssl_context or tls.client_context(trust_env=False)
        self._trusted = trusted
        self._pools: dict[tuple[str, str, int], httpx.AsyncHTTPTransport] = {}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Raises ``FetchRefused`` (before any connection) when the URL or its addresses break the policy."""
        target, addresses = await self._checked(str(request.url))
        key = (target.url.scheme, target.host.lower(), target.port)
        pool = self._pools.get(key)
        if pool is None:
            pool = self._pools[key] = httpx.AsyncHTTPTransport(verify=self._ssl_context, trust_env=False)
        failure: httpx.ConnectError | None = None
        for address in addresses:  # the next address only when connecting failed, as browsers do
            pinned = httpx.Request(
                request.method,
                request.url.copy_with(host=address),
                headers=request.headers,  # holds the original Host
                stream=request.stream,
                extensions={**request.extensions, "sni_hostname": target.host},
            )
            try:
                return await pool.handle_async_request(pinned)
            except httpx.ConnectError as error:
                failure = error
        detail = f"{target.host} could not be reached ({one_line(failure)})"
        raise httpx.ConnectError(detail, request=request)

    async def _checked(self, url: str) -> tuple[Target, list[str]]:
        """The target and the addresses to connect to, under the policy or the origin's allowance."""
        if self._trusted is None:
            target = checked_url(url, self._policy)
            return target, await checked_addresses(target, self._policy, self._allowed_hosts, self._resolver)
        try:
            target = checked_url(url, self._policy)
            refused: FetchRefused | None = None
        except FetchRefused as scheme_refused:
            if not scheme_refused.waivable:
                raise
            target = checked_url(url, self._waived)  # plain http: the address decides what to say first
            refused = scheme_refused
        try:
            addresses = await checked_addresses(target, self._policy, self._allowed_hosts, self._resolver)
        except FetchRefused as address_refused:
            refused = address_refused
        else:
            if refused is None:
                return target, addresses
        if not refused.waivable or not await self._trusted(origin(target)):
            raise refused
        return target, await checked_addresses(target, self._waived, self._allowed_hosts, self._resolver)

    async def aclose(self) -> None:
        pools, self._pools = list(self._pools.values()), {}
        for pool in pools:
            await pool.aclose()


class GuardedClient(httpx.AsyncClient):
    """An httpx client whose malformed URLs are refused like the transport's (``FetchRefused``), where
    httpx itself would raise ``InvalidURL`` (or a ``UnicodeError`` for bad punycode) while building the
    request."""

    def build_request(self, method: str, url: httpx.URL | str, **kwargs: Any) -> httpx.Request:
        try:
            return super().build_request(method, url, **kwargs)
        except (httpx.InvalidURL, UnicodeError) as error:
            text = str(url)
            raise FetchRefused(text, Refusal.INVALID_URL, why_invalid(text)) from error
