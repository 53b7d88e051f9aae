"""What ``/mcp/<slug>`` answers a caller without a good enough token, and what its protected resource
metadata offers: the ``WWW-Authenticate`` challenge of RFC 6750 §3 and RFC 9728 §5.1, and the scopes a
client asks for from them (MCP authorization, scope selection)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from urllib.parse import parse_qs, urlsplit
from uuid import uuid4

import httpx
import httpx2
import pytest
from litestar import Litestar
from mcp.client.auth import OAuthClientProvider
from mcp.client.auth import oauth2 as sdk_oauth2
from mcp.client.session import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import OAuthClientMetadata, OAuthMetadata, ProtectedResourceMetadata
from pydantic import AnyUrl

from switchboard.identity.deps import IdentityServices
from switchboard.platform.mcp.models import McpServer
from tests.support.mcp_client import REDIRECT_URI, ConsentBrowser, MemoryStorage
from tests.support.web import Browserless

BASE = "http://testserver.local"
DEMO_URL = f"{BASE}/mcp/demo"
PRM_URL = f"{BASE}/.well-known/oauth-protected-resource/mcp/demo"
HEADERS = {"accept": "application/json, text/event-stream", "content-type": "application/json"}
LIST_TOOLS = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
CREATE_TASK = {
    "jsonrpc": "2.0",
    "id": 2,
    "method": "tools/call",
    "params": {"name": "create_task", "arguments": {"title": "x"}},
}


@pytest.fixture
async def mcp_http(running: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=running, client=("203.0.113.9", 40100))
    async with httpx.AsyncClient(transport=transport, base_url=BASE, headers=HEADERS) as http:
        yield http


async def whoami_only_token(services: IdentityServices) -> str:
    """A token of Alice's as the authorization server issues it for ``scope=mcp:tools:whoami``."""
    client, _, _ = await services.oauth.clients.register(
        {"client_name": "Claude", "redirect_uris": [REDIRECT_URI], "token_endpoint_auth_method": "none"}
    )
    alice = await services.users.find_by_email("alice@example.com")
    assert alice is not None
    now = int(time.time())
    return await services.oauth.keys.sign(
        {
            "iss": BASE,
            "sub": str(alice.id),
            "aud": DEMO_URL,
            "client_id": client.client_id,
            "scope": "mcp:tools:whoami",
            "iat": now - 10,
            "exp": now + 600,
            "jti": str(uuid4()),
            "gid": str(uuid4()),
        }
    )


async def test_a_request_without_credentials_is_challenged_without_an_error_code(
    mcp_http: httpx.AsyncClient, demo: McpServer
) -> None:
    """RFC 6750 §3.1: no error code when the request carried no authentication at all."""
    response = await mcp_http.post("/mcp/demo", json=LIST_TOOLS)

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == (
        f'Bearer resource_metadata="{PRM_URL}", scope="mcp:tools:* offline_access"'
    )


async def test_a_bad_token_is_challenged_with_invalid_token(
    mcp_http: httpx.AsyncClient, demo: McpServer
) -> None:
    response = await mcp_http.post("/mcp/demo", json=LIST_TOOLS, headers={"authorization": "Bearer nope"})

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == (
        'Bearer error="invalid_token", '
        'error_description="The access token is not valid: the token is not a JWT.", '
        f'resource_metadata="{PRM_URL}", scope="mcp:tools:* offline_access"'
    )


async def test_a_missing_tool_scope_is_challenged_with_insufficient_scope_naming_that_scope(
    mcp_http: httpx.AsyncClient, services: IdentityServices, demo: McpServer
) -> None:
    token = await whoami_only_token(services)

    response = await mcp_http.post(
        "/mcp/demo", json=CREATE_TASK, headers={"authorization": f"Bearer {token}"}
    )

    assert response.status_code == 403
    assert response.headers["www-authenticate"] == (
        'Bearer error="insufficient_scope", error_description="Calling create_task needs the scope '
        'mcp:tools:create_task: sign in again and allow it.", '
        f'resource_metadata="{PRM_URL}", scope="mcp:tools:create_task"'
    )


async def test_the_protected_resource_metadata_offers_offline_access_as_the_authorization_server_does(
    mcp_http: httpx.AsyncClient, demo: McpServer
) -> None:
    metadata = await mcp_http.get("/.well-known/oauth-protected-resource/mcp/demo")
    server = await mcp_http.get("/.well-known/oauth-authorization-server")

    assert "refresh_token" in server.json()["grant_types_supported"]
    assert metadata.json()["scopes_supported"] == [
        "mcp:tools:*",
        "mcp:tools:create_task",
        "mcp:tools:list_tasks",
        "mcp:tools:whoami",
        "offline_access",
    ]


def _advertised_scopes_only(
    www_authenticate_scope: str | None,
    protected_resource_metadata: ProtectedResourceMetadata | None,
    authorization_server_metadata: OAuthMetadata | None = None,
    client_grant_types: list[str] | None = None,
) -> str | None:
    """Scope selection without adding ``offline_access`` of the client's own accord (the TypeScript
    SDK's): the challenge's scope, else the resource's ``scopes_supported``."""
    if www_authenticate_scope is not None:
        return www_authenticate_scope
    if protected_resource_metadata is not None and protected_resource_metadata.scopes_supported is not None:
        return " ".join(protected_resource_metadata.scopes_supported)
    return None


async def test_a_client_asking_for_exactly_the_advertised_scopes_gets_a_refresh_token(
    running: Litestar, web: Browserless, demo: McpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sdk_oauth2, "get_client_metadata_scopes", _advertised_scopes_only)
    await web.sign_in("alice@example.com")
    storage, consent = MemoryStorage(), ConsentBrowser(web)
    provider = OAuthClientProvider(
        server_url=DEMO_URL,
        client_metadata=OAuthClientMetadata(client_name="Exact client", redirect_uris=[AnyUrl(REDIRECT_URI)]),
        storage=storage,
        redirect_handler=consent.redirect_handler,
        callback_handler=consent.callback_handler,
    )
    transport = httpx2.ASGITransport(app=running, client=("127.0.0.1", 51004))
    async with (
        httpx2.AsyncClient(auth=provider, transport=transport, timeout=30) as http,
        streamable_http_client(DEMO_URL, http_client=http) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        listed = await session.list_tools()

    asked = parse_qs(urlsplit(consent.authorization_urls[0]).query)["scope"]
    assert asked == ["mcp:tools:* offline_access"]
    assert sorted(tool.name for tool in listed.tools) == ["create_task", "list_tasks", "whoami"]
    tokens = storage.tokens
    assert tokens is not None
    assert tokens.refresh_token
    assert set((tokens.scope or "").split()) == {"mcp:tools:*", "offline_access"}
