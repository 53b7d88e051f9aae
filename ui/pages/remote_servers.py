"""Console → Remote MCP servers: discover how a server is protected, add it (settings filled in from
discovery), see its auth and tools, change its settings, list the tools again, remove it.

Builders do all of it; allowing private addresses is for owners and admins.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Template

from switchboard.connectors.deps import ConnectorServices
from switchboard.connectors.remote.discovery import AuthMode, DiscoveryResult
from switchboard.connectors.remote.models import RemoteServer, RemoteServerInput, RemoteServerPatch
from switchboard.identity.auth.guards import requires_builder
from switchboard.identity.principal import Principal
from switchboard.platform.core.errors import DomainError, InvalidInput
from switchboard.ui.forms import form_fields
from switchboard.ui.rendering import page, redirect

LIST_PATH = "/console/remote-servers"
_FIELDS = (
    "endpoint", "key", "name", "mode", "token", "header", "client_id", "client_secret", "scopes",
    "allow_private",
)  # fmt: skip
_PLAIN_FIELDS = {"auth.token": "token", "auth.header": "header", "auth.client_id": "client_id"}


def _errors(exc: DomainError) -> dict[str, str]:
    """Where the message goes: the field at fault, else the top of the form."""
    name = _PLAIN_FIELDS.get(exc.field or "", exc.field or "")
    return {name if name in _FIELDS else "form": exc.message}


def _input(values: dict[str, str]) -> RemoteServerInput:
    """The form as the API body; msgspec checks each field as the API would."""
    scopes = values["scopes"].replace(",", " ").split()
    try:
        return msgspec.convert(
            {
                "key": values["key"],
                "name": values["name"],
                "endpoint": values["endpoint"],
                "allow_private": values["allow_private"] == "1",
                "auth": {
                    "mode": values["mode"] or None,
                    "token": values["token"],
                    "header": values["header"],
                    "client_id": values["client_id"],
                    "client_secret": values["client_secret"],
                    "scopes": scopes or None,
                },
            },
            RemoteServerInput,
        )
    except msgspec.ValidationError as exc:
        path = str(exc).rpartition("`$.")[2].rstrip("`")
        field = _PLAIN_FIELDS.get(path, path.removeprefix("auth.")) if path else "form"
        labels = {"key": "Use lower-case letters, digits, - and _ for the key (start with a letter)."}
        raise InvalidInput(labels.get(field, f"Check this value ({exc})."), field=field) from None


def _patch(values: dict[str, str], principal: Principal) -> RemoteServerPatch:
    """The edit form as an API patch: blank secrets keep theirs; only admins change private addresses."""
    data = _input({**values, "key": "unchanged"})
    return RemoteServerPatch(
        name=data.name,
        endpoint=data.endpoint,
        auth=data.auth,
        allow_private=data.allow_private if principal.is_admin else None,
    )


def _values(server: RemoteServer) -> dict[str, str]:
    """The edit form filled in with the server's settings (secrets are never shown)."""
    auth = server.auth
    return {
        "name": server.name,
        "endpoint": server.endpoint,
        "mode": auth.mode.value,
        "header": auth.header,
        "client_id": auth.client_id if auth.registered == "given" else "",
        "scopes": " ".join(auth.scopes),
        "allow_private": "1" if server.allow_private else "",
    }


class RemoteServerPages(Controller):
    path = LIST_PATH
    include_in_schema = False
    guards = [requires_builder]

    @get()
    async def list_remote_servers(
        self, request: Request[Any, Any, Any], connectors: NamedDependency[ConnectorServices]
    ) -> Template:
        servers = await connectors.remote.list()
        return page(request, "console/remote_servers.html", title="Remote MCP servers", servers=servers)

    @get("/new")
    async def new_remote_server(self, request: Request[Any, Any, Any]) -> Template:
        return self._new(request)

    @post("/discover")
    async def discover(
        self,
        request: Request[Any, Any, Any],
        connectors: NamedDependency[ConnectorServices],
        principal: NamedDependency[Principal],
    ) -> Template:
        values = await form_fields(request, *_FIELDS)
        try:
            result = await connectors.remote.discover(
                values["endpoint"], allow_private=values["allow_private"] == "1", actor=principal
            )
        except DomainError as exc:
            return self._new(request, errors=_errors(exc), values=values, status_code=exc.status)
        return self._new(request, values=values, discovery=result)

    @post()
    async def create_remote_server(
        self,
        request: Request[Any, Any, Any],
        connectors: NamedDependency[ConnectorServices],
        principal: NamedDependency[Principal],
    ) -> Response[Any]:
        values = await form_fields(request, *_FIELDS)
        try:
            server = await connectors.remote.create(_input(values), actor=principal)
        except DomainError as exc:
            return self._new(request, errors=_errors(exc), values=values, status_code=exc.status)
        added = f"Remote server {server.name} added with {_tool_count(server)}."
        notice = " ".join((added, *server.warnings))
        return redirect(request, f"{LIST_PATH}/{server.key}", notice)

    @get("/{key:str}")
    async def remote_server(
        self,
        request: Request[Any, Any, Any],
        key: FromPath[str],
        connectors: NamedDependency[ConnectorServices],
    ) -> Template:
        return await self._server(request, connectors, key)

    @get("/{key:str}/edit")
    async def edit_remote_server(
        self,
        request: Request[Any, Any, Any],
        key: FromPath[str],
        connectors: NamedDependency[ConnectorServices],
    ) -> Template:
        server = await connectors.remote.get(key)
        return self._edit(request, server, values=_values(server))

    @post("/{key:str}/edit")
    async def update_remote_server(
        self,
        request: Request[Any, Any, Any],
        key: FromPath[str],
        connectors: NamedDependency[ConnectorServices],
        principal: NamedDependency[Principal],
    ) -> Response[Any]:
        server = await connectors.remote.get(key)
        values = await form_fields(request, *_FIELDS)
        try:
            changed = await connectors.remote_connections.update(
                key, _patch(values, principal), actor=principal
            )
        except DomainError as exc:
            return self._edit(request, server, values=values, errors=_errors(exc), status_code=exc.status)
        notice = [f"Remote server {changed.name} saved."]
        if changed.auth.client_id != server.auth.client_id and server.auth.client_id:
            notice.append("Its connections now use the new client; everyone connects again on next use.")
        return redirect(request, f"{LIST_PATH}/{key}", " ".join((*notice, *changed.warnings)))

    @post("/{key:str}/refresh")
    async def refresh_tools(
        self,
        request: Request[Any, Any, Any],
        key: FromPath[str],
        connectors: NamedDependency[ConnectorServices],
        principal: NamedDependency[Principal],
    ) -> Response[Any]:
        values = await form_fields(request, "connection_id")
        try:
            server = await connectors.remote_connections.refresh_tools(
                key, principal, connection_id=_uuid(values["connection_id"])
            )
        except DomainError as exc:
            return await self._server(request, connectors, key, error=exc.message, status_code=exc.status)
        notice = " ".join((f"Tools listed again: {_tool_count(server)}.", *server.warnings))
        return redirect(request, f"{LIST_PATH}/{key}", notice)

    @post("/{key:str}/delete")
    async def delete_remote_server(
        self,
        request: Request[Any, Any, Any],
        key: FromPath[str],
        connectors: NamedDependency[ConnectorServices],
        principal: NamedDependency[Principal],
    ) -> Response[Any]:
        try:
            server = await connectors.remote.get(key)
            await connectors.remote.delete(key, actor=principal)
        except DomainError as exc:
            return await self._server(request, connectors, key, error=exc.message, status_code=exc.status)
        return redirect(request, LIST_PATH, f"Remote server {server.name} removed.")

    def _new(
        self,
        request: Request[Any, Any, Any],
        *,
        errors: dict[str, str] | None = None,
        values: dict[str, str] | None = None,
        discovery: DiscoveryResult | None = None,
        status_code: int = 200,
    ) -> Template:
        return page(
            request,
            "console/remote_servers_new.html",
            title="Add a remote MCP server",
            errors=errors or {},
            values=values or {},
            discovery=discovery,
            modes=list(AuthMode),
            status_code=status_code,
        )

    def _edit(
        self,
        request: Request[Any, Any, Any],
        server: RemoteServer,
        *,
        values: dict[str, str],
        errors: dict[str, str] | None = None,
        status_code: int = 200,
    ) -> Template:
        return page(
            request,
            "console/remote_server_edit.html",
            title=f"Edit {server.name}",
            server=server,
            values=values,
            errors=errors or {},
            modes=list(AuthMode),
            status_code=status_code,
        )

    async def _server(
        self,
        request: Request[Any, Any, Any],
        connectors: ConnectorServices,
        key: str,
        *,
        error: str = "",
        status_code: int = 200,
    ) -> Template:
        server: RemoteServer = await connectors.remote.get(key)
        connections = [c for c in await connectors.connections.list_all() if c.connector == key]
        return page(
            request,
            "console/remote_server.html",
            title=server.name,
            server=server,
            connections=connections,
            error=error,
            status_code=status_code,
        )


def _tool_count(server: RemoteServer) -> str:
    return f"{len(server.tools)} tool{'s' if len(server.tools) != 1 else ''}"


def _uuid(text: str) -> UUID | None:
    if not text:
        return None
    try:
        return UUID(text)
    except ValueError:
        raise InvalidInput("Choose a connection.", field="connection_id") from None
