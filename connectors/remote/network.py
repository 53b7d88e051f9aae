"""The network rules for everything Switchboard sends to a remote MCP server and its authorization server.

Their URLs come from whoever configured the server and from metadata the server publishes, so every
request goes through ``GuardedTransport``: https only and public addresses only, unless an admin allowed
private addresses for that server (which also allows plain http, as local and in-house servers use).
"""

from __future__ import annotations

import ssl

import httpx
import msgspec

from switchboard.platform.core.safe_fetch import (
    FetchPolicy,
    GuardedTransport,
    Resolver,
    SafeFetcher,
    resolve_host,
)

USER_AGENT = "Switchboard (MCP client)"
TIMEOUT_SECONDS = 10.0
_METADATA = FetchPolicy(timeout_seconds=TIMEOUT_SECONDS, max_bytes=64 * 1024, max_redirects=3)


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

    def client(self, policy: NetworkPolicy, *, timeout: float = TIMEOUT_SECONDS) -> httpx.AsyncClient:
        """A new guarded client; the caller closes it. Redirects are not followed (the callers decide)."""
        return httpx.AsyncClient(
            transport=self.transport(policy),
            timeout=timeout,
            follow_redirects=False,
            trust_env=False,
            headers={"User-Agent": USER_AGENT},
        )


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
