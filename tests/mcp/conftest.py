"""Fixtures of the MCP endpoint tests: the demo server, and the app with its MCP task group running."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from litestar import Litestar

from switchboard.identity.deps import IdentityServices
from switchboard.identity.oauth.models import RegistrationPolicy
from switchboard.platform.demo import (
    DEMO_PROJECT,
    DEMO_TASKS_CONNECTION,
    seed_demo,
    seed_demo_recipes,
    seed_demo_server,
)
from switchboard.platform.mcp.models import McpServer
from switchboard.platform.services import Services
from tests.recipes.conftest import demo_tasks_connection
from tests.support.actors import SETUP


@pytest.fixture
async def demo(app_services: Services, services: IdentityServices) -> McpServer:
    """The demo: Alice in Sales, Bob in no group; server ``demo`` (group Sales) with whoami, list_tasks
    and create_task (the last two through the end user's Demo Tasks connection)."""
    connectors = app_services.connectors
    recipes = app_services.recipes
    mcp = app_services.mcp
    await seed_demo(services)
    # Clients registered by the tests are approved at once (approval itself is tested with the clients).
    await services.oauth.clients.set_policy(RegistrationPolicy.OPEN, actor=SETUP)
    project = await connectors.projects.ensure(DEMO_PROJECT)
    await demo_tasks_connection(connectors, project, SETUP, name=DEMO_TASKS_CONNECTION)
    await seed_demo_recipes(connectors, recipes)
    await seed_demo_server(mcp, recipes, services)
    return await mcp.servers.get_by_slug("demo")


@pytest.fixture
async def running(app: Litestar, app_services: Services) -> AsyncIterator[Litestar]:
    """The app with the MCP endpoint's task group running (the app's lifespan does this when served)."""
    started, stop = asyncio.Event(), asyncio.Event()

    async def serve() -> None:  # the SDK's task group is entered and left in one task
        async with app_services.endpoint.running():
            started.set()
            await stop.wait()

    task = asyncio.create_task(serve())
    await started.wait()
    yield app
    stop.set()
    await task
