"""The whole product with real parts: the official MCP SDK client, Switchboard served over HTTP, Chromium
for the person, and Demo Tasks as the third-party app.

The client knows only the demo server's URL. It discovers the authorization server from the 401,
registers, and hands the authorization URL to the person, who signs in and allows it in the browser. A
tool call that needs Alice's own Demo Tasks account answers with her connect link; she connects in the
browser, and the same call then creates the task in her own list.

The SDK client runs in its own thread and event loop; the browser stays in the test's thread (Playwright's
sync API), and the two hand each other the authorization URL, the redirect and the connect link.
"""

from __future__ import annotations

import asyncio
import queue
import re
import threading
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx2
import mcp_types as types
from mcp.client.auth import OAuthClientProvider
from mcp.client.session import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import AuthorizationCodeResult, OAuthClientMetadata
from playwright.sync_api import Page, expect
from pydantic import AnyUrl

from switchboard.identity.deps import IdentityServices
from switchboard.platform.core.database import Database
from switchboard.platform.core.settings import Settings
from tests.e2e.live_server import SECRET_KEY, LiveServer
from tests.e2e.steps import ALICE, expect_heading, expect_path, sign_in, unique
from tests.e2e.test_connections import disconnect_demo_tasks, sign_in_to_demo_tasks_and_allow
from tests.e2e.test_oauth import Callback
from tests.e2e.test_oauth import callback as callback  # the fixture
from tests.support.actors import SETUP
from tests.support.mcp_client import MemoryStorage
from tests.support.runner import run_async

WAIT = 60


def _text(result: types.CallToolResult) -> str:
    return "\n".join(block.text for block in result.content if isinstance(block, types.TextContent))


class Handoff:
    """What passes between the client's thread and the browser's."""

    def __init__(self) -> None:
        self.authorization_urls: queue.Queue[str] = queue.Queue()
        self.callbacks: queue.Queue[dict[str, str]] = queue.Queue()
        self.answers: queue.Queue[tuple[str, Any]] = queue.Queue()
        self.connected: queue.Queue[bool] = queue.Queue()

    def next_answer(self) -> tuple[str, Any]:
        kind, value = self.answers.get(timeout=WAIT)
        if kind == "error":
            raise AssertionError(f"the MCP client failed: {value!r}") from value
        return kind, value


@asynccontextmanager
async def consented_session(url: str, redirect_uri: str, handoff: Handoff) -> AsyncIterator[ClientSession]:
    """An initialized MCP session whose sign-in and consent the browser completes: the authorization URL
    goes out through ``handoff``, the callback's query comes back through it."""

    async def redirect_handler(authorization_url: str) -> None:
        handoff.authorization_urls.put(authorization_url)

    async def callback_handler() -> AuthorizationCodeResult:
        query = await asyncio.to_thread(handoff.callbacks.get, True, WAIT)
        return AuthorizationCodeResult(code=query["code"], state=query.get("state"), iss=query.get("iss"))

    provider = OAuthClientProvider(
        server_url=url,
        client_metadata=OAuthClientMetadata(
            client_name="E2E MCP client", redirect_uris=[AnyUrl(redirect_uri)]
        ),
        storage=MemoryStorage(),
        redirect_handler=redirect_handler,
        callback_handler=callback_handler,
    )
    async with (
        httpx2.AsyncClient(auth=provider, timeout=30) as http,
        streamable_http_client(url, http_client=http) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        yield session


def run_client(script: Callable[[], Coroutine[Any, Any, None]], handoff: Handoff) -> threading.Thread:
    """``script`` in a thread and event loop of its own; a failure is handed to the test's thread."""

    def run() -> None:
        try:
            asyncio.run(script())
        except BaseException as exc:
            handoff.answers.put(("error", exc))

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


async def _client(url: str, redirect_uri: str, title: str, handoff: Handoff) -> None:
    async with consented_session(url, redirect_uri, handoff) as session:
        handoff.answers.put(("tools", [tool.name for tool in (await session.list_tools()).tools]))
        handoff.answers.put(("first", await session.call_tool("create_task", {"title": title})))
        await asyncio.to_thread(handoff.connected.get, True, WAIT * 2)
        handoff.answers.put(("second", await session.call_tool("create_task", {"title": title})))
        handoff.answers.put(("listed", await session.call_tool("list_tasks", {})))


def _approve(server: LiveServer, client_id: str) -> None:
    """An admin approves the newly registered client (the demo's registration policy asks for it)."""

    async def work() -> None:
        settings = Settings(
            secret_key=SECRET_KEY,
            base_url=server.url,
            database_url=server.env["SWITCHBOARD_DATABASE_URL"],
            data_dir=str(server.data_dir),
        )
        database = Database(settings.database_url, pool_size=1)
        await database.connect()
        try:
            await IdentityServices.from_settings(settings).oauth.clients.approve(client_id, actor=SETUP)
        finally:
            await database.close()

    run_async(work())


def test_an_mcp_client_signs_alice_in_and_her_tool_call_reaches_her_own_demo_tasks_list(
    page: Page, live_server: LiveServer, callback: Callback
) -> None:
    url = f"{live_server.url}/mcp/demo"
    title = unique("Send the quote")
    handoff = Handoff()
    client = run_client(lambda: _client(url, callback.uri, title, handoff), handoff)

    # The person: signed in to Switchboard, allows the client on the consent page.
    sign_in(page, ALICE)
    authorization_url = handoff.authorization_urls.get(timeout=WAIT)
    query = parse_qs(urlsplit(authorization_url).query)
    assert query["resource"] == [url]
    assert query["code_challenge_method"] == ["S256"]
    _approve(live_server, query["client_id"][0])

    page.goto(authorization_url)
    expect_heading(page, "Allow E2E MCP client to use Switchboard as you?")
    page.get_by_role("button", name="Allow").click()
    expect_path(page, r"^/callback\?")
    handoff.callbacks.put(callback.received[-1])

    assert handoff.next_answer() == ("tools", ["create_task", "list_tasks", "whoami"])
    kind, first = handoff.next_answer()
    assert kind == "first"
    assert first.is_error
    link = re.search(rf"{re.escape(live_server.url)}/connect/\S+?(?= |$)", _text(first))
    assert link, _text(first)

    # Her own Demo Tasks account, connected once in the browser.
    page.goto(link.group(0))
    page.get_by_role("button", name="Continue to Demo Tasks").click()
    sign_in_to_demo_tasks_and_allow(page, ALICE)
    expect_heading(page, "Demo Tasks connected")
    handoff.connected.put(True)

    kind, second = handoff.next_answer()
    assert kind == "second"
    assert not second.is_error, _text(second)
    assert _text(second) == f"Created the task “{title}”."
    kind, listed = handoff.next_answer()
    assert f"- {title}" in _text(listed).splitlines()
    client.join(timeout=WAIT)
    page.goto("/demo-tasks/")
    expect(page.get_by_text(title)).to_be_visible()
    disconnect_demo_tasks(page)  # as other tests expect to find Alice: not connected
