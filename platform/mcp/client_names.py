"""The name of the client a caller came through, for the records people read (the tool-call log, the
audit trail): an OAuth client's name as the registry has it, or the name of a Token server's API token.

Names are read when a record is written and kept in it, so that a record still says which client it was
after the client is renamed or deleted. Each process keeps a name it read for ``KEPT_SECONDS``, so that
a busy client's calls do not each read the registry. A registered name is what its client chose (dynamic
registration lets anyone name a client "Claude"): the records keep the client's id beside it.
"""

from __future__ import annotations

import time
from typing import Protocol

from switchboard.platform.mcp.models import AccessMethod, McpServer

KEPT_SECONDS = 60.0
_KEPT_NAMES = 1000

API_TOKEN_CLIENT = "token:"  # noqa: S105 (a prefix, not a secret)
"""What a Token server's caller's client id starts with, followed by the API token's name."""


class NamedClient(Protocol):
    @property
    def name(self) -> str: ...


class ClientRegistry(Protocol):
    """What the records read of the OAuth client registry (``ClientService`` provides it)."""

    async def find(self, client_id: str) -> NamedClient | None: ...


class ClientNames:
    def __init__(self, registry: ClientRegistry | None = None) -> None:
        self._registry = registry
        self._kept: dict[str, tuple[float, str]] = {}

    async def name_of(self, server: McpServer, client_id: str) -> str:
        """The client's name now, or "" when there is none (no client id, a deleted client)."""
        if not client_id:
            return ""
        if server.access_method is AccessMethod.TOKEN and client_id.startswith(API_TOKEN_CLIENT):
            return f"API token {client_id.removeprefix(API_TOKEN_CLIENT)}"
        if self._registry is None:
            return ""
        now = time.monotonic()
        kept = self._kept.get(client_id)
        if kept is not None and kept[0] > now:
            return kept[1]
        client = await self._registry.find(client_id)
        name = client.name if client is not None else ""
        if len(self._kept) >= _KEPT_NAMES:
            self._kept.clear()
        self._kept[client_id] = (now + KEPT_SECONDS, name)
        return name
