"""The editor's trigger form: add or remove a parameter row, or save the trigger into the draft."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, Request, Response, post
from litestar.di import NamedDependency
from litestar.params import FromPath

from switchboard.connectors.deps import ConnectorServices
from switchboard.identity.auth.guards import requires_builder
from switchboard.identity.principal import Principal
from switchboard.platform.core.errors import DomainError
from switchboard.recipes.deps import RecipeServices
from switchboard.recipes.editing import set_trigger
from switchboard.ui.pages.recipe_editor.forms import FormRefused, op_index, text
from switchboard.ui.pages.recipe_editor.trigger_form import ParameterForm, TriggerForm
from switchboard.ui.pages.recipe_editor.workspace import (
    EDITOR_PATH,
    EditorView,
    answer_form_only,
    answer_refused,
    answer_saved,
    first_error_id,
)


class RecipeTriggerPages(Controller):
    path = EDITOR_PATH
    include_in_schema = False
    guards = [requires_builder]

    @post("/trigger")
    async def save_trigger(
        self,
        request: Request[Any, Any, Any],
        recipe_id: FromPath[UUID],
        recipes: NamedDependency[RecipeServices],
        connectors: NamedDependency[ConnectorServices],
        principal: NamedDependency[Principal],
    ) -> Response[Any]:
        recipe = await recipes.recipes.get(recipe_id)
        form = await request.form()
        submitted = TriggerForm.parse(form)
        op = text(form, "op")
        if op == "add_parameter":
            submitted.parameters.append(ParameterForm())
            focus = f"trigger-parameters-{len(submitted.parameters)}-name"
            return await answer_form_only(request, recipes, connectors, recipe, "trigger", submitted, focus)
        if op.startswith("remove_parameter:"):
            index = op_index(op)
            if index is not None and index < len(submitted.parameters):
                del submitted.parameters[index]
            return await answer_form_only(
                request, recipes, connectors, recipe, "trigger", submitted, "trigger-add"
            )
        try:
            trigger = submitted.to_trigger()
            saved = await recipes.recipes.save_draft(
                recipe_id, set_trigger(recipe.draft, trigger), actor=principal
            )
        except (FormRefused, DomainError) as exc:
            errors = _errors(exc)
            view = EditorView(
                trigger_form=submitted, errors={"trigger": errors}, focus=first_error_id(errors, "trigger")
            )
            return await answer_refused(request, recipes, connectors, recipe, view, _status(exc))
        return await answer_saved(
            request, recipes, connectors, saved.recipe, saved.problems, "trigger-form", "trigger-heading"
        )


def _errors(exc: FormRefused | DomainError) -> dict[str, str]:
    if isinstance(exc, FormRefused):
        return exc.errors
    return {exc.field or "form": exc.message}


def _status(exc: FormRefused | DomainError) -> int:
    return 422 if isinstance(exc, FormRefused) else exc.status
