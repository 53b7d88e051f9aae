"""The editor's answer: the workspace (status, problems, trigger, steps, test form) or the whole page.

An htmx request of the editor's own gets the workspace, which replaces the old one, or just the form it
re-shows; any other request gets the whole page after a refusal and a redirect back after a change.
``EditorView`` carries what the answer shows beyond the stored draft: forms as submitted, their errors,
a notice and where the focus goes.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import msgspec
from litestar import Request, Response
from litestar.response import Template

from switchboard.connectors.connections.models import Connection
from switchboard.connectors.definitions import ConnectorDefinition
from switchboard.connectors.deps import ConnectorServices
from switchboard.platform.core.errors import NotFound
from switchboard.recipes.deps import RecipeServices
from switchboard.recipes.model import (
    OPERATORS,
    STEP_TYPES,
    ActionStep,
    RecipeDefinition,
    Step,
    step_title,
    step_type,
)
from switchboard.recipes.outcomes import Problem, RunReport
from switchboard.recipes.schemas import Recipe
from switchboard.recipes.validation import PillOption, available_pills
from switchboard.ui.pages.recipe_editor.trigger_form import ITEM_TYPES, PARAMETER_TYPES, TriggerForm
from switchboard.ui.rendering import page, redirect

EDITOR_PATH = "/console/recipes/{recipe_id:uuid}"
WORKSPACE = "console/recipe_editor/_workspace.html"


def editor_url(recipe_id: UUID) -> str:
    return f"/console/recipes/{recipe_id}"


def wants_fragment(request: Request[Any, Any, Any]) -> bool:
    """An htmx request of the editor's own (a boosted link or form wants the whole page)."""
    return request.headers.get("hx-request") == "true" and request.headers.get("hx-boosted") != "true"


class EditorView(msgspec.Struct, kw_only=True):
    """What the editor shows beyond the stored draft: forms shown as submitted, errors, a notice."""

    trigger_form: TriggerForm | None = None
    steps: dict[str, Step] = {}
    rows: dict[str, list[tuple[str, str]]] = {}
    errors: dict[str, dict[str, str]] = {}
    notice: str = ""
    notice_error: bool = False
    focus: str = ""
    test_values: dict[str, str] = {}
    report: RunReport | None = None


async def answer_saved(
    request: Request[Any, Any, Any],
    recipes: RecipeServices,
    connectors: ConnectorServices,
    recipe: Recipe,
    problems: list[Problem],
    saved_form: str,
    focus: str,
    *,
    notice: str = "",
) -> Response[Any]:
    if not wants_fragment(request):
        anchor = focus.removesuffix("-heading").removeprefix("editor-notice")
        return redirect(request, editor_url(recipe.id) + (f"#{anchor}" if anchor else ""), notice or None)
    view = EditorView(notice=notice, focus=focus)
    response = await render_editor(request, recipes, connectors, recipe, problems, view)
    if saved_form:
        # The page script clears the form's unsaved-changes mark on this event.
        response.headers["HX-Trigger"] = msgspec.json.encode({"recipeSaved": {"form": saved_form}}).decode()
    return response


async def answer_refused(
    request: Request[Any, Any, Any],
    recipes: RecipeServices,
    connectors: ConnectorServices,
    recipe: Recipe,
    view: EditorView,
    status: int,
) -> Template:
    problems = await recipes.validator.check(recipe.draft, project_id=recipe.project_id)
    return await render_editor(
        request,
        recipes,
        connectors,
        recipe,
        problems,
        view,
        status=status,
        full=not wants_fragment(request),
    )


async def answer_form_only(
    request: Request[Any, Any, Any],
    recipes: RecipeServices,
    connectors: ConnectorServices,
    recipe: Recipe,
    scope: str,
    shown: TriggerForm | Step,
    focus: str,
    rows: dict[str, list[tuple[str, str]]] | None = None,
) -> Template:
    """A form re-shown with a row added or removed, or a new connector's actions: nothing is saved."""
    view = EditorView(focus=focus, rows=rows or {})
    if isinstance(shown, TriggerForm):
        view.trigger_form = shown
    else:
        view.steps = {scope: shown}
    problems = await recipes.validator.check(recipe.draft, project_id=recipe.project_id)
    if not wants_fragment(request):
        return await render_editor(request, recipes, connectors, recipe, problems, view, full=True)
    context = await editor_context(recipes, connectors, recipe, problems, view)
    name = "_trigger_form.html" if scope == "trigger" else "_step_form.html"
    response = page(request, f"console/recipe_editor/{name}", step_id=scope, **context)
    target = "#trigger-form" if scope == "trigger" else f"#step-form-{scope}"
    response.headers.update({"HX-Retarget": target, "HX-Reswap": "outerHTML"})
    return response


async def render_editor(
    request: Request[Any, Any, Any],
    recipes: RecipeServices,
    connectors: ConnectorServices,
    recipe: Recipe,
    problems: list[Problem],
    view: EditorView,
    *,
    status: int = 200,
    full: bool = False,
) -> Template:
    context = await editor_context(recipes, connectors, recipe, problems, view)
    if full:
        return page(request, "console/recipe_editor.html", status_code=status, title=recipe.title, **context)
    response = page(request, WORKSPACE, status_code=status, **context)
    response.headers.update({"HX-Retarget": "#workspace", "HX-Reswap": "outerHTML"})
    return response


async def editor_context(
    recipes: RecipeServices,
    connectors: ConnectorServices,
    recipe: Recipe,
    problems: list[Problem],
    view: EditorView,
) -> dict[str, Any]:
    definition = recipe.draft
    shown = {step.id: view.steps.get(step.id, step) for _, step in definition.walk()}
    steps = [*shown.values(), *(step for _, step in definition.walk())]
    keys = {s.connector for s in steps if isinstance(s, ActionStep) and s.connector}
    definitions = {
        key: d for key in sorted(keys) if (d := await connector_definition(connectors, key)) is not None
    }
    by_step: dict[str, list[Problem]] = {}
    for problem in problems:
        by_step.setdefault(problem.step_id or ("trigger" if problem.step == "trigger" else ""), []).append(
            problem
        )

    def issue(scope: str, field: str, at: str | None = None) -> str:
        """The message beside a field: the form's own refusal, else the draft's problem there (``at``
        when problems name the field otherwise, as ``structured.<key>`` for a structured row)."""
        message = view.errors.get(scope, {}).get(field)
        if message:
            return message
        return next((p.message for p in by_step.get(scope, []) if p.field == (at or field)), "")

    return {
        "issue": issue,
        "recipe": recipe,
        "definition": definition,
        "status_label": status_label(recipe),
        "problems": problems,
        "problems_by_step": by_step,
        "numbers": {step.id: number for number, step in definition.walk()},
        "shown": shown,
        "trigger_form": view.trigger_form or TriggerForm.of(definition.trigger),
        "connector_options": [("", "Choose a connector…")]
        + [(summary.key, summary.name) for summary in await connectors.registry.list()],
        "action_options": action_options,
        "definitions": definitions,
        "connections": await connectors.connections.list_all(project_id=recipe.project_id),
        "pills": {step_id: _grouped(definition, step_id, definitions) for step_id in shown},
        "errors": view.errors,
        "editor_notice": view.notice,
        "notice_error": view.notice_error,
        "focus": view.focus,
        "test_values": view.test_values,
        "result_rows": view.rows,
        "report": view.report,
        "step_types": STEP_TYPES,
        "step_type": step_type,
        "step_title": lambda step: display_title(step, definitions),
        "operators": OPERATORS,
        "parameter_types": [(name, name) for name in PARAMETER_TYPES],
        "item_types": [(name, name) for name in ITEM_TYPES],
        "connection_label": connection_label,
        "editor_url": editor_url(recipe.id),
    }


def _grouped(
    definition: RecipeDefinition, step_id: str, connectors: dict[str, ConnectorDefinition]
) -> dict[str, list[PillOption]]:
    """The data pills available at a step, by source (Trigger, Step 1 …, User)."""
    groups: dict[str, list[PillOption]] = {}
    for pill in available_pills(definition, step_id, connectors=connectors):
        groups.setdefault(pill.source, []).append(pill)
    return groups


async def connector_definition(connectors: ConnectorServices, key: str) -> ConnectorDefinition | None:
    try:
        return await connectors.registry.get(key)
    except NotFound:
        return None


def first_error_id(errors: dict[str, str], scope: str) -> str:
    """The DOM id of the first field with an error, to move the focus there."""
    field = next(iter(errors), "")
    prefix = scope if scope in ("trigger", "test") else f"step-{scope}"
    return f"{prefix}-{field.replace('.', '-')}"


def status_label(recipe: Recipe) -> str:
    if recipe.published_version is None:
        return "Draft"
    if recipe.status == "changed":
        return f"Published v{recipe.published_version} with unpublished changes"
    return f"Published v{recipe.published_version}"


def display_title(step: Step, definitions: dict[str, ConnectorDefinition]) -> str:
    """The step's own title, else what it does in the connector's words ("Demo Tasks · Create a task")."""
    connector = definitions.get(step.connector) if isinstance(step, ActionStep) and not step.title else None
    if isinstance(step, ActionStep) and connector is not None:
        action = next((a for a in connector.actions if a.name == step.action), None)
        return f"{connector.name} · {action.title}" if action else connector.name
    return step_title(step)


def action_options(definition: ConnectorDefinition) -> list[tuple[str, str]]:
    return [("", "Choose an action…"), *((action.name, action.title) for action in definition.actions)]


def connection_label(connection: Connection) -> str:
    return f"End user's connection: {connection.name}" if connection.is_end_user else connection.name
