"""The scope model: ``mcp:tools:<tool>`` per tool, the ``mcp:tools:*`` wildcard, and ``offline_access``.

MCP servers publish a catalogue of the tool scopes they know; this module only knows the shapes and
how a granted set satisfies a required scope, which is what the MCP layer checks on every call.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from switchboard.identity.oauth.errors import invalid_scope

OFFLINE_ACCESS = "offline_access"
TOOLS_WILDCARD = "mcp:tools:*"
TOOL_SCOPE_PREFIX = "mcp:tools:"
# Requests that name no scope get every tool the user may use, and a refresh token.
DEFAULT_SCOPES: tuple[str, ...] = (TOOLS_WILDCARD, OFFLINE_ACCESS)
SUPPORTED_SCOPES: tuple[str, ...] = (TOOLS_WILDCARD, OFFLINE_ACCESS)

_TOOL_NAME = re.compile(r"[a-z][a-z0-9_]{0,63}")
# RFC 6749 §3.3 scope-token characters.
_SCOPE_TOKEN = re.compile(r"[\x21\x23-\x5b\x5d-\x7e]{1,200}")


def tool_scope(tool: str) -> str:
    return TOOL_SCOPE_PREFIX + tool


def parse(scope: str | None) -> tuple[str, ...]:
    """The scopes of a space-separated string, in first-seen order without repeats."""
    seen: dict[str, None] = {}
    for item in (scope or "").split():
        seen.setdefault(item, None)
    return tuple(seen)


def join(scopes: Iterable[str]) -> str:
    return " ".join(dict.fromkeys(scopes))


def is_well_formed(scope: str) -> bool:
    return _SCOPE_TOKEN.fullmatch(scope) is not None


def is_known(scope: str, catalogue: Iterable[str] = ()) -> bool:
    """A scope this server can grant: the built-in ones, any tool scope, or one the resource lists."""
    if scope in SUPPORTED_SCOPES or scope in set(catalogue):
        return True
    return (
        scope.startswith(TOOL_SCOPE_PREFIX)
        and _TOOL_NAME.fullmatch(scope[len(TOOL_SCOPE_PREFIX) :]) is not None
    )


def satisfies(granted: Iterable[str], required: str) -> bool:
    """Whether the granted scopes include ``required``; ``mcp:tools:*`` satisfies any tool scope."""
    granted = set(granted)
    if required in granted:
        return True
    return required.startswith(TOOL_SCOPE_PREFIX) and TOOLS_WILDCARD in granted


def covers(granted: Iterable[str], requested: Iterable[str]) -> bool:
    """Whether every requested scope is already granted (consent is asked again when scopes grow)."""
    granted = tuple(granted)
    return all(satisfies(granted, scope) for scope in requested)


def requested(scope: str | None, *, registered: str, catalogue: Iterable[str] = ()) -> tuple[str, ...]:
    """The scopes a request asks for (RFC 6749 §3.3): those it names, else those the client registered,
    else every tool the user may use and a refresh token. ``invalid_scope`` for a scope this server does
    not offer (``catalogue``: the resource's own), or beyond those the client registered."""
    registered_scopes = parse(registered)
    asked = parse(scope) or registered_scopes or DEFAULT_SCOPES
    catalogue = tuple(catalogue)
    for item in asked:
        if not is_well_formed(item) or not is_known(item, catalogue):
            raise invalid_scope(f"The scope {item[:60]} is not offered by this server.")
    if registered_scopes and not covers(registered_scopes, asked):
        raise invalid_scope("The client asked for scopes beyond those it registered.")
    return asked
