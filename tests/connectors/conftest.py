"""Fixtures for connections and grants: the app's connector services, a project, a builder."""

from __future__ import annotations

from pathlib import Path
from uuid import UUID

import pytest

from switchboard.connectors.connections.models import Project
from switchboard.connectors.deps import ConnectorServices
from switchboard.identity.deps import IdentityServices
from switchboard.identity.principal import Principal
from switchboard.identity.roles import Role
from switchboard.identity.schemas import UserOut
from switchboard.platform.core.settings import Settings
from tests.conftest import TEST_SECRET
from tests.identity.support import make_user
from tests.support.connector_fixtures import PROVIDER_TIMEOUT_SECONDS


def principal_of(user: UserOut) -> Principal:
    return Principal(user_id=user.id, email=user.email, name=user.name, role=user.role, via="session")


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    return Settings(
        secret_key=TEST_SECRET,
        database_url=db_url,
        data_dir=str(tmp_path),
        base_url="http://testserver.local",
        provider_timeout_seconds=PROVIDER_TIMEOUT_SECONDS,
    )


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
