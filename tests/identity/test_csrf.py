"""Cookie-authenticated API changes must carry the CSRF token, as the console's own scripts do."""

from __future__ import annotations

import httpx

from switchboard.identity.schemas import UserOut
from switchboard.identity.tables import Group
from tests.identity.conftest import OpenBrowser
from tests.identity.support import PASSWORD, answer, error

CSRF_FAILED = error(403, "csrf_failed", "The CSRF token is missing or wrong: reload the page and try again.")


async def signed_in_browser(open_browser: OpenBrowser, email: str) -> httpx.AsyncClient:
    """Signed in by cookie, with the CSRF cookie set but no header added to requests."""
    browser = await open_browser()
    assert (await browser.sign_in(email, PASSWORD)).status_code == 303
    return browser.client


async def test_a_cookie_authenticated_change_without_the_csrf_header_is_refused(
    admin: UserOut, member: UserOut, open_browser: OpenBrowser
) -> None:
    client = await signed_in_browser(open_browser, admin.email)

    results = [
        answer(await client.post("/api/v1/groups", json={"name": "Sales"})),
        answer(await client.patch(f"/api/v1/users/{member.id}", json={"role": "admin"})),
        answer(
            await client.post(f"/api/v1/users/{member.id}/password", json={"password": "stolen-password"})
        ),
    ]

    assert results == [CSRF_FAILED] * 3
    assert await Group.count() == 0
    assert (await client.get(f"/api/v1/users/{member.id}")).json()["role"] == "member"


async def test_a_wrong_or_foreign_csrf_header_is_refused(admin: UserOut, open_browser: OpenBrowser) -> None:
    client = await signed_in_browser(open_browser, admin.email)
    attacker = (await open_browser()).client
    await attacker.get("/login")

    wrong = await client.post("/api/v1/groups", json={"name": "Sales"}, headers={"x-csrftoken": "forged"})
    foreign = await client.post(
        "/api/v1/groups", json={"name": "Sales"}, headers={"x-csrftoken": attacker.cookies["sb_csrf"]}
    )

    assert (answer(wrong), answer(foreign)) == (CSRF_FAILED, CSRF_FAILED)
    assert await Group.count() == 0


async def test_a_cookie_authenticated_change_with_the_csrf_header_succeeds(
    admin: UserOut, open_browser: OpenBrowser
) -> None:
    client = await signed_in_browser(open_browser, admin.email)

    response = await client.post(
        "/api/v1/groups", json={"name": "Sales"}, headers={"x-csrftoken": client.cookies["sb_csrf"]}
    )

    assert (response.status_code, response.json()["name"]) == (201, "Sales")


async def test_reading_needs_no_csrf_header(admin: UserOut, open_browser: OpenBrowser) -> None:
    client = await signed_in_browser(open_browser, admin.email)

    response = await client.get("/api/v1/users")

    assert response.status_code == 200


async def test_a_csrf_cookie_and_header_taken_from_an_anonymous_page_do_not_pass_with_an_admins_session(
    admin: UserOut, member: UserOut, open_browser: OpenBrowser
) -> None:
    client = await signed_in_browser(open_browser, admin.email)
    attacker = (await open_browser()).client
    await attacker.get("/login")
    # A page on a sibling origin of the same site can set cookies for this one.
    client.cookies.delete("sb_csrf")
    client.cookies.set("sb_csrf", attacker.cookies["sb_csrf"], domain="testserver.local")
    planted = {"x-csrftoken": attacker.cookies["sb_csrf"]}

    results = [
        answer(await client.post("/api/v1/groups", json={"name": "Sales"}, headers=planted)),
        answer(await client.patch(f"/api/v1/users/{member.id}", json={"role": "admin"}, headers=planted)),
    ]

    assert results == [CSRF_FAILED] * 2
    assert await Group.count() == 0
    assert (await client.get(f"/api/v1/users/{member.id}")).json()["role"] == "member"


async def test_the_csrf_cookie_after_sign_in_holds_the_sessions_own_token(
    admin: UserOut, open_browser: OpenBrowser
) -> None:
    browser = await open_browser()
    await browser.client.get("/login")
    anonymous = browser.client.cookies["sb_csrf"]

    response = await browser.sign_in(admin.email, PASSWORD)

    set_cookies = response.headers.get_list("set-cookie")
    assert [cookie.split("=")[0] for cookie in set_cookies] == ["sb_session", "sb_csrf"]
    assert browser.client.cookies["sb_csrf"] != anonymous
    changed = await browser.client.post(
        "/api/v1/groups", json={"name": "Sales"}, headers={"x-csrftoken": browser.client.cookies["sb_csrf"]}
    )
    assert changed.status_code == 201
