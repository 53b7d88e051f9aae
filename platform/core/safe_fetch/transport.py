"""``GuardedTransport``: the fetcher's URL and address checks on every request of an httpx client."""

from __future__ import annotations

import ssl

import httpx

from switchboard.platform.core import tls
from switchboard.platform.core.safe_fetch.addresses import (
    Resolver,
    checked_addresses,
    checked_url,
    normal_host,
    resolve_host,
)
from switchboard.platform.core.safe_fetch.policy import FetchPolicy, one_line


class GuardedTransport(httpx.AsyncBaseTransport):
    """An httpx transport that applies a ``FetchPolicy``'s URL and address checks to every request.

    For talking to servers whose URLs came from untrusted metadata with more than a GET (registration and
    token requests, MCP calls): each request, redirects included when the client follows them, is checked
    like ``SafeFetcher`` checks a URL, and its connection goes to a checked address. Size limits and
    deadlines are the caller's, through the client's own timeout and the way it reads the answer.

    Connections are kept per host name (one pool per scheme, name and port), so a connection verified
    for one name is never reused for another that happens to share its address.
    """

    def __init__(
        self,
        policy: FetchPolicy,
        *,
        resolver: Resolver = resolve_host,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self._policy = policy
        self._allowed_hosts = frozenset(normal_host(host) for host in policy.allowed_hosts)
        self._resolver = resolver
        self._ssl_context = ssl_context or tls.client_context(trust_env=False)
        self._pools: dict[tuple[str, str, int], httpx.AsyncHTTPTransport] = {}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Raises ``FetchRefused`` (before any connection) when the URL or its addresses break the policy."""
        target = checked_url(str(request.url), self._policy)
        addresses = await checked_addresses(target, self._policy, self._allowed_hosts, self._resolver)
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

    async def aclose(self) -> None:
        pools, self._pools = list(self._pools.values()), {}
        for pool in pools:
            await pool.aclose()
