"""Console → Recipes → a recipe's versions: the list, one version read-only, and restoring one.

A version page lists each step numbered as the editor and the job history number it, with what it is set
to, and the version as an exported document; restoring makes that version the draft again.
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
from switchboard.recipes.deps import RecipeServices
from switchboard.recipes.model import (
    OPERATORS,
    STEP_TYPES,
    ActionStep,
    ForEachStep,
    IfStep,
    RecipeDefinition,
    Step,
    step_title,
    step_type,
    walk_steps,
)
from switchboard.ui.pages.recipe_import_export import document_json
from switchboard.ui.pages.recipes import LIST_PATH, editor_path, status_label
from switchboard.ui.rendering import page, redirect


class StepView(msgspec.Struct, frozen=True, kw_only=True):
    """One step as the version page lists it: its number, type, title and what it is set to."""

    number: str
    depth: int
    type: str
    title: str
    connector: str = ""
    action: str = ""
    connection: str = ""
    settings: list[tuple[str, str]] = []


def step_views(definition: RecipeDefinition, connection_names: dict[UUID, str]) -> list[StepView]:
    """Every step, numbered as ``walk_steps`` numbers them (2, 2.1 …), as the editor and runs do."""
    return [_step_view(number, step, connection_names) for number, step in walk_steps(definition.steps)]


def _step_view(number: str, step: Step, connection_names: dict[UUID, str]) -> StepView:
    view = StepView(
        number=number,
        depth=number.count("."),
        type=STEP_TYPES[step_type(step)],
        title=step_title(step),
        settings=_settings(number, step),
    )
    if not isinstance(step, ActionStep):
        return view
    ref = step.connection
    connection = ""
    if ref is not None:
        connection = connection_names.get(ref.id, ref.name) if ref.id is not None else ref.name
    return msgspec.structs.replace(
        view, connector=step.connector, action=step.action, connection=connection or "none chosen"
    )


def _settings(number: str, step: Step) -> list[tuple[str, str]]:
    if isinstance(step, ActionStep):
        settings = [(f"Input {name}", template) for name, template in step.inputs.items()]
        if step.idempotent:
            settings.append(("Safe to repeat", "yes"))
        if step.timeout_seconds is not None:
            settings.append(("Time limit", f"{step.timeout_seconds:g} s"))
        return settings
    if isinstance(step, IfStep):
        settings = [
            (f"Condition {index}", f"{c.left} {OPERATORS[c.operator]} {c.right}".strip())
            for index, c in enumerate(step.conditions, start=1)
        ]
        settings.append(("Match", "all conditions" if step.match == "all" else "any condition"))
        numbers = [f"{number}.{index}" for index in range(1, len(step.then) + len(step.otherwise) + 1)]
        then, otherwise = numbers[: len(step.then)], numbers[len(step.then) :]
        settings.append(("Then", ", ".join(then) or "nothing"))
        settings.append(("Otherwise", ", ".join(otherwise) or "nothing"))
        return settings
    if isinstance(step, ForEachStep):
        return [("Items", step.items), ("Each item as", step.as_name), ("At most", str(step.max_items))]
    settings = [("Text", step.text)]
    settings.extend((f"Structured {key}", template) for key, template in step.structured.items())
    if step.structured_from:
        settings.append(("Structured result from", step.structured_from))
    return settings


class RecipeVersionPages(Controller):
    path = LIST_PATH
    include_in_schema = False
    guards = [requires_builder]

    @get("/{recipe_id:uuid}/versions")
    async def list_versions(
        self,
        request: Request[Any, Any, Any],
        recipe_id: FromPath[UUID],
        recipes: NamedDependency[RecipeServices],
    ) -> Template:
        recipe = await recipes.recipes.get(recipe_id)
        return page(
            request,
            "console/recipe_versions.html",
            title=f"Versions of {recipe.tool_name}",
            recipe=recipe,
            versions=await recipes.recipes.versions(recipe_id),
            status_label=status_label,
        )

    @get("/{recipe_id:uuid}/versions/{number:int}")
    async def version_detail(
        self,
        request: Request[Any, Any, Any],
        recipe_id: FromPath[UUID],
        number: FromPath[int],
        recipes: NamedDependency[RecipeServices],
        connectors: NamedDependency[ConnectorServices],
    ) -> Template:
        recipe = await recipes.recipes.get(recipe_id)
        version = await recipes.recipes.version(recipe_id, number)
        names = {
            connection.id: connection.name
            for connection in await connectors.connections.list_all(project_id=recipe.project_id)
        }
        document = await recipes.recipes.export(recipe_id, version=number)
        return page(
            request,
            "console/recipe_versions_view.html",
            title=f"{version.definition.trigger.name} version {number}",
            recipe=recipe,
            version=version,
            trigger=version.definition.trigger,
            steps=step_views(version.definition, names),
            document_json=document_json(document),
        )

    @post("/{recipe_id:uuid}/versions/{number:int}/restore")
    async def restore_version(
        self,
        request: Request[Any, Any, Any],
        recipe_id: FromPath[UUID],
        number: FromPath[int],
        recipes: NamedDependency[RecipeServices],
        principal: NamedDependency[Principal],
    ) -> Response[Any]:
        await recipes.recipes.restore(recipe_id, number, actor=principal)
        notice = f"Version {number} restored as the draft; publish to make tools run it."
        return redirect(request, editor_path(recipe_id), notice)
