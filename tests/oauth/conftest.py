"""An app with one protected resource, and clients that speak OAuth to it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import msgspec
import pytest
from litestar import Litestar

from switchboard.identity.deps import IdentityServices
from switchboard.identity.oauth.models import ClientWithSecret, RegistrationPolicy, StaticClientCreate
from switchboard.identity.oauth.resources import ProtectedResource, StaticResources
from switchboard.identity.oauth.server import AuthorizationServer
from switchboard.identity.roles import Role
from switchboard.identity.schemas import UserOut
from switchboard.platform.core.settings import Settings
from switchboard.platform.services import Services
from tests.identity.support import make_user, signed_in
from tests.support.actors import SETUP
from tests.support.oauth import RESOURCE, OAuthClient
from tests.support.web import Browserless


@pytest.fixture
def settings(settings: Settings, request: pytest.FixtureRequest) -> Settings:
    """The test settings, changed for one test by ``@pytest.mark.parametrize("settings", [{field: value}],
    indirect=True)``."""
    changes: dict[str, Any] = getattr(request, "param", {})
    return msgspec.structs.replace(settings, **changes)


@pytest.fixture
def resources() -> StaticResources:
    return StaticResources([ProtectedResource(url=RESOURCE, name="Test server", scopes=("mcp:tools:echo",))])


@pytest.fixture
def build_options(resources: StaticResources) -> dict[str, Any]:
    """Tokens are issued for the one protected resource of these tests."""
    return {"resources": resources}


@pytest.fixture
def oauth_server(app_services: Services) -> AuthorizationServer:
    return app_services.identity.oauth


@pytest.fixture
def oauth(client: httpx.AsyncClient) -> OAuthClient:
    return OAuthClient(client)


async def _browser(app: Litestar, services: IdentityServices, email: str, role: Role) -> Browserless:
    await make_user(services, email, role)
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 52000))
    http = httpx.AsyncClient(transport=transport, base_url="http://testserver.local")
    browser = Browserless(http)
    await signed_in(browser, email)
    return browser


@pytest.fixture
async def alice(app: Litestar, services: IdentityServices) -> AsyncIterator[Browserless]:
    """A signed-in member's browser."""
    browser = await _browser(app, services, "alice@example.com", Role.MEMBER)
    yield browser
    await browser.client.aclose()


@pytest.fixture
async def boss(app: Litestar, services: IdentityServices) -> AsyncIterator[Browserless]:
    """A signed-in admin's browser."""
    browser = await _browser(app, services, "boss@example.com", Role.ADMIN)
    yield browser
    await browser.client.aclose()


@pytest.fixture
async def open_policy(services: IdentityServices, oauth_server: AuthorizationServer) -> None:
    await oauth_server.clients.set_policy(RegistrationPolicy.OPEN, actor=SETUP)


@pytest.fixture
async def public_client(oauth: OAuthClient, open_policy: None) -> dict[str, Any]:
    """An approved public (``none``) client, as an MCP client registers itself."""
    return await oauth.registered(client_name="Public app", token_endpoint_auth_method="none")


@pytest.fixture
async def confidential_client(oauth: OAuthClient, open_policy: None) -> dict[str, Any]:
    """An approved confidential client (client_secret_basic); ``client_secret`` is in the answer."""
    return await oauth.registered(client_name="Confidential app")


@pytest.fixture
async def service_client(oauth_server: AuthorizationServer) -> ClientWithSecret:
    """A static confidential client for the client credentials grant, bound to a service account."""
    return await oauth_server.clients.create_static(
        StaticClientCreate(name="Nightly report", grant_types=["client_credentials"]), actor=SETUP
    )


__all__ = ["UserOut"]
