"""Which browser pages may call ``/mcp/<slug>``: the Origin check against DNS rebinding.

MCP streamable HTTP, Security Warning: servers must validate the ``Origin`` header. A page of Switchboard's
own origin, or one served from this computer's loopback address (a local tool such as the MCP Inspector),
may call; a page anywhere else may not, however its origin is spelled to look like one of those.
"""

from __future__ import annotations

import httpx
import pytest
from litestar import Litestar

from switchboard.platform.mcp.deps import McpServices
from switchboard.platform.mcp.models import AccessMethod, McpServer, ServerCreate, ToolAttach
from switchboard.platform.mcp.origins import OriginPolicy
from switchboard.platform.services import Services
from tests.support.actors import SETUP

MCP_HEADERS = {"accept": "application/json, text/event-stream", "content-type": "application/json"}
LIST_TOOLS = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}

# The tests' base URL is http://testserver.local.
ALLOWED = {
    "no Origin (not a browser)": None,
    "Switchboard's own": "http://testserver.local",
    "its own with the default port spelled out": "http://testserver.local:80",
    "its own in capitals": "HTTP://TESTSERVER.LOCAL",
    "localhost": "http://localhost:6274",
    "localhost on the default port": "http://localhost",
    "127.0.0.1": "http://127.0.0.1:6274",
    "[::1]": "http://[::1]:6274",
    "loopback over https": "https://127.0.0.1:8443",
}
REFUSED = {
    "another site": "https://evil.example",
    "null (a sandboxed page or a file)": "null",
    "empty": "",
    "its own on another port": "http://testserver.local:8080",
    "its own over https": "https://testserver.local",
    "its own with a trailing dot": "http://testserver.local.",
    "its own with a path": "http://testserver.local/",
    "its own as a subdomain of another site": "http://testserver.local.evil.example",
    "a port that goes on into another host": "http://127.0.0.1:6274.evil.example",
    "an IPv6 loopback that goes on into another host": "http://[::1].evil.example",
    "an IPv6 loopback port that goes on into another host": "http://[::1]:6274.evil.example",
    "localhost as a subdomain of another site": "http://localhost.evil.example",
    "localhost with a trailing dot": "http://localhost.",
    "127.0.0.1 with a trailing dot": "http://127.0.0.1.:6274",
    "loopback as the user name of another host": "http://127.0.0.1@evil.example",
    "another host as the user name of loopback": "http://evil.example@127.0.0.1",
    "an empty port": "http://127.0.0.1:",
    "port 0": "http://127.0.0.1:0",
    "a port past 65535": "http://127.0.0.1:65536",
    "an IPv6 loopback without brackets": "http://::1",
    "another loopback address": "http://127.0.0.2",
    "loopback spelled in hexadecimal": "http://0x7f.0.0.1",
    "a scheme no page has": "ws://localhost:6274",
}


@pytest.fixture
async def headers(running: Litestar, app_services: Services, demo: McpServer) -> dict[str, str]:
    """A verified caller of ``/mcp/automation`` (the Token access method)."""
    mcp: McpServices = app_services.mcp
    server = await mcp.servers.create(
        ServerCreate(slug="automation", name="Automation", access_method=AccessMethod.TOKEN), actor=SETUP
    )
    for tool in await mcp.servers.tools(demo.id):
        await mcp.tools.attach(server.id, ToolAttach(recipe_id=tool.recipe_id), actor=SETUP)
    created = await mcp.tokens.create(server.id, "nightly job", actor=SETUP)
    return {**MCP_HEADERS, "authorization": f"Bearer {created.secret}"}


async def test_only_its_own_origin_and_loopback_pages_may_call_however_an_origin_is_spelled(
    client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    answers: dict[str, tuple[int, str]] = {}
    for case, origin in {**ALLOWED, **REFUSED}.items():
        sent = headers if origin is None else {**headers, "origin": origin}
        response = await client.post("/mcp/automation", json=LIST_TOOLS, headers=sent)
        body = response.json()
        answers[case] = (response.status_code, body.get("error_description", "") if "error" in body else "")

    refused = (403, "Requests from this Origin are not allowed.")
    assert answers == {**dict.fromkeys(ALLOWED, (200, "")), **dict.fromkeys(REFUSED, refused)}


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        ("https://switchboard.example.com", True),
        ("https://switchboard.example.com:443", True),
        ("https://switchboard.example.com:8443", False),
        ("http://switchboard.example.com", False),
        ("https://switchboard.example.com.evil.example", False),
        ("https://evil.example", False),
    ],
)
def test_behind_https_its_own_origin_is_compared_by_scheme_host_and_port(origin: str, allowed: bool) -> None:
    policy = OriginPolicy("https://switchboard.example.com/")

    assert policy.allows(origin) is allowed


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        ("http://127.0.0.1:8000", True),
        ("http://localhost:8000", True),
        ("http://[::1]:8000", True),
        ("http://127.0.0.1:8000.evil.example", False),
        ("http://[::1].evil.example:8000", False),
    ],
)
def test_on_a_loopback_address_its_own_origin_is_any_loopback_spelling(origin: str, allowed: bool) -> None:
    policy = OriginPolicy("http://127.0.0.1:8000")

    assert policy.allows(origin) is allowed
