"""Switchboard's MCP servers as the protected resources the authorization server issues tokens for.

The identity layer asks two things at authorization time: what ``resource=<url>`` names (RFC 8707), and
whether the signed-in user may use it; a user outside the server's groups is refused before consent.
"""

from __future__ import annotations

from uuid import UUID

from switchboard.identity.oauth.resources import ProtectedResource
from switchboard.platform.core.errors import NotFound
from switchboard.platform.mcp.access import ServerLookup, no_access_message, offered_scopes, server_url
from switchboard.platform.mcp.models import AccessMethod, McpServer


class McpResources:
    """The ``ResourceDirectory`` over MCP servers that take the Identity access method."""

    def __init__(self, *, base_url: str, servers: ServerLookup) -> None:
        self._base_url = base_url
        self._servers = servers
        self._prefix = f"{base_url}/mcp/"

    async def find(self, url: str) -> ProtectedResource | None:
        server = await self._server(url)
        if server is None:
            return None
        tools = [tool for tool in await self._servers.tools(server.id) if tool.published_version is not None]
        remote = await self._servers.remote_tools(server.id)
        return ProtectedResource(
            url=server_url(self._base_url, server.slug),
            name=server.name,
            scopes=offered_scopes([*tools, *remote]),
        )

    async def access_problem(self, resource: ProtectedResource, user_id: UUID) -> str | None:
        server = await self._server(resource.url)
        if server is None:
            return "This MCP server no longer exists."
        if await self._servers.may_use(server.id, user_id):
            return None
        return no_access_message(server)

    async def _server(self, url: str) -> McpServer | None:
        if not url.startswith(self._prefix):
            return None
        slug = url[len(self._prefix) :]
        try:
            server = await self._servers.get_by_slug(slug)
        except NotFound:
            return None
        if (
            server.access_method is not AccessMethod.IDENTITY
            or server_url(self._base_url, server.slug) != url
        ):
            return None
        return server
