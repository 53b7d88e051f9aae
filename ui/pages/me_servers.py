"""My servers: the MCP servers the signed-in person may use, with their URL and client set-up."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, get
from litestar.di import NamedDependency
from litestar.response import Template

from switchboard.identity.auth.guards import requires_sign_in
from switchboard.identity.principal import Principal
from switchboard.platform.core.settings import Settings
from switchboard.platform.mcp.access import server_url
from switchboard.platform.mcp.deps import McpServices
from switchboard.ui.pages.server_snippets import client_snippets
from switchboard.ui.rendering import page


class MyServerPages(Controller):
    path = "/me/servers"
    include_in_schema = False
    guards = [requires_sign_in]

    @get()
    async def list_servers(
        self,
        request: Request[Any, Any, Any],
        mcp: NamedDependency[McpServices],
        settings: NamedDependency[Settings],
        principal: NamedDependency[Principal],
    ) -> Template:
        servers = []
        for server in await mcp.servers.usable_by(principal.user_id):
            url = server_url(settings.base_url, server.slug)
            # Each server's fields get their own ids: several servers share one page.
            snippets = [
                msgspec.structs.replace(snippet, id=f"{server.slug}-{snippet.id}")
                for snippet in client_snippets(server, url)
            ]
            servers.append((server, url, snippets))
        return page(request, "me/servers.html", title="My servers", servers=servers)
