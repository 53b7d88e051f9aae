"""A tool whose app takes each person's own API key, through the official MCP SDK client: without a key the
call answers with the person's connect link, which opens the enter-your-key form; once saved, the app
answers the call made with that person's key (an app on 127.0.0.1 that echoes the header it received)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from litestar import Litestar

from switchboard.platform.demo import DEMO_PROJECT
from switchboard.platform.mcp.models import McpServer, ToolAttach
from switchboard.platform.services import Services
from switchboard.recipes.documents import DOCUMENT_FORMAT, RecipeDocument
from switchboard.recipes.model import ActionStep, ConnectionRef, RecipeDefinition, ResultStep, ToolTrigger
from tests.connectors.conftest import principal_of
from tests.connectors.personal_support import personal_connection
from tests.mcp.test_endpoint import _text, mcp_session, signed_in_client
from tests.support.actors import SETUP
from tests.support.fake_github import LocalServer, Recorded, Reply, json_reply
from tests.support.web import Browserless, csrf_from
from tests.ui.html import Page

pytestmark = pytest.mark.both_engines

LINK = re.compile(r"http://testserver\.local/connect/[A-Za-z0-9_-]+")
KEY = "alice-own-key-4242"


def echo_key(request: Recorded) -> Reply:
    return json_reply(200, {"key": request.headers.get("x-api-key", "")})


@pytest.fixture
def keyed_app() -> Iterator[LocalServer]:
    server = LocalServer(echo_key)
    server.start()
    yield server
    server.stop()


async def test_the_tool_asks_for_the_persons_key_then_answers_with_what_the_app_made_of_it(
    running: Litestar, app_services: Services, web: Browserless, demo: McpServer, keyed_app: LocalServer
) -> None:
    connectors, recipes = app_services.connectors, app_services.recipes
    admin = await app_services.identity.users.find_by_email("admin@example.com")
    assert admin is not None
    project = await connectors.projects.ensure(DEMO_PROJECT)
    connection = await personal_connection(connectors, project, principal_of(admin), keyed_app.url())
    definition = RecipeDefinition(
        trigger=ToolTrigger(name="my_key", title="My key", description="What the app saw."),
        steps=(
            ActionStep(
                id="step_1",
                title="Ask the app",
                connector="keyed-app",
                action="whoami",
                connection=ConnectionRef(name=connection.name, id=connection.id),
            ),
            ResultStep(id="step_2", title="Return result", text="The app saw {{ steps.step_1.key }}."),
        ),
    )
    document = RecipeDocument(format=DOCUMENT_FORMAT, format_version=1, definition=definition)
    recipe = (await recipes.recipes.import_document(project.id, document, actor=SETUP)).recipe
    await recipes.recipes.publish(recipe.id, actor=SETUP)
    await app_services.mcp.tools.attach(demo.id, ToolAttach(recipe_id=recipe.id, read_only=True), actor=SETUP)

    async with signed_in_client(running, web, "alice@example.com") as signed, mcp_session(signed) as session:
        asked = await session.call_tool("my_key", {})
        assert asked.is_error
        found = LINK.search(_text(asked))
        assert found is not None, _text(asked)
        assert "needs your own Keyed App API key" in _text(asked)

        link = urlsplit(found.group(0)).path
        form = await web.client.get(link)
        assert Page(form.text).all("h1")[0].text == "Enter your Keyed App API key"
        saved = await web.client.post(link, data={"_csrf_token": csrf_from(form.text), "api_key": KEY})
        assert saved.status_code == 200

        answered = await session.call_tool("my_key", {})
    assert not answered.is_error, _text(answered)
    assert _text(answered) == f"The app saw {KEY}."
