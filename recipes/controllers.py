"""/api/v1/recipes: recipes, their drafts, versions, export and import, test runs and run history."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Controller, delete, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, PathParameter

from switchboard.identity.auth.guards import requires_builder
from switchboard.identity.principal import Principal
from switchboard.platform.core.errors import NotFound
from switchboard.recipes.deps import RecipeServices
from switchboard.recipes.documents import RecipeDocument
from switchboard.recipes.model import RecipeDefinition
from switchboard.recipes.outcomes import Problem, RunReport
from switchboard.recipes.runs import RunSummary
from switchboard.recipes.schemas import (
    Recipe,
    RecipeCreate,
    RecipeStatus,
    RecipeVersion,
    SavedDraft,
    VersionSummary,
)

# A version number the database can hold (a 32-bit integer): a larger one names no version.
VersionNumber = Annotated[int, PathParameter(ge=1, le=2**31 - 1)]


class RecipeOut(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    project_id: UUID
    project_name: str
    tool_name: str
    title: str
    status: RecipeStatus
    published_version: int | None
    updated_by: str
    updated_at: datetime


class RecipeDetail(msgspec.Struct, frozen=True, kw_only=True):
    recipe: RecipeOut
    draft: RecipeDefinition
    input_schema: dict[str, Any]
    problems: list[Problem]


class DraftSaved(msgspec.Struct, frozen=True, kw_only=True):
    recipe: RecipeOut
    problems: list[Problem]


class TestRunInput(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    input: dict[str, Any] = {}


def _out(recipe: Recipe) -> RecipeOut:
    return RecipeOut(
        id=recipe.id,
        project_id=recipe.project_id,
        project_name=recipe.project_name,
        tool_name=recipe.tool_name,
        title=recipe.title,
        status=recipe.status,
        published_version=recipe.published_version,
        updated_by=recipe.updated_by,
        updated_at=recipe.updated_at,
    )


def _saved(saved: SavedDraft) -> DraftSaved:
    return DraftSaved(recipe=_out(saved.recipe), problems=saved.problems)


class RecipeController(Controller):
    path = "/api/v1/recipes"
    tags = ["Recipes"]
    guards = [requires_builder]

    @get(summary="List recipes, optionally of one project")
    async def list_recipes(
        self, recipes: NamedDependency[RecipeServices], project_id: FromQuery[UUID | None] = None
    ) -> list[RecipeOut]:
        return [_out(recipe) for recipe in await recipes.recipes.list_all(project_id=project_id)]

    @post(summary="Create a recipe (a draft with one Return result step)")
    async def create_recipe(
        self,
        data: JSONBody[RecipeCreate],
        recipes: NamedDependency[RecipeServices],
        principal: NamedDependency[Principal],
    ) -> RecipeOut:
        return _out(await recipes.recipes.create(data, actor=principal))

    @get("/{recipe_id:uuid}", summary="A recipe with its draft and the draft's problems")
    async def get_recipe(
        self, recipe_id: FromPath[UUID], recipes: NamedDependency[RecipeServices]
    ) -> RecipeDetail:
        recipe = await recipes.recipes.get(recipe_id)
        return RecipeDetail(
            recipe=_out(recipe),
            draft=recipe.draft,
            input_schema=recipe.draft.trigger.input_schema(),
            problems=await recipes.validator.check(recipe.draft, project_id=recipe.project_id),
        )

    @put("/{recipe_id:uuid}/draft", summary="Save the draft (kept even with problems, which are listed)")
    async def save_draft(
        self,
        recipe_id: FromPath[UUID],
        data: JSONBody[RecipeDefinition],
        recipes: NamedDependency[RecipeServices],
        principal: NamedDependency[Principal],
    ) -> DraftSaved:
        return _saved(await recipes.recipes.save_draft(recipe_id, data, actor=principal))

    @post("/{recipe_id:uuid}/publish", summary="Publish the draft as the next version")
    async def publish(
        self,
        recipe_id: FromPath[UUID],
        recipes: NamedDependency[RecipeServices],
        principal: NamedDependency[Principal],
    ) -> RecipeVersion:
        return await recipes.recipes.publish(recipe_id, actor=principal)

    @get("/{recipe_id:uuid}/versions", summary="Published versions, newest first")
    async def list_versions(
        self, recipe_id: FromPath[UUID], recipes: NamedDependency[RecipeServices]
    ) -> list[VersionSummary]:
        return await recipes.recipes.versions(recipe_id)

    @get("/{recipe_id:uuid}/versions/{number:int}", summary="A published version")
    async def get_version(
        self, recipe_id: FromPath[UUID], number: VersionNumber, recipes: NamedDependency[RecipeServices]
    ) -> RecipeVersion:
        return await recipes.recipes.version(recipe_id, number)

    @post("/{recipe_id:uuid}/versions/{number:int}/restore", summary="Make a version the draft again")
    async def restore_version(
        self,
        recipe_id: FromPath[UUID],
        number: VersionNumber,
        recipes: NamedDependency[RecipeServices],
        principal: NamedDependency[Principal],
    ) -> DraftSaved:
        return _saved(await recipes.recipes.restore(recipe_id, number, actor=principal))

    @delete("/{recipe_id:uuid}", summary="Delete a recipe with its versions and run history")
    async def delete_recipe(
        self,
        recipe_id: FromPath[UUID],
        recipes: NamedDependency[RecipeServices],
        principal: NamedDependency[Principal],
    ) -> None:
        await recipes.recipes.delete(recipe_id, actor=principal)

    @get("/{recipe_id:uuid}/export", summary="The recipe as a JSON document, without secrets")
    async def export_recipe(
        self,
        recipe_id: FromPath[UUID],
        recipes: NamedDependency[RecipeServices],
        version: FromQuery[int | None] = None,
    ) -> RecipeDocument:
        return await recipes.recipes.export(recipe_id, version=version)

    @post("/import", summary="Import an exported recipe into a project as a draft")
    async def import_recipe(
        self,
        data: JSONBody[RecipeDocument],
        project_id: FromQuery[UUID],
        recipes: NamedDependency[RecipeServices],
        principal: NamedDependency[Principal],
        replace: FromQuery[bool] = False,
    ) -> DraftSaved:
        saved = await recipes.recipes.import_document(project_id, data, actor=principal, replace=replace)
        return _saved(saved)

    @post("/{recipe_id:uuid}/test", summary="Run the draft with sample input, as the signed-in builder")
    async def test_run(
        self,
        recipe_id: FromPath[UUID],
        data: JSONBody[TestRunInput],
        recipes: NamedDependency[RecipeServices],
        principal: NamedDependency[Principal],
    ) -> RunReport:
        return await recipes.running.test_run(recipe_id, data.input, principal)

    @get("/{recipe_id:uuid}/runs", summary="Run history, newest first")
    async def list_runs(
        self,
        recipe_id: FromPath[UUID],
        recipes: NamedDependency[RecipeServices],
        limit: FromQuery[int] = 50,
    ) -> list[RunSummary]:
        await recipes.recipes.get(recipe_id)
        return await recipes.runs.list_for(recipe_id, limit=max(1, min(limit, 500)))

    @get("/{recipe_id:uuid}/runs/{run_id:uuid}", summary="One run with each step's details")
    async def get_run(
        self, recipe_id: FromPath[UUID], run_id: FromPath[UUID], recipes: NamedDependency[RecipeServices]
    ) -> RunReport:
        report = await recipes.runs.get(run_id)
        if report.recipe_id != recipe_id:
            raise NotFound("This recipe has no such run.", field="run_id")
        return report


API_CONTROLLERS = [RecipeController]
