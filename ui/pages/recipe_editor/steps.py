"""The editor's steps: add one, save one's form (or change its rows unsaved), move it, delete it."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, Request, Response, post
from litestar.datastructures import FormMultiDict
from litestar.di import NamedDependency
from litestar.params import FromPath

from switchboard.connectors.deps import ConnectorServices
from switchboard.identity.auth.guards import requires_builder
from switchboard.identity.principal import Principal
from switchboard.platform.core.errors import NotFound
from switchboard.recipes.deps import RecipeServices
from switchboard.recipes.editing import add_step, move_step, position_of, remove_step, replace_step
from switchboard.recipes.model import ActionStep, RecipeDefinition, ResultStep, Step, step_title
from switchboard.recipes.schemas import Recipe
from switchboard.ui.pages.recipe_editor.forms import text
from switchboard.ui.pages.recipe_editor.step_form import (
    check_step,
    restructure,
    step_from_form,
    structured_rows,
)
from switchboard.ui.pages.recipe_editor.workspace import (
    EDITOR_PATH,
    EditorView,
    answer_form_only,
    answer_refused,
    answer_saved,
    connector_definition,
    first_error_id,
)


class RecipeStepPages(Controller):
    path = EDITOR_PATH
    include_in_schema = False
    guards = [requires_builder]

    @post("/steps")
    async def add(
        self,
        request: Request[Any, Any, Any],
        recipe_id: FromPath[UUID],
        recipes: NamedDependency[RecipeServices],
        connectors: NamedDependency[ConnectorServices],
        principal: NamedDependency[Principal],
    ) -> Response[Any]:
        recipe = await recipes.recipes.get(recipe_id)
        form = await request.form()
        definition, step = add_step(
            recipe.draft,
            text(form, "step_type"),
            parent_id=text(form, "parent_id") or None,
            branch=text(form, "branch"),
        )
        saved = await recipes.recipes.save_draft(recipe_id, definition, actor=principal)
        return await answer_saved(
            request, recipes, connectors, saved.recipe, saved.problems, "", f"step-{step.id}-heading"
        )

    @post("/steps/{step_id:str}")
    async def save_step(
        self,
        request: Request[Any, Any, Any],
        recipe_id: FromPath[UUID],
        step_id: FromPath[str],
        recipes: NamedDependency[RecipeServices],
        connectors: NamedDependency[ConnectorServices],
        principal: NamedDependency[Principal],
    ) -> Response[Any]:
        recipe = await recipes.recipes.get(recipe_id)
        current = _step(recipe.draft, step_id)
        form = await request.form()
        step = await _submitted_step(connectors, recipe, current, form)
        # Structured rows as typed: a dict would merge a blank or repeated key the builder must still see.
        rows = {step_id: structured_rows(form)} if isinstance(step, ResultStep) else {}
        op = text(form, "op")
        if op and op != "save":
            changed, focus = restructure(step, op, rows)
            return await answer_form_only(request, recipes, connectors, recipe, step_id, changed, focus, rows)
        errors = check_step(step, form)
        if errors:
            view = EditorView(
                steps={step_id: step},
                rows=rows,
                errors={step_id: errors},
                focus=first_error_id(errors, step_id),
            )
            return await answer_refused(request, recipes, connectors, recipe, view, 422)
        saved = await recipes.recipes.save_draft(recipe_id, replace_step(recipe.draft, step), actor=principal)
        return await answer_saved(
            request,
            recipes,
            connectors,
            saved.recipe,
            saved.problems,
            f"step-form-{step_id}",
            f"step-{step_id}-heading",
        )

    @post("/steps/{step_id:str}/move")
    async def move(
        self,
        request: Request[Any, Any, Any],
        recipe_id: FromPath[UUID],
        step_id: FromPath[str],
        recipes: NamedDependency[RecipeServices],
        connectors: NamedDependency[ConnectorServices],
        principal: NamedDependency[Principal],
    ) -> Response[Any]:
        recipe = await recipes.recipes.get(recipe_id)
        direction = text(await request.form(), "direction")
        offset = -1 if direction == "up" else 1
        saved = await recipes.recipes.save_draft(
            recipe_id, move_step(recipe.draft, step_id, offset), actor=principal
        )
        where, count = position_of(saved.recipe.draft, step_id)
        # Keep the focus on the button pressed; at the end of its list that button is gone: the other one.
        pressed, other = ("up", "down") if direction == "up" else ("down", "up")
        at_end = where == 0 if pressed == "up" else where == count - 1
        focus = f"step-{step_id}-{other if at_end else pressed}" if count > 1 else f"step-{step_id}-heading"
        return await answer_saved(request, recipes, connectors, saved.recipe, saved.problems, "", focus)

    @post("/steps/{step_id:str}/delete")
    async def delete(
        self,
        request: Request[Any, Any, Any],
        recipe_id: FromPath[UUID],
        step_id: FromPath[str],
        recipes: NamedDependency[RecipeServices],
        connectors: NamedDependency[ConnectorServices],
        principal: NamedDependency[Principal],
    ) -> Response[Any]:
        recipe = await recipes.recipes.get(recipe_id)
        step = _step(recipe.draft, step_id)
        saved = await recipes.recipes.save_draft(
            recipe_id, remove_step(recipe.draft, step_id), actor=principal
        )
        notice = f"Step {step_title(step)} deleted."
        return await answer_saved(
            request, recipes, connectors, saved.recipe, saved.problems, "", "steps-heading", notice=notice
        )


async def _submitted_step(
    connectors: ConnectorServices, recipe: Recipe, current: Step, form: FormMultiDict
) -> Step:
    input_names: list[str] = []
    connector = text(form, "connector")
    if isinstance(current, ActionStep) and connector:
        definition = await connector_definition(connectors, connector)
        action = (
            next((a for a in definition.actions if a.name == text(form, "action")), None)
            if definition
            else None
        )
        input_names = list((action.input_schema.get("properties") or {}) if action else {})
    connections = await connectors.connections.list_all(project_id=recipe.project_id)
    return step_from_form(current, form, input_names=input_names, connections=connections)


def _step(definition: RecipeDefinition, step_id: str) -> Step:
    step = definition.step(step_id)
    if step is None:
        raise NotFound("This recipe has no such step.", field="step_id")
    return step
