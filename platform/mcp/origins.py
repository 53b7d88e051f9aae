"""Which browser pages may call an MCP server: the Origin check against DNS rebinding (MCP streamable
HTTP, Security Warning: servers must validate the ``Origin`` header of every request).

A browser sends an origin (RFC 6454 §6.2) as ``scheme://host`` with ``:port`` unless it is the scheme's
default, or ``null``; clients outside a browser send none. It is parsed strictly into scheme, host and
port, and those are compared: it may be Switchboard's own (the base URL's scheme, host and port), or a
page served from this computer's loopback address (``localhost``, ``127.0.0.1``, ``[::1]``, on any port)
for local tools such as the MCP Inspector. Anything a browser would not send — a user name, a path, a
trailing dot, an empty or non-numeric port, ``null`` — is refused, so that neither
``http://127.0.0.1:8000.evil.example`` nor ``http://[::1].evil.example`` reads as loopback.
"""

from __future__ import annotations

import re
from typing import NamedTuple
from urllib.parse import urlsplit

LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "[::1]"})
_DEFAULT_PORTS = {"http": 80, "https": 443}
# scheme "://" host [ ":" port ], the host a name, an IPv4 address or a bracketed IPv6 address.
_ORIGIN = re.compile(
    r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://"
    r"(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*)"
    r"(?::(?P<port>[0-9]{1,5}))?"
)


class Origin(NamedTuple):
    scheme: str
    host: str  # lower case; an IPv6 address in brackets
    port: int


def parse_origin(value: str) -> Origin | None:
    """The origin ``value`` spells (scheme and host in lower case, the scheme's default port filled in),
    or None when it is not one an http(s) page could have."""
    match = _ORIGIN.fullmatch(value)
    if match is None:
        return None
    scheme = match["scheme"].lower()
    default = _DEFAULT_PORTS.get(scheme)
    port = int(match["port"]) if match["port"] is not None else default
    if default is None or port is None or not 0 < port <= 65535:
        return None
    return Origin(scheme, match["host"].lower(), port)


class OriginPolicy:
    """Whether a request's ``Origin`` may call Switchboard's MCP servers."""

    def __init__(self, base_url: str) -> None:
        parts = urlsplit(base_url)
        self._own = parse_origin(f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}")

    def allows(self, origin: str | None) -> bool:
        if origin is None:  # not a browser (a browser sends one with every cross-origin POST)
            return True
        parsed = parse_origin(origin)
        if parsed is None:
            return False
        return parsed == self._own or parsed.host in LOOPBACK_HOSTS
