"""The fetcher's in-memory HTTP cache, after RFC 9111 (HTTP Caching).

Freshness comes from ``Cache-Control`` (``max-age``, ``no-store``, ``no-cache``), ``Expires`` and ``Age``
(section 4.2.1), bounded by the policy; without them the policy's default applies. A stale answer with an
``ETag`` or ``Last-Modified`` is kept so that it can be revalidated with a conditional request (section
4.3.1); a 304 updates its headers (section 4.3.4) and reuses its body. The least recently used answer is
dropped first once the policy's ``cache_entries`` are reached.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from email.utils import parsedate_to_datetime

import httpx
import msgspec

from switchboard.platform.core.safe_fetch.policy import FetchPolicy

_PER_ANSWER = frozenset({"date", "age"})  # headers about one answer, not kept over a revalidation


class CacheEntry(msgspec.Struct, frozen=True):
    final_url: str
    body: bytes
    headers: httpx.Headers
    fresh_until: float


class ResponseCache:
    """Answers kept by URL for as long as their headers and the policy allow."""

    def __init__(self, policy: FetchPolicy, clock: Callable[[], float]) -> None:
        self._policy = policy
        self._clock = clock
        self._entries: OrderedDict[str, CacheEntry] = OrderedDict()

    def get(self, key: str) -> CacheEntry | None:
        """The stored answer, fresh or stale."""
        return self._entries.get(key)

    def fresh(self, key: str) -> CacheEntry | None:
        """The stored answer while it may be served without asking the server again."""
        entry = self._entries.get(key)
        if entry is not None and self._clock() < entry.fresh_until:
            self._entries.move_to_end(key)
            return entry
        return None

    def store(self, key: str, final_url: str, body: bytes, headers: httpx.Headers) -> float | None:
        """Caches the answer for as long as its headers and the policy allow; returns until when."""
        now = self._clock()
        lifetime = _freshness_lifetime(headers, now, self._policy)
        revalidatable = "etag" in headers or "last-modified" in headers
        if lifetime is None or (lifetime <= 0 and not revalidatable) or self._policy.cache_entries == 0:
            self._entries.pop(key, None)
            return None
        self._entries[key] = CacheEntry(final_url, body, headers, now + lifetime)
        self._entries.move_to_end(key)
        while len(self._entries) > self._policy.cache_entries:
            self._entries.popitem(last=False)
        return now + lifetime


def conditional_headers(entry: CacheEntry | None) -> dict[str, str]:
    """The validators to send for a stored answer (RFC 9111 section 4.3.1)."""
    headers: dict[str, str] = {}
    if entry is not None and "etag" in entry.headers:
        headers["If-None-Match"] = entry.headers["etag"]
    if entry is not None and "last-modified" in entry.headers:
        headers["If-Modified-Since"] = entry.headers["last-modified"]
    return headers


def revalidated(stored: httpx.Headers, fresh: httpx.Headers) -> httpx.Headers:
    """The stored answer's headers updated with those of the 304 (RFC 9111 section 4.3.4)."""
    merged = httpx.Headers([(name, value) for name, value in stored.multi_items() if name not in _PER_ANSWER])
    merged.update(fresh)
    return merged


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


def _seconds(value: str | None) -> float | None:
    return float(value) if value is not None and value.isdigit() else None


def _http_date(value: str | None) -> float | None:
    try:
        return parsedate_to_datetime(value).timestamp() if value else None
    except (TypeError, ValueError):
        return None
