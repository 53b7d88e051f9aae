"""Redirect URI rules: what a client may register and how a request's URI must match it.

Registered URIs are https, http on a loopback address (RFC 8252 §7.3), or a private-use scheme such
as ``cursor://…`` (RFC 8252 §7.1). Matching is exact, except that a loopback URI's port may vary.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import SplitResult, urlsplit

from switchboard.identity.oauth.errors import OAuthError

_FORBIDDEN_SCHEMES = frozenset(
    {"javascript", "data", "file", "vbscript", "about", "blob", "ftp", "ws", "wss"}
)
_SCHEME = re.compile(r"[a-z][a-z0-9+.-]*")
_LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
# A host name (a trailing dot allowed), an IPv4 address, or an IPv6 address in brackets.
_HOST = re.compile(r"[a-z0-9_-]+(?:\.[a-z0-9_-]+)*\.?|\[[0-9a-f:.]+\]")


def is_loopback_host(host: str | None) -> bool:
    if not host:
        return False
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def names_just_a_host(parts: SplitResult) -> bool:
    """Whether an http(s) URI's authority is a host and an optional port, spelled as one: urllib reads the
    host of ``http://[::1].evil.example`` or ``http://127.0.0.1:80.evil.example`` as a loopback address
    and stops there, where a browser reads another host (or no URL at all)."""
    host = parts.hostname
    if not host:
        return False
    spelled = f"[{host}]" if ":" in host else host
    if not _HOST.fullmatch(spelled):
        return False
    return parts.netloc.lower() == (spelled if parts.port is None else f"{spelled}:{parts.port}")


def problem(uri: str) -> str | None:
    """Why ``uri`` cannot be registered, or None when it can."""
    if not uri or len(uri) > 2000 or any(ch.isspace() or ord(ch) < 0x20 for ch in uri):
        return "must be a non-empty URI without spaces, at most 2000 characters"
    if not uri.isascii():
        # The consent page shows the host: a Cyrillic "a" in apple.com would read as apple.com.
        return "must be ASCII (an international host name in punycode, other characters percent-encoded)"
    try:
        parts = urlsplit(uri)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        return "is not a valid URI"
    scheme = parts.scheme.lower()
    if "#" in uri:
        return "must not contain a fragment"
    if "@" in parts.netloc:
        # https://trusted.example@evil.example/ goes to evil.example.
        return "must not contain a user name or password"
    if not scheme or not _SCHEME.fullmatch(scheme):
        return "must be an absolute URI"
    if scheme in _FORBIDDEN_SCHEMES:
        return f"uses the forbidden scheme {scheme}:"
    if scheme in ("https", "http") and not names_just_a_host(parts):
        return "must name a host, and a port if any, and nothing else"
    if scheme == "https":
        return None
    if scheme == "http":
        if is_loopback_host(parts.hostname):
            return None
        return "may use http only on a loopback address (localhost, 127.0.0.1 or [::1]); use https"
    # A private-use scheme (RFC 8252 §7.1) for native apps, such as cursor://anysphere.cursor-mcp/…
    if not (parts.netloc or parts.path):
        return "must have a path"
    return None


def is_web_url(value: str) -> bool:
    """An http(s) URL with a host and nothing a browser could read differently (spaces, controls,
    backslashes, a user name): what a page may link to. Never a javascript: or data: URL, which would
    run in Switchboard's pages when clicked."""
    if len(value) > 500 or any(ch.isspace() or not ch.isprintable() or ch == "\\" for ch in value):
        return False
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        return False
    return parts.scheme in ("https", "http") and names_just_a_host(parts)


def check_all(uris: list[str]) -> None:
    """Raise ``invalid_redirect_uri`` naming the first URI that cannot be registered."""
    for uri in uris:
        reason = problem(uri)
        if reason:
            raise OAuthError("invalid_redirect_uri", f"redirect URI {uri[:200]!r} {reason}.")


def matches(requested: str, registered: list[str]) -> bool:
    """Exact match, except that a loopback http URI's port may differ (RFC 8252 §7.3)."""
    if requested in registered:
        return True
    try:
        asked = urlsplit(requested)
        asked.port  # noqa: B018
    except ValueError:
        return False
    if (
        asked.scheme != "http"
        or not is_loopback_host(asked.hostname)
        or not names_just_a_host(asked)
        or "#" in requested
        or "@" in asked.netloc
    ):
        return False
    for uri in registered:
        known = urlsplit(uri)
        if (
            known.scheme == "http"
            and known.hostname == asked.hostname
            and known.path == asked.path
            and known.query == asked.query
        ):
            return True
    return False


def shown_host(uri: str) -> str:
    """Where a redirect URI sends the person, as pages show it: the host and port only (never a user
    name, which could read as a trusted host), else the app's scheme."""
    parts = urlsplit(uri)
    if not parts.hostname:
        return f"{parts.scheme}:"
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return f"{host}:{parts.port}" if parts.port is not None else host
