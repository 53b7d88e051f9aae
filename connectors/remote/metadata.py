"""The documents a protected MCP server and its authorization server publish, and the 401 challenge.

RFC 9728 (protected resource metadata), RFC 8414 and OpenID Connect Discovery 1.0 (authorization server
metadata), RFC 6750 §3 (``WWW-Authenticate: Bearer``), and the MCP authorization specification's rules
for where to look for each and how to check what is found.
"""

from __future__ import annotations

import re
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import msgspec

T = TypeVar("T")

PRM_WELL_KNOWN = "/.well-known/oauth-protected-resource"
OAUTH_WELL_KNOWN = "/.well-known/oauth-authorization-server"
OIDC_WELL_KNOWN = "/.well-known/openid-configuration"

# auth-param = token BWS "=" BWS ( token / quoted-string ), RFC 9110 §11.2
_PARAM = re.compile(r'\s*([!#$%&\'*+.^_`|~0-9A-Za-z-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^\s,]*)\s*,?')


class Challenge(msgspec.Struct, frozen=True):
    """The parameters of a ``Bearer`` challenge (names lower-cased)."""

    params: dict[str, str]

    @property
    def resource_metadata(self) -> str:
        return self.params.get("resource_metadata", "")

    @property
    def scopes(self) -> tuple[str, ...]:
        return tuple(self.params.get("scope", "").split())

    @property
    def error(self) -> str:
        return self.params.get("error", "")


def bearer_challenge(header: str | None) -> Challenge | None:
    """The Bearer challenge in a ``WWW-Authenticate`` value, if there is one."""
    if not header:
        return None
    match = re.search(r"(?:^|,)\s*Bearer(?:\s+|$)", header, re.IGNORECASE)
    if match is None:
        return None
    params: dict[str, str] = {}
    position = match.end()
    while position < len(header):
        found = _PARAM.match(header, position)
        if found is None:  # the next challenge's scheme, or something unreadable: stop here
            break
        name, value = found.group(1).lower(), found.group(2)
        if value.startswith('"'):
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        params.setdefault(name, value)
        position = found.end()
    return Challenge(params)


class ProtectedResource(msgspec.Struct, frozen=True, kw_only=True):
    resource: str = ""
    authorization_servers: tuple[str, ...] = ()
    scopes_supported: tuple[str, ...] = ()


class AuthorizationServer(msgspec.Struct, frozen=True, kw_only=True):
    """RFC 8414 metadata; absent lists take the RFC's defaults."""

    issuer: str
    authorization_endpoint: str = ""
    token_endpoint: str = ""
    registration_endpoint: str = ""
    revocation_endpoint: str = ""
    scopes_supported: tuple[str, ...] = ()
    response_types_supported: tuple[str, ...] = ()
    grant_types_supported: tuple[str, ...] = ("authorization_code", "implicit")
    code_challenge_methods_supported: tuple[str, ...] = ()
    token_endpoint_auth_methods_supported: tuple[str, ...] = ("client_secret_basic",)
    client_id_metadata_document_supported: bool = False
    authorization_response_iss_parameter_supported: bool = False

    @property
    def supports_s256(self) -> bool:
        return "S256" in self.code_challenge_methods_supported


def read_document(data: Any, kind: type[T]) -> T | None:
    """``data`` as ``kind``, ignoring unknown members and null ones; None when it has the wrong shape."""
    if not isinstance(data, dict):
        return None
    try:
        return msgspec.convert({k: v for k, v in data.items() if v is not None}, kind, strict=False)
    except msgspec.ValidationError:
        return None


def protected_resource_urls(endpoint: str) -> list[str]:
    """Where an MCP server's metadata may be, in the order to try: path-based (RFC 9728 §3.1), then root."""
    parts = urlsplit(endpoint)
    root = urlunsplit((parts.scheme, parts.netloc, PRM_WELL_KNOWN, "", ""))
    path = parts.path.rstrip("/")
    if not path:
        return [root]
    return [urlunsplit((parts.scheme, parts.netloc, PRM_WELL_KNOWN + path, "", "")), root]


def authorization_server_urls(issuer: str) -> list[str]:
    """RFC 8414 §3.1 with path insertion, then both OpenID Connect forms (the MCP specification's order)."""
    parts = urlsplit(issuer)
    path = parts.path.rstrip("/")

    def at(well_known_path: str) -> str:
        return urlunsplit((parts.scheme, parts.netloc, well_known_path, "", ""))

    if not path:
        return [at(OAUTH_WELL_KNOWN), at(OIDC_WELL_KNOWN)]
    return [at(OAUTH_WELL_KNOWN + path), at(OIDC_WELL_KNOWN + path), at(path + OIDC_WELL_KNOWN)]


def same_issuer(advertised: str, expected: str) -> bool:
    """RFC 8414 §3.3: identical; a lone trailing slash on an empty path is the same URL (RFC 3986 §6.2.3)."""
    if advertised == expected:
        return True
    try:
        a, e = urlsplit(advertised), urlsplit(expected)
    except ValueError:  # not even a URL
        return False
    return (a.scheme, a.netloc.lower(), a.path or "/", a.query) == (
        e.scheme,
        e.netloc.lower(),
        e.path or "/",
        e.query,
    )


def resource_covers(resource: str, endpoint: str) -> bool:
    """Whether metadata naming ``resource`` may speak for ``endpoint``: same origin, and the resource's
    path is the endpoint's path or one of its parent paths (a server's metadata at its root names the root).
    """
    try:
        r, e = urlsplit(resource), urlsplit(endpoint)
    except ValueError:  # not even a URL
        return False
    if (r.scheme.lower(), r.netloc.lower()) != (e.scheme.lower(), e.netloc.lower()) or r.query or r.fragment:
        return False
    resource_path, endpoint_path = r.path.rstrip("/"), e.path.rstrip("/")
    return endpoint_path == resource_path or endpoint_path.startswith(resource_path + "/")


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "", "", ""))
