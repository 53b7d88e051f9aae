"""Every refusal at ``/mcp/<slug>`` lands in the audit trail with its reason, who asked (when known), the
client's id and name, the address and user agent, and the server; a caller hammering the endpoint cannot
write a record per request.

Callers here are plain HTTP clients sending what an MCP client sends; tokens are signed as the
authorization server signs them, so that each kind of refusal can be asked for directly.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any
from uuid import uuid4

import httpx
import pytest
from litestar import Litestar

from switchboard.identity.audit import AuditRecord
from switchboard.identity.deps import IdentityServices
from switchboard.identity.oauth.models import StaticClientCreate
from switchboard.platform.mcp import refusals as refusals_module
from switchboard.platform.mcp.models import AccessMethod, McpServer, ServerCreate, ServerUpdate
from switchboard.platform.services import Services
from tests.support.actors import SETUP
from tests.support.mcp_client import REDIRECT_URI

BASE = "http://testserver.local"
DEMO_URL = f"{BASE}/mcp/demo"
AGENT = "ExampleAgent/1.0"
HEADERS = {
    "accept": "application/json, text/event-stream",
    "content-type": "application/json",
    "user-agent": AGENT,
}
PING = {"jsonrpc": "2.0", "id": 1, "method": "ping"}


def tool_call(name: str, arguments: dict[str, Any] | None = None, *, id: int = 1) -> dict[str, Any]:
    params = {"name": name, "arguments": arguments or {}}
    return {"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": params}


@pytest.fixture
async def mcp_http(running: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    """An MCP client's HTTP connection from 203.0.113.9."""
    transport = httpx.ASGITransport(app=running, client=("203.0.113.9", 40100))
    async with httpx.AsyncClient(transport=transport, base_url=BASE, headers=HEADERS) as http:
        yield http


async def registered_client(services: IdentityServices, name: str = "Claude") -> str:
    """A client as dynamic registration creates it (the demo's policy approves it at once)."""
    client, _, _ = await services.oauth.clients.register(
        {"client_name": name, "redirect_uris": [REDIRECT_URI], "token_endpoint_auth_method": "none"}
    )
    return client.client_id


async def access_token(
    services: IdentityServices,
    email: str,
    client_id: str,
    *,
    scope: str = "mcp:tools:*",
    audience: str = DEMO_URL,
    lifetime: int = 600,
) -> str:
    """An access token as the authorization server issues it to ``client_id`` for ``email``."""
    user = await services.users.find_by_email(email)
    assert user is not None
    now = int(time.time())
    return await services.oauth.keys.sign(
        {
            "iss": BASE,
            "sub": str(user.id),
            "aud": audience,
            "client_id": client_id,
            "scope": scope,
            "iat": now - 10,
            "exp": now + lifetime,
            "jti": str(uuid4()),
            "gid": str(uuid4()),
        }
    )


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


async def refusals(services: IdentityServices) -> list[AuditRecord]:
    """The trail's records of refusals at /mcp, oldest first."""
    return list(reversed(await services.oauth.audit.recent(action="mcp.refused")))


def shown(record: AuditRecord) -> dict[str, str]:
    """What a record says, without its id and time."""
    return {
        field: getattr(record, field)
        for field in (
            "outcome",
            "actor",
            "subject",
            "client_id",
            "client_name",
            "scope",
            "reason",
            "ip_address",
            "user_agent",
            "object_type",
            "object_id",
            "object_name",
        )
    }


def refused(
    reason: str, *, object_id: str = "demo", object_name: str = "Demo", **fields: str
) -> dict[str, str]:
    """The record of a refusal from the test's caller."""
    return {
        "outcome": "refused",
        "actor": "",
        "subject": "",
        "client_id": "",
        "client_name": "",
        "scope": "",
        "reason": reason,
        "ip_address": "203.0.113.9",
        "user_agent": AGENT,
        "object_type": "server",
        "object_id": object_id,
        "object_name": object_name,
    } | fields


async def test_a_request_without_a_token_is_recorded(
    mcp_http: httpx.AsyncClient, services: IdentityServices, demo: McpServer
) -> None:
    response = await mcp_http.post("/mcp/demo", json=PING)

    assert response.status_code == 401
    assert [shown(record) for record in await refusals(services)] == [
        refused("invalid_token: no access token")
    ]
    (record,) = await refusals(services)
    assert record.action == "mcp.refused"


@pytest.mark.parametrize(
    ("token_kind", "reason"),
    [
        ("expired", "invalid_token: the token has expired"),
        ("other_server", "invalid_token: the token is meant for another resource"),
        ("garbage", "invalid_token: the token is not a JWT"),
    ],
)
async def test_an_invalid_token_is_recorded_with_why(
    mcp_http: httpx.AsyncClient, services: IdentityServices, demo: McpServer, token_kind: str, reason: str
) -> None:
    client_id = await registered_client(services)
    token = {
        "expired": lambda: access_token(services, "alice@example.com", client_id, lifetime=-120),
        "other_server": lambda: access_token(
            services, "alice@example.com", client_id, audience=f"{BASE}/mcp/other"
        ),
    }.get(token_kind)
    value = await token() if token is not None else "not-a-token"

    response = await mcp_http.post("/mcp/demo", json=PING, headers=bearer(value))

    assert response.status_code == 401
    assert [shown(record) for record in await refusals(services)] == [refused(reason)]


async def test_a_deleted_client_s_token_is_recorded_as_revoked(
    mcp_http: httpx.AsyncClient, services: IdentityServices, demo: McpServer
) -> None:
    client_id = await registered_client(services, "Claude")
    token = await access_token(services, "alice@example.com", client_id)
    assert (await mcp_http.post("/mcp/demo", json=PING, headers=bearer(token))).status_code == 200
    await services.oauth.clients.delete(client_id, actor=SETUP)

    response = await mcp_http.post("/mcp/demo", json=PING, headers=bearer(token))

    assert response.status_code == 401
    assert [shown(record) for record in await refusals(services)] == [
        refused("invalid_token: the token has been revoked")
    ]


async def test_someone_outside_the_server_s_groups_is_recorded_with_the_client_s_name(
    mcp_http: httpx.AsyncClient, services: IdentityServices, demo: McpServer
) -> None:
    client_id = await registered_client(services, "Cursor")
    token = await access_token(services, "bob@example.com", client_id)

    response = await mcp_http.post("/mcp/demo", json=PING, headers=bearer(token))

    assert response.status_code == 403
    assert [shown(record) for record in await refusals(services)] == [
        refused(
            "access_denied: not in a group that may use the server",
            actor="bob@example.com",
            subject="bob@example.com",
            client_id=client_id,
            client_name="Cursor",
            scope="mcp:tools:*",
        )
    ]


async def test_an_unknown_server_is_recorded_with_the_slug_asked_for(
    mcp_http: httpx.AsyncClient, services: IdentityServices, demo: McpServer
) -> None:
    response = await mcp_http.post("/mcp/nope", json=PING)

    assert response.status_code == 404
    assert [shown(record) for record in await refusals(services)] == [
        refused("not_found: no such MCP server", object_id="nope", object_name="")
    ]


async def test_a_call_outside_the_token_s_scope_is_recorded_with_the_scope_it_needs(
    mcp_http: httpx.AsyncClient, services: IdentityServices, demo: McpServer
) -> None:
    client_id = await registered_client(services, "Claude")
    token = await access_token(services, "alice@example.com", client_id, scope="mcp:tools:whoami")

    response = await mcp_http.post(
        "/mcp/demo", json=tool_call("create_task", {"title": "x"}), headers=bearer(token)
    )

    assert response.status_code == 403
    assert 'scope="mcp:tools:create_task"' in response.headers["www-authenticate"]
    assert [shown(record) for record in await refusals(services)] == [
        refused(
            "insufficient_scope: create_task needs the scope mcp:tools:create_task",
            actor="alice@example.com",
            subject="alice@example.com",
            client_id=client_id,
            client_name="Claude",
            scope="mcp:tools:whoami",
        )
    ]


async def test_a_request_over_the_rate_limit_is_recorded_with_the_limit(
    mcp_http: httpx.AsyncClient, app_services: Services, services: IdentityServices, demo: McpServer
) -> None:
    await app_services.mcp.servers.update(demo.id, ServerUpdate(rate_limit_per_minute=2), actor=SETUP)
    client_id = await registered_client(services, "Claude")
    token = await access_token(services, "alice@example.com", client_id)
    answers = [
        await mcp_http.post("/mcp/demo", json=message, headers=bearer(token))
        for message in (PING, tool_call("whoami"), tool_call("whoami", id=2))
    ]

    assert [answer.status_code for answer in answers] == [200, 200, 429]
    assert [shown(record) for record in await refusals(services)] == [
        refused(
            "rate_limited: over the limit of 2 requests a minute (tools/call)",
            actor="alice@example.com",
            subject="alice@example.com",
            client_id=client_id,
            client_name="Claude",
            scope="mcp:tools:*",
        )
    ]


async def test_a_page_of_another_site_is_recorded_with_its_origin(
    mcp_http: httpx.AsyncClient, services: IdentityServices, demo: McpServer
) -> None:
    response = await mcp_http.post("/mcp/demo", json=PING, headers={"origin": "https://evil.example"})

    assert response.status_code == 403
    assert [shown(record) for record in await refusals(services)] == [
        refused("forbidden: requests from the Origin https://evil.example are not allowed")
    ]


async def test_a_wrong_api_token_of_a_token_server_is_recorded(
    mcp_http: httpx.AsyncClient, app_services: Services, services: IdentityServices, demo: McpServer
) -> None:
    await app_services.mcp.servers.create(
        ServerCreate(slug="automation", name="Automation", access_method=AccessMethod.TOKEN), actor=SETUP
    )

    response = await mcp_http.post("/mcp/automation", json=PING, headers=bearer("sbt_nope"))

    assert response.status_code == 401
    assert [shown(record) for record in await refusals(services)] == [
        refused(
            "invalid_token: not an API token of this server",
            object_id="automation",
            object_name="Automation",
        )
    ]


async def test_a_service_account_outside_the_groups_is_recorded_with_its_client(
    mcp_http: httpx.AsyncClient, app_services: Services, services: IdentityServices, demo: McpServer
) -> None:
    created = await services.oauth.clients.create_static(
        StaticClientCreate(name="Nightly report", grant_types=["client_credentials"]), actor=SETUP
    )
    account = created.client.service_account_email
    assert account is not None
    token = await access_token(services, account, created.client.client_id)

    response = await mcp_http.post("/mcp/demo", json=PING, headers=bearer(token))

    assert response.status_code == 403
    (record,) = await refusals(services)
    assert (record.actor, record.client_id, record.client_name) == (
        account,
        created.client.client_id,
        "Nightly report",
    )


async def test_a_caller_hammering_the_endpoint_writes_a_few_records_that_count_the_rest(
    running: Litestar, mcp_http: httpx.AsyncClient, services: IdentityServices, demo: McpServer
) -> None:
    for n in range(120):
        # Every slug another, so that no per-server record can be asked for.
        response = await mcp_http.post(f"/mcp/nope-{n}", json=PING)
        assert response.status_code == 404
    for _ in range(30):
        assert (await mcp_http.post("/mcp/demo", json=PING)).status_code == 401

    records = await refusals(services)
    counted = "refusal from 203.0.113.9 this minute"
    assert [(record.object_id, record.reason) for record in records] == [
        ("nope-0", "not_found: no such MCP server"),
        ("nope-9", f"not_found: no such MCP server (the 10th not_found {counted})"),
        ("nope-99", f"not_found: no such MCP server (the 100th not_found {counted})"),
        ("demo", "invalid_token: no access token"),
        ("demo", f"invalid_token: no access token (the 10th invalid_token {counted})"),
    ]

    # Another network's refusals are recorded on their own.
    transport = httpx.ASGITransport(app=running, client=("198.51.100.4", 40200))
    async with httpx.AsyncClient(transport=transport, base_url=BASE, headers=HEADERS) as elsewhere:
        assert (await elsewhere.post("/mcp/demo", json=PING)).status_code == 401
    last = (await refusals(services))[-1]
    assert (last.ip_address, last.reason) == ("198.51.100.4", "invalid_token: no access token")


async def test_callers_without_a_token_spread_over_many_networks_meet_a_ceiling(
    running: Litestar, services: IdentityServices, demo: McpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(refusals_module, "CEILING", 3)
    for n in range(6):
        transport = httpx.ASGITransport(app=running, client=(f"198.51.100.{n}", 40300))
        async with httpx.AsyncClient(transport=transport, base_url=BASE, headers=HEADERS) as http:
            assert (await http.post("/mcp/demo", json=PING)).status_code == 401
    # A caller with a token is still recorded.
    client_id = await registered_client(services, "Cursor")
    token = await access_token(services, "bob@example.com", client_id)
    transport = httpx.ASGITransport(app=running, client=("198.51.100.9", 40300))
    async with httpx.AsyncClient(transport=transport, base_url=BASE, headers=HEADERS) as http:
        assert (await http.post("/mcp/demo", json=PING, headers=bearer(token))).status_code == 403

    assert [(record.ip_address, record.reason) for record in await refusals(services)] == [
        ("198.51.100.0", "invalid_token: no access token"),
        ("198.51.100.1", "invalid_token: no access token"),
        (
            "198.51.100.2",
            "invalid_token: no access token; 3 refusals without a valid token were recorded this minute, "
            "the rest of the minute's are not",
        ),
        ("198.51.100.9", "access_denied: not in a group that may use the server"),
    ]
