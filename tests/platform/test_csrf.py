"""CSRF: forms and cookie-authenticated API calls need the token; unauthenticated API calls do not."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from litestar import Litestar, get, post
from litestar.config.csrf import CSRFConfig
from litestar.middleware import DefineMiddleware

from switchboard.platform.core.csrf import BearerExemptCSRFMiddleware
from tests.conftest import TEST_SECRET


@post("/api/v1/things", sync_to_thread=False, status_code=200)
def api_change() -> str:
    return "changed"


@get("/login", sync_to_thread=False)
def form_page() -> str:
    return "the form"


@post("/login", sync_to_thread=False, status_code=200)
def form_post() -> str:
    return "signed in"


@pytest.fixture
async def browser() -> AsyncIterator[httpx.AsyncClient]:
    csrf = CSRFConfig(secret=TEST_SECRET, cookie_name="sb_csrf")
    app = Litestar(
        [api_change, form_page, form_post],
        middleware=[DefineMiddleware(BearerExemptCSRFMiddleware, config=csrf, session_cookie="sb_session")],
        logging_config=None,
    )
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        yield client


async def test_a_form_post_without_the_token_is_refused_even_without_a_session(
    browser: httpx.AsyncClient,
) -> None:
    response = await browser.post("/login", data={"email": "a@example.com"})
    assert response.status_code == 403


async def test_an_api_change_with_a_session_cookie_but_no_token_is_refused(
    browser: httpx.AsyncClient,
) -> None:
    response = await browser.post("/api/v1/things", cookies={"sb_session": "a-session"})
    assert response.status_code == 403


async def test_an_api_change_without_any_session_cookie_passes_on_to_authentication(
    browser: httpx.AsyncClient,
) -> None:
    response = await browser.post("/api/v1/things", cookies={"other": "cookie"})
    assert (response.status_code, response.text) == (200, "changed")


async def test_an_api_change_with_a_bearer_token_needs_no_csrf_token(browser: httpx.AsyncClient) -> None:
    response = await browser.post(
        "/api/v1/things", headers={"Authorization": "Bearer sbt_abc"}, cookies={"sb_session": "a-session"}
    )
    assert (response.status_code, response.text) == (200, "changed")


async def test_an_empty_bearer_header_does_not_exempt_a_cookie_request(browser: httpx.AsyncClient) -> None:
    response = await browser.post(
        "/api/v1/things", headers={"Authorization": "Bearer "}, cookies={"sb_session": "a-session"}
    )
    assert response.status_code == 403


async def test_an_api_change_with_the_double_submitted_token_passes(browser: httpx.AsyncClient) -> None:
    await browser.get("/login")  # opening a page sets the CSRF cookie
    token = browser.cookies["sb_csrf"]
    response = await browser.post(
        "/api/v1/things", headers={"x-csrftoken": token}, cookies={"sb_session": "a-session"}
    )
    assert (response.status_code, response.text) == (200, "changed")
