"""Console → Groups: end-user groups and their members."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Template

from switchboard.identity.auth.guards import requires_admin
from switchboard.identity.principal import Principal
from switchboard.identity.schemas import GroupCreate, GroupUpdate
from switchboard.identity.services.groups import GroupService
from switchboard.identity.services.users import UserService
from switchboard.platform.core.errors import DomainError, NotFound
from switchboard.ui.forms import form_fields
from switchboard.ui.rendering import page, redirect


def _errors(exc: DomainError, default_field: str) -> dict[str, str]:
    return {exc.field or default_field: exc.message}


class GroupPages(Controller):
    path = "/console/groups"
    include_in_schema = False
    guards = [requires_admin]

    @get()
    async def list_groups(
        self, request: Request[Any, Any, Any], groups: NamedDependency[GroupService]
    ) -> Template:
        return await self._list(request, groups)

    @post()
    async def create_group(
        self,
        request: Request[Any, Any, Any],
        groups: NamedDependency[GroupService],
        principal: NamedDependency[Principal],
    ) -> Response[Any]:
        values = await form_fields(request, "name", "description")
        try:
            group = await groups.create(GroupCreate(**values), actor=principal)
        except DomainError as exc:
            return await self._list(
                request, groups, errors=_errors(exc, "name"), values=values, status_code=exc.status
            )
        return redirect(request, f"/console/groups/{group.id}", f"Group {group.name} created.")

    @get("/{group_id:uuid}")
    async def group_detail(
        self,
        request: Request[Any, Any, Any],
        group_id: FromPath[UUID],
        groups: NamedDependency[GroupService],
        users: NamedDependency[UserService],
    ) -> Template:
        return await self._detail(request, groups, users, group_id)

    @post("/{group_id:uuid}")
    async def rename_group(
        self,
        request: Request[Any, Any, Any],
        group_id: FromPath[UUID],
        groups: NamedDependency[GroupService],
        users: NamedDependency[UserService],
        principal: NamedDependency[Principal],
    ) -> Response[Any]:
        values = await form_fields(request, "name", "description")
        try:
            await groups.update(group_id, GroupUpdate(**values), actor=principal)
        except DomainError as exc:
            return await self._detail(
                request,
                groups,
                users,
                group_id,
                errors=_errors(exc, "name"),
                values=values,
                status_code=exc.status,
            )
        return redirect(request, f"/console/groups/{group_id}", "Group saved.")

    @post("/{group_id:uuid}/members")
    async def add_member(
        self,
        request: Request[Any, Any, Any],
        group_id: FromPath[UUID],
        groups: NamedDependency[GroupService],
        users: NamedDependency[UserService],
        principal: NamedDependency[Principal],
    ) -> Response[Any]:
        email = (await form_fields(request, "email"))["email"]
        try:
            await groups.add_member(group_id, email, actor=principal)
        except DomainError as exc:
            return await self._detail(
                request,
                groups,
                users,
                group_id,
                errors=_errors(exc, "email"),
                values={"email": email},
                # The page exists; what was typed names nobody: a form error, not a missing page.
                status_code=422 if isinstance(exc, NotFound) and exc.field == "email" else exc.status,
            )
        return redirect(request, f"/console/groups/{group_id}", f"{email.lower()} added.")

    @post("/{group_id:uuid}/members/remove")
    async def remove_member(
        self,
        request: Request[Any, Any, Any],
        group_id: FromPath[UUID],
        groups: NamedDependency[GroupService],
        users: NamedDependency[UserService],
        principal: NamedDependency[Principal],
    ) -> Response[Any]:
        email = (await form_fields(request, "email"))["email"]
        try:
            await groups.remove_member(group_id, email, actor=principal)
        except DomainError as exc:
            return await self._detail(
                request, groups, users, group_id, errors=_errors(exc, "members"), status_code=exc.status
            )
        return redirect(request, f"/console/groups/{group_id}", f"{email} removed.")

    @post("/{group_id:uuid}/delete")
    async def delete_group(
        self,
        request: Request[Any, Any, Any],
        group_id: FromPath[UUID],
        groups: NamedDependency[GroupService],
        principal: NamedDependency[Principal],
    ) -> Response[Any]:
        group = await groups.get(group_id)
        await groups.delete(group_id, actor=principal)
        return redirect(request, "/console/groups", f"Group {group.name} deleted.")

    async def _list(
        self,
        request: Request[Any, Any, Any],
        groups: NamedDependency[GroupService],
        *,
        errors: dict[str, str] | None = None,
        values: dict[str, str] | None = None,
        status_code: int = 200,
    ) -> Template:
        return page(
            request,
            "console/groups.html",
            status_code=status_code,
            title="Groups",
            groups=await groups.list_all(),
            errors=errors or {},
            values=values or {},
        )

    async def _detail(
        self,
        request: Request[Any, Any, Any],
        groups: NamedDependency[GroupService],
        users: NamedDependency[UserService],
        group_id: FromPath[UUID],
        *,
        errors: dict[str, str] | None = None,
        values: dict[str, str] | None = None,
        status_code: int = 200,
    ) -> Template:
        group = await groups.get(group_id)
        members = {member.id for member in group.members}
        candidates = [user for user in await users.list_all() if user.id not in members]
        return page(
            request,
            "console/group.html",
            status_code=status_code,
            title=group.name,
            group=group,
            candidates=candidates,
            errors=errors or {},
            values=values or {},
        )
