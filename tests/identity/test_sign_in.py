"""Signing in to the console: who gets in, and what everyone else is told."""

from __future__ import annotations

import httpx
import pytest

from switchboard.identity.deps import IdentityServices
from switchboard.identity.roles import Role
from switchboard.identity.schemas import UserCreate, UserOut, UserUpdate
from switchboard.identity.tables import LoginSession, User
from switchboard.platform.core.tokens import token_hash
from tests.identity.conftest import OpenBrowser
from tests.identity.support import PASSWORD, WRONG_CREDENTIALS, email_field_value, login_error
from tests.support.actors import SETUP
from tests.support.web import Browserless


async def test_an_admin_signs_in_and_lands_on_the_console(
    services: IdentityServices, web: Browserless, client: httpx.AsyncClient
) -> None:
    await services.users.create(
        UserCreate(email="Admin@Example.com", password="switchboard-demo", role=Role.OWNER), actor=SETUP
    )
    response = await web.sign_in("ADMIN@example.com")
    assert response.status_code == 303
    assert response.headers["location"] == "/console/users"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("sb_session=")
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    me = await client.get("/api/v1/me")
    assert me.status_code == 200
    assert me.json()["email"] == "admin@example.com"


async def test_a_member_signs_in_with_the_e_mail_in_any_case_and_lands_on_their_profile(
    member: UserOut, web: Browserless, client: httpx.AsyncClient
) -> None:
    response = await web.sign_in("  MEMBER@Example.COM ", PASSWORD)

    assert (response.status_code, response.headers["location"]) == (303, "/me")
    me = await client.get("/api/v1/me")
    assert (me.status_code, me.json()["email"], me.json()["role"]) == (200, "member@example.com", "member")


async def test_signing_in_records_when_and_opens_a_session_stored_only_as_a_hash(
    member: UserOut, web: Browserless, client: httpx.AsyncClient
) -> None:
    await web.sign_in(member.email, PASSWORD)

    cookie_value = client.cookies["sb_session"]
    token = cookie_value.rpartition(".")[0]
    sessions = await LoginSession.select(LoginSession.token_hash, LoginSession.ip_address)
    assert sessions == [{"token_hash": token_hash(token), "ip_address": "127.0.0.1"}]
    user = await User.select(User.last_sign_in_at).where(User.id == member.id).first()
    assert user is not None
    assert user["last_sign_in_at"] is not None


@pytest.mark.parametrize(
    ("email", "password"),
    [
        pytest.param("member@example.com", "not-the-password", id="wrong password"),
        pytest.param("nobody@example.com", PASSWORD, id="unknown e-mail"),
        pytest.param("Member@Example.com", PASSWORD.upper(), id="password in another case"),
    ],
)
async def test_wrong_credentials_get_one_generic_answer_and_keep_the_e_mail_typed(
    member: UserOut, web: Browserless, client: httpx.AsyncClient, email: str, password: str
) -> None:
    response = await web.sign_in(email, password)

    assert response.status_code == 401
    assert login_error(response.text) == WRONG_CREDENTIALS
    assert email_field_value(response.text) == email
    assert "sb_session" not in client.cookies
    assert (await client.get("/api/v1/me")).status_code == 401


async def test_a_deactivated_user_cannot_sign_in_and_is_told_nothing_more(
    services: IdentityServices, member: UserOut, web: Browserless
) -> None:
    await services.users.update(member.id, UserUpdate(is_active=False), actor=SETUP)

    response = await web.sign_in(member.email, PASSWORD)

    assert response.status_code == 401
    assert login_error(response.text) == WRONG_CREDENTIALS
    assert await LoginSession.count() == 0


async def test_an_empty_form_asks_for_both_fields(web: Browserless) -> None:
    response = await web.sign_in("", "")

    assert response.status_code == 401
    assert login_error(response.text) == "Enter your e-mail and password."


async def test_a_sign_in_form_sent_without_its_csrf_token_is_refused(
    member: UserOut, client: httpx.AsyncClient
) -> None:
    await client.get("/login")

    response = await client.post("/login", data={"email": member.email, "password": PASSWORD})

    assert response.status_code == 403
    assert "sb_session" not in client.cookies
    assert await LoginSession.count() == 0


async def test_signing_in_never_adopts_a_session_cookie_the_browser_brought(
    member: UserOut, admin: UserOut, web: Browserless, client: httpx.AsyncClient, open_browser: OpenBrowser
) -> None:
    # A fixation attempt: someone signs in themselves and plants their live session cookie in the
    # browser an admin is about to sign in with.
    fixer = await open_browser()
    assert (await fixer.sign_in(member.email, PASSWORD)).status_code == 303
    planted = fixer.client.cookies["sb_session"]
    client.cookies.set("sb_session", planted, domain="testserver.local")

    response = await web.submit("/me", "/login", {"email": admin.email, "password": PASSWORD})

    assert response.status_code == 303
    assert client.cookies["sb_session"] != planted
    assert (await client.get("/api/v1/me")).json()["email"] == admin.email
    replay = await fixer.client.get("/api/v1/me")
    assert (replay.status_code, replay.json()["email"]) == (200, member.email)
