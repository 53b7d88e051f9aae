"""Scope caps: the scopes an admin allows a client at most, whatever it asks for and whoever consents.

A cap holds wherever scopes are granted: the authorization request (the consent page offers only what
the cap allows), the code exchange, the client credentials grant and every refresh, so narrowing a cap
narrows the next token of every grant the client holds, and lifting it gives back no more than was
consented to. RFC 6749 §3.3 lets the server issue fewer scopes than were asked for, saying which in the
answer's ``scope``; a request left with nothing the cap allows is refused with ``invalid_scope``.
``offline_access`` is not capped: whether a client gets refresh tokens is up to its grant types.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from switchboard.identity.oauth import scopes
from switchboard.identity.oauth.errors import invalid_scope
from switchboard.identity.oauth.models import Client
from switchboard.platform.core.errors import InvalidInput

_NOTHING_LEFT = "An administrator limited this client to other scopes than those it asked for."


def capped(requested: Iterable[str], cap: Sequence[str]) -> tuple[str, ...]:
    """The requested scopes ``cap`` allows (all of them when it is empty): each one the cap satisfies,
    and for ``mcp:tools:*`` the cap's own tool scopes."""
    requested = tuple(requested)
    if not cap:
        return requested
    allowed: dict[str, None] = {}
    for scope in requested:
        if scope == scopes.OFFLINE_ACCESS or scopes.satisfies(cap, scope):
            allowed.setdefault(scope, None)
        elif scope == scopes.TOOLS_WILDCARD:
            for item in cap:
                if item.startswith(scopes.TOOL_SCOPE_PREFIX):
                    allowed.setdefault(item, None)
    return tuple(allowed)


def within_cap(client: Client, requested: Sequence[str]) -> tuple[str, ...]:
    """The scopes ``client`` may have of those ``requested``; ``invalid_scope`` when its cap leaves none
    of them (``offline_access`` alone grants nothing to use)."""
    allowed = capped(requested, client.scope_cap)
    asked_for_use = any(scope != scopes.OFFLINE_ACCESS for scope in requested)
    if asked_for_use and all(scope == scopes.OFFLINE_ACCESS for scope in allowed):
        raise invalid_scope(_NOTHING_LEFT)
    return allowed


def clean_cap(items: Iterable[str]) -> tuple[str, ...]:
    """A cap as an admin gives it, in order and without repeats; ``InvalidInput`` for a malformed scope
    or ``offline_access``."""
    cap = scopes.parse(" ".join(items))
    for scope in cap:
        if scope == scopes.OFFLINE_ACCESS:
            raise InvalidInput(
                "offline_access is not capped: refresh tokens follow the client's grant types.",
                field="scope_cap",
            )
        if not scopes.is_well_formed(scope):
            raise InvalidInput(f"{scope[:60]!r} is not a valid scope.", field="scope_cap")
    if len(scopes.join(cap)) > 2000:
        raise InvalidInput("A cap may be at most 2000 characters long.", field="scope_cap")
    return cap
