"""Fetching URLs named in untrusted metadata, guarded against SSRF, with a small HTTP cache.

Switchboard fetches URLs that someone else chose: OAuth Client ID Metadata Documents (a ``client_id`` that
is an https URL) and remote MCP servers' protected-resource (RFC 9728) and authorization-server (RFC 8414)
metadata. Whoever writes those documents picks the URL, so every fetch, and every redirect hop, is checked
before it connects:

- https only (plain http too when the policy says so), no user name or password, no fragment;
- every address the host resolves to is public unicast: no loopback, private, link-local, carrier-grade
  NAT, multicast, reserved or unspecified address, nor one of those embedded in an IPv6 address, unless
  the admin allows private addresses or names the host;
- the connection goes to an address that was checked (see ``SafeFetcher._exchange``), so a DNS answer
  that changes between check and connect (DNS rebinding) cannot move the request elsewhere;
- one deadline for the whole fetch, a byte limit read as a stream, a redirect limit, JSON only.

Freshness follows RFC 9111 (``Cache-Control`` max-age / no-store / no-cache, ``Expires``, ``Age``) within
the policy's bounds; a stale entry with an ``ETag`` or ``Last-Modified`` is revalidated with a
conditional request, and a 304 reuses the stored body.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from email.utils import parsedate_to_datetime
from enum import StrEnum
from typing import Any

import anyio
import httpx
import msgspec

from switchboard.platform.core.errors import InvalidInput

Resolver = Callable[[str, int], Awaitable[Sequence[str]]]
"""Looks up a host name (ASCII) and port; returns IP address strings. Injected by tests."""

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_CARRIER_GRADE_NAT = ipaddress.IPv4Network("100.64.0.0/10")
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")
# Not even an admin's allowance makes these a sensible place to fetch a document from.
_NEVER_ALLOWED = frozenset({"unspecified", "multicast"})
_USER_AGENT = "Switchboard (metadata fetcher)"
_PER_ANSWER = frozenset({"date", "age"})  # headers about one answer, not kept over a revalidation


class Refusal(StrEnum):
    """Why a fetch failed: stable values for logs and for the caller's choice of OAuth error."""

    INVALID_URL = "invalid_url"
    ADDRESS = "address"
    UNRESOLVABLE = "unresolvable"
    UNREACHABLE = "unreachable"
    TIMEOUT = "timeout"
    TOO_LARGE = "too_large"
    TOO_MANY_REDIRECTS = "too_many_redirects"
    STATUS = "status"
    ENCODING = "encoding"
    NOT_JSON = "not_json"


class FetchRefused(InvalidInput):
    """The URL was not fetched, or its answer not accepted; the message is one line for the user."""

    code = "fetch_refused"

    def __init__(self, url: str, reason: Refusal, detail: str) -> None:
        super().__init__(f"Could not fetch {_display(url)}: {detail}.")
        self.url = url
        self.reason = reason
        self.detail = detail


class FetchPolicy(msgspec.Struct, frozen=True, kw_only=True):
    """What a fetch may do. The defaults are the safe ones; the admin may widen ``allow_*``."""

    timeout_seconds: float = 5.0
    max_bytes: int = 64 * 1024
    max_redirects: int = 3
    allow_private: bool = False
    # Host names (exact, case-insensitive; punycode for international names) fetched even when they
    # resolve to non-public addresses.
    allowed_hosts: frozenset[str] = frozenset()
    require_https: bool = True
    cache_default_seconds: float = 300.0
    cache_min_seconds: float = 0.0
    cache_max_seconds: float = 24 * 3600.0
    cache_entries: int = 256

    def __post_init__(self) -> None:
        if (
            self.timeout_seconds <= 0
            or self.max_bytes <= 0
            or min(self.max_redirects, self.cache_entries) < 0
        ):
            raise ValueError("timeout_seconds and max_bytes must be positive, the counts not negative")
        if not 0 <= self.cache_min_seconds <= self.cache_max_seconds:
            raise ValueError("cache_min_seconds must be from 0 to cache_max_seconds")


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


class _Target(msgspec.Struct, frozen=True):
    """A URL that passed the syntactic checks, with the host name and port to resolve."""

    url: httpx.URL
    host: str
    port: int


class _Response(msgspec.Struct, frozen=True):
    final_url: str
    status: int
    headers: httpx.Headers
    body: bytes


class _CacheEntry(msgspec.Struct, frozen=True):
    final_url: str
    body: bytes
    headers: httpx.Headers
    fresh_until: float


async def resolve_host(host: str, port: int) -> list[str]:
    """The addresses ``host`` resolves to; getaddrinfo runs in a worker thread so the loop never blocks."""
    # Bytes skip anyio's IDNA step: the host is already ASCII (punycode) and may hold e.g. underscores.
    infos = await anyio.getaddrinfo(host.encode("ascii"), port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(info[4][0] for info in infos))


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
        self._allowed_hosts = frozenset(_normal_host(host) for host in policy.allowed_hosts)
        self._resolver = resolver
        self._clock = clock
        self._ssl_context = ssl_context or httpx.create_ssl_context(trust_env=False)
        self._cache: OrderedDict[str, _CacheEntry] = OrderedDict()

    async def get_json(self, url: str) -> FetchedDocument:
        """The JSON document at ``url``, from the cache while fresh.

        Raises:
            FetchRefused: the URL or an address, redirect or response broke the policy, or the server
                could not be reached, answered other than 200, or did not send JSON.
        """
        target = self._target(url)
        key = str(target.url)
        entry = self._cache.get(key)
        if entry is not None and self._clock() < entry.fresh_until:
            self._cache.move_to_end(key)
            return _document(url, entry.final_url, entry.body, entry.fresh_until, from_cache=True)
        try:
            with anyio.fail_after(self._policy.timeout_seconds):
                response = await self._fetch(url, target, _conditional_headers(entry))
        except TimeoutError:
            raise self._timed_out(url) from None
        if response.status == 304 and entry is not None:
            headers = _revalidated(entry.headers, response.headers)
            fresh_until = self._store(key, entry.final_url, entry.body, headers)
            return _document(url, entry.final_url, entry.body, fresh_until, from_cache=True)
        if response.status != 200:
            raise FetchRefused(url, Refusal.STATUS, f"the server answered with status {response.status}")
        document = _document(url, response.final_url, response.body, None, from_cache=False)
        fresh_until = self._store(key, response.final_url, response.body, response.headers)
        return msgspec.structs.replace(document, fresh_until=fresh_until)

    async def _fetch(self, url: str, target: _Target, headers: dict[str, str]) -> _Response:
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
                detail = f"it redirects to {_display(next_url)}, and {refused.detail}"
                raise FetchRefused(url, refused.reason, detail) from None
        return response

    def _target(self, url: str) -> _Target:
        return _checked_url(url, self._policy)

    async def _addresses(self, target: _Target) -> list[str]:
        return await _checked_addresses(target, self._policy, self._allowed_hosts, self._resolver)

    async def _request(self, target: _Target, headers: dict[str, str]) -> _Response:
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
                    detail = f"the connection failed ({_one_line(error)})"
                    raise FetchRefused(str(target.url), Refusal.UNREACHABLE, detail) from None
        detail = f"the server could not be reached ({_one_line(failure)})"
        raise FetchRefused(str(target.url), Refusal.UNREACHABLE, detail)

    async def _exchange(
        self, client: httpx.AsyncClient, target: _Target, address: str, headers: dict[str, str]
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

    def _store(self, key: str, final_url: str, body: bytes, headers: httpx.Headers) -> float | None:
        """Caches the answer for as long as its headers and the policy allow; returns until when."""
        now = self._clock()
        lifetime = _freshness_lifetime(headers, now, self._policy)
        revalidatable = "etag" in headers or "last-modified" in headers
        if lifetime is None or (lifetime <= 0 and not revalidatable) or self._policy.cache_entries == 0:
            self._cache.pop(key, None)
            return None
        self._cache[key] = _CacheEntry(final_url, body, headers, now + lifetime)
        self._cache.move_to_end(key)
        while len(self._cache) > self._policy.cache_entries:
            self._cache.popitem(last=False)
        return now + lifetime


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
        self._allowed_hosts = frozenset(_normal_host(host) for host in policy.allowed_hosts)
        self._resolver = resolver
        self._ssl_context = ssl_context or httpx.create_ssl_context(trust_env=False)
        self._pools: dict[tuple[str, str, int], httpx.AsyncHTTPTransport] = {}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Raises ``FetchRefused`` (before any connection) when the URL or its addresses break the policy."""
        target = _checked_url(str(request.url), self._policy)
        addresses = await _checked_addresses(target, self._policy, self._allowed_hosts, self._resolver)
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
        detail = f"{target.host} could not be reached ({_one_line(failure)})"
        raise httpx.ConnectError(detail, request=request)

    async def aclose(self) -> None:
        pools, self._pools = list(self._pools.values()), {}
        for pool in pools:
            await pool.aclose()


def _checked_url(url: str, policy: FetchPolicy) -> _Target:
    """``url`` parsed, when it passes the policy's syntactic checks (scheme, no credentials, host, port)."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL:
        raise FetchRefused(url, Refusal.INVALID_URL, "it is not a valid URL") from None
    schemes = ("https",) if policy.require_https else ("https", "http")
    if parsed.scheme not in schemes:
        allowed = " and ".join(schemes)
        raise FetchRefused(url, Refusal.INVALID_URL, f"only {allowed} URLs are allowed")
    if parsed.userinfo:
        raise FetchRefused(url, Refusal.INVALID_URL, "the URL must not contain a user name or password")
    if "#" in url:
        raise FetchRefused(url, Refusal.INVALID_URL, "the URL must not contain a fragment")
    if not parsed.raw_host:
        raise FetchRefused(url, Refusal.INVALID_URL, "the URL has no host")
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    if not 0 < port < 65536:
        raise FetchRefused(url, Refusal.INVALID_URL, "the port is out of range")
    return _Target(parsed, parsed.raw_host.decode("ascii"), port)


async def _checked_addresses(
    target: _Target, policy: FetchPolicy, allowed_hosts: frozenset[str], resolver: Resolver
) -> list[str]:
    """The addresses to connect to: all of the host's addresses, each one checked."""
    url = str(target.url)
    literal = _ip(target.host)
    if literal is not None:
        addresses = [literal]
    else:
        try:
            addresses = [ipaddress.ip_address(a) for a in await resolver(target.host, target.port)]
        except (OSError, UnicodeError):
            addresses = []
        if not addresses:
            raise FetchRefused(url, Refusal.UNRESOLVABLE, f"the host {target.host} could not be found")
    trusted = policy.allow_private or _normal_host(target.host) in allowed_hosts
    for address in addresses:
        kind = _address_kind(address)
        if kind is not None and (kind in _NEVER_ALLOWED or not trusted):
            what = f"{_article(kind)} {kind} address, which is not allowed"
            detail = (
                f"{target.host} is {what}"
                if literal is not None
                else f"{target.host} resolves to {address}, {what}"
            )
            raise FetchRefused(url, Refusal.ADDRESS, detail)
    return [str(address) for address in addresses]


def _document(
    url: str, final_url: str, body: bytes, fresh_until: float | None, *, from_cache: bool
) -> FetchedDocument:
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


def _address_kind(address: IPAddress) -> str | None:
    """``None`` for a public unicast address, otherwise what kind of address it is, for the message."""
    if isinstance(address, ipaddress.IPv6Address) and not (address.is_loopback or address.is_unspecified):
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            return _address_kind(embedded)
    if address.is_unspecified:
        return "unspecified"
    if address.is_loopback:
        return "loopback"
    if address.is_link_local:
        return "link-local"
    if address.is_multicast:
        return "multicast"
    if address in _CARRIER_GRADE_NAT:
        return "carrier-grade NAT"
    if address.is_reserved:
        return "reserved"
    if address.is_private:
        return "private"
    if not address.is_global:
        return "non-public"
    return None


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address leads to (mapped, 6to4, NAT64, IPv4-compatible), if any.

    Python's ``is_global`` calls several of these global whatever IPv4 address they carry.
    """
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64 or address in _IPV4_COMPATIBLE:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def _freshness_lifetime(headers: httpx.Headers, now: float, policy: FetchPolicy) -> float | None:
    """Seconds an answer may be reused (RFC 9111 section 4.2.1), within the policy; ``None``: do not store."""
    directives: dict[str, str] = {}
    for part in ",".join(headers.get_list("cache-control")).split(","):
        name, _, value = part.partition("=")
        directives[name.strip().lower()] = value.strip().strip('"')
    max_age = _seconds(directives.get("max-age"))
    if "no-store" in directives:
        return None
    if "no-cache" in directives:
        lifetime = 0.0
    elif max_age is not None:
        lifetime = max_age
    elif "expires" in headers:
        # RFC 9111 section 5.3: an Expires that cannot be parsed means already expired.
        expires, date = _http_date(headers.get("expires")), _http_date(headers.get("date"))
        lifetime = 0.0 if expires is None else expires - (now if date is None else date)
    else:
        lifetime = policy.cache_default_seconds
    lifetime -= _seconds(headers.get("age")) or 0.0
    return min(max(lifetime, policy.cache_min_seconds), policy.cache_max_seconds)


def _revalidated(stored: httpx.Headers, fresh: httpx.Headers) -> httpx.Headers:
    """The stored answer's headers updated with those of the 304 (RFC 9111 section 4.3.4)."""
    merged = httpx.Headers([(name, value) for name, value in stored.multi_items() if name not in _PER_ANSWER])
    merged.update(fresh)
    return merged


def _conditional_headers(entry: _CacheEntry | None) -> dict[str, str]:
    headers: dict[str, str] = {}
    if entry is not None and "etag" in entry.headers:
        headers["If-None-Match"] = entry.headers["etag"]
    if entry is not None and "last-modified" in entry.headers:
        headers["If-Modified-Since"] = entry.headers["last-modified"]
    return headers


def _seconds(value: str | None) -> float | None:
    return float(value) if value is not None and value.isdigit() else None


def _http_date(value: str | None) -> float | None:
    try:
        return parsedate_to_datetime(value).timestamp() if value else None
    except (TypeError, ValueError):
        return None


def _ip(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _normal_host(host: str) -> str:
    return host.strip().lower().rstrip(".")


def _article(word: str) -> str:
    return "an" if word[0] in "aeiou" else "a"


def _one_line(error: BaseException | None) -> str:
    text = " ".join(str(error).split()) or type(error).__name__
    return text[:160]


def _display(url: str) -> str:
    """The URL for a message: without any user name or password, printable, not too long."""
    scheme, separator, rest = url.partition("://")
    if separator:
        authority_end = min((i for i in (rest.find(c) for c in "/?#") if i >= 0), default=len(rest))
        rest = rest[:authority_end].rpartition("@")[2] + rest[authority_end:]
        url = f"{scheme}://{rest}"
    url = "".join(c if c.isprintable() else repr(c)[1:-1] for c in url)
    return url if len(url) <= 200 else url[:199] + "…"
