"""The MCP services a running app shares, wired."""

from __future__ import annotations

import msgspec

from switchboard.identity.audit import AuditLog
from switchboard.identity.services.groups import GroupService
from switchboard.identity.services.standing import StandingService
from switchboard.platform.mcp.audit import ToolCallLog
from switchboard.platform.mcp.server_groups import ServerGroups
from switchboard.platform.mcp.server_limits import ServerLimits
from switchboard.platform.mcp.server_tokens import ServerTokens
from switchboard.platform.mcp.server_tools import ServerTools
from switchboard.platform.mcp.servers import ServerRecords, ServerService, ServingCache


class McpServices(msgspec.Struct, frozen=True):
    """Servers, who may use them (``groups``), their ``tools``, API ``tokens`` and clients' own rate
    ``limits``, and the audit log of tool calls. ``servers`` is also what the MCP endpoint reads
    (``ServerLookup``); all of them share one serving cache, which any change made through them clears."""

    servers: ServerService
    groups: ServerGroups
    tools: ServerTools
    tokens: ServerTokens
    limits: ServerLimits
    calls: ToolCallLog

    @classmethod
    def create(cls, audit: AuditLog | None = None) -> McpServices:
        """The MCP services, recording their changes through ``audit``: an app passes its identity
        services' one (``Services.build``); a command given none records through a log of its own."""
        audit = audit or AuditLog()
        records, cache = ServerRecords(), ServingCache()
        groups = ServerGroups(
            records=records,
            cache=cache,
            groups=GroupService(audit),
            standing=StandingService(),
            audit=audit,
        )
        tools = ServerTools(records=records, cache=cache, audit=audit)
        tokens = ServerTokens(records=records, audit=audit)
        servers = ServerService(
            records=records, cache=cache, groups=groups, tools=tools, tokens=tokens, audit=audit
        )
        limits = ServerLimits(records=records, cache=cache, audit=audit)
        return cls(
            servers=servers, groups=groups, tools=tools, tokens=tokens, limits=limits, calls=ToolCallLog()
        )
