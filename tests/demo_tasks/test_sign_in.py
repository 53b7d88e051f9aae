"""Signing in to Demo Tasks: its own page, accounts, session cookie and CSRF protection."""

from __future__ import annotations

from http.cookies import SimpleCookie

import httpx

from switchboard.platform.demo_tasks import accounts
from switchboard.platform.demo_tasks.tables import Account
from tests.demo_tasks.support import ISSUER, DemoTasksBrowser
from tests.ui.html import Page


def _set_cookie(response: httpx.Response, name: str) -> dict[str, str] | None:
    for header in response.headers.get_list("set-cookie"):
        cookie = SimpleCookie()
        cookie.load(header)
        if name in cookie:
            morsel = cookie[name]
            return {"value": morsel.value, **{key: str(value) for key, value in morsel.items() if value}}
    return None


async def test_the_sign_in_page_says_it_is_demo_tasks_and_asks_for_email_and_password(
    browser: DemoTasksBrowser,
) -> None:
    response = await browser.http.get(browser.url("/login"))

    assert response.status_code == 200
    page = Page(response.text)
    assert page.all("title")[0].text == "Sign in · Demo Tasks"
    assert page.all("h1")[0].text == "Sign in to Demo Tasks"
    assert page.label_for(page.field("email")) == "Email"
    assert page.label_for(page.field("password")) == "Password"
    assert [button.text for button in page.all("button")] == ["Sign in"]
    assert page.form_of(page.field("email")).attrs["action"] == f"{ISSUER}/login"
    assert response.headers["x-frame-options"] == "DENY"


async def test_a_wrong_password_is_refused_with_an_error_and_no_session(browser: DemoTasksBrowser) -> None:
    response = await browser.sign_in("alice@example.com", "not-the-password")

    assert response.status_code == 400
    assert Page(response.text).by_id("login-error").text == "Wrong email or password."
    assert _set_cookie(response, "demo_tasks_session") is None
    home = await browser.http.get(browser.url("/"))
    assert home.status_code == 303
    assert home.headers["location"] == f"{ISSUER}/login?next=%2F"


async def test_an_unknown_email_gets_the_same_refusal(browser: DemoTasksBrowser) -> None:
    response = await browser.sign_in("nobody@example.com")

    assert response.status_code == 400
    assert Page(response.text).by_id("login-error").text == "Wrong email or password."


async def test_signing_in_sets_a_session_cookie_scoped_to_the_app_and_shows_the_task_list(
    browser: DemoTasksBrowser,
) -> None:
    response = await browser.sign_in("Alice@Example.com")

    assert response.status_code == 303
    assert response.headers["location"] == f"{ISSUER}/"
    cookie = _set_cookie(response, "demo_tasks_session")
    assert cookie is not None
    assert cookie["path"] == "/demo-tasks"
    assert cookie["httponly"] == "True"
    assert cookie["samesite"].lower() == "lax"
    home = await browser.http.get(browser.url("/"))
    assert home.status_code == 200
    page = Page(home.text)
    assert page.all("title")[0].text == "My tasks · Demo Tasks"
    assert page.by_id("account-email").text == "alice@example.com"
    assert "No tasks yet." in page.text


async def test_signing_in_returns_to_the_page_that_asked_but_never_leaves_the_app(
    browser: DemoTasksBrowser,
) -> None:
    back = await browser.submit(
        "/login",
        "/login",
        {"email": "bob@example.com", "password": "switchboard-demo", "next": "/authorize?x=1"},
    )
    browser.http.cookies.clear()
    elsewhere = await browser.submit(
        "/login",
        "/login",
        {"email": "bob@example.com", "password": "switchboard-demo", "next": "//evil.example"},
    )

    assert back.headers["location"] == f"{ISSUER}/authorize?x=1"
    assert elsewhere.headers["location"] == f"{ISSUER}/"


async def test_a_sign_in_without_the_forms_csrf_token_is_refused(browser: DemoTasksBrowser) -> None:
    await browser.http.get(browser.url("/login"))
    response = await browser.http.post(
        browser.url("/login"), data={"email": "alice@example.com", "password": "switchboard-demo"}
    )

    assert response.status_code == 403
    assert "The form expired" in Page(response.text).text
    assert _set_cookie(response, "demo_tasks_session") is None


async def test_the_csrf_cookie_is_scoped_to_the_app(browser: DemoTasksBrowser) -> None:
    response = await browser.http.get(browser.url("/login"))

    cookie = _set_cookie(response, "demo_tasks_csrf")
    assert cookie is not None
    assert cookie["path"] == "/demo-tasks"
    assert cookie["httponly"] == "True"


async def test_an_altered_session_cookie_counts_as_signed_out(browser: DemoTasksBrowser) -> None:
    signed = await browser.sign_in("alice@example.com")
    value = _set_cookie(signed, "demo_tasks_session")
    assert value is not None
    _, _, rest = value["value"].partition(".")
    bob = await Account.select(Account.id).where(Account.email == "bob@example.com").first()
    assert bob is not None
    browser.http.cookies.clear()
    browser.http.cookies.set(
        "demo_tasks_session", f"{bob['id']}.{rest}", domain="testserver.local", path="/demo-tasks"
    )

    home = await browser.http.get(browser.url("/"))

    assert home.status_code == 303
    assert home.headers["location"].startswith(f"{ISSUER}/login")


async def test_signing_out_ends_the_session(browser: DemoTasksBrowser) -> None:
    await browser.sign_in("alice@example.com")

    response = await browser.submit("/", "/logout", {})

    assert response.status_code == 303
    assert response.headers["location"] == f"{ISSUER}/login"
    assert (await browser.http.get(browser.url("/"))).status_code == 303


async def test_the_demo_accounts_are_seeded_once_with_hashed_passwords(
    seeded: list[str], database: object
) -> None:
    again = await accounts.seed_accounts()

    assert seeded == ["admin@example.com", "alice@example.com", "bob@example.com"]
    assert again == []
    rows = await Account.select(Account.email, Account.name, Account.password_hash).order_by(Account.email)
    assert [(row["email"], row["name"]) for row in rows] == [
        ("admin@example.com", "Ada Admin"),
        ("alice@example.com", "Alice Anders"),
        ("bob@example.com", "Bob Berg"),
    ]
    assert all(row["password_hash"].startswith("$argon2id$") for row in rows)
    assert await accounts.authenticate("bob@example.com", "switchboard-demo") is not None
