"""What each MCP client said of itself when it last called a server, per client, person and server: the
protocol version it speaks, whether it declared URL-mode elicitation, its name and version, and when.

Handshake-era clients (2025-06-18, 2025-11-25) say it once, in ``initialize`` (``protocolVersion``,
``capabilities``, ``clientInfo``); from 2026-07-28 every request is on its own and says it in its
``_meta`` (``io.modelcontextprotocol/protocolVersion``, ``…/clientCapabilities``, ``…/clientInfo``).
A handshake-era request after ``initialize`` says nothing new and only counts as a use.

Tool calls are on the measured hot path, so a request does not write each time: each process remembers
what it last wrote for a (server, client, person), and writes again only when the client says something
else or that write is older than ``REWRITE_SECONDS`` (the last use is then true to the minute). Callers
of a Token server are recorded under their API token (client id ``token:<name>``), with no person.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import msgspec
from mcp_types import CLIENT_CAPABILITIES_META_KEY, CLIENT_INFO_META_KEY, PROTOCOL_VERSION_META_KEY

from switchboard.platform.mcp.access import McpCaller
from switchboard.platform.mcp.tables import ClientSighting

REWRITE_SECONDS = 60.0
_REMEMBERED = 10_000

log = logging.getLogger("switchboard.mcp")


class ClientFacts(msgspec.Struct, frozen=True):
    """What a request said of its client (``url_elicitation`` None: nothing about its capabilities)."""

    protocol_version: str
    url_elicitation: bool | None = None
    client_name: str = ""
    client_version: str = ""


def facts_of(message: Mapping[str, Any]) -> ClientFacts | None:
    """What an ``initialize`` or a 2026-07-28 request says of its client; None for any other request."""
    params = message.get("params")
    if not isinstance(params, Mapping):
        return None
    if message.get("method") == "initialize":
        version, capabilities, info = (
            params.get("protocolVersion"),
            params.get("capabilities"),
            params.get("clientInfo"),
        )
    else:
        meta = params.get("_meta")
        if not isinstance(meta, Mapping) or PROTOCOL_VERSION_META_KEY not in meta:
            return None
        version, capabilities, info = (
            meta.get(PROTOCOL_VERSION_META_KEY),
            meta.get(CLIENT_CAPABILITIES_META_KEY),
            meta.get(CLIENT_INFO_META_KEY),
        )
    elicitation = capabilities.get("elicitation") if isinstance(capabilities, Mapping) else None
    info = info if isinstance(info, Mapping) else {}
    return ClientFacts(
        protocol_version=_text(version, 32),
        url_elicitation=isinstance(elicitation, Mapping) and isinstance(elicitation.get("url"), Mapping),
        client_name=_text(info.get("name"), 200),
        client_version=_text(info.get("version"), 100),
    )


class ClientSightings:
    """Records the facts; ``clock`` is monotonic seconds (tests pass their own)."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._written: dict[tuple[UUID, str, UUID | None], tuple[ClientFacts | None, float]] = {}

    async def seen(self, caller: McpCaller, message: Mapping[str, Any] | None, header_version: str) -> None:
        """Note a verified request (``header_version``: its ``MCP-Protocol-Version`` header). A failure to
        write is logged, never the request's."""
        if message is None:
            return
        facts = facts_of(message)
        key = (caller.server.id, caller.client_id, caller.user_id)
        now = self._clock()
        written = self._written.get(key)
        if written is not None and now - written[1] < REWRITE_SECONDS and facts in (None, written[0]):
            return
        try:
            await _write(caller, facts, header_version)
        except Exception:
            log.warning(
                "could not record the client of a request to /mcp/%s", caller.server.slug, exc_info=True
            )
            return
        if len(self._written) >= _REMEMBERED:
            self._written.clear()
        self._written[key] = (facts or (written[0] if written is not None else None), now)


async def _write(caller: McpCaller, facts: ClientFacts | None, header_version: str) -> None:
    row = ClientSighting(
        id=uuid4(),
        server=caller.server.id,
        client_id=caller.client_id[:600],
        user=caller.user_id,
        person_key="" if caller.user_id is None else str(caller.user_id),
        user_email=caller.email,
        service_account=caller.service_account,
        last_seen_at=datetime.now(UTC),
    )
    said = facts or ClientFacts(protocol_version=_text(header_version, 32))
    for field in msgspec.structs.fields(said):
        setattr(row, field.name, getattr(said, field.name))
    kept = [ClientSighting.last_seen_at, ClientSighting.user_email]
    if facts is not None:
        kept += [
            ClientSighting.protocol_version,
            ClientSighting.url_elicitation,
            ClientSighting.client_name,
            ClientSighting.client_version,
        ]
    await ClientSighting.insert(row).on_conflict(
        target=(ClientSighting.server, ClientSighting.client_id, ClientSighting.person_key),
        action="DO UPDATE",
        values=kept,
    )


def _text(value: object, limit: int) -> str:
    """What a client sent, as printable text of at most ``limit`` characters ("" when not text)."""
    if not isinstance(value, str):
        return ""
    return "".join(character for character in value if character.isprintable())[:limit]
