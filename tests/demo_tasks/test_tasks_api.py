"""The tasks API and userinfo: bearer tokens (RFC 6750), scopes, and each account's own tasks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from switchboard.platform.demo_tasks.clients import DemoClient
from switchboard.platform.demo_tasks.tables import Account, Token
from tests.demo_tasks.support import DemoTasksBrowser
from tests.ui.html import Page


@pytest.fixture
async def alice(browser: DemoTasksBrowser, oauth_client: DemoClient) -> dict[str, str]:
    return await browser.tokens_for(oauth_client, "alice@example.com")


async def test_a_task_created_with_tasks_write_is_listed_for_its_owner(
    browser: DemoTasksBrowser, alice: dict[str, str]
) -> None:
    created = await browser.add_task(alice["access_token"], {"title": "  Call the supplier  "})

    assert created.status_code == 201
    task = created.json()
    assert set(task) == {"id", "title", "done", "created_at"}
    assert task["title"] == "Call the supplier"
    assert task["done"] is False
    assert abs(datetime.fromisoformat(task["created_at"]) - datetime.now(UTC)) < timedelta(minutes=1)
    listed = await browser.tasks(alice["access_token"])
    assert listed.status_code == 200
    assert listed.json() == {"tasks": [task]}


async def test_each_account_sees_only_its_own_tasks(
    browser: DemoTasksBrowser, oauth_client: DemoClient, alice: dict[str, str]
) -> None:
    bob = await browser.tokens_for(oauth_client, "bob@example.com")
    await browser.add_task(alice["access_token"], {"title": "Alice's first"})
    await browser.add_task(alice["access_token"], {"title": "Alice's second"})
    await browser.add_task(bob["access_token"], {"title": "Bob's"})

    alices = (await browser.tasks(alice["access_token"])).json()["tasks"]
    bobs = (await browser.tasks(bob["access_token"])).json()["tasks"]

    assert [task["title"] for task in alices] == ["Alice's first", "Alice's second"]
    assert [task["title"] for task in bobs] == ["Bob's"]


async def test_the_home_page_shows_the_task_a_client_made(
    browser: DemoTasksBrowser, alice: dict[str, str]
) -> None:
    await browser.add_task(alice["access_token"], {"title": "Made by an assistant"})
    await browser.sign_in("alice@example.com")

    home = await browser.http.get(browser.url("/"))

    titles = [" ".join(item.text.split()) for item in Page(home.text).all("li")]
    assert len(titles) == 1
    assert titles[0].startswith("Made by an assistant ·")


async def test_reading_needs_tasks_read(browser: DemoTasksBrowser, oauth_client: DemoClient) -> None:
    writer = await browser.tokens_for(oauth_client, "alice@example.com", scope="tasks:write")

    response = await browser.tasks(writer["access_token"])

    assert response.status_code == 403
    assert response.headers["www-authenticate"] == 'Bearer error="insufficient_scope", scope="tasks:read"'
    assert response.json() == {
        "error": "insufficient_scope",
        "error_description": "This access token was not granted tasks:read.",
    }


async def test_writing_needs_tasks_write_and_creates_nothing_without_it(
    browser: DemoTasksBrowser, oauth_client: DemoClient
) -> None:
    reader = await browser.tokens_for(oauth_client, "alice@example.com", scope="tasks:read")

    response = await browser.add_task(reader["access_token"], {"title": "Not allowed"})

    assert response.status_code == 403
    assert response.headers["www-authenticate"] == 'Bearer error="insufficient_scope", scope="tasks:write"'
    assert response.json()["error"] == "insufficient_scope"
    assert (await browser.tasks(reader["access_token"])).json() == {"tasks": []}


async def test_a_missing_or_unknown_token_is_refused_with_invalid_token(browser: DemoTasksBrowser) -> None:
    cases = [
        (None, "Send an access token as Authorization: Bearer."),
        ("Bearer dta_made-up", "The access token is unknown or revoked."),
        ("Basic YTpi", "Send an access token as Authorization: Bearer."),
    ]
    for authorization, description in cases:
        headers = {"Authorization": authorization} if authorization else {}

        listed = await browser.http.get(browser.url("/api/tasks"), headers=headers)
        created = await browser.http.post(browser.url("/api/tasks"), json={"title": "x"}, headers=headers)
        userinfo = await browser.http.get(browser.url("/userinfo"), headers=headers)

        for response in (listed, created, userinfo):
            assert response.status_code == 401, authorization
            assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'
            assert response.json() == {"error": "invalid_token", "error_description": description}


async def test_an_expired_access_token_is_refused(browser: DemoTasksBrowser, alice: dict[str, str]) -> None:
    await Token.update({Token.expires_at: datetime.now(UTC) - timedelta(seconds=1)}).where(
        Token.kind == "access"
    )

    response = await browser.tasks(alice["access_token"])

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    assert response.json()["error_description"] == "The access token has expired."


async def test_a_refresh_token_is_not_an_access_token(
    browser: DemoTasksBrowser, alice: dict[str, str]
) -> None:
    response = await browser.tasks(alice["refresh_token"])

    assert response.status_code == 401


BAD_TITLES = [
    ({"title": ""}, "The title must be 1 to 200 characters long (it has 0)."),
    ({"title": "   "}, "The title must be 1 to 200 characters long (it has 0)."),
    ({"title": "x" * 201}, "The title must be 1 to 200 characters long (it has 201)."),
    ({"title": 42}, "The title must be a text of 1 to 200 characters."),
    ({"title": "two\nlines"}, "The title must be one line, without control characters."),
    ({}, "The title is missing."),
    (["title"], 'Send a JSON object such as {"title": "Call Bob"}.'),
]


async def test_a_bad_title_is_refused_with_422_and_a_clear_message(
    browser: DemoTasksBrowser, alice: dict[str, str]
) -> None:
    for body, message in BAD_TITLES:
        response = await browser.add_task(alice["access_token"], body)

        assert response.status_code == 422, body
        assert response.json()["message"] == message, body
        assert response.json()["error"] == "invalid_input"
    assert (await browser.tasks(alice["access_token"])).json() == {"tasks": []}


async def test_a_title_of_200_characters_is_accepted(
    browser: DemoTasksBrowser, alice: dict[str, str]
) -> None:
    response = await browser.add_task(alice["access_token"], {"title": "x" * 200})

    assert response.status_code == 201
    assert response.json()["title"] == "x" * 200


async def test_a_body_that_is_not_json_is_refused(browser: DemoTasksBrowser, alice: dict[str, str]) -> None:
    response = await browser.http.post(
        browser.url("/api/tasks"),
        content=b"title=x",
        headers={"Authorization": f"Bearer {alice['access_token']}", "Content-Type": "text/plain"},
    )

    assert response.status_code == 422
    assert response.json()["message"] == 'Send a JSON object such as {"title": "Call Bob"}.'


async def test_userinfo_names_the_account_behind_the_token(
    browser: DemoTasksBrowser, alice: dict[str, str]
) -> None:
    response = await browser.http.get(
        browser.url("/userinfo"), headers={"Authorization": f"Bearer {alice['access_token']}"}
    )

    account = await Account.select(Account.id).where(Account.email == "alice@example.com").first()
    assert account is not None
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    assert response.json() == {
        "sub": str(account["id"]),
        "email": "alice@example.com",
        "name": "Alice Anders",
    }
