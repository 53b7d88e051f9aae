"""/api/v1/remote-servers: remote MCP servers (discover, add, change, remove, list their tools again), and
Switchboard's own client ID metadata document, which their authorization servers may fetch.

Builders manage remote servers; allowing private addresses is for owners and admins (the service checks).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import msgspec
from litestar import Controller, Response, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromPath, JSONBody

from switchboard.connectors.deps import ConnectorServices
from switchboard.connectors.remote.discovery import DiscoveryResult
from switchboard.connectors.remote.models import (
    DiscoverInput,
    RemoteServer,
    RemoteServerInput,
    RemoteServerPatch,
)
from switchboard.identity.auth.guards import requires_builder
from switchboard.identity.principal import Principal
from switchboard.platform.core.settings import Settings


class RefreshInput(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Whose credentials list the tools: a connection's (yours, for an end user's connection), or none."""

    connection_id: UUID | None = None


class RemoteServerController(Controller):
    path = "/api/v1/remote-servers"
    tags = ["Remote MCP servers"]
    guards = [requires_builder]

    @get(summary="List remote MCP servers")
    async def list_remote_servers(self, connectors: NamedDependency[ConnectorServices]) -> list[RemoteServer]:
        return await connectors.remote.list()

    @post("/discover", status_code=200, summary="Find out how a remote MCP server is protected")
    async def discover(
        self,
        data: JSONBody[DiscoverInput],
        connectors: NamedDependency[ConnectorServices],
        principal: NamedDependency[Principal],
    ) -> DiscoveryResult:
        return await connectors.remote.discover(
            data.endpoint, allow_private=data.allow_private, actor=principal
        )

    @post(summary="Add a remote MCP server; missing settings are filled in from discovery")
    async def create_remote_server(
        self,
        data: JSONBody[RemoteServerInput],
        connectors: NamedDependency[ConnectorServices],
        principal: NamedDependency[Principal],
    ) -> RemoteServer:
        return await connectors.remote.create(data, actor=principal)

    @get("/{key:str}", summary="A remote MCP server, its auth settings, last discovery and tools")
    async def get_remote_server(
        self, key: FromPath[str], connectors: NamedDependency[ConnectorServices]
    ) -> RemoteServer:
        return await connectors.remote.get(key)

    @patch("/{key:str}", summary="Change a remote MCP server; discovery runs again")
    async def update_remote_server(
        self,
        key: FromPath[str],
        data: JSONBody[RemoteServerPatch],
        connectors: NamedDependency[ConnectorServices],
        principal: NamedDependency[Principal],
    ) -> RemoteServer:
        return await connectors.remote_connections.update(key, data, actor=principal)

    @delete("/{key:str}", summary="Remove a remote MCP server that no connection uses")
    async def delete_remote_server(
        self,
        key: FromPath[str],
        connectors: NamedDependency[ConnectorServices],
        principal: NamedDependency[Principal],
    ) -> None:
        await connectors.remote.delete(key, actor=principal)

    @post("/{key:str}/refresh", status_code=200, summary="List the remote server's tools again")
    async def refresh_tools(
        self,
        key: FromPath[str],
        data: JSONBody[RefreshInput],
        connectors: NamedDependency[ConnectorServices],
        principal: NamedDependency[Principal],
    ) -> RemoteServer:
        return await connectors.remote_connections.refresh_tools(
            key, principal, connection_id=data.connection_id
        )


@get("/oauth/client-metadata.json", include_in_schema=False, sync_to_thread=False)
def client_metadata_document(
    connectors: NamedDependency[ConnectorServices], settings: NamedDependency[Settings]
) -> Response[dict[str, Any]]:
    """Switchboard as an OAuth client of remote MCP servers (draft-ietf-oauth-client-id-metadata-document):
    the document's URL is its client ID, so it must be served from an https base URL to be used."""
    profile = connectors.remote.registrar.profile
    base_url = settings.base_url
    document = {
        "client_id": base_url + "/oauth/client-metadata.json",
        "client_name": profile.name,
        "client_uri": base_url,
        "redirect_uris": [profile.redirect_uri],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "token_endpoint_auth_method": "none",
    }
    return Response(document, headers={"Cache-Control": "public, max-age=3600"})


API_CONTROLLERS: list[type[Controller] | HTTPRouteHandler] = [
    RemoteServerController,
    client_metadata_document,
]
