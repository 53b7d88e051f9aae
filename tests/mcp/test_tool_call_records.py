"""A tool call's record says where it came from: the client's name as the registry had it at the time
(kept when the client is deleted later), the caller's address and user agent, and the scopes of the
token it was made with; the API reads them back."""

from __future__ import annotations

import httpx
import pytest
from litestar import Litestar

from switchboard.identity.deps import IdentityServices
from switchboard.identity.roles import Role
from switchboard.platform.mcp.audit import ToolCallFilter
from switchboard.platform.mcp.models import AccessMethod, McpServer, ServerCreate, ToolAttach
from switchboard.platform.services import Services
from tests.identity.support import make_user, signed_in
from tests.mcp.test_refusal_records import (
    AGENT,
    BASE,
    HEADERS,
    access_token,
    bearer,
    registered_client,
    tool_call,
)
from tests.support.actors import SETUP
from tests.support.web import Browserless

pytestmark = pytest.mark.both_engines


async def test_a_call_is_recorded_with_its_client_s_name_address_user_agent_and_scopes(
    running: Litestar,
    app_services: Services,
    services: IdentityServices,
    web: Browserless,
    demo: McpServer,
) -> None:
    claude = await registered_client(services, "Claude")
    token = await access_token(
        services, "alice@example.com", claude, scope="mcp:tools:whoami mcp:tools:list_tasks"
    )
    transport = httpx.ASGITransport(app=running, client=("203.0.113.9", 40500))
    async with httpx.AsyncClient(transport=transport, base_url=BASE, headers=HEADERS) as http:
        answer = await http.post("/mcp/demo", json=tool_call("whoami"), headers=bearer(token))
    assert answer.status_code == 200, answer.text
    # The client is deleted afterwards: the record keeps the name it had.
    await services.oauth.clients.delete(claude, actor=SETUP)

    (call,) = await app_services.mcp.calls.search(ToolCallFilter(server="demo"))
    assert (call.tool, call.outcome, call.user_email) == ("whoami", "succeeded", "alice@example.com")
    assert (call.client_id, call.client_name) == (claude, "Claude")
    assert (call.ip_address, call.user_agent) == ("203.0.113.9", AGENT)
    assert call.scope == "mcp:tools:whoami mcp:tools:list_tasks"

    await make_user(services, "it@example.com", Role.ADMIN)
    admin = await signed_in(web, "it@example.com")
    (read,) = (await admin.get("/api/v1/tool-calls")).json()
    assert {key: read[key] for key in ("client_id", "client_name", "ip_address", "user_agent", "scope")} == {
        "client_id": claude,
        "client_name": "Claude",
        "ip_address": "203.0.113.9",
        "user_agent": AGENT,
        "scope": "mcp:tools:whoami mcp:tools:list_tasks",
    }
    by_name = await admin.get("/api/v1/tool-calls", params={"client": "claude"})
    by_id = await admin.get("/api/v1/tool-calls", params={"client": claude})
    other = await admin.get("/api/v1/tool-calls", params={"client": "Cursor"})
    assert [len(response.json()) for response in (by_name, by_id, other)] == [1, 1, 0]


async def test_a_token_server_s_call_names_the_api_token_it_was_made_with(
    running: Litestar, app_services: Services, demo: McpServer
) -> None:
    mcp = app_services.mcp
    server = await mcp.servers.create(
        ServerCreate(slug="automation", name="Automation", access_method=AccessMethod.TOKEN), actor=SETUP
    )
    for tool in await mcp.servers.tools(demo.id):
        await mcp.tools.attach(server.id, ToolAttach(recipe_id=tool.recipe_id), actor=SETUP)
    secret = (await mcp.tokens.create(server.id, "Nightly job", actor=SETUP)).secret
    transport = httpx.ASGITransport(app=running, client=("203.0.113.9", 40501))
    async with httpx.AsyncClient(transport=transport, base_url=BASE, headers=HEADERS) as http:
        answer = await http.post("/mcp/automation", json=tool_call("whoami"), headers=bearer(secret))
    assert answer.status_code == 200, answer.text

    (call,) = await mcp.calls.search(ToolCallFilter(server="automation"))
    assert (call.client_id, call.client_name, call.scope, call.user_email) == (
        "token:Nightly job",
        "API token Nightly job",
        "",
        "",
    )
