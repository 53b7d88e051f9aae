"""Console → Recipes → the editor: an output schema whose references stand for too much is named beside
its field when the trigger is saved, and the draft cannot be published until it is fixed."""

from __future__ import annotations

import json

import httpx
import pytest

from switchboard.connectors.connections.models import Project
from switchboard.connectors.deps import ConnectorServices
from switchboard.identity.deps import IdentityServices
from switchboard.identity.roles import Role
from switchboard.platform.services import Services
from switchboard.recipes.deps import RecipeServices
from switchboard.recipes.schemas import Recipe, RecipeCreate
from tests.connectors.oversized import reference_bomb
from tests.identity.support import PASSWORD, make_user
from tests.recipes.test_schema_limits import TOO_MANY
from tests.support.actors import SETUP
from tests.support.web import Browserless, csrf_from
from tests.ui.html import Page

BUILDER = "builder@example.com"


@pytest.fixture
def recipes(app_services: Services) -> RecipeServices:
    return app_services.recipes


@pytest.fixture
async def recipe(recipes: RecipeServices, connectors: ConnectorServices) -> Recipe:
    project: Project = await connectors.projects.ensure("Sales tools")
    return await recipes.recipes.create(RecipeCreate(project_id=project.id, name="summarize"), actor=SETUP)


@pytest.fixture
async def as_builder(web: Browserless, services: IdentityServices) -> Browserless:
    await make_user(services, BUILDER, Role.BUILDER)
    assert (await web.sign_in(BUILDER, PASSWORD)).status_code == 303
    return web


async def post(web: Browserless, recipe: Recipe, path: str, data: dict[str, str]) -> httpx.Response:
    """Post a form of the editor as the page does (htmx), with the CSRF token of the editor page."""
    editor = f"/console/recipes/{recipe.id}"
    token = csrf_from((await web.client.get(editor)).text)
    return await web.client.post(
        editor + path, data={"_csrf_token": token, **data}, headers={"HX-Request": "true"}
    )


async def test_a_reference_bomb_as_output_schema_is_named_beside_its_field_and_is_not_published(
    as_builder: Browserless, recipes: RecipeServices, recipe: Recipe
) -> None:
    trigger = {"op": "save", "name": "summarize", "output_schema": json.dumps(reference_bomb())}

    saved = await post(as_builder, recipe, "/trigger", trigger)
    published = await post(as_builder, recipe, "/publish", {})

    assert saved.status_code == 200, saved.text
    page = Page(saved.text)
    assert page.error_next_to(page.field("output_schema")) == TOO_MANY
    assert (await recipes.recipes.get(recipe.id)).draft.trigger.output_schema == reference_bomb()
    assert published.status_code == 422
    page = Page(published.text)
    assert page.by_id("editor-notice").text.startswith("Not published: fix the")
    assert f"Trigger, output_schema: {TOO_MANY}" in " ".join(page.by_id("problems").text.split())
    assert (await recipes.recipes.get(recipe.id)).published_version is None
