"""Passwords: kept only as argon2id hashes, reset by admins, upgraded when the hashing gets stronger."""

from __future__ import annotations

import httpx
import pytest
from argon2 import PasswordHasher, profiles

from switchboard.identity.deps import IdentityServices
from switchboard.identity.schemas import UserOut
from switchboard.identity.tables import User
from tests.identity.conftest import OpenBrowser
from tests.identity.support import PASSWORD, answer, error, make_user

NEW_PASSWORD = "a-brand-new-password"


async def stored_hash(user: UserOut) -> str:
    row = await User.select(User.password_hash).where(User.id == user.id).first()
    assert row is not None
    return str(row["password_hash"])


async def sign_in_status(open_browser: OpenBrowser, email: str, password: str) -> int:
    return (await (await open_browser()).sign_in(email, password)).status_code


@pytest.mark.usefixtures("production_password_hashing")
async def test_passwords_are_stored_as_salted_argon2id_hashes(services: IdentityServices) -> None:
    first = await make_user(services, "first@example.com")
    second = await make_user(services, "second@example.com")

    hashes = [await stored_hash(first), await stored_hash(second)]

    assert all(value.startswith("$argon2id$") for value in hashes)
    assert hashes[0] != hashes[1]
    assert not any(PASSWORD in value for value in hashes)
    assert not PasswordHasher().check_needs_rehash(hashes[0])


@pytest.mark.usefixtures("production_password_hashing")
async def test_an_outdated_hash_is_replaced_at_the_next_sign_in(
    member: UserOut, open_browser: OpenBrowser
) -> None:
    weak = PasswordHasher.from_parameters(profiles.CHEAPEST).hash(PASSWORD)
    await User.update({User.password_hash: weak}).where(User.id == member.id)

    assert await sign_in_status(open_browser, member.email, PASSWORD) == 303

    upgraded = await stored_hash(member)
    assert upgraded != weak
    assert upgraded.startswith("$argon2id$")
    assert not PasswordHasher().check_needs_rehash(upgraded)


async def test_an_admin_resets_a_password_and_only_the_new_one_works(
    member: UserOut, as_admin: httpx.AsyncClient, open_browser: OpenBrowser
) -> None:
    response = await as_admin.post(f"/api/v1/users/{member.id}/password", json={"password": NEW_PASSWORD})

    assert (response.status_code, response.content) == (204, b"")
    assert (await stored_hash(member)).startswith("$argon2id$")
    assert await sign_in_status(open_browser, member.email, PASSWORD) == 401
    assert await sign_in_status(open_browser, member.email, NEW_PASSWORD) == 303


async def test_any_characters_up_to_256_make_a_password(
    member: UserOut, as_admin: httpx.AsyncClient, open_browser: OpenBrowser
) -> None:
    password = "pässwörd 🔑 " + "x" * 244

    response = await as_admin.post(f"/api/v1/users/{member.id}/password", json={"password": password})

    assert response.status_code == 204
    assert await sign_in_status(open_browser, member.email, password) == 303


@pytest.mark.parametrize(
    ("password", "message"),
    [("seven77", "Expected `str` of length >= 8"), ("x" * 257, "Expected `str` of length <= 256")],
    ids=["too short", "too long"],
)
async def test_a_reset_to_a_password_of_the_wrong_length_is_refused(
    member: UserOut, as_admin: httpx.AsyncClient, open_browser: OpenBrowser, password: str, message: str
) -> None:
    response = await as_admin.post(f"/api/v1/users/{member.id}/password", json={"password": password})

    assert answer(response) == error(422, "invalid_input", message, "password")
    assert await sign_in_status(open_browser, member.email, PASSWORD) == 303


async def test_an_admin_cannot_reset_an_owners_password(
    owner: UserOut, as_admin: httpx.AsyncClient, open_browser: OpenBrowser
) -> None:
    response = await as_admin.post(f"/api/v1/users/{owner.id}/password", json={"password": NEW_PASSWORD})

    assert answer(response) == error(
        403, "permission_denied", "Only an owner can reset an owner's password.", "password"
    )
    assert await sign_in_status(open_browser, owner.email, PASSWORD) == 303


async def test_an_owner_resets_an_admins_password(
    admin: UserOut, as_owner: httpx.AsyncClient, open_browser: OpenBrowser
) -> None:
    response = await as_owner.post(f"/api/v1/users/{admin.id}/password", json={"password": NEW_PASSWORD})

    assert response.status_code == 204
    assert await sign_in_status(open_browser, admin.email, NEW_PASSWORD) == 303
