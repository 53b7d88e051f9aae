"""``/mcp/<slug>`` with the official MCP SDK client, in process, on the demo server.

The client starts from nothing but the server URL: the 401 leads it to the protected resource metadata,
registration, consent (posted by a signed-in browserless session) and a token for exactly this server.
Then it lists and calls tools; each request is checked again, so group removal or client deletion takes
effect on the next one.
"""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from uuid import uuid4

import httpx
import httpx2
import mcp_types as types
import pytest
from litestar import Litestar
from mcp.client.auth import OAuthClientProvider
from mcp.client.session import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import OAuthClientMetadata
from mcp.shared.exceptions import MCPError
from pydantic import AnyUrl

from switchboard.identity.deps import IdentityServices
from switchboard.identity.oauth.models import StaticClientCreate
from switchboard.platform.mcp.audit import ToolCallFilter
from switchboard.platform.mcp.deps import McpServices
from switchboard.platform.mcp.models import AccessMethod, McpServer, ServerCreate, ServerUpdate, ToolAttach
from switchboard.platform.services import Services
from tests.support.actors import SETUP
from tests.support.mcp_client import REDIRECT_URI, ConsentBrowser, ConsentRefused, MemoryStorage
from tests.support.oauth import query_of
from tests.support.web import Browserless
from tests.ui.html import Page

BASE = "http://testserver.local"
DEMO_URL = f"{BASE}/mcp/demo"
PRM_URL = f"{BASE}/.well-known/oauth-protected-resource/mcp/demo"
MCP_HEADERS = {"accept": "application/json, text/event-stream", "content-type": "application/json"}


@dataclass
class Signed:
    """An MCP client signed in as someone: its HTTP client (with the SDK's OAuth provider) and storage."""

    http: httpx2.AsyncClient
    storage: MemoryStorage
    browser: ConsentBrowser


@asynccontextmanager
async def signed_in_client(
    app: Litestar, web: Browserless, email: str, *, url: str = DEMO_URL, scope: str | None = None
) -> AsyncIterator[Signed]:
    await web.sign_in(email)
    storage, consent = MemoryStorage(), ConsentBrowser(web)
    provider = OAuthClientProvider(
        server_url=url,
        client_metadata=OAuthClientMetadata(
            client_name="Test MCP client", redirect_uris=[AnyUrl(REDIRECT_URI)], scope=scope
        ),
        storage=storage,
        redirect_handler=consent.redirect_handler,
        callback_handler=consent.callback_handler,
    )
    transport = httpx2.ASGITransport(app=app, client=("127.0.0.1", 51003))
    async with httpx2.AsyncClient(auth=provider, transport=transport, timeout=30) as http:
        yield Signed(http=http, storage=storage, browser=consent)


@asynccontextmanager
async def mcp_session(
    signed: Signed, url: str = DEMO_URL, *, url_elicitation: bool = False
) -> AsyncIterator[ClientSession]:
    async def elicit(context: Any, params: Any) -> types.ElicitResult:
        return types.ElicitResult(action="decline")

    async with streamable_http_client(url, http_client=signed.http) as (read, write):
        callback = elicit if url_elicitation else None
        async with ClientSession(read, write, elicitation_callback=callback) as session:
            await session.initialize()
            yield session


def _text(result: types.CallToolResult) -> str:
    return "\n".join(block.text for block in result.content if isinstance(block, types.TextContent))


async def test_without_a_token_the_server_names_where_to_get_one(
    running: Litestar, client: httpx.AsyncClient, demo: McpServer
) -> None:
    response = await client.post("/mcp/demo", json={}, headers=MCP_HEADERS)
    metadata = await client.get("/.well-known/oauth-protected-resource/mcp/demo")
    unknown = await client.post("/mcp/nope", json={}, headers=MCP_HEADERS)
    unknown_metadata = await client.get("/.well-known/oauth-protected-resource/mcp/nope")

    assert response.status_code == 401
    challenge = response.headers["www-authenticate"]
    assert challenge == f'Bearer resource_metadata="{PRM_URL}", scope="mcp:tools:* offline_access"'
    assert metadata.status_code == 200
    body = metadata.json()
    assert body["resource"] == DEMO_URL
    assert body["authorization_servers"] == [BASE]
    assert body["scopes_supported"] == [
        "mcp:tools:*",
        "mcp:tools:create_task",
        "mcp:tools:list_tasks",
        "mcp:tools:whoami",
        "offline_access",
    ]
    assert unknown.status_code == 404
    assert unknown.json()["error_description"] == "There is no MCP server nope."
    assert unknown_metadata.status_code == 404


async def test_a_member_of_the_group_signs_in_lists_and_calls_tools(
    running: Litestar, web: Browserless, demo: McpServer
) -> None:
    async with signed_in_client(running, web, "alice@example.com") as signed, mcp_session(signed) as session:
        listed = await session.list_tools()
        whoami = await session.call_tool("whoami", {})
        create = await session.call_tool("create_task", {"title": "Call Bob"})

    tools = {tool.name: tool for tool in listed.tools}
    assert sorted(tools) == ["create_task", "list_tasks", "whoami"]
    assert tools["whoami"].annotations is not None
    assert tools["whoami"].annotations.read_only_hint is True
    assert tools["create_task"].input_schema["required"] == ["title"]
    assert not whoami.is_error, _text(whoami)
    assert "alice@example.com" in _text(whoami)
    assert "Sales" in _text(whoami)
    # Alice never connected Demo Tasks: the tool answers with her own connect link and what to do.
    assert create.is_error
    text = _text(create)
    assert f"{BASE}/connect/" in text
    assert text.startswith("This tool needs your Demo Tasks account. Open http://testserver.local/connect/")
    assert text.endswith("then try again.")
    tokens = signed.storage.tokens
    assert tokens is not None
    assert set((tokens.scope or "").split()) == {"mcp:tools:*", "offline_access"}


async def test_a_client_declaring_url_elicitation_gets_the_connect_link_as_an_elicitation(
    running: Litestar, web: Browserless, demo: McpServer
) -> None:
    async with (
        signed_in_client(running, web, "alice@example.com") as signed,
        mcp_session(signed, url_elicitation=True) as session,
    ):
        try:
            result = await session.call_tool("create_task", {"title": "Call Bob"})
        except MCPError as exc:
            error = exc
        else:
            pytest.fail(f"expected -32042, got {result}")
    assert error.error.code == -32042
    (elicitation,) = error.error.data["elicitations"]
    assert elicitation["mode"] == "url"
    assert elicitation["url"].startswith(f"{BASE}/connect/")


async def test_someone_outside_the_groups_is_refused_before_consent(
    running: Litestar, web: Browserless, demo: McpServer
) -> None:
    async with signed_in_client(running, web, "bob@example.com") as signed:
        with pytest.raises(BaseException) as raised:  # noqa: PT011 (the SDK wraps it: found below)
            async with mcp_session(signed):
                pass
    refused = _find(raised.value, ConsentRefused)
    assert refused.response.status_code == 403
    assert "You do not have access" in refused.response.text
    assert "Ask an administrator to add you to the group “Sales”." in refused.response.text
    assert signed.storage.tokens is None
    # After reading why, the browser takes Bob back to the client, which hears access_denied.
    seconds, _, location = refused.response.headers["refresh"].partition("; url=")
    assert seconds == "6"
    assert location.startswith(REDIRECT_URI + "?")
    answer = query_of(location)
    assert answer["error"] == "access_denied"
    assert answer["error_description"] == (
        "You are not in a group that may use the MCP server Demo. "
        "Ask an administrator to add you to the group 'Sales'."
    )
    assert answer["iss"] == BASE
    assert answer["state"] == query_of(signed.browser.authorization_urls[-1])["state"]
    (back,) = [link for link in Page(refused.response.text).all("a") if "data-return-to" in link.attrs]
    assert back.attrs["href"] == location


async def test_leaving_the_group_or_deleting_the_client_refuses_the_next_request(
    running: Litestar, web: Browserless, services: IdentityServices, demo: McpServer
) -> None:
    sales = await services.groups.get_by_name("Sales")
    async with signed_in_client(running, web, "alice@example.com") as signed:
        async with mcp_session(signed) as session:
            await session.list_tools()
        token = signed.storage.tokens
        client_info = signed.storage.client_info
    assert token is not None
    assert client_info is not None
    assert client_info.client_id
    bearer = {**MCP_HEADERS, "authorization": f"Bearer {token.access_token}"}
    ping = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=running), base_url=BASE)

    before = await http.post("/mcp/demo", json=ping, headers=bearer)
    await services.groups.remove_member(sales.id, "alice@example.com", actor=SETUP)
    outside = await http.post("/mcp/demo", json=ping, headers=bearer)
    await services.groups.add_member(sales.id, "alice@example.com", actor=SETUP)
    back = await http.post("/mcp/demo", json=ping, headers=bearer)
    await services.oauth.clients.delete(client_info.client_id, actor=SETUP)
    deleted = await http.post("/mcp/demo", json=ping, headers=bearer)

    assert before.status_code == 200, before.text
    assert outside.status_code == 403
    assert outside.json()["error"] == "access_denied"
    assert "You are not in a group that may use the MCP server Demo." in outside.json()["error_description"]
    assert back.status_code == 200
    assert deleted.status_code == 401
    assert 'error="invalid_token"' in deleted.headers["www-authenticate"]


async def test_a_token_for_one_server_is_refused_by_another(
    running: Litestar, app_services: Services, web: Browserless, demo: McpServer
) -> None:
    mcp: McpServices = app_services.mcp
    other = await mcp.servers.create(ServerCreate(slug="other", name="Other"), actor=SETUP)
    await mcp.groups.add(other.id, [group.id for group in demo.groups], actor=SETUP)
    async with signed_in_client(running, web, "alice@example.com") as signed:
        async with mcp_session(signed) as session:
            await session.list_tools()
        token = signed.storage.tokens
    assert token is not None
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=running), base_url=BASE)
    headers = {**MCP_HEADERS, "authorization": f"Bearer {token.access_token}"}
    response = await http.post(
        "/mcp/other", json={"jsonrpc": "2.0", "id": 1, "method": "ping"}, headers=headers
    )
    assert response.status_code == 401
    assert response.json()["error_description"] == (
        "The access token is not valid: the token is meant for another resource."
    )


async def test_a_token_with_one_tools_scope_lists_only_that_tool_and_is_refused_the_others(
    running: Litestar, web: Browserless, services: IdentityServices, demo: McpServer
) -> None:
    async with signed_in_client(running, web, "alice@example.com") as signed:
        async with mcp_session(signed) as session:
            await session.list_tools()
        client_info = signed.storage.client_info
    assert client_info is not None
    alice = await services.users.find_by_email("alice@example.com")
    assert alice is not None
    # A token as the authorization server issues it when the client asks for scope=mcp:tools:whoami.
    now = int(time.time())
    token = await services.oauth.keys.sign(
        {
            "iss": BASE,
            "sub": str(alice.id),
            "aud": DEMO_URL,
            "client_id": client_info.client_id,
            "scope": "mcp:tools:whoami",
            "iat": now,
            "exp": now + 600,
            "jti": "narrow-token",
            "gid": str(uuid4()),
        }
    )
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=running), base_url=BASE)
    headers = {**MCP_HEADERS, "authorization": f"Bearer {token}"}
    listed = await http.post(
        "/mcp/demo", json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"}, headers=headers
    )
    call = {
        "jsonrpc": "2.0",
        "id": 2,
        "method": "tools/call",
        "params": {"name": "create_task", "arguments": {"title": "x"}},
    }
    refused = await http.post("/mcp/demo", json=call, headers=headers)

    assert [tool["name"] for tool in listed.json()["result"]["tools"]] == ["whoami"]
    assert refused.status_code == 403
    challenge = refused.headers["www-authenticate"]
    assert 'error="insufficient_scope"' in challenge
    assert 'scope="mcp:tools:create_task"' in challenge
    assert refused.json()["error_description"] == (
        "Calling create_task needs the scope mcp:tools:create_task: sign in again and allow it."
    )


async def test_a_service_account_calls_tools_with_client_credentials_only_while_in_a_group(
    running: Litestar, client: httpx.AsyncClient, services: IdentityServices, demo: McpServer
) -> None:
    created = await services.oauth.clients.create_static(
        StaticClientCreate(name="Nightly report", grant_types=["client_credentials"]), actor=SETUP
    )
    account = created.client.service_account_email
    assert account is not None
    grant = {
        "grant_type": "client_credentials",
        "client_id": created.client.client_id,
        "client_secret": created.client_secret,
        "resource": DEMO_URL,
        "scope": "mcp:tools:*",
    }
    issued = await client.post("/oauth/token", data=grant)
    assert issued.status_code == 200, issued.text
    headers = {**MCP_HEADERS, "authorization": f"Bearer {issued.json()['access_token']}"}

    def call(tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
        params = {"name": tool, "arguments": arguments}
        return {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": params}

    outside = await client.post("/mcp/demo", json=call("whoami", {}), headers=headers)
    sales = await services.groups.get_by_name("Sales")
    await services.groups.add_member(sales.id, account, actor=SETUP)
    whoami = await client.post("/mcp/demo", json=call("whoami", {}), headers=headers)
    tasks = await client.post("/mcp/demo", json=call("create_task", {"title": "x"}), headers=headers)

    assert outside.status_code == 403
    assert outside.json()["error"] == "access_denied"
    assert whoami.status_code == 200, whoami.text
    assert whoami.json()["result"]["structuredContent"]["email"] == account
    result = tasks.json()["result"]
    assert result["isError"] is True
    assert result["content"][0]["text"] == (
        "Step 1 (Create a task): Demo Tasks uses each end user's own Demo Tasks account, "
        "and this call has no signed-in user."
    )


async def test_a_browser_page_of_another_site_cannot_call_the_server(
    running: Litestar, client: httpx.AsyncClient, demo: McpServer
) -> None:
    evil = await client.post("/mcp/demo", json={}, headers={**MCP_HEADERS, "origin": "https://evil.example"})
    own = await client.post("/mcp/demo", json={}, headers={**MCP_HEADERS, "origin": BASE})
    assert evil.status_code == 403
    assert evil.json()["error_description"] == "Requests from this Origin are not allowed."
    assert own.status_code == 401


async def test_the_token_access_method_takes_the_servers_api_tokens(
    running: Litestar, app_services: Services, client: httpx.AsyncClient, demo: McpServer
) -> None:
    mcp: McpServices = app_services.mcp
    server = await mcp.servers.create(
        ServerCreate(slug="automation", name="Automation", access_method=AccessMethod.TOKEN), actor=SETUP
    )
    for tool in await mcp.servers.tools(demo.id):
        await mcp.tools.attach(server.id, ToolAttach(recipe_id=tool.recipe_id), actor=SETUP)
    created = await mcp.tokens.create(server.id, "nightly job", actor=SETUP)
    headers = {**MCP_HEADERS, "authorization": f"Bearer {created.secret}"}
    call = {
        "jsonrpc": "2.0",
        "id": 3,
        "method": "tools/call",
        "params": {"name": "create_task", "arguments": {"title": "x"}},
    }

    wrong = await client.post(
        "/mcp/automation", json=call, headers={**MCP_HEADERS, "authorization": "Bearer sbt_nope"}
    )
    answer = await client.post("/mcp/automation", json=call, headers=headers)

    assert wrong.status_code == 401
    assert "resource_metadata" not in wrong.headers["www-authenticate"]
    assert answer.status_code == 200, answer.text
    result = answer.json()["result"]
    assert result["isError"] is True
    assert result["content"][0]["text"] == (
        "Step 1 (Create a task): Demo Tasks uses each end user's own Demo Tasks account, "
        "and this call has no signed-in user."
    )


async def test_sessions_are_signed_notes_that_cannot_be_forged_or_ended_and_there_is_no_event_stream(
    running: Litestar, app_services: Services, client: httpx.AsyncClient, demo: McpServer
) -> None:
    mcp: McpServices = app_services.mcp
    server = await mcp.servers.create(
        ServerCreate(slug="automation", name="Automation", access_method=AccessMethod.TOKEN), actor=SETUP
    )
    created = await mcp.tokens.create(server.id, "nightly job", actor=SETUP)
    headers = {**MCP_HEADERS, "authorization": f"Bearer {created.secret}"}
    initialize = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-06-18",
            "capabilities": {},
            "clientInfo": {"name": "t", "version": "1"},
        },
    }
    started = await client.post("/mcp/automation", json=initialize, headers=headers)
    assert started.status_code == 200, started.text
    assert started.json()["result"]["protocolVersion"] == "2025-06-18"
    session = {**headers, "mcp-session-id": started.headers["mcp-session-id"]}
    ping = {"jsonrpc": "2.0", "id": 2, "method": "ping"}

    stream = await client.get("/mcp/automation", headers=session)
    end = await client.delete("/mcp/automation", headers=session)
    still = await client.post("/mcp/automation", json=ping, headers=session)
    forged = await client.post(
        "/mcp/automation",
        json=ping,
        headers={**headers, "mcp-session-id": started.headers["mcp-session-id"] + "x"},
    )

    assert (stream.status_code, stream.headers["allow"]) == (405, "POST")
    assert (end.status_code, end.headers["allow"]) == (405, "POST")
    assert (still.status_code, still.json()["result"]) == (200, {})
    assert forged.status_code == 404
    assert forged.json()["error"] == {"code": -32001, "message": "Session not found: initialize again."}


def _find(error: BaseException, kind: type[ConsentRefused]) -> ConsentRefused:
    """The ``kind`` inside what the SDK raised (it may wrap errors in exception groups and causes)."""
    pending: list[BaseException] = [error]
    while pending:
        current = pending.pop()
        if isinstance(current, kind):
            return current
        pending += list(getattr(current, "exceptions", ()))
        pending += [inner for inner in (current.__cause__, current.__context__) if inner is not None]
    raise AssertionError(f"no {kind.__name__} in {error!r}")


async def test_every_tool_call_is_audited_and_the_rate_limit_answers_with_when_to_retry(
    running: Litestar, app_services: Services, web: Browserless, demo: McpServer
) -> None:
    mcp: McpServices = app_services.mcp
    # initialize, the tools/list the SDK client sends before its first call, and two calls: the third
    # call is one request too many.
    await mcp.servers.update(demo.id, ServerUpdate(rate_limit_per_minute=4), actor=SETUP)
    async with signed_in_client(running, web, "alice@example.com") as signed, mcp_session(signed) as session:
        first = await session.call_tool("whoami", {})
        second = await session.call_tool("create_task", {"title": "x"})
        with pytest.raises(MCPError) as third:
            await session.call_tool("whoami", {})
    client_info = signed.storage.client_info
    assert client_info is not None

    assert not first.is_error
    assert second.is_error
    assert third.value.code == -32019
    assert re.fullmatch(
        r"Rate limit of 4 requests per minute for this server reached; retry in \d+ seconds\.",
        third.value.message,
    )
    assert third.value.data["limit"] == 4
    calls = await mcp.calls.search(ToolCallFilter(server="demo"))
    assert [(c.tool, c.outcome, c.user_email, c.client_id) for c in calls] == [
        ("whoami", "rate_limited", "alice@example.com", client_info.client_id),
        ("create_task", "connection_required", "alice@example.com", client_info.client_id),
        ("whoami", "succeeded", "alice@example.com", client_info.client_id),
    ]
    assert {c.client_name for c in calls} == {"Test MCP client"}
    assert calls[2].run_id is not None
    assert await mcp.calls.search(ToolCallFilter(user="bob@example.com")) == []
    exported = (await mcp.calls.export_csv(ToolCallFilter(outcome="succeeded"))).splitlines()
    assert exported[0] == (
        "time,server,tool,user,client,outcome,duration_ms,run_id,message,client_name,scope,ip_address,user_agent"
    )
    assert len(exported) == 2
    assert ",whoami,alice@example.com," in exported[1]
