"""Every form needs the CSRF token of the browser that opened it; without it nothing changes."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator

import httpx
import pytest
from litestar import Litestar

from tests.support.web import Browserless, csrf_from
from tests.ui.conftest import ALICE, BOB, Demo
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
