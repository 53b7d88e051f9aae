"""Fixtures for connections and grants: the app's connector services, a project, a builder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from uuid import UUID

import pytest
from litestar import Litestar

from switchboard.connectors.connections.models import Project
from switchboard.connectors.deps import ConnectorServices
from switchboard.identity.deps import IdentityServices
from switchboard.identity.principal import Principal
from switchboard.identity.roles import Role
from switchboard.identity.schemas import UserOut
from switchboard.platform.core.settings import Settings
from tests.identity.support import make_user
from tests.support.fault_provider import FaultProvider

# Third-party apps answer within this in the tests; the fault provider's "timeout" waits longer.
PROVIDER_TIMEOUT_SECONDS = 1


def principal_of(user: UserOut) -> Principal:
    return Principal(user_id=user.id, email=user.email, name=user.name, role=user.role, via="session")


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    from tests.conftest import TEST_SECRET

    return Settings(
        secret_key=TEST_SECRET,
        database_url=db_url,
        data_dir=str(tmp_path),
        base_url="http://testserver.local",
        provider_timeout_seconds=PROVIDER_TIMEOUT_SECONDS,
    )


@pytest.fixture(scope="module")
def fault_provider_server() -> Iterator[FaultProvider]:
    with FaultProvider(slow_seconds=PROVIDER_TIMEOUT_SECONDS + 2) as provider:
        yield provider


@pytest.fixture
def fake(fault_provider_server: FaultProvider) -> FaultProvider:
    """A third-party app on 127.0.0.1 that misbehaves when told to (every fault healed before each test)."""
    provider = fault_provider_server
    provider.heal()
    for issued in (provider.requests, provider.codes, provider.access_tokens, provider.refresh_tokens):
        issued.clear()
    provider.granted_scope = None
    provider.rotate_refresh_tokens = True
    provider.access_token_ttl = 3600
    return provider


@pytest.fixture
def connectors(app: Litestar) -> ConnectorServices:
    services: ConnectorServices = app.state.connectors
    return services


@pytest.fixture
async def project(connectors: ConnectorServices) -> Project:
    return await connectors.projects.ensure("Sales tools")


@pytest.fixture
async def builder(services: IdentityServices) -> Principal:
    return principal_of(await make_user(services, "builder@example.com", Role.BUILDER))


@pytest.fixture
async def alice_id(services: IdentityServices) -> UUID:
    return (await make_user(services, "alice@example.com")).id


@pytest.fixture
async def bob_id(services: IdentityServices) -> UUID:
    return (await make_user(services, "bob@example.com")).id
