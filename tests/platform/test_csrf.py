"""CSRF: forms and cookie-authenticated API calls need the token; unauthenticated API calls do not."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import httpx
import pytest
from litestar import Litestar, Request, Response, get, post
from litestar.config.csrf import CSRFConfig
from litestar.middleware import DefineMiddleware

from switchboard.platform.core.csrf import BearerExemptCSRFMiddleware, csrf_token_of
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


@get("/token", sync_to_thread=False)
def token_page(request: Request[object, object, object]) -> str:
    return csrf_token_of(request.scope) or ""


@post("/session", sync_to_thread=False, status_code=200)
def start_session() -> Response[str]:
    response = Response("signed in")
    response.set_cookie("sb_session", "the-new-session", httponly=True)
    return response


@post("/session/end", sync_to_thread=False, status_code=200)
def end_session() -> Response[str]:
    response = Response("signed out")
    response.set_cookie("sb_session", "", max_age=0, expires=0, httponly=True)
    return response


@pytest.fixture
async def browser() -> AsyncIterator[httpx.AsyncClient]:
    csrf = CSRFConfig(secret=TEST_SECRET, cookie_name="sb_csrf", cookie_httponly=True)
    app = Litestar(
        [api_change, form_page, form_post, token_page, start_session, end_session],
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


async def test_an_api_change_with_the_sessions_token_passes(browser: httpx.AsyncClient) -> None:
    browser.cookies.set("sb_session", "a-session", domain="test.local")
    await browser.get("/login")  # opening a page sets the CSRF cookie to the session's token
    token = browser.cookies["sb_csrf"]
    response = await browser.post("/api/v1/things", headers={"x-csrftoken": token})
    assert (response.status_code, response.text) == (200, "changed")


async def test_an_anonymous_token_and_cookie_do_not_pass_with_a_session_cookie(
    browser: httpx.AsyncClient,
) -> None:
    anonymous = (await browser.get("/token")).text
    assert browser.cookies["sb_csrf"] == anonymous
    browser.cookies.set("sb_session", "a-session", domain="test.local")

    api = await browser.post("/api/v1/things", headers={"x-csrftoken": anonymous})
    form = await browser.post("/login", data={"_csrf_token": anonymous})

    assert (api.status_code, form.status_code) == (403, 403)


async def test_a_sessions_token_does_not_pass_with_another_session(browser: httpx.AsyncClient) -> None:
    browser.cookies.set("sb_session", "session-a", domain="test.local")
    token_a = (await browser.get("/token")).text
    browser.cookies.set("sb_session", "session-b", domain="test.local")

    refused = await browser.post("/login", data={"_csrf_token": token_a})
    token_b = (await browser.get("/token")).text
    passed = await browser.post("/login", data={"_csrf_token": token_b})

    assert token_a != token_b
    assert (refused.status_code, passed.status_code) == (403, 200)


async def test_starting_a_session_issues_its_token_and_ending_it_clears_the_cookie(
    browser: httpx.AsyncClient,
) -> None:
    anonymous = (await browser.get("/token")).text

    started = await browser.post("/session", data={"_csrf_token": anonymous})
    issued = browser.cookies["sb_csrf"]
    page_token = (await browser.get("/token")).text
    ended = await browser.post("/session/end", data={"_csrf_token": issued})

    assert started.status_code == 200
    assert issued == page_token != anonymous
    assert "HttpOnly" in started.headers.get_list("set-cookie")[-1]
    assert ended.status_code == 200
    assert "sb_csrf" not in browser.cookies
    assert (await browser.post("/login", data={"_csrf_token": issued})).status_code == 403


async def test_a_csrf_cookie_the_server_did_not_sign_is_replaced_by_a_new_one(
    browser: httpx.AsyncClient,
) -> None:
    browser.cookies.set("sb_csrf", "not-signed-by-the-server", domain="test.local")

    token = (await browser.get("/token")).text
    response = await browser.post("/login", data={"_csrf_token": token})

    assert token != "not-signed-by-the-server"
    assert browser.cookies["sb_csrf"] == token
    assert (response.status_code, response.text) == (200, "signed in")


@pytest.mark.parametrize("session", [None, "a-session"], ids=["anonymous", "with a session"])
async def test_a_non_ascii_token_is_refused_like_a_wrong_one(
    browser: httpx.AsyncClient, session: str | None
) -> None:
    if session:
        browser.cookies.set("sb_session", session, domain="test.local")
    await browser.get("/token")

    response = await browser.post("/login", data={"_csrf_token": "\u00e9" * 200})

    assert response.status_code == 403


async def test_a_refused_token_is_logged_with_the_reason_but_never_the_token(
    browser: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    anonymous = (await browser.get("/token")).text
    browser.cookies.set("sb_session", "a-session", domain="test.local")

    with caplog.at_level(logging.INFO, logger="switchboard.csrf"):
        await browser.post("/login", data={"_csrf_token": anonymous})
        await browser.post("/login", data={})

    assert [record.getMessage() for record in caplog.records] == [
        "CSRF check refused POST /login: not this session's token",
        "CSRF check refused POST /login: no token sent",
    ]
    assert anonymous not in caplog.text
