"""Who may call the identity API at all: admins manage, everyone else is refused before anything changes."""

from __future__ import annotations

import uuid

import httpx
import pytest

from switchboard.identity.deps import IdentityServices
from switchboard.identity.principal import Principal
from switchboard.identity.roles import Role
from switchboard.identity.schemas import GroupCreate, UserOut
from switchboard.identity.tables import ApiToken, Group, GroupMember, User
from tests.identity.conftest import OpenBrowser
from tests.identity.support import ADMINS_ONLY, PASSWORD, SIGN_IN_REQUIRED, answer, make_user, signed_in

Call = tuple[str, str, dict[str, object] | None]


async def admin_calls(services: IdentityServices, owner: UserOut, member: UserOut) -> list[Call]:
    """One call to every admin endpoint, aimed at real users, groups and tokens."""
    acting = Principal(user_id=owner.id, email=owner.email, name="", role=Role.OWNER, via="session")
    group = await services.groups.create(GroupCreate(name="Sales"), actor=acting)
    await services.groups.add_member(group.id, member.email, actor=acting)
    token = await services.api_tokens.create("deploy script", actor=acting)
    return [
        ("GET", "/api/v1/users", None),
        ("POST", "/api/v1/users", {"email": "new@example.com", "password": PASSWORD}),
        ("GET", f"/api/v1/users/{owner.id}", None),
        ("PATCH", f"/api/v1/users/{owner.id}", {"is_active": False}),
        ("PATCH", f"/api/v1/users/{member.id}", {"role": "admin"}),
        ("POST", f"/api/v1/users/{owner.id}/password", {"password": "taken-over-now"}),
        ("GET", "/api/v1/groups", None),
        ("POST", "/api/v1/groups", {"name": "Support"}),
        ("GET", f"/api/v1/groups/{group.id}", None),
        ("PATCH", f"/api/v1/groups/{group.id}", {"name": "Renamed"}),
        ("DELETE", f"/api/v1/groups/{group.id}", None),
        ("POST", f"/api/v1/groups/{group.id}/members", {"email": owner.email}),
        ("DELETE", f"/api/v1/groups/{group.id}/members/{member.email}", None),
        ("GET", "/api/v1/api-tokens", None),
        ("POST", "/api/v1/api-tokens", {"name": "stolen"}),
        ("DELETE", f"/api/v1/api-tokens/{token.id}", None),
    ]


async def answers(client: httpx.AsyncClient, calls: list[Call]) -> dict[str, tuple[int, object]]:
    results: dict[str, tuple[int, object]] = {}
    for method, path, body in calls:
        response = await client.request(method, path, json=body)
        results[f"{method} {path}"] = (response.status_code, response.json())
    return results


async def snapshot() -> tuple[object, ...]:
    """Everything an admin call could change."""
    return (
        await User.select(User.email, User.role, User.is_active, User.password_hash).order_by(User.email),
        await Group.select(Group.name).order_by(Group.name),
        await GroupMember.count(),
        await ApiToken.count(),
    )


@pytest.mark.parametrize("role", [Role.MEMBER, Role.BUILDER])
async def test_members_and_builders_are_refused_every_admin_call_and_change_nothing(
    services: IdentityServices, owner: UserOut, member: UserOut, open_browser: OpenBrowser, role: Role
) -> None:
    calls = await admin_calls(services, owner, member)
    caller = await make_user(services, f"{role.value}.caller@example.com", role)
    client = await signed_in(await open_browser(), caller.email)
    before = await snapshot()

    results = await answers(client, calls)

    assert results == dict.fromkeys(results, (403, ADMINS_ONLY))
    assert await snapshot() == before


async def test_an_anonymous_browser_is_asked_to_sign_in_by_every_admin_call(
    services: IdentityServices, owner: UserOut, member: UserOut, client: httpx.AsyncClient
) -> None:
    calls = await admin_calls(services, owner, member)
    await client.get("/login")  # a page sets the CSRF cookie that browser scripts echo in a header
    client.headers["x-csrftoken"] = client.cookies["sb_csrf"]
    before = await snapshot()

    results = await answers(client, calls)

    assert results == dict.fromkeys(results, (401, SIGN_IN_REQUIRED))
    assert answer(await client.get("/api/v1/me")) == (401, SIGN_IN_REQUIRED)
    assert await snapshot() == before


async def test_an_anonymous_script_is_asked_to_sign_in_by_every_admin_call(
    services: IdentityServices, owner: UserOut, member: UserOut, client: httpx.AsyncClient
) -> None:
    calls = await admin_calls(services, owner, member)
    before = await snapshot()

    results = await answers(client, calls)

    assert results == dict.fromkeys(results, (401, SIGN_IN_REQUIRED))
    assert await snapshot() == before


async def test_a_member_sees_only_themselves(member: UserOut, as_member: httpx.AsyncClient) -> None:
    me = await as_member.get("/api/v1/me")
    someone = await as_member.get(f"/api/v1/users/{uuid.uuid4()}")

    assert (me.status_code, me.json()["email"]) == (200, member.email)
    assert answer(someone) == (403, ADMINS_ONLY)
