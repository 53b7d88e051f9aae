"""Request parameters as the endpoints read them: none may be sent twice (RFC 6749 §3.1, §3.2), and
``RequestContext`` is what the client endpoints (token, revocation, introspection) know of a request."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import msgspec

from switchboard.identity.oauth.errors import invalid_request


class RequestContext(msgspec.Struct, frozen=True):
    """What the token endpoints know of the HTTP request."""

    form: Mapping[str, Sequence[str]]
    headers: Mapping[str, str]
    ip_address: str = ""


def single(params: Mapping[str, Sequence[str]], name: str) -> str | None:
    """A parameter that may appear at most once (RFC 6749 §3.1)."""
    values = params.get(name) or []
    if len(values) > 1:
        raise invalid_request(f"The {name} parameter was sent more than once.")
    return values[0] if values else None
