"""Console → Users: create, change role, deactivate or reactivate, reset password."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Template

from switchboard.identity.auth.guards import requires_admin
from switchboard.identity.principal import Principal
from switchboard.identity.roles import Role
from switchboard.identity.schemas import UserCreate, UserUpdate
from switchboard.identity.services.users import UserService
from switchboard.platform.core.errors import DomainError, InvalidInput
from switchboard.ui.forms import form_fields
from switchboard.ui.rendering import page, redirect


def _role(value: str) -> Role:
    try:
        return Role(value)
    except ValueError:
        raise InvalidInput(
            "Choose one of the roles: owner, admin, builder or member.", field="role"
        ) from None


def _errors(exc: DomainError) -> dict[str, str]:
    return {exc.field or "form": exc.message}


class UserPages(Controller):
    path = "/console/users"
    include_in_schema = False
    guards = [requires_admin]

    @get()
    async def list_users(
        self, request: Request[Any, Any, Any], users: NamedDependency[UserService]
    ) -> Template:
        return await self._list(request, users)

    @post()
    async def create_user(
        self,
        request: Request[Any, Any, Any],
        users: NamedDependency[UserService],
        principal: NamedDependency[Principal],
    ) -> Response[Any]:
        values = await form_fields(request, "email", "name", "password", "role")
        try:
            data = UserCreate(
                email=values["email"],
                name=values["name"],
                password=values["password"],
                role=_role(values["role"]),
            )
            user = await users.create(data, actor=principal)
        except DomainError as exc:
            values.pop("password")
            return await self._list(
                request, users, errors=_errors(exc), values=values, status_code=exc.status
            )
        return redirect(request, "/console/users", f"User {user.email} created.")

    @get("/{user_id:uuid}")
    async def user_detail(
        self, request: Request[Any, Any, Any], user_id: FromPath[UUID], users: NamedDependency[UserService]
    ) -> Template:
        return await self._detail(request, users, user_id)

    @post("/{user_id:uuid}")
    async def update_user(
        self,
        request: Request[Any, Any, Any],
        user_id: FromPath[UUID],
        users: NamedDependency[UserService],
        principal: NamedDependency[Principal],
    ) -> Response[Any]:
        values = await form_fields(request, "name", "role")
        try:
            await users.update(
                user_id, UserUpdate(name=values["name"], role=_role(values["role"])), actor=principal
            )
        except DomainError as exc:
            return await self._detail(request, users, user_id, errors=_errors(exc), status_code=exc.status)
        return redirect(request, f"/console/users/{user_id}", "Changes saved.")

    @post("/{user_id:uuid}/active")
    async def set_active(
        self,
        request: Request[Any, Any, Any],
        user_id: FromPath[UUID],
        users: NamedDependency[UserService],
        principal: NamedDependency[Principal],
    ) -> Response[Any]:
        active = (await form_fields(request, "active"))["active"] == "1"
        try:
            user = await users.update(user_id, UserUpdate(is_active=active), actor=principal)
        except DomainError as exc:
            return await self._detail(request, users, user_id, errors=_errors(exc), status_code=exc.status)
        notice = (
            f"{user.email} can sign in again." if active else f"{user.email} was deactivated and signed out."
        )
        return redirect(request, f"/console/users/{user_id}", notice)

    @post("/{user_id:uuid}/password")
    async def reset_password(
        self,
        request: Request[Any, Any, Any],
        user_id: FromPath[UUID],
        users: NamedDependency[UserService],
        principal: NamedDependency[Principal],
    ) -> Response[Any]:
        password = (await form_fields(request, "password"))["password"]
        try:
            await users.reset_password(user_id, password, actor=principal)
        except DomainError as exc:
            return await self._detail(request, users, user_id, errors=_errors(exc), status_code=exc.status)
        return redirect(
            request, f"/console/users/{user_id}", "Password reset. Their other sessions were signed out."
        )

    async def _list(
        self,
        request: Request[Any, Any, Any],
        users: NamedDependency[UserService],
        *,
        errors: dict[str, str] | None = None,
        values: dict[str, str] | None = None,
        status_code: int = 200,
    ) -> Template:
        return page(
            request,
            "console/users.html",
            status_code=status_code,
            title="Users",
            users=await users.list_all(),
            roles=list(Role),
            errors=errors or {},
            values=values or {"role": Role.MEMBER.value},
        )

    async def _detail(
        self,
        request: Request[Any, Any, Any],
        users: NamedDependency[UserService],
        user_id: FromPath[UUID],
        *,
        errors: dict[str, str] | None = None,
        status_code: int = 200,
    ) -> Template:
        user = await users.get(user_id)
        return page(
            request,
            "console/user.html",
            status_code=status_code,
            title=user.email,
            user=user,
            roles=list(Role),
            errors=errors or {},
        )
