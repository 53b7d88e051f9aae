"""An app with one protected resource, and clients that speak OAuth to it."""

from __future__ import annotations

import httpx
import pytest
from litestar import Litestar

from switchboard.identity.deps import IdentityServices
from switchboard.identity.oauth.resources import ProtectedResource, StaticResources
from switchboard.identity.oauth.server import AuthorizationServer
from switchboard.identity.roles import Role
from switchboard.identity.schemas import UserOut
from switchboard.platform.app import create_app
from switchboard.platform.core.database import Database
from switchboard.platform.core.settings import Settings
from tests.identity.support import make_user, signed_in
from tests.support.oauth import RESOURCE, OAuthClient
from tests.support.web import Browserless


@pytest.fixture
def resources() -> StaticResources:
    return StaticResources([ProtectedResource(url=RESOURCE, name="Test server", scopes=("mcp:tools:echo",))])


@pytest.fixture
def app(settings: Settings, database: Database, resources: StaticResources) -> Litestar:
    return create_app(settings, database=database, resources=resources)


@pytest.fixture
def oauth_server(app: Litestar) -> AuthorizationServer:
    identity: IdentityServices = app.state.identity
    return identity.oauth


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
async def alice(app: Litestar, services: IdentityServices) -> Browserless:
    """A signed-in member's browser."""
    browser = await _browser(app, services, "alice@example.com", Role.MEMBER)
    yield browser
    await browser.client.aclose()


@pytest.fixture
async def boss(app: Litestar, services: IdentityServices) -> Browserless:
    """A signed-in admin's browser."""
    browser = await _browser(app, services, "boss@example.com", Role.ADMIN)
    yield browser
    await browser.client.aclose()


@pytest.fixture
async def open_policy(services: IdentityServices, oauth_server: AuthorizationServer) -> None:
    from switchboard.identity.oauth.models import RegistrationPolicy

    await oauth_server.clients.set_policy(RegistrationPolicy.OPEN, actor=None)


__all__ = ["UserOut"]
