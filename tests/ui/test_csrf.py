"""Every form needs the CSRF token of the browser that opened it; without it nothing changes."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator

import httpx
import pytest
from litestar import Litestar

from tests.support.web import Browserless, csrf_from
from tests.ui.conftest import ADMIN, ALICE, BOB, Demo
from tests.ui.html import Page

EXPIRED_FORM = "This form has expired or was sent from another site. Go back, reload the page and try again."


@pytest.fixture
async def other_browser(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 51001))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as client:
        yield client


async def bad_tokens(other_browser: httpx.AsyncClient) -> dict[str, dict[str, str]]:
    """The token field as a forged or replayed form would carry it."""
    foreign = csrf_from((await other_browser.get("/login")).text)
    return {
        "missing": {},
        "made up": {"_csrf_token": secrets.token_hex(32)},
        "from another browser": {"_csrf_token": foreign},
    }


async def assert_refused(
    web: Browserless,
    other_browser: httpx.AsyncClient,
    page_path: str,
    action: str,
    data: dict[str, str],
) -> None:
    await web.client.get(page_path)  # the browser has its CSRF cookie, as after opening the page
    for kind, token in (await bad_tokens(other_browser)).items():
        response = await web.client.post(action, data={**data, **token}, follow_redirects=False)
        assert response.status_code == 403, f"{kind} token: {response.status_code}"
        page = Page(response.text)
        assert page.all("h1")[0].text == "This form has expired", kind
        assert EXPIRED_FORM in page.text, kind
        # Whoever is signed in stays so, and the page keeps their menu (a sign-in form has nobody yet).
        assert ("Signed in as" in page.text) == (action != "/login"), kind
        assert "set-cookie" not in response.headers or "sb_session=" not in response.headers["set-cookie"]


async def test_creating_a_user_without_the_forms_token_is_refused_and_creates_nobody(
    as_admin: Browserless, other_browser: httpx.AsyncClient, demo: Demo
) -> None:
    data = {"email": "mallory@example.com", "name": "Mallory", "password": "long-enough-1", "role": "owner"}
    await assert_refused(as_admin, other_browser, "/console/users", "/console/users", data)
    assert "mallory@example.com" not in await demo.emails()


async def test_deactivating_a_user_without_the_forms_token_leaves_them_active(
    as_admin: Browserless, other_browser: httpx.AsyncClient, demo: Demo
) -> None:
    bob = await demo.user(BOB)
    page = f"/console/users/{bob.id}"
    await assert_refused(as_admin, other_browser, page, f"{page}/active", {"active": "0"})
    assert (await demo.user(BOB)).is_active


async def test_resetting_a_password_without_the_forms_token_keeps_the_old_password(
    as_admin: Browserless, other_browser: httpx.AsyncClient, demo: Demo
) -> None:
    alice = await demo.user(ALICE)
    page = f"/console/users/{alice.id}"
    await assert_refused(as_admin, other_browser, page, f"{page}/password", {"password": "taken-over-99"})
    assert (await Browserless(other_browser).sign_in(ALICE)).status_code == 303


async def test_creating_or_deleting_a_group_without_the_forms_token_changes_no_group(
    as_admin: Browserless, other_browser: httpx.AsyncClient, demo: Demo
) -> None:
    await assert_refused(as_admin, other_browser, "/console/groups", "/console/groups", {"name": "Forged"})
    sales = await demo.sales()
    page = f"/console/groups/{sales.id}"
    await assert_refused(as_admin, other_browser, page, f"{page}/delete", {})
    await assert_refused(as_admin, other_browser, page, f"{page}/members", {"email": BOB})
    assert await demo.group_names() == {"Sales"}
    assert [member.email for member in (await demo.sales()).members] == [ALICE]


async def test_creating_an_api_token_without_the_forms_token_creates_none(
    as_admin: Browserless, other_browser: httpx.AsyncClient
) -> None:
    await assert_refused(
        as_admin, other_browser, "/console/api-tokens", "/console/api-tokens", {"name": "exfiltrate"}
    )
    tokens_page = Page((await as_admin.client.get("/console/api-tokens")).text)
    assert "No API tokens yet." in tokens_page.text


async def test_signing_out_without_the_forms_token_keeps_the_session(
    as_admin: Browserless, other_browser: httpx.AsyncClient
) -> None:
    await assert_refused(as_admin, other_browser, "/me", "/logout", {})
    assert (await as_admin.client.get("/me")).status_code == 200


async def test_signing_in_without_the_forms_token_opens_no_session(
    web: Browserless, other_browser: httpx.AsyncClient, demo: Demo
) -> None:
    credentials = {"email": ALICE, "password": "switchboard-demo"}
    await assert_refused(web, other_browser, "/login", "/login", credentials)
    response = await web.client.get("/me", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Fme"


def plant_csrf_cookie(victim: httpx.AsyncClient, value: str) -> None:
    """What a page on a sibling origin of the same site can do: put its own ``sb_csrf`` in the jar."""
    victim.cookies.delete("sb_csrf")
    victim.cookies.set("sb_csrf", value, domain="testserver.local")


async def test_a_token_and_cookie_taken_anonymously_from_the_sign_in_page_do_not_pass_with_an_admins_session(
    as_admin: Browserless, other_browser: httpx.AsyncClient, demo: Demo
) -> None:
    anonymous_token = csrf_from((await other_browser.get("/login")).text)
    plant_csrf_cookie(as_admin.client, other_browser.cookies["sb_csrf"])

    data = {"email": "mallory@example.com", "name": "Mallory", "password": "long-enough-1", "role": "owner"}
    response = await as_admin.client.post(
        "/console/users", data={"_csrf_token": anonymous_token, **data}, follow_redirects=False
    )

    assert response.status_code == 403, response.headers.get("location")
    assert Page(response.text).all("h1")[0].text == "This form has expired"
    assert "mallory@example.com" not in await demo.emails()


async def test_another_sessions_token_does_not_pass_even_for_the_same_person(
    web: Browserless, other_browser: httpx.AsyncClient, demo: Demo
) -> None:
    laptop, phone = web, Browserless(other_browser)
    assert (await laptop.sign_in(ADMIN)).status_code == 303
    assert (await phone.sign_in(ADMIN)).status_code == 303
    phones_token = csrf_from((await phone.client.get("/console/groups")).text)
    plant_csrf_cookie(laptop.client, phone.client.cookies["sb_csrf"])

    response = await laptop.client.post(
        "/console/groups", data={"_csrf_token": phones_token, "name": "Forged"}, follow_redirects=False
    )

    assert response.status_code == 403
    assert await demo.group_names() == {"Sales"}


async def test_signing_in_issues_a_new_token_and_the_sign_in_pages_token_stops_working(
    web: Browserless, demo: Demo
) -> None:
    sign_in_token = csrf_from((await web.client.get("/login")).text)

    assert (await web.sign_in(ADMIN)).status_code == 303
    console_token = csrf_from((await web.client.get("/console/groups")).text)
    stale = await web.client.post(
        "/console/groups", data={"_csrf_token": sign_in_token, "name": "Stale"}, follow_redirects=False
    )
    fresh = await web.client.post(
        "/console/groups", data={"_csrf_token": console_token, "name": "Fresh"}, follow_redirects=False
    )

    assert console_token != sign_in_token
    assert (stale.status_code, fresh.status_code) == (403, 303)
    assert await demo.group_names() == {"Sales", "Fresh"}


async def test_signing_out_ends_the_sessions_token(web: Browserless, demo: Demo) -> None:
    assert (await web.sign_in(ADMIN)).status_code == 303
    old_token = csrf_from((await web.client.get("/console/groups")).text)

    assert (await web.submit("/me", "/logout", {})).status_code == 303
    assert "sb_csrf" not in web.client.cookies
    assert (await web.sign_in(ADMIN)).status_code == 303
    response = await web.client.post(
        "/console/groups", data={"_csrf_token": old_token, "name": "Replayed"}, follow_redirects=False
    )

    assert response.status_code == 403
    assert await demo.group_names() == {"Sales"}


async def test_a_browser_whose_session_ended_on_the_server_can_still_sign_in(
    web: Browserless, other_browser: httpx.AsyncClient, demo: Demo
) -> None:
    assert (await web.sign_in(ALICE)).status_code == 303
    admin = Browserless(other_browser)
    assert (await admin.sign_in(ADMIN)).status_code == 303
    alice = await demo.user(ALICE)
    page = f"/console/users/{alice.id}"
    reset = await admin.submit(page, f"{page}/password", {"password": "a-brand-new-one-9"})
    assert reset.status_code == 303

    # Alice's browser still sends the session cookie that no longer opens anything.
    assert "sb_session" in web.client.cookies
    response = await web.sign_in(ALICE, "a-brand-new-one-9")

    assert (response.status_code, response.headers["location"]) == (303, "/me")
    assert (await web.client.get("/me")).status_code == 200


async def test_a_browser_that_dropped_its_session_cookie_but_kept_the_sessions_token_can_sign_in(
    web: Browserless, demo: Demo
) -> None:
    assert (await web.sign_in(ALICE)).status_code == 303
    web.client.cookies.delete("sb_session")  # expired in the browser; the session's CSRF cookie stays

    response = await web.sign_in(ALICE)

    assert (response.status_code, response.headers["location"]) == (303, "/me")


@pytest.mark.parametrize("token", ["é" * 200, "0" * 10_000, ""], ids=["non-ASCII", "very long", "empty"])
async def test_a_malformed_token_is_refused_like_a_wrong_one(
    as_admin: Browserless, demo: Demo, token: str
) -> None:
    await as_admin.client.get("/console/groups")
    response = await as_admin.client.post(
        "/console/groups", data={"_csrf_token": token, "name": "Forged"}, follow_redirects=False
    )

    assert response.status_code == 403
    assert Page(response.text).all("h1")[0].text == "This form has expired"
    assert await demo.group_names() == {"Sales"}
