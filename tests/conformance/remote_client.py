"""Switchboard's remote MCP client, as the client under test of the MCP conformance suite's auth scenarios.

    .venv/bin/python tests/conformance/remote_client.py <server-url>

The suite starts a protected MCP server and its authorization server for one scenario, then runs this
with the server's URL (``MCP_CONFORMANCE_SCENARIO`` names the scenario; ``MCP_CONFORMANCE_CONTEXT`` holds
pre-registered client credentials when the scenario has them). Everything Switchboard does as an OAuth
client is its own code: discovery from the 401, registration (client ID metadata document or dynamic),
PKCE, ``resource``, state and issuer checks, token requests, refresh, step-up. The one stand-in is the
user agent: the suite's authorization server approves at once, so instead of a browser this follows the
authorization URL and reads the redirect back to Switchboard's callback.

The suite's servers listen on localhost over http, so the network policy is the one an admin sets for
an in-house server: private addresses (and so plain http) allowed. Exits 1 with the error on stderr when
the server cannot be used.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from urllib.parse import parse_qsl, urlsplit

from switchboard.connectors.remote.authorization import RemoteOAuth
from switchboard.connectors.remote.credentials import OAuthCredentials
from switchboard.connectors.remote.discovery import Discoverer
from switchboard.connectors.remote.network import Network, NetworkPolicy
from switchboard.connectors.remote.registration import ClientProfile, Registrar
from switchboard.connectors.remote.session import RemoteSession
from switchboard.platform.core.errors import DomainError

# The client ID metadata document URL the suite's auth/basic-cimd scenario expects.
METADATA_DOCUMENT_URL = "https://conformance-test.local/client-metadata.json"
REDIRECT_URI = "http://localhost:8000/connections/remote/callback"
POLICY = NetworkPolicy(allow_private=True)


async def follow_authorization(network: Network, url: str) -> dict[str, str]:
    """The user agent: open the authorization URL, return the parameters of the redirect to the callback."""
    async with network.client(POLICY) as http:
        response = await http.get(url)
    location = response.headers.get("location", "")
    if response.status_code not in (302, 303) or not location.startswith(REDIRECT_URI):
        raise SystemExit(f"the authorization server did not redirect back (HTTP {response.status_code})")
    return dict(parse_qsl(urlsplit(location).query))


async def run(server_url: str) -> None:
    context = json.loads(os.environ.get("MCP_CONFORMANCE_CONTEXT") or "{}")
    network = Network()
    oauth = RemoteOAuth(network)
    profile = ClientProfile(
        name="Switchboard", redirect_uri=REDIRECT_URI, metadata_document_url=METADATA_DOCUMENT_URL
    )

    async def user_agent(url: str) -> dict[str, str]:
        return await follow_authorization(network, url)

    credentials = OAuthCredentials(
        endpoint=server_url,
        mode=None,  # what discovery recommends, as the console proposes
        policy=POLICY,
        discoverer=Discoverer(network),
        registrar=Registrar(network, profile),
        oauth=oauth,
        user_agent=user_agent,
        client_id=context.get("client_id", ""),
        client_secret=context.get("client_secret", ""),
    )
    try:
        async with network.client(POLICY, timeout=30.0) as http:
            session = RemoteSession(http, server_url, credentials, name="the MCP server", timeout=30.0)
            tools = await session.list_tools()
            print("tools:", ", ".join(tool.name for tool in tools))
            if tools:
                result = await session.call_tool(tools[0].name, {})
                print("called", tools[0].name, "error" if result.is_error else "ok")
            await session.close()
    finally:
        await oauth.aclose()


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    try:
        asyncio.run(run(sys.argv[1]))
    except DomainError as error:
        print(f"error: {error.message}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
