"""Console → Recipes: recipes by project, a new recipe, and deleting one.

The editor (``/console/recipes/{id}``) is a page of its own; these pages link to it and send the builder
to it after creating a recipe. Import and export, versions and job history have pages of their own too
(``recipe_import_export``, ``recipe_versions``, ``recipe_runs``).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Template

from switchboard.connectors.deps import ConnectorServices
from switchboard.identity.auth.guards import requires_builder
from switchboard.identity.principal import Principal
from switchboard.platform.core.errors import DomainError, InvalidInput
from switchboard.recipes.deps import RecipeServices
from switchboard.recipes.schemas import Recipe, RecipeCreate
from switchboard.ui.forms import form_fields
from switchboard.ui.rendering import page, redirect

LIST_PATH = "/console/recipes"
NAME_HINT = (
    "What MCP clients call the tool: 1 to 64 lower-case letters, digits and _, starting with a letter "
    "(for example list_tasks)."
)
_NEW_FIELDS = ("project_id", "name", "title", "description")


def editor_path(recipe_id: UUID) -> str:
    return f"{LIST_PATH}/{recipe_id}"


def status_label(recipe: Recipe) -> str:
    """Draft, Published vN, or Published vN · draft changed (tools run vN; the draft differs)."""
    if recipe.published_version is None:
        return "Draft"
    published = f"Published v{recipe.published_version}"
    return f"{published} · draft changed" if recipe.status == "changed" else published


class NewRecipeForm(msgspec.Struct, kw_only=True):
    project_id: str = ""
    name: str = ""
    title: str = ""
    description: str = ""


async def chosen_project_id(connectors: ConnectorServices, chosen: str) -> UUID:
    """The chosen project; none chosen (there is none yet) is the "Default" project, made when missing."""
    if not chosen:
        return (await connectors.projects.ensure()).id
    try:
        return UUID(chosen)
    except ValueError:
        raise InvalidInput("Choose a project.", field="project_id") from None


class RecipePages(Controller):
    path = LIST_PATH
    include_in_schema = False
    guards = [requires_builder]

    @get()
    async def list_recipes(
        self,
        request: Request[Any, Any, Any],
        recipes: NamedDependency[RecipeServices],
        connectors: NamedDependency[ConnectorServices],
    ) -> Template:
        found = await recipes.recipes.list_all()
        last_runs = await recipes.runs.last_runs([recipe.id for recipe in found])
        projects = [
            project
            for project in await connectors.projects.list_all()
            if any(recipe.project_id == project.id for recipe in found)
        ]
        return page(
            request,
            "console/recipes.html",
            title="Recipes",
            recipes=found,
            projects=projects,
            last_runs=last_runs,
            status_label=status_label,
        )

    @get("/new")
    async def new_recipe(
        self, request: Request[Any, Any, Any], connectors: NamedDependency[ConnectorServices]
    ) -> Template:
        return await self._new(request, connectors, NewRecipeForm())

    @post("/new")
    async def create_recipe(
        self,
        request: Request[Any, Any, Any],
        recipes: NamedDependency[RecipeServices],
        connectors: NamedDependency[ConnectorServices],
        principal: NamedDependency[Principal],
    ) -> Response[Any]:
        form = NewRecipeForm(**await form_fields(request, *_NEW_FIELDS))
        try:
            data = RecipeCreate(
                project_id=await chosen_project_id(connectors, form.project_id),
                name=form.name,
                title=form.title,
                description=form.description,
            )
            recipe = await recipes.recipes.create(data, actor=principal)
        except DomainError as exc:
            field = exc.field if exc.field in _NEW_FIELDS else "form"
            errors = {field: exc.message}
            return await self._new(request, connectors, form, errors=errors, status_code=exc.status)
        return redirect(request, editor_path(recipe.id), f"Recipe {recipe.tool_name} created.")

    @get("/{recipe_id:uuid}/delete")
    async def confirm_delete(
        self,
        request: Request[Any, Any, Any],
        recipe_id: FromPath[UUID],
        recipes: NamedDependency[RecipeServices],
    ) -> Template:
        return await self._confirm_delete(request, await recipes.recipes.get(recipe_id))

    @post("/{recipe_id:uuid}/delete")
    async def delete_recipe(
        self,
        request: Request[Any, Any, Any],
        recipe_id: FromPath[UUID],
        recipes: NamedDependency[RecipeServices],
        principal: NamedDependency[Principal],
    ) -> Response[Any]:
        recipe = await recipes.recipes.get(recipe_id)
        if (await form_fields(request, "confirm"))["confirm"] != "yes":
            # Deleting cannot be undone: a post without the confirmation form's answer only asks.
            return await self._confirm_delete(request, recipe)
        await recipes.recipes.delete(recipe_id, actor=principal)
        return redirect(request, LIST_PATH, f"Recipe {recipe.tool_name} deleted.")

    async def _new(
        self,
        request: Request[Any, Any, Any],
        connectors: ConnectorServices,
        form: NewRecipeForm,
        *,
        errors: dict[str, str] | None = None,
        status_code: int = 200,
    ) -> Template:
        return page(
            request,
            "console/recipes_new.html",
            status_code=status_code,
            title="New recipe",
            form=form,
            projects=await connectors.projects.list_all(),
            name_hint=NAME_HINT,
            errors=errors or {},
        )

    async def _confirm_delete(self, request: Request[Any, Any, Any], recipe: Recipe) -> Template:
        return page(
            request,
            "console/recipes_delete.html",
            title=f"Delete {recipe.tool_name}?",
            recipe=recipe,
            status_label=status_label,
        )
