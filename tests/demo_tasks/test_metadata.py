"""Authorization server metadata (RFC 8414), and the app served at the root of its own host."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest

from switchboard.platform.core.database import Database
from switchboard.platform.demo_tasks.app import create_demo_tasks_app
from switchboard.platform.demo_tasks.deps import DemoTasks
from switchboard.platform.demo_tasks.endpoints import metadata
from switchboard.platform.demo_tasks.spec import validate_server_metadata
from tests.conftest import TEST_SECRET
from tests.demo_tasks.support import ISSUER, DemoTasksBrowser


async def test_the_metadata_describes_the_server_from_its_issuer(browser: DemoTasksBrowser) -> None:
    response = await browser.http.get(browser.url("/.well-known/oauth-authorization-server"))

    assert response.status_code == 200
    metadata = response.json()
    assert metadata["issuer"] == ISSUER
    assert metadata["authorization_endpoint"] == f"{ISSUER}/authorize"
    assert metadata["token_endpoint"] == f"{ISSUER}/token"
    assert metadata["revocation_endpoint"] == f"{ISSUER}/revoke"
    assert metadata["userinfo_endpoint"] == f"{ISSUER}/userinfo"
    assert metadata["scopes_supported"] == ["tasks:read", "tasks:write"]
    assert metadata["response_types_supported"] == ["code"]
    assert metadata["grant_types_supported"] == ["authorization_code", "refresh_token"]
    assert metadata["code_challenge_methods_supported"] == ["S256"]
    assert metadata["token_endpoint_auth_methods_supported"] == ["client_secret_basic", "client_secret_post"]
    assert metadata["authorization_response_iss_parameter_supported"] is True


def test_the_metadata_passes_rfc_8414_checks_when_served_over_https() -> None:
    demo = DemoTasks.build(
        issuer="https://switchboard.example.com/demo-tasks/",
        secret_key=TEST_SECRET,
        access_token_lifetime=timedelta(hours=1),
        secure_cookies=True,
    )

    document = metadata(demo)

    validate_server_metadata(document)  # raises on any violation
    assert document["issuer"] == "https://switchboard.example.com/demo-tasks"
    assert document["token_endpoint"] == "https://switchboard.example.com/demo-tasks/token"


@pytest.fixture
async def standalone(database: Database) -> AsyncIterator[DemoTasksBrowser]:
    """Demo Tasks on its own host, as ``switchboard demo-tasks serve`` runs it."""
    app = create_demo_tasks_app(issuer="http://127.0.0.1:8100/", secret_key=TEST_SECRET)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8100") as client:
        yield DemoTasksBrowser(client, issuer="http://127.0.0.1:8100")


async def test_served_on_its_own_every_url_and_cookie_is_at_the_root(
    standalone: DemoTasksBrowser, seeded: list[str]
) -> None:
    metadata = (await standalone.http.get("/.well-known/oauth-authorization-server")).json()
    signed = await standalone.sign_in("alice@example.com")

    assert metadata["issuer"] == "http://127.0.0.1:8100"
    assert metadata["token_endpoint"] == "http://127.0.0.1:8100/token"
    assert signed.status_code == 303
    assert signed.headers["location"] == "http://127.0.0.1:8100/"
    assert "Path=/;" in signed.headers["set-cookie"]
    assert (await standalone.http.get("/")).status_code == 200
