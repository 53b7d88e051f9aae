"""The MCP services a running app shares, and their dependency provider."""

from __future__ import annotations

import msgspec
from litestar.di import Provide

from switchboard.platform.mcp.audit import ToolCallLog
from switchboard.platform.mcp.service import ServerService


class McpServices(msgspec.Struct, frozen=True):
    servers: ServerService
    calls: ToolCallLog

    @classmethod
    def create(cls) -> McpServices:
        return cls(servers=ServerService(), calls=ToolCallLog())

    def dependencies(self) -> dict[str, Provide]:
        return {"mcp": Provide(lambda: self, sync_to_thread=False)}
