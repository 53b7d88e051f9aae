"""MCP hosting as the app assembles it: the endpoint with its access gate, rate limits, refusal records and
tool runner."""

from __future__ import annotations

from switchboard.connectors.deps import ConnectorServices
from switchboard.identity.deps import IdentityServices
from switchboard.identity.oauth.server_metadata import server_metadata
from switchboard.platform.core.ratelimit import BufferedCounts
from switchboard.platform.core.settings import Settings
from switchboard.platform.mcp.access import AccessGate, ServerLookup
from switchboard.platform.mcp.audit import ToolCallLog
from switchboard.platform.mcp.client_names import ClientNames
from switchboard.platform.mcp.endpoint import McpEndpoint
from switchboard.platform.mcp.rate_limits import RequestLimits
from switchboard.platform.mcp.refusals import RefusalLog
from switchboard.platform.mcp.sessions import SessionIds
from switchboard.platform.mcp.tools import ToolRunner
from switchboard.recipes.deps import RecipeServices


def mcp_endpoint(
    settings: Settings,
    *,
    servers: ServerLookup,
    identity: IdentityServices,
    recipes: RecipeServices,
    calls: ToolCallLog,
    connectors: ConnectorServices | None = None,
    request_counts: BufferedCounts | None = None,
) -> McpEndpoint:
    """``request_counts`` counts the requests against rate limits (written out while it runs; without it,
    each request is counted in the database at once)."""
    grants = server_metadata(settings.base_url)["grant_types_supported"]
    gate = AccessGate(
        base_url=settings.base_url,
        servers=servers,
        verifier=identity.oauth.verifier,
        refresh_tokens="refresh_token" in grants,
    )
    names = ClientNames(identity.oauth.clients)
    tools = ToolRunner(servers=servers, recipes=recipes, calls=calls, connectors=connectors, names=names)
    return McpEndpoint(
        base_url=settings.base_url,
        servers=servers,
        gate=gate,
        tools=tools,
        sessions=SessionIds(settings.secret_key),
        limits=RequestLimits(request_counts),
        refusals=RefusalLog(audit=identity.oauth.audit, names=names),
    )
