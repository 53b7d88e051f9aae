"""Sign-in sessions live on the server: they end at sign-out, expiry, deactivation and password reset."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import msgspec
import pytest

from switchboard.identity.deps import IdentityServices
from switchboard.identity.schemas import UserOut, UserUpdate
from switchboard.identity.tables import LoginSession
from switchboard.platform.core.settings import Settings
from switchboard.platform.core.tokens import Signer, new_token
from tests.conftest import TEST_SECRET
from tests.identity.conftest import OpenBrowser
from tests.identity.support import PASSWORD, SIGN_IN_REQUIRED, answer, signed_in
from tests.support.actors import SETUP
from tests.support.web import Browserless

pytestmark = pytest.mark.both_engines


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return msgspec.structs.replace(settings, session_lifetime_hours=3)


async def me_with(client: httpx.AsyncClient, cookie_value: str) -> httpx.Response:
    """/api/v1/me from a browser that sends nothing but this session cookie."""
    return await client.get("/api/v1/me", headers={"cookie": f"sb_session={cookie_value}"})


async def test_the_session_lasts_as_long_as_the_configured_lifetime(
    member: UserOut, web: Browserless, client: httpx.AsyncClient
) -> None:
    response = await web.sign_in(member.email, PASSWORD)

    assert "Max-Age=10800" in response.headers["set-cookie"]
    session = await LoginSession.select(LoginSession.created_at, LoginSession.expires_at).first()
    assert session is not None
    assert session["expires_at"] - session["created_at"] == timedelta(hours=3)


async def test_signing_out_ends_the_session_on_the_server(
    member: UserOut, web: Browserless, client: httpx.AsyncClient, open_browser: OpenBrowser
) -> None:
    await web.sign_in(member.email, PASSWORD)
    old_cookie = client.cookies["sb_session"]

    response = await web.submit("/me", "/logout", {})

    assert (response.status_code, response.headers["location"]) == (303, "/login")
    assert "sb_session" not in client.cookies
    replay = await me_with((await open_browser()).client, old_cookie)
    assert answer(replay) == (401, SIGN_IN_REQUIRED)
    assert await LoginSession.count().where(LoginSession.revoked_at.is_null()) == 0


async def test_signing_out_in_one_browser_leaves_the_other_signed_in(
    member: UserOut, open_browser: OpenBrowser
) -> None:
    laptop, phone = await open_browser(), await open_browser()
    await signed_in(laptop, member.email)
    await signed_in(phone, member.email)

    await laptop.submit("/me", "/logout", {})

    assert (await laptop.client.get("/api/v1/me")).status_code == 401
    assert (await phone.client.get("/api/v1/me")).status_code == 200


def _cookies_that_must_not_work(real_cookie: str) -> dict[str, str]:
    token, _, signature = real_cookie.rpartition(".")
    tampered = "0" if signature[-1] != "0" else "1"
    return {
        "signature changed": f"{token}.{signature[:-1]}{tampered}",
        "token changed": f"{token[:-1]}{'A' if token[-1] != 'A' else 'B'}.{signature}",
        "signature removed": token,
        "token alone with a dot": f"{token}.",
        "signed with another key": Signer("another-secret-key-of-sufficient-length-0", "login-session").sign(
            token
        ),
        "signed for another purpose": Signer(TEST_SECRET, "flash").sign(token),
        "well signed but never issued": Signer(TEST_SECRET, "login-session").sign(new_token()),
        "garbage": "not-a-session",
    }


async def test_a_forged_or_tampered_cookie_is_anonymous(
    member: UserOut, web: Browserless, client: httpx.AsyncClient, open_browser: OpenBrowser
) -> None:
    await web.sign_in(member.email, PASSWORD)
    stranger = (await open_browser()).client

    statuses = {
        name: (await me_with(stranger, value)).status_code
        for name, value in _cookies_that_must_not_work(client.cookies["sb_session"]).items()
    }

    assert statuses == dict.fromkeys(statuses, 401)
    assert (await me_with(stranger, client.cookies["sb_session"])).status_code == 200


async def test_an_expired_session_is_refused(
    member: UserOut, web: Browserless, client: httpx.AsyncClient
) -> None:
    await web.sign_in(member.email, PASSWORD)
    await LoginSession.update({LoginSession.expires_at: datetime.now(UTC) - timedelta(seconds=1)}).where(
        LoginSession.user == member.id
    )

    assert answer(await client.get("/api/v1/me")) == (401, SIGN_IN_REQUIRED)


async def test_a_deactivated_user_is_signed_out_everywhere_and_stays_out_when_reactivated(
    services: IdentityServices, member: UserOut, as_admin: httpx.AsyncClient, open_browser: OpenBrowser
) -> None:
    browser = await open_browser()
    await signed_in(browser, member.email)

    response = await as_admin.patch(f"/api/v1/users/{member.id}", json={"is_active": False})

    assert response.status_code == 200
    assert (await browser.client.get("/api/v1/me")).status_code == 401
    assert (
        await LoginSession.count().where((LoginSession.user == member.id) & LoginSession.revoked_at.is_null())
        == 0
    )
    await services.users.update(member.id, UserUpdate(is_active=True), actor=SETUP)
    assert (await browser.client.get("/api/v1/me")).status_code == 401


async def test_an_admin_resetting_a_password_signs_that_user_out_but_not_the_admin(
    member: UserOut, as_admin: httpx.AsyncClient, open_browser: OpenBrowser
) -> None:
    browser = await open_browser()
    await signed_in(browser, member.email)

    response = await as_admin.post(
        f"/api/v1/users/{member.id}/password", json={"password": "a-brand-new-password"}
    )

    assert response.status_code == 204
    assert (await browser.client.get("/api/v1/me")).status_code == 401
    assert (await as_admin.get("/api/v1/me")).status_code == 200


async def test_resetting_ones_own_password_keeps_this_session_and_ends_the_others(
    admin: UserOut, as_admin: httpx.AsyncClient, open_browser: OpenBrowser
) -> None:
    other = await open_browser()
    await signed_in(other, admin.email)

    response = await as_admin.post(
        f"/api/v1/users/{admin.id}/password", json={"password": "a-brand-new-password"}
    )

    assert response.status_code == 204
    assert (await as_admin.get("/api/v1/me")).status_code == 200
    assert (await other.client.get("/api/v1/me")).status_code == 401
