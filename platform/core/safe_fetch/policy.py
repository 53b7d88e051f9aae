"""What a guarded fetch may do (``FetchPolicy``), and why one was refused (``FetchRefused``)."""

from __future__ import annotations

from enum import StrEnum

import msgspec

from switchboard.platform.core.errors import InvalidInput


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
    """The URL was not fetched, or its answer not accepted; the message is one line for the user.

    ``waivable``: an admin's allowance of private addresses would have let it through (plain http, or a
    private, loopback or link-local address; never an unspecified or multicast one).
    """

    code = "fetch_refused"

    def __init__(self, url: str, reason: Refusal, detail: str, *, waivable: bool = False) -> None:
        super().__init__(f"Could not fetch {display_url(url)}: {detail}.")
        self.url = url
        self.reason = reason
        self.detail = detail
        self.waivable = waivable


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


def one_line(error: BaseException | None) -> str:
    """An error's text for a refusal's message: one line, not too long."""
    text = " ".join(str(error).split()) or type(error).__name__
    return text[:160]


def display_url(url: str) -> str:
    """The URL for a message: without any user name or password, printable, not too long."""
    scheme, separator, rest = url.partition("://")
    if separator:
        authority_end = min((i for i in (rest.find(c) for c in "/?#") if i >= 0), default=len(rest))
        rest = rest[:authority_end].rpartition("@")[2] + rest[authority_end:]
        url = f"{scheme}://{rest}"
    url = "".join(c if c.isprintable() else repr(c)[1:-1] for c in url)
    return url if len(url) <= 200 else url[:199] + "…"
