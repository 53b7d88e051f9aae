"""A tool that lets its caller choose which of their own accounts it uses, through the official MCP SDK
client: a person keeps two API keys for one app, named "work" and "personal"; the recipe step's Account is
the tool's ``account`` input. The app on 127.0.0.1 echoes the key it received, so its answer proves which
account was used."""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from litestar import Litestar

from switchboard.connectors.connections.models import Connection, GrantStatus
from switchboard.identity.tables import AuditEvent
from switchboard.platform.demo import DEMO_PROJECT
from switchboard.platform.mcp.models import McpServer, ToolAttach
from switchboard.platform.services import Services
from switchboard.recipes.documents import DOCUMENT_FORMAT, RecipeDocument
from switchboard.recipes.model import (
    ActionStep,
    ConnectionRef,
    Parameter,
    RecipeDefinition,
    ResultStep,
    ToolTrigger,
)
from tests.connectors.conftest import principal_of
from tests.connectors.personal_support import personal_connection
from tests.mcp.test_endpoint import _text, mcp_session, signed_in_client
from tests.support.actors import SETUP
from tests.support.fake_github import LocalServer, Recorded, Reply, json_reply
from tests.support.web import Browserless, csrf_from
from tests.ui.html import Page

pytestmark = pytest.mark.both_engines

LINK = re.compile(r"http://testserver\.local/connect/[A-Za-z0-9_-]+")


def echo_key(request: Recorded) -> Reply:
    return json_reply(200, {"key": request.headers.get("x-api-key", "")})


def refuse_alices_personal_key(request: Recorded) -> Reply:
    """The echoing app, once it has revoked Alice's personal key."""
    if request.headers.get("x-api-key", "") == "alice-personal-key":
        return json_reply(401, {"message": "Bad credentials"})
    return echo_key(request)


@pytest.fixture
def keyed_app() -> Iterator[LocalServer]:
    server = LocalServer(echo_key)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def revoking_app() -> Iterator[LocalServer]:
    server = LocalServer(refuse_alices_personal_key)
    server.start()
    yield server
    server.stop()


async def _tool(app_services: Services, demo: McpServer, connection: Connection) -> None:
    """``which_key``: asks the app through the caller's account named by the tool's ``account`` input."""
    connectors, recipes = app_services.connectors, app_services.recipes
    project = await connectors.projects.ensure(DEMO_PROJECT)
    definition = RecipeDefinition(
        trigger=ToolTrigger(
            name="which_key",
            title="Which key",
            description="What the app saw.",
            parameters=(Parameter(name="account", description="Which of your accounts."),),
        ),
        steps=(
            ActionStep(
                id="step_1",
                title="Ask the app",
                connector="keyed-app",
                action="whoami",
                connection=ConnectionRef(name=connection.name, id=connection.id),
                account="{{ input.account }}",
            ),
            ResultStep(id="step_2", title="Return result", text="The app saw {{ steps.step_1.key }}."),
        ),
    )
    document = RecipeDocument(format=DOCUMENT_FORMAT, format_version=1, definition=definition)
    recipe = (await recipes.recipes.import_document(project.id, document, actor=SETUP)).recipe
    await recipes.recipes.publish(recipe.id, actor=SETUP)
    await app_services.mcp.tools.attach(demo.id, ToolAttach(recipe_id=recipe.id, read_only=True), actor=SETUP)


async def test_a_tool_call_names_which_of_the_callers_accounts_to_use(
    running: Litestar, app_services: Services, web: Browserless, demo: McpServer, keyed_app: LocalServer
) -> None:
    connectors = app_services.connectors
    admin = await app_services.identity.users.find_by_email("admin@example.com")
    alice = await app_services.identity.users.find_by_email("alice@example.com")
    bob = await app_services.identity.users.find_by_email("bob@example.com")
    assert admin is not None
    assert alice is not None
    assert bob is not None
    project = await connectors.projects.ensure(DEMO_PROJECT)
    connection = await personal_connection(connectors, project, principal_of(admin), keyed_app.url())
    personal = connectors.connect.personal
    await personal.save(alice.id, connection.id, secret="alice-work-key", label="work")
    await personal.save(alice.id, connection.id, secret="alice-personal-key", label="Personal")
    await personal.save(bob.id, connection.id, secret="bob-key", label="bobs-secret-side-project")
    await _tool(app_services, demo, connection)

    async with signed_in_client(running, web, "alice@example.com") as signed, mcp_session(signed) as session:
        chosen = await session.call_tool("which_key", {"account": "personal"})  # names are case-blind
        default = await session.call_tool("which_key", {})
        unknown = await session.call_tool("which_key", {"account": "play"})

        assert _text(chosen) == "The app saw alice-personal-key."
        assert _text(default) == "The app saw alice-work-key."  # the first account is the default
        assert unknown.is_error
        message = _text(unknown)
        assert (
            "You have no Keyed App account named 'play' in Keyed App; yours are 'work', 'Personal'."
            in message
        )
        assert "bobs-secret-side-project" not in message
        found = LINK.search(message)
        assert found is not None, message

        # The link connects an account named "play": the key form, then the tool finds it.
        link = urlsplit(found.group(0)).path
        form = await web.client.get(link)
        assert Page(form.text).all("h1")[0].text == "Enter your Keyed App API key"
        saved = await web.client.post(link, data={"_csrf_token": csrf_from(form.text), "api_key": "play-key"})
        assert saved.status_code == 200
        assert "as play" in Page(saved.text).text

        played = await session.call_tool("which_key", {"account": "play"})
    assert _text(played) == "The app saw play-key."
    (mine,) = [
        row for row in await connectors.accounts.for_user(alice.id) if row.connection_id == connection.id
    ]
    assert [(a.label, a.is_default) for a in mine.accounts] == [
        ("work", True),
        ("Personal", False),
        ("play", False),
    ]
    audited = await AuditEvent.select(AuditEvent.reason).where(
        AuditEvent.action == "connection.credential.set"
    )
    assert {row["reason"] for row in audited} >= {"API key; account 'play'", "API key; account 'work'"}


async def test_the_app_refusing_the_named_account_asks_to_reconnect_that_account_alone(
    running: Litestar, app_services: Services, web: Browserless, demo: McpServer, revoking_app: LocalServer
) -> None:
    connectors = app_services.connectors
    admin = await app_services.identity.users.find_by_email("admin@example.com")
    alice = await app_services.identity.users.find_by_email("alice@example.com")
    assert admin is not None
    assert alice is not None
    project = await connectors.projects.ensure(DEMO_PROJECT)
    connection = await personal_connection(connectors, project, principal_of(admin), revoking_app.url())
    await connectors.connect.personal.save(alice.id, connection.id, secret="alice-work-key", label="work")
    await connectors.connect.personal.save(
        alice.id, connection.id, secret="alice-personal-key", label="personal"
    )
    await _tool(app_services, demo, connection)

    async def accounts() -> list[tuple[str, bool, GrantStatus]]:
        (mine,) = [
            row for row in await connectors.accounts.for_user(alice.id) if row.connection_id == connection.id
        ]
        return [(a.label, a.is_default, a.status) for a in mine.accounts]

    async with signed_in_client(running, web, "alice@example.com") as signed, mcp_session(signed) as session:
        refused = await session.call_tool("which_key", {"account": "personal"})
        assert refused.is_error
        message = _text(refused)
        found = LINK.search(message)
        assert found is not None, message
        assert message == (
            f"This tool needs your own Keyed App API key named 'personal'. Open {found.group(0)} to enter it "
            "(the link works once, for 10 minutes), then try again."
        )
        assert await accounts() == [
            ("work", True, GrantStatus.CONNECTED),
            ("personal", False, GrantStatus.NEEDS_RECONNECT),
        ]
        default = await session.call_tool("which_key", {})
        assert _text(default) == "The app saw alice-work-key."
        assert (await accounts())[0] == ("work", True, GrantStatus.CONNECTED)

        # The link enters a new key for the account named "personal", which the tool then uses.
        link = urlsplit(found.group(0)).path
        form = await web.client.get(link)
        saved = await web.client.post(link, data={"_csrf_token": csrf_from(form.text), "api_key": "new-key"})
        assert saved.status_code == 200
        assert "as personal" in Page(saved.text).text
        again = await session.call_tool("which_key", {"account": "personal"})
    assert _text(again) == "The app saw new-key."
    assert await accounts() == [
        ("work", True, GrantStatus.CONNECTED),
        ("personal", False, GrantStatus.CONNECTED),
    ]
