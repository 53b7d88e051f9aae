"""/api/v1/groups: end-user groups and their members."""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from switchboard.identity.auth.guards import requires_admin
from switchboard.identity.principal import Principal
from switchboard.identity.schemas import GroupCreate, GroupOut, GroupUpdate, MemberAdd
from switchboard.identity.services.groups import GroupService


class GroupController(Controller):
    path = "/api/v1/groups"
    tags = ["Groups"]
    guards = [requires_admin]

    @get(summary="List groups with their members")
    async def list_groups(self, groups: NamedDependency[GroupService]) -> list[GroupOut]:
        return await groups.list_all()

    @post(summary="Create a group")
    async def create_group(
        self,
        data: JSONBody[GroupCreate],
        groups: NamedDependency[GroupService],
        principal: NamedDependency[Principal],
    ) -> GroupOut:
        return await groups.create(data, actor=principal)

    @get("/{group_id:uuid}", summary="Get a group")
    async def get_group(self, group_id: FromPath[UUID], groups: NamedDependency[GroupService]) -> GroupOut:
        return await groups.get(group_id)

    @patch("/{group_id:uuid}", summary="Rename a group or change its description")
    async def update_group(
        self,
        group_id: FromPath[UUID],
        data: JSONBody[GroupUpdate],
        groups: NamedDependency[GroupService],
        principal: NamedDependency[Principal],
    ) -> GroupOut:
        return await groups.update(group_id, data, actor=principal)

    @delete("/{group_id:uuid}", summary="Delete a group")
    async def delete_group(
        self,
        group_id: FromPath[UUID],
        groups: NamedDependency[GroupService],
        principal: NamedDependency[Principal],
    ) -> None:
        await groups.delete(group_id, actor=principal)

    @post("/{group_id:uuid}/members", summary="Add a member by e-mail")
    async def add_member(
        self,
        group_id: FromPath[UUID],
        data: JSONBody[MemberAdd],
        groups: NamedDependency[GroupService],
        principal: NamedDependency[Principal],
    ) -> GroupOut:
        return await groups.add_member(group_id, data.email, actor=principal)

    @delete("/{group_id:uuid}/members/{email:str}", status_code=200, summary="Remove a member")
    async def remove_member(
        self,
        group_id: FromPath[UUID],
        email: FromPath[str],
        groups: NamedDependency[GroupService],
        principal: NamedDependency[Principal],
    ) -> GroupOut:
        return await groups.remove_member(group_id, email, actor=principal)
