"""/api/v1/me and /api/v1/users."""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_204_NO_CONTENT

from switchboard.identity.auth.guards import requires_admin, requires_sign_in
from switchboard.identity.principal import Principal
from switchboard.identity.schemas import PasswordReset, UserCreate, UserOut, UserUpdate
from switchboard.identity.services.users import UserService


class MeController(Controller):
    path = "/api/v1/me"
    tags = ["Me"]
    guards = [requires_sign_in]

    @get(summary="The signed-in user")
    async def me(self, users: NamedDependency[UserService], principal: NamedDependency[Principal]) -> UserOut:
        return await users.get(principal.user_id)


class UserController(Controller):
    path = "/api/v1/users"
    tags = ["Users"]
    guards = [requires_admin]

    @get(summary="List users")
    async def list_users(self, users: NamedDependency[UserService]) -> list[UserOut]:
        return await users.list_all()

    @post(summary="Create a user")
    async def create_user(
        self,
        data: JSONBody[UserCreate],
        users: NamedDependency[UserService],
        principal: NamedDependency[Principal],
    ) -> UserOut:
        return await users.create(data, actor=principal)

    @get("/{user_id:uuid}", summary="Get a user")
    async def get_user(self, user_id: FromPath[UUID], users: NamedDependency[UserService]) -> UserOut:
        return await users.get(user_id)

    @patch("/{user_id:uuid}", summary="Change a user's name, role or active state")
    async def update_user(
        self,
        user_id: FromPath[UUID],
        data: JSONBody[UserUpdate],
        users: NamedDependency[UserService],
        principal: NamedDependency[Principal],
    ) -> UserOut:
        return await users.update(user_id, data, actor=principal)

    @post("/{user_id:uuid}/password", status_code=HTTP_204_NO_CONTENT, summary="Reset a user's password")
    async def reset_password(
        self,
        user_id: FromPath[UUID],
        data: JSONBody[PasswordReset],
        users: NamedDependency[UserService],
        principal: NamedDependency[Principal],
    ) -> None:
        await users.reset_password(user_id, data.password, actor=principal)
