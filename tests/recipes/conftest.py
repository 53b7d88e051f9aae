"""Fixtures for recipes: the app's recipe services, a project with a Demo Tasks connection, a builder."""

from __future__ import annotations

from pathlib import Path

import pytest

from switchboard.connectors.connections.models import Connection, ConnectionInput, Mode, Project
from switchboard.connectors.deps import ConnectorServices
from switchboard.identity.deps import IdentityServices
from switchboard.identity.principal import Actor, Principal
from switchboard.identity.roles import Role
from switchboard.platform.core.settings import Settings
from switchboard.platform.services import Services
from switchboard.recipes.deps import RecipeServices
from tests.conftest import TEST_SECRET
from tests.connectors.conftest import principal_of
from tests.identity.support import make_user
from tests.support.connector_fixtures import PROVIDER_TIMEOUT_SECONDS


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
def recipes(app_services: Services) -> RecipeServices:
    return app_services.recipes


@pytest.fixture
async def project(connectors: ConnectorServices) -> Project:
    return await connectors.projects.ensure("Sales tools")


@pytest.fixture
async def builder(services: IdentityServices) -> Principal:
    return principal_of(await make_user(services, "builder@example.com", Role.BUILDER))


@pytest.fixture
async def member(services: IdentityServices) -> Principal:
    return principal_of(await make_user(services, "member@example.com", Role.MEMBER))


async def demo_tasks_connection(
    connectors: ConnectorServices, project: Project, builder: Actor, name: str = "Demo Tasks"
) -> Connection:
    """An end user's connection to Demo Tasks (the app need not run for recipes that are only edited)."""
    data = ConnectionInput(
        name=name,
        project_id=project.id,
        connector="demo-tasks",
        mode=Mode.END_USER,
        client_id="switchboard",
        client_secret="not-used-here",
        scopes=("tasks:read", "tasks:write"),
        fields={"host": "http://127.0.0.1:9/demo-tasks"},
    )
    return await connectors.connections.create(data, actor=builder)


@pytest.fixture
async def tasks_connection(connectors: ConnectorServices, project: Project, builder: Principal) -> Connection:
    return await demo_tasks_connection(connectors, project, builder)
