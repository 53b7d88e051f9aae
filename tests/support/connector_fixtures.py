"""Fixtures shared by the connector and page tests: the app's connector services and a fake third-party
provider on 127.0.0.1 (registered for every test package by tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from switchboard.connectors.connections.models import Connection, ConnectionInput
from switchboard.connectors.deps import ConnectorServices
from switchboard.platform.services import Services
from tests.support.actors import SETUP
from tests.support.fault_provider import FaultProvider

# Tests that need third-party apps to give up quickly set SWITCHBOARD_PROVIDER_TIMEOUT_SECONDS to this;
# the fault provider's "timeout" answers only after it has passed.
PROVIDER_TIMEOUT_SECONDS = 1


@pytest.fixture(scope="module")
def fault_provider_server() -> Iterator[FaultProvider]:
    with FaultProvider(slow_seconds=PROVIDER_TIMEOUT_SECONDS + 2) as provider:
        yield provider


@pytest.fixture
def fake(fault_provider_server: FaultProvider) -> FaultProvider:
    """A third-party app that misbehaves when told to; every fault healed and every token forgotten
    before each test."""
    provider = fault_provider_server
    provider.heal()
    for issued in (provider.requests, provider.codes, provider.access_tokens, provider.refresh_tokens):
        issued.clear()
    provider.granted_scope = None
    provider.rotate_refresh_tokens = True
    provider.access_token_ttl = 3600
    return provider


@pytest.fixture
def connectors(app_services: Services) -> ConnectorServices:
    return app_services.connectors


async def allow_private(connectors: ConnectorServices, connection: Connection) -> Connection:
    """What an admin does for a connection to a fake app on 127.0.0.1: allow it onto private addresses
    (the origins its URLs have now), so that Switchboard may call it."""
    data = ConnectionInput(
        name=connection.name,
        project_id=connection.project_id,
        connector=connection.connector,
        mode=connection.mode,
        auth_type=connection.auth_type,
        client_id=connection.client_id,
        username=connection.username,
        scopes=connection.scopes,
        fields=connection.fields,
        allow_private=True,
    )
    return await connectors.connections.update(connection.id, data, actor=SETUP)


async def loopback_apps(origin: str) -> bool:
    """The admin's allowance that a runner or provider client built by hand gets in tests: the fake apps,
    all of them on 127.0.0.1 over plain http."""
    return origin.startswith("http://127.0.0.1:")
