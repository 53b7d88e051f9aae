"""/api/v1/users: owners and admins manage users; roles guard who may change whom."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest

from switchboard.identity.deps import IdentityServices
from switchboard.identity.principal import Principal
from switchboard.identity.roles import Role
from switchboard.identity.schemas import UserOut, UserUpdate
from switchboard.platform.core.errors import Conflict
from tests.identity.support import ADMINS_ONLY, PASSWORD, answer, error, make_user
from tests.support.actors import SETUP

NEW_USER = {"email": "New.Person@Example.com", "password": PASSWORD}


def acting_as(user: UserOut) -> Principal:
    return Principal(user_id=user.id, email=user.email, name=user.name, role=user.role, via="session")


async def test_an_admin_creates_a_user_who_is_a_member_by_default(as_admin: httpx.AsyncClient) -> None:
    response = await as_admin.post("/api/v1/users", json={**NEW_USER, "name": "  New Person "})

    assert response.status_code == 201
    created = response.json()
    created_at = created.pop("created_at")
    assert created.pop("id")
    assert created == {
        "email": "new.person@example.com",
        "name": "New Person",
        "role": "member",
        "is_active": True,
        "last_sign_in_at": None,
        "groups": [],
    }
    assert answer(await as_admin.get(f"/api/v1/users/{response.json()['id']}")) == (200, response.json())
    assert created_at.endswith("Z")


@pytest.mark.both_engines
async def test_the_user_list_is_ordered_by_e_mail(
    services: IdentityServices, admin: UserOut, as_admin: httpx.AsyncClient
) -> None:
    await make_user(services, "zoe@example.com")
    await make_user(services, "bob@example.com", Role.BUILDER)

    response = await as_admin.get("/api/v1/users")

    assert response.status_code == 200
    assert [(user["email"], user["role"]) for user in response.json()] == [
        ("admin@example.com", "admin"),
        ("bob@example.com", "builder"),
        ("zoe@example.com", "member"),
    ]


@pytest.mark.both_engines
async def test_an_e_mail_differing_only_in_case_is_taken(
    member: UserOut, as_admin: httpx.AsyncClient
) -> None:
    response = await as_admin.post(
        "/api/v1/users", json={"email": "MEMBER@example.COM", "password": PASSWORD}
    )

    assert answer(response) == error(
        409, "conflict", "A user with the e-mail member@example.com already exists.", "email"
    )


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        pytest.param(
            {"email": "not-an-address"},
            error(422, "invalid_input", "Enter a valid e-mail address, such as alice@example.com.", "email"),
            id="invalid e-mail",
        ),
        pytest.param(
            {"email": "two@@example.com"},
            error(422, "invalid_input", "Enter a valid e-mail address, such as alice@example.com.", "email"),
            id="two at signs",
        ),
        pytest.param(
            {"password": "short"},
            error(422, "invalid_input", "Expected `str` of length >= 8", "password"),
            id="short password",
        ),
        pytest.param(
            {"password": "x" * 257},
            error(422, "invalid_input", "Expected `str` of length <= 256", "password"),
            id="long password",
        ),
        pytest.param(
            {"role": "superuser"},
            error(422, "invalid_input", "Invalid enum value 'superuser'", "role"),
            id="unknown role",
        ),
        pytest.param(
            {"name": "n" * 121},
            error(422, "invalid_input", "Expected `str` of length <= 120", "name"),
            id="long name",
        ),
        pytest.param(
            {"name": "line\nbreak"},
            error(
                422, "invalid_input", "Control characters (such as line breaks) are not allowed here.", "name"
            ),
            id="control character in name",
        ),
        pytest.param(
            {"is_admin": True},
            error(422, "invalid_input", "Object contains unknown field `is_admin`", "is_admin"),
            id="unknown field",
        ),
        pytest.param(
            {"email": None},
            error(422, "invalid_input", "Expected `str`, got `null`", "email"),
            id="null e-mail",
        ),
    ],
)
async def test_invalid_new_users_are_refused_naming_the_field(
    as_admin: httpx.AsyncClient, changes: dict[str, Any], expected: tuple[int, dict[str, str]]
) -> None:
    response = await as_admin.post("/api/v1/users", json={**NEW_USER, **changes})

    assert answer(response) == expected
    assert len((await as_admin.get("/api/v1/users")).json()) == 1


async def test_a_new_user_without_a_password_is_refused_naming_the_field(as_admin: httpx.AsyncClient) -> None:
    response = await as_admin.post("/api/v1/users", json={"email": "new@example.com"})

    assert answer(response) == error(
        422, "invalid_input", "Object missing required field `password`", "password"
    )


async def test_an_admin_changes_a_users_name_role_and_active_state(
    member: UserOut, as_admin: httpx.AsyncClient
) -> None:
    response = await as_admin.patch(
        f"/api/v1/users/{member.id}", json={"name": "Renamed", "role": "builder", "is_active": False}
    )

    assert response.status_code == 200
    assert {key: response.json()[key] for key in ("name", "role", "is_active")} == {
        "name": "Renamed",
        "role": "builder",
        "is_active": False,
    }
    stored = (await as_admin.get(f"/api/v1/users/{member.id}")).json()
    assert (stored["name"], stored["role"], stored["is_active"]) == ("Renamed", "builder", False)


async def test_fields_left_out_of_a_change_stay_as_they_were(
    member: UserOut, as_admin: httpx.AsyncClient
) -> None:
    before = (await as_admin.get(f"/api/v1/users/{member.id}")).json()

    response = await as_admin.patch(f"/api/v1/users/{member.id}", json={})

    assert answer(response) == (200, before)


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"role": "root"}, "role", "Invalid enum value 'root'"),
        ({"is_active": None}, "is_active", "Expected `bool`, got `null`"),
        ({"is_active": "no"}, "is_active", "Expected `bool`, got `str`"),
        ({"name": "x" * 121}, "name", "Expected `str` of length <= 120"),
    ],
)
async def test_invalid_changes_are_refused_naming_the_field(
    member: UserOut, as_admin: httpx.AsyncClient, changes: dict[str, Any], field: str, message: str
) -> None:
    response = await as_admin.patch(f"/api/v1/users/{member.id}", json=changes)

    assert answer(response) == error(422, "invalid_input", message, field)


async def test_an_owner_can_make_someone_an_owner_and_back(
    admin: UserOut, as_owner: httpx.AsyncClient
) -> None:
    promoted = await as_owner.patch(f"/api/v1/users/{admin.id}", json={"role": "owner"})
    demoted = await as_owner.patch(f"/api/v1/users/{admin.id}", json={"role": "admin"})

    assert (promoted.status_code, promoted.json()["role"]) == (200, "owner")
    assert (demoted.status_code, demoted.json()["role"]) == (200, "admin")


async def test_an_owner_creates_another_owner(as_owner: httpx.AsyncClient) -> None:
    response = await as_owner.post("/api/v1/users", json={**NEW_USER, "role": "owner"})

    assert (response.status_code, response.json()["role"]) == (201, "owner")


async def test_an_admin_cannot_create_an_owner(as_admin: httpx.AsyncClient) -> None:
    response = await as_admin.post("/api/v1/users", json={**NEW_USER, "role": "owner"})

    assert answer(response) == error(
        403, "permission_denied", "Only an owner can create another owner.", "role"
    )
    assert len((await as_admin.get("/api/v1/users")).json()) == 1


@pytest.mark.parametrize(
    "changes",
    [{"name": "Demoted"}, {"role": "member"}, {"is_active": False}],
    ids=["rename", "demote", "deactivate"],
)
async def test_an_admin_cannot_change_an_owner(
    owner: UserOut, as_admin: httpx.AsyncClient, changes: dict[str, Any]
) -> None:
    response = await as_admin.patch(f"/api/v1/users/{owner.id}", json=changes)

    assert answer(response) == error(
        403, "permission_denied", "Only an owner can change an owner or make someone an owner.", "role"
    )
    stored = (await as_admin.get(f"/api/v1/users/{owner.id}")).json()
    assert (stored["name"], stored["role"], stored["is_active"]) == ("Owner", "owner", True)


async def test_an_admin_cannot_make_anyone_an_owner(
    admin: UserOut, member: UserOut, as_admin: httpx.AsyncClient
) -> None:
    for user in (member, admin):
        response = await as_admin.patch(f"/api/v1/users/{user.id}", json={"role": "owner"})
        assert answer(response) == error(
            403, "permission_denied", "Only an owner can change an owner or make someone an owner.", "role"
        )


async def test_a_demoted_admin_loses_admin_access_at_the_next_request(
    admin: UserOut, as_admin: httpx.AsyncClient, as_owner: httpx.AsyncClient
) -> None:
    response = await as_owner.patch(f"/api/v1/users/{admin.id}", json={"role": "builder"})

    assert response.status_code == 200
    assert answer(await as_admin.get("/api/v1/users")) == (403, ADMINS_ONLY)
    assert (await as_admin.get("/api/v1/me")).json()["role"] == "builder"


async def test_an_admin_manages_other_admins(services: IdentityServices, as_admin: httpx.AsyncClient) -> None:
    other = await make_user(services, "other.admin@example.com", Role.ADMIN)

    response = await as_admin.patch(f"/api/v1/users/{other.id}", json={"role": "member", "is_active": False})

    assert (response.status_code, response.json()["role"], response.json()["is_active"]) == (
        200,
        "member",
        False,
    )


@pytest.mark.parametrize(
    ("who", "role"),
    [("owner", "admin"), ("owner", "member"), ("admin", "member"), ("admin", "builder")],
)
async def test_nobody_changes_their_own_role(
    owner: UserOut,
    admin: UserOut,
    as_owner: httpx.AsyncClient,
    as_admin: httpx.AsyncClient,
    who: str,
    role: str,
) -> None:
    user, client = {"owner": (owner, as_owner), "admin": (admin, as_admin)}[who]

    response = await client.patch(f"/api/v1/users/{user.id}", json={"role": role})

    assert answer(response) == error(403, "permission_denied", "You cannot change your own role.", "role")
    assert (await client.get("/api/v1/me")).json()["role"] == who


async def test_nobody_deactivates_their_own_account(
    owner: UserOut, admin: UserOut, as_owner: httpx.AsyncClient, as_admin: httpx.AsyncClient
) -> None:
    for user, client in ((owner, as_owner), (admin, as_admin)):
        response = await client.patch(f"/api/v1/users/{user.id}", json={"is_active": False})
        assert answer(response) == error(
            403, "permission_denied", "You cannot deactivate your own account.", "is_active"
        )
        assert (await client.get("/api/v1/me")).status_code == 200


async def test_users_rename_themselves_and_may_restate_their_own_role(
    admin: UserOut, as_admin: httpx.AsyncClient
) -> None:
    response = await as_admin.patch(f"/api/v1/users/{admin.id}", json={"name": "Ada", "role": "admin"})

    assert (response.status_code, response.json()["name"], response.json()["role"]) == (200, "Ada", "admin")


async def test_an_owner_demotes_or_deactivates_another_owner(
    services: IdentityServices, owner: UserOut, as_owner: httpx.AsyncClient
) -> None:
    second = await make_user(services, "second.owner@example.com", Role.OWNER)
    third = await make_user(services, "third.owner@example.com", Role.OWNER)

    demoted = await as_owner.patch(f"/api/v1/users/{second.id}", json={"role": "admin"})
    deactivated = await as_owner.patch(f"/api/v1/users/{third.id}", json={"is_active": False})

    assert (demoted.status_code, demoted.json()["role"]) == (200, "admin")
    assert (deactivated.status_code, deactivated.json()["is_active"]) == (200, False)


@pytest.mark.parametrize(
    "changes",
    [UserUpdate(role=Role.ADMIN), UserUpdate(is_active=False), UserUpdate(role=Role.MEMBER, is_active=False)],
    ids=["demote", "deactivate", "both"],
)
@pytest.mark.both_engines
async def test_the_last_active_owner_can_be_neither_demoted_nor_deactivated(
    services: IdentityServices, owner: UserOut, changes: UserUpdate
) -> None:
    retired = await make_user(services, "retired.owner@example.com", Role.OWNER)
    await services.users.update(retired.id, UserUpdate(is_active=False), actor=SETUP)

    with pytest.raises(Conflict) as refused:
        await services.users.update(owner.id, changes, actor=SETUP)

    assert (refused.value.message, refused.value.field) == (
        "Switchboard needs at least one active owner.",
        "role",
    )
    stored = await services.users.get(owner.id)
    assert (stored.role, stored.is_active) == (Role.OWNER, True)


@pytest.mark.both_engines
async def test_two_owners_demoting_each_other_at_once_leave_an_owner(services: IdentityServices) -> None:
    first = await make_user(services, "first.owner@example.com", Role.OWNER)
    second = await make_user(services, "second.owner@example.com", Role.OWNER)

    outcomes = await asyncio.gather(
        services.users.update(second.id, UserUpdate(role=Role.ADMIN), actor=acting_as(first)),
        services.users.update(first.id, UserUpdate(is_active=False), actor=acting_as(second)),
        return_exceptions=True,
    )

    assert any(isinstance(outcome, Conflict) for outcome in outcomes)
    assert all(isinstance(outcome, (Conflict, UserOut)) for outcome in outcomes)
    owners = [user for user in await services.users.list_all() if user.role is Role.OWNER and user.is_active]
    assert len(owners) >= 1


async def test_the_last_owner_can_still_be_renamed(services: IdentityServices, owner: UserOut) -> None:
    renamed = await services.users.update(owner.id, UserUpdate(name="Founder"), actor=SETUP)

    assert (renamed.name, renamed.role) == ("Founder", Role.OWNER)


async def test_unknown_user_ids_are_not_found(as_admin: httpx.AsyncClient) -> None:
    missing = f"/api/v1/users/{uuid.uuid4()}"
    not_found = error(404, "not_found", "No such user.")

    assert answer(await as_admin.get(missing)) == not_found
    assert answer(await as_admin.patch(missing, json={"name": "x"})) == not_found
    assert answer(await as_admin.post(f"{missing}/password", json={"password": PASSWORD})) == not_found


async def test_an_id_that_is_no_uuid_is_not_found(as_admin: httpx.AsyncClient) -> None:
    response = await as_admin.get("/api/v1/users/12345")

    assert answer(response) == error(404, "not_found", "Not Found")


async def test_everyone_signed_in_sees_themselves_at_me(
    member: UserOut, as_member: httpx.AsyncClient
) -> None:
    response = await as_member.get("/api/v1/me")

    assert response.status_code == 200
    assert (response.json()["id"], response.json()["email"]) == (str(member.id), "member@example.com")
