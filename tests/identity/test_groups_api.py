"""/api/v1/groups: end-user groups, their case-blind names and their members."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from switchboard.identity.deps import IdentityServices
from switchboard.identity.schemas import UserOut
from switchboard.identity.tables import GroupMember
from tests.identity.support import answer, error, make_user


async def create_group(client: httpx.AsyncClient, name: str, description: str = "") -> dict[str, Any]:
    response = await client.post("/api/v1/groups", json={"name": name, "description": description})
    assert response.status_code == 201, response.text
    group: dict[str, Any] = response.json()
    return group


async def test_an_admin_creates_a_group_with_its_name_tidied(as_admin: httpx.AsyncClient) -> None:
    response = await as_admin.post(
        "/api/v1/groups", json={"name": "  Sales \t Team  ", "description": " Deals and leads "}
    )

    assert response.status_code == 201
    group = response.json()
    assert (group["name"], group["description"], group["members"]) == ("Sales Team", "Deals and leads", [])
    assert answer(await as_admin.get(f"/api/v1/groups/{group['id']}")) == (200, group)


@pytest.mark.both_engines
async def test_groups_are_listed_by_name_whatever_its_case(as_admin: httpx.AsyncClient) -> None:
    for name in ("support", "Marketing", "engineering"):
        await create_group(as_admin, name)

    response = await as_admin.get("/api/v1/groups")

    assert [group["name"] for group in response.json()] == ["engineering", "Marketing", "support"]


@pytest.mark.both_engines
async def test_a_group_name_differing_only_in_case_is_taken(as_admin: httpx.AsyncClient) -> None:
    await create_group(as_admin, "Sales")

    response = await as_admin.post("/api/v1/groups", json={"name": "SALES"})

    assert answer(response) == error(409, "conflict", "A group named 'SALES' already exists.", "name")
    assert len((await as_admin.get("/api/v1/groups")).json()) == 1


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "Expected `str` of length >= 1"),
        ("   ", "Enter a group name."),
        ("g" * 81, "Expected `str` of length <= 80"),
        ("Sales\x00", "Control characters (such as line breaks) are not allowed here."),
    ],
    ids=["empty", "blank", "too long", "control character"],
)
async def test_a_group_needs_a_sensible_name(as_admin: httpx.AsyncClient, name: str, message: str) -> None:
    group = await create_group(as_admin, "Sales")

    created = await as_admin.post("/api/v1/groups", json={"name": name})
    renamed = await as_admin.patch(f"/api/v1/groups/{group['id']}", json={"name": name})

    assert answer(created) == error(422, "invalid_input", message, "name")
    assert answer(renamed) == error(422, "invalid_input", message, "name")
    assert [group["name"] for group in (await as_admin.get("/api/v1/groups")).json()] == ["Sales"]


async def test_a_description_longer_than_500_characters_is_refused(as_admin: httpx.AsyncClient) -> None:
    response = await as_admin.post("/api/v1/groups", json={"name": "Sales", "description": "d" * 501})

    assert answer(response) == error(422, "invalid_input", "Expected `str` of length <= 500", "description")


async def test_an_admin_renames_a_group_and_changes_its_description(as_admin: httpx.AsyncClient) -> None:
    group = await create_group(as_admin, "Sales", "old")

    response = await as_admin.patch(f"/api/v1/groups/{group['id']}", json={"name": "Revenue"})
    described = await as_admin.patch(f"/api/v1/groups/{group['id']}", json={"description": "new"})

    assert (response.status_code, response.json()["name"], response.json()["description"]) == (
        200,
        "Revenue",
        "old",
    )
    assert (described.json()["name"], described.json()["description"]) == ("Revenue", "new")


@pytest.mark.both_engines
async def test_renaming_to_another_groups_name_in_any_case_is_refused(as_admin: httpx.AsyncClient) -> None:
    await create_group(as_admin, "Sales")
    support = await create_group(as_admin, "Support")

    response = await as_admin.patch(f"/api/v1/groups/{support['id']}", json={"name": "sales"})

    assert answer(response) == error(409, "conflict", "A group named 'sales' already exists.", "name")
    assert (await as_admin.get(f"/api/v1/groups/{support['id']}")).json()["name"] == "Support"


@pytest.mark.both_engines
async def test_a_group_may_change_the_case_of_its_own_name(as_admin: httpx.AsyncClient) -> None:
    group = await create_group(as_admin, "sales")

    response = await as_admin.patch(f"/api/v1/groups/{group['id']}", json={"name": "SALES"})

    assert (response.status_code, response.json()["name"]) == (200, "SALES")


@pytest.mark.both_engines
async def test_members_are_added_by_e_mail_in_any_case_and_see_the_group(
    member: UserOut, as_admin: httpx.AsyncClient
) -> None:
    group = await create_group(as_admin, "Sales")

    response = await as_admin.post(
        f"/api/v1/groups/{group['id']}/members", json={"email": "Member@EXAMPLE.com"}
    )

    assert response.status_code == 201
    assert [(m["email"], m["name"], m["is_active"]) for m in response.json()["members"]] == [
        ("member@example.com", "Member", True)
    ]
    user = (await as_admin.get(f"/api/v1/users/{member.id}")).json()
    assert user["groups"] == [{"id": group["id"], "name": "Sales"}]


async def test_members_are_listed_by_e_mail(services: IdentityServices, as_admin: httpx.AsyncClient) -> None:
    group = await create_group(as_admin, "Sales")
    for email in ("zed@example.com", "amy@example.com"):
        await make_user(services, email)
        await as_admin.post(f"/api/v1/groups/{group['id']}/members", json={"email": email})

    response = await as_admin.get(f"/api/v1/groups/{group['id']}")

    assert [m["email"] for m in response.json()["members"]] == ["amy@example.com", "zed@example.com"]


@pytest.mark.both_engines
async def test_adding_someone_who_is_already_a_member_is_a_conflict(
    member: UserOut, as_admin: httpx.AsyncClient
) -> None:
    group = await create_group(as_admin, "Sales")
    await as_admin.post(f"/api/v1/groups/{group['id']}/members", json={"email": member.email})

    response = await as_admin.post(
        f"/api/v1/groups/{group['id']}/members", json={"email": "MEMBER@example.com"}
    )

    assert answer(response) == error(
        409, "conflict", "member@example.com is already a member of Sales.", "email"
    )
    assert await GroupMember.count() == 1


async def test_adding_an_unknown_e_mail_is_not_found(as_admin: httpx.AsyncClient) -> None:
    group = await create_group(as_admin, "Sales")

    response = await as_admin.post(
        f"/api/v1/groups/{group['id']}/members", json={"email": "Nobody@example.com"}
    )

    assert answer(response) == error(404, "not_found", "No user with the e-mail nobody@example.com.", "email")


async def test_a_member_is_removed_by_e_mail_in_any_case(
    member: UserOut, as_admin: httpx.AsyncClient
) -> None:
    group = await create_group(as_admin, "Sales")
    await as_admin.post(f"/api/v1/groups/{group['id']}/members", json={"email": member.email})

    response = await as_admin.delete(f"/api/v1/groups/{group['id']}/members/MEMBER@example.com")

    assert (response.status_code, response.json()["members"]) == (200, [])
    assert (await as_admin.get(f"/api/v1/users/{member.id}")).json()["groups"] == []


async def test_removing_someone_who_is_not_a_member_is_not_found(
    member: UserOut, as_admin: httpx.AsyncClient
) -> None:
    group = await create_group(as_admin, "Sales")

    not_member = await as_admin.delete(f"/api/v1/groups/{group['id']}/members/{member.email}")
    unknown = await as_admin.delete(f"/api/v1/groups/{group['id']}/members/nobody@example.com")

    assert answer(not_member) == error(
        404, "not_found", "member@example.com is not a member of Sales.", "email"
    )
    assert answer(unknown) == error(404, "not_found", "No user with the e-mail nobody@example.com.", "email")


@pytest.mark.both_engines
async def test_deleting_a_group_removes_its_memberships(member: UserOut, as_admin: httpx.AsyncClient) -> None:
    sales = await create_group(as_admin, "Sales")
    support = await create_group(as_admin, "Support")
    for group in (sales, support):
        await as_admin.post(f"/api/v1/groups/{group['id']}/members", json={"email": member.email})

    response = await as_admin.delete(f"/api/v1/groups/{sales['id']}")

    assert response.status_code == 204
    assert answer(await as_admin.get(f"/api/v1/groups/{sales['id']}")) == error(
        404, "not_found", "No such group."
    )
    user = (await as_admin.get(f"/api/v1/users/{member.id}")).json()
    assert user["groups"] == [{"id": support["id"], "name": "Support"}]
    assert await GroupMember.count() == 1


@pytest.mark.both_engines
async def test_a_deleted_groups_name_can_be_used_again(as_admin: httpx.AsyncClient) -> None:
    group = await create_group(as_admin, "Sales")
    await as_admin.delete(f"/api/v1/groups/{group['id']}")

    response = await as_admin.post("/api/v1/groups", json={"name": "sales"})

    assert response.status_code == 201


async def test_unknown_group_ids_are_not_found(member: UserOut, as_admin: httpx.AsyncClient) -> None:
    missing = f"/api/v1/groups/{uuid.uuid4()}"
    not_found = error(404, "not_found", "No such group.")

    results = [
        answer(await as_admin.get(missing)),
        answer(await as_admin.patch(missing, json={"name": "x"})),
        answer(await as_admin.delete(missing)),
        answer(await as_admin.post(f"{missing}/members", json={"email": member.email})),
        answer(await as_admin.delete(f"{missing}/members/{member.email}")),
    ]

    assert results == [not_found] * len(results)
