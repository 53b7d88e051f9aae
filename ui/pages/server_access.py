"""Console → MCP servers → a server's End user access tab: its access method, and the end-user groups
whose members may use it (admins change them; a removed group's members are refused from their next
request on)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Template

from switchboard.identity.auth.guards import requires_admin, requires_builder
from switchboard.identity.principal import Principal
from switchboard.identity.services.groups import GroupService
from switchboard.platform.core.errors import DomainError, InvalidInput
from switchboard.platform.mcp.deps import McpServices
from switchboard.platform.mcp.models import AccessMethod, ServerUpdate
from switchboard.ui.forms import form_fields
from switchboard.ui.pages.servers import LIST_PATH, access_method_of, server_path, server_tab, uuid_of
from switchboard.ui.rendering import redirect


class ServerAccessPages(Controller):
    path = LIST_PATH
    include_in_schema = False
    guards = [requires_builder]

    @get("/{server_id:uuid}/access")
    async def access(
        self,
        request: Request[Any, Any, Any],
        server_id: FromPath[UUID],
        mcp: NamedDependency[McpServices],
        groups: NamedDependency[GroupService],
    ) -> Template:
        return await self._access(request, mcp, groups, server_id)

    @post("/{server_id:uuid}/access", guards=[requires_admin])
    async def change_access_method(
        self,
        request: Request[Any, Any, Any],
        server_id: FromPath[UUID],
        mcp: NamedDependency[McpServices],
        groups: NamedDependency[GroupService],
        principal: NamedDependency[Principal],
    ) -> Response[Any]:
        values = await form_fields(request, "access_method")
        try:
            method = access_method_of(values["access_method"])
            await mcp.servers.update(server_id, ServerUpdate(access_method=method), actor=principal)
        except DomainError as exc:
            return await self._access(
                request, mcp, groups, server_id, errors={"access_method": exc.message}, status_code=exc.status
            )
        return redirect(request, server_path(server_id, "access"), f"Access method set to {method.label}.")

    @post("/{server_id:uuid}/groups", guards=[requires_admin])
    async def add_groups(
        self,
        request: Request[Any, Any, Any],
        server_id: FromPath[UUID],
        mcp: NamedDependency[McpServices],
        groups: NamedDependency[GroupService],
        principal: NamedDependency[Principal],
    ) -> Response[Any]:
        form = await request.form()
        try:
            chosen = [uuid_of(value, "group_ids") for value in form.getall("group_ids", [])]
            if not chosen:
                raise InvalidInput("Choose at least one user group.", field="group_ids")
            before = {group.id for group in (await mcp.servers.get(server_id)).groups}
            server = await mcp.groups.add(server_id, chosen, actor=principal)
        except DomainError as exc:
            return await self._access(
                request, mcp, groups, server_id, errors={"group_ids": exc.message}, status_code=exc.status
            )
        added = [group.name for group in server.groups if group.id not in before]
        notice = (
            f"{_listed(added)} may now use {server.name}." if added else "Those groups had access already."
        )
        return redirect(request, server_path(server_id, "access"), notice)

    @post("/{server_id:uuid}/groups/{group_id:uuid}/remove", guards=[requires_admin])
    async def remove_group(
        self,
        request: Request[Any, Any, Any],
        server_id: FromPath[UUID],
        group_id: FromPath[UUID],
        mcp: NamedDependency[McpServices],
        principal: NamedDependency[Principal],
    ) -> Response[Any]:
        server = await mcp.servers.get(server_id)
        name = next((group.name for group in server.groups if group.id == group_id), "The group")
        await mcp.groups.remove(server_id, group_id, actor=principal)
        return redirect(request, server_path(server_id, "access"), f"{name} can no longer use {server.name}.")

    async def _access(
        self,
        request: Request[Any, Any, Any],
        mcp: McpServices,
        groups: GroupService,
        server_id: UUID,
        *,
        errors: dict[str, str] | None = None,
        status_code: int = 200,
    ) -> Template:
        server = await mcp.servers.get(server_id)
        assigned = {group.id for group in server.groups}
        everyone = await groups.list_all()
        return server_tab(
            request,
            "console/server_access.html",
            server,
            "access",
            status_code=status_code,
            methods=list(AccessMethod),
            members={group.id: len(group.members) for group in everyone},
            candidates=[group for group in everyone if group.id not in assigned],
            errors=errors or {},
        )


def _listed(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
