"""``SafeFetcher``: GETs a JSON document from an untrusted URL under a ``FetchPolicy``.

Redirects are followed by hand so that every hop is checked like the first URL; each request goes to an
address that was checked (see ``SafeFetcher._exchange``); one deadline covers the whole fetch and the body
is read as a stream no further than the byte limit. Answers are cached as RFC 9111 allows (``cache``).
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Callable
from typing import Any

import anyio
import httpx
import msgspec

from switchboard.platform.core import tls
from switchboard.platform.core.json_nesting import MAX_DEPTH, nested_deeper_than
from switchboard.platform.core.safe_fetch.addresses import (
    Resolver,
    Target,
    checked_addresses,
    checked_url,
    normal_host,
    resolve_host,
)
from switchboard.platform.core.safe_fetch.cache import ResponseCache, conditional_headers, revalidated
from switchboard.platform.core.safe_fetch.policy import (
    FetchPolicy,
    FetchRefused,
    Refusal,
    display_url,
    one_line,
)

_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_USER_AGENT = "Switchboard (metadata fetcher)"


class FetchedDocument(msgspec.Struct, frozen=True, kw_only=True):
    """A fetched JSON document.

    ``data`` is decoded anew for every caller, so nobody can change the cached copy by mutating it.
    ``fresh_until`` is the clock time until which the cached copy is served, ``None`` when not cached.
    """

    url: str
    final_url: str
    status: int
    body: bytes
    data: Any
    fresh_until: float | None
    from_cache: bool


class _Response(msgspec.Struct, frozen=True):
    final_url: str
    status: int
    headers: httpx.Headers
    body: bytes


class SafeFetcher:
    """Fetches JSON documents from untrusted URLs under a ``FetchPolicy``, caching them in memory.

    One instance per policy, shared by the requests that use it (the cache lives in it). It holds no
    open connections: each fetch opens its own and closes it, because a connection pinned to one
    checked address and TLS name must never be reused for another host name.
    """

    def __init__(
        self,
        policy: FetchPolicy,
        *,
        resolver: Resolver = resolve_host,
        clock: Callable[[], float] = time.time,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self._policy = policy
        self._allowed_hosts = frozenset(normal_host(host) for host in policy.allowed_hosts)
        self._resolver = resolver
        self._ssl_context = ssl_context or tls.client_context(trust_env=False)
        self._cache = ResponseCache(policy, clock)

    async def get_json(self, url: str) -> FetchedDocument:
        """The JSON document at ``url``, from the cache while fresh.

        Raises:
            FetchRefused: the URL or an address, redirect or response broke the policy, or the server
                could not be reached, answered other than 200, or did not send JSON.
        """
        target = self._target(url)
        key = str(target.url)
        fresh = self._cache.fresh(key)
        if fresh is not None:
            return _document(url, fresh.final_url, fresh.body, fresh.fresh_until, from_cache=True)
        entry = self._cache.get(key)  # stale, or none: a stale one is revalidated
        try:
            with anyio.fail_after(self._policy.timeout_seconds):
                response = await self._fetch(url, target, conditional_headers(entry))
        except TimeoutError:
            raise self._timed_out(url) from None
        if response.status == 304 and entry is not None:
            headers = revalidated(entry.headers, response.headers)
            fresh_until = self._cache.store(key, entry.final_url, entry.body, headers)
            return _document(url, entry.final_url, entry.body, fresh_until, from_cache=True)
        if response.status != 200:
            raise FetchRefused(url, Refusal.STATUS, f"the server answered with status {response.status}")
        document = _document(url, response.final_url, response.body, None, from_cache=False)
        fresh_until = self._cache.store(key, response.final_url, response.body, response.headers)
        return msgspec.structs.replace(document, fresh_until=fresh_until)

    async def _fetch(self, url: str, target: Target, headers: dict[str, str]) -> _Response:
        """Follows redirects by hand, so that every hop is checked like the first URL."""
        response = await self._request(target, headers)
        redirects = 0
        while response.status in _REDIRECTS and "location" in response.headers:
            if redirects == self._policy.max_redirects:
                detail = f"too many redirects (at most {redirects} are followed)"
                raise FetchRefused(url, Refusal.TOO_MANY_REDIRECTS, detail)
            redirects += 1
            try:
                next_url = str(target.url.join(response.headers["location"]))
            except httpx.InvalidURL:
                raise FetchRefused(url, Refusal.INVALID_URL, "it redirects to an invalid URL") from None
            try:
                target = self._target(next_url)
                response = await self._request(target, headers)
            except FetchRefused as refused:
                detail = f"it redirects to {display_url(next_url)}, and {refused.detail}"
                raise FetchRefused(url, refused.reason, detail) from None
        return response

    def _target(self, url: str) -> Target:
        return checked_url(url, self._policy)

    async def _addresses(self, target: Target) -> list[str]:
        return await checked_addresses(target, self._policy, self._allowed_hosts, self._resolver)

    async def _request(self, target: Target, headers: dict[str, str]) -> _Response:
        addresses = await self._addresses(target)
        transport = httpx.AsyncHTTPTransport(verify=self._ssl_context, trust_env=False)
        # trust_env=False: no proxy from the environment (it would resolve the name itself) and no .netrc
        # credentials sent to whoever wrote the URL. get_json's deadline bounds the whole fetch; the
        # client's own timeout (per connect, per read) can at most fire at the same moment.
        timeout = self._policy.timeout_seconds
        async with httpx.AsyncClient(transport=transport, trust_env=False, timeout=timeout) as client:
            failure: Exception | None = None
            for address in addresses:  # the next address only when connecting failed, as browsers do
                try:
                    return await self._exchange(client, target, address, headers)
                except httpx.ConnectError as error:
                    failure = error
                except httpx.TimeoutException:
                    raise self._timed_out(str(target.url)) from None
                except (httpx.HTTPError, httpx.InvalidURL) as error:
                    detail = f"the connection failed ({one_line(error)})"
                    raise FetchRefused(str(target.url), Refusal.UNREACHABLE, detail) from None
        detail = f"the server could not be reached ({one_line(failure)})"
        raise FetchRefused(str(target.url), Refusal.UNREACHABLE, detail)

    async def _exchange(
        self, client: httpx.AsyncClient, target: Target, address: str, headers: dict[str, str]
    ) -> _Response:
        """One GET to ``target`` over a connection to the checked ``address``.

        This is how the address is pinned with stock httpx: the request URL carries the IP address, so
        httpcore connects to it without resolving anything, while the ``Host`` header and the
        ``sni_hostname`` request extension carry the original host name, so the server sees the usual
        request and the TLS certificate is verified against the host name, not the address.
        """
        request = client.build_request(
            "GET",
            target.url.copy_with(host=address),
            headers={
                "Host": target.url.netloc.decode("ascii"),
                "Accept": "application/json",
                # Compressed bodies could expand far past max_bytes before they are counted.
                "Accept-Encoding": "identity",
                "User-Agent": _USER_AGENT,
                **headers,
            },
            extensions={"sni_hostname": target.host},
        )
        response = await client.send(request, stream=True)
        try:
            body = await self._body(str(target.url), response)
            return _Response(str(target.url), response.status_code, response.headers, body)
        finally:
            await response.aclose()

    async def _body(self, url: str, response: httpx.Response) -> bytes:
        """The body of a 200 answer, read no further than ``max_bytes``; other answers' bodies are unused."""
        if response.status_code != 200:
            return b""
        limit = self._policy.max_bytes
        too_large = f"the answer is larger than {limit} bytes"
        encoding = response.headers.get("content-encoding", "identity").strip().lower()
        if encoding != "identity":
            raise FetchRefused(url, Refusal.ENCODING, f"the answer is compressed ({encoding}), unasked")
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise FetchRefused(url, Refusal.TOO_LARGE, too_large)
        body = bytearray()
        async for chunk in response.aiter_raw():
            body += chunk
            if len(body) > limit:
                raise FetchRefused(url, Refusal.TOO_LARGE, too_large)
        return bytes(body)

    def _timed_out(self, url: str) -> FetchRefused:
        detail = f"no complete answer within {self._policy.timeout_seconds:g} seconds"
        return FetchRefused(url, Refusal.TIMEOUT, detail)


def _document(
    url: str, final_url: str, body: bytes, fresh_until: float | None, *, from_cache: bool
) -> FetchedDocument:
    if nested_deeper_than(MAX_DEPTH, body):
        raise FetchRefused(url, Refusal.NOT_JSON, f"the answer nests more than {MAX_DEPTH} levels deep")
    try:
        data = msgspec.json.decode(body)
    except msgspec.DecodeError:
        raise FetchRefused(url, Refusal.NOT_JSON, "the answer is not JSON") from None
    return FetchedDocument(
        url=url,
        final_url=final_url,
        status=200,
        body=body,
        data=data,
        fresh_until=fresh_until,
        from_cache=from_cache,
    )
