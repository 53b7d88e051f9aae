"""Admin API tokens: shown once, stored as hashes, and only as strong as the admin who made them."""

from __future__ import annotations

import hashlib

import httpx
import pytest

from switchboard.identity.deps import IdentityServices
from switchboard.identity.roles import Role
from switchboard.identity.schemas import UserOut, UserUpdate
from switchboard.identity.tables import ApiToken
from tests.identity.conftest import OpenBrowser
from tests.identity.support import ADMINS_ONLY, SIGN_IN_REQUIRED, answer, error
from tests.support.actors import SETUP


@pytest.fixture
async def script(open_browser: OpenBrowser) -> httpx.AsyncClient:
    """A client with no cookies at all, as a script calling the API is."""
    return (await open_browser()).client


async def create_token(client: httpx.AsyncClient, name: str = "deploy script") -> dict[str, str]:
    response = await client.post("/api/v1/api-tokens", json={"name": name})
    assert response.status_code == 201, response.text
    created: dict[str, str] = response.json()
    return created


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


async def test_a_new_token_is_shown_once_and_never_listed(
    admin: UserOut, as_admin: httpx.AsyncClient
) -> None:
    created = await create_token(as_admin, "  deploy script ")

    assert created["token"].startswith("sbk_")
    assert len(created["token"]) > 40
    assert created["name"] == "deploy script"
    listed = await as_admin.get("/api/v1/api-tokens")
    assert listed.status_code == 200
    assert created["token"] not in listed.text
    [entry] = listed.json()
    assert set(entry) == {"id", "name", "prefix", "owner_email", "created_at", "last_used_at"}
    assert (entry["id"], entry["name"], entry["prefix"], entry["owner_email"], entry["last_used_at"]) == (
        created["id"],
        "deploy script",
        created["token"][:10],
        admin.email,
        None,
    )


@pytest.mark.both_engines
async def test_only_the_tokens_sha256_is_stored(as_admin: httpx.AsyncClient) -> None:
    created = await create_token(as_admin)

    rows = await ApiToken.select()

    assert len(rows) == 1
    assert rows[0]["token_hash"] == hashlib.sha256(created["token"].encode()).hexdigest()
    assert created["token"] not in repr(rows)


async def test_each_token_is_different(as_admin: httpx.AsyncClient) -> None:
    tokens = {(await create_token(as_admin, f"script {number}"))["token"] for number in range(3)}

    assert len(tokens) == 3


async def test_a_bearer_token_acts_as_its_admin_without_any_csrf_header(
    admin: UserOut, as_admin: httpx.AsyncClient, script: httpx.AsyncClient
) -> None:
    token = (await create_token(as_admin))["token"]

    me = await script.get("/api/v1/me", headers=bearer(token))
    created = await script.post("/api/v1/groups", json={"name": "Sales"}, headers=bearer(token))

    assert (me.status_code, me.json()["email"]) == (200, admin.email)
    assert (created.status_code, created.json()["name"]) == (201, "Sales")
    [entry] = (await as_admin.get("/api/v1/api-tokens")).json()
    assert entry["last_used_at"] is not None


async def test_the_bearer_scheme_is_case_blind(
    as_admin: httpx.AsyncClient, script: httpx.AsyncClient
) -> None:
    token = (await create_token(as_admin))["token"]

    response = await script.get("/api/v1/me", headers={"authorization": f"bearer {token}"})

    assert response.status_code == 200


async def test_unknown_or_malformed_tokens_are_refused(
    as_admin: httpx.AsyncClient, script: httpx.AsyncClient
) -> None:
    token = (await create_token(as_admin))["token"]
    candidates = {
        "unknown": "sbk_" + "A" * 43,
        "one character changed": token[:-1] + ("A" if token[-1] != "A" else "B"),
        "without its prefix": token.removeprefix("sbk_"),
        "its stored hash": hashlib.sha256(token.encode()).hexdigest(),
        "very long": "sbk_" + "x" * 10_000,
    }

    results = {
        name: answer(await script.get("/api/v1/me", headers=bearer(value)))
        for name, value in candidates.items()
    }

    assert results == dict.fromkeys(results, (401, SIGN_IN_REQUIRED))


async def test_a_bearer_request_ignores_the_session_cookie_next_to_it(
    as_admin: httpx.AsyncClient,
) -> None:
    response = await as_admin.get("/api/v1/users", headers=bearer("sbk_not-a-real-token"))

    assert answer(response) == (401, SIGN_IN_REQUIRED)


@pytest.mark.both_engines
async def test_a_revoked_token_stops_working(as_admin: httpx.AsyncClient, script: httpx.AsyncClient) -> None:
    created = await create_token(as_admin)

    revoked = await as_admin.delete(f"/api/v1/api-tokens/{created['id']}")

    assert revoked.status_code == 204
    assert answer(await script.get("/api/v1/me", headers=bearer(created["token"]))) == (401, SIGN_IN_REQUIRED)
    assert (await as_admin.get("/api/v1/api-tokens")).json() == []
    assert answer(await as_admin.delete(f"/api/v1/api-tokens/{created['id']}")) == error(
        404, "not_found", "No such API token."
    )


@pytest.mark.parametrize(
    "change",
    [UserUpdate(is_active=False), UserUpdate(role=Role.MEMBER), UserUpdate(role=Role.BUILDER)],
    ids=["deactivated", "demoted to member", "demoted to builder"],
)
async def test_a_token_stops_working_when_its_admin_no_longer_qualifies(
    services: IdentityServices,
    admin: UserOut,
    as_admin: httpx.AsyncClient,
    script: httpx.AsyncClient,
    change: UserUpdate,
) -> None:
    token = (await create_token(as_admin))["token"]

    await services.users.update(admin.id, change, actor=SETUP)

    assert answer(await script.get("/api/v1/me", headers=bearer(token))) == (401, SIGN_IN_REQUIRED)


async def test_a_token_has_no_more_power_than_its_admin(
    owner: UserOut, member: UserOut, as_admin: httpx.AsyncClient, script: httpx.AsyncClient
) -> None:
    token = (await create_token(as_admin))["token"]

    response = await script.patch(f"/api/v1/users/{member.id}", json={"role": "owner"}, headers=bearer(token))

    assert answer(response) == error(
        403, "permission_denied", "Only an owner can change an owner or make someone an owner.", "role"
    )


async def test_an_admin_cannot_change_their_own_role_through_a_token(
    admin: UserOut, as_admin: httpx.AsyncClient, script: httpx.AsyncClient
) -> None:
    token = (await create_token(as_admin))["token"]

    response = await script.patch(f"/api/v1/users/{admin.id}", json={"role": "member"}, headers=bearer(token))

    assert answer(response) == error(403, "permission_denied", "You cannot change your own role.", "role")


async def test_a_member_cannot_create_tokens(as_member: httpx.AsyncClient) -> None:
    response = await as_member.post("/api/v1/api-tokens", json={"name": "mine"})

    assert answer(response) == (403, ADMINS_ONLY)
    assert await ApiToken.count() == 0


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "Expected `str` of length >= 1"),
        ("   ", "Give the token a name, such as the script that will use it."),
        ("t" * 81, "Expected `str` of length <= 80"),
        ("tab\there", "Control characters (such as line breaks) are not allowed here."),
    ],
    ids=["empty", "blank", "too long", "control character"],
)
async def test_a_token_needs_a_sensible_name(as_admin: httpx.AsyncClient, name: str, message: str) -> None:
    response = await as_admin.post("/api/v1/api-tokens", json={"name": name})

    assert answer(response) == error(422, "invalid_input", message, "name")
    assert await ApiToken.count() == 0
