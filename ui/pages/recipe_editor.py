"""Console → Recipes → a recipe: the editor where a builder makes, tests and publishes a tool.

Every edit is a small form posted with htmx; the answer is the editor's workspace (status, problems,
trigger, steps, test form) which replaces the old one, so problems are always those of the draft just
saved. A form that is refused comes back with what was typed and the message beside the field. Without
JavaScript the same forms post normally: a change redirects back to the editor, a refusal renders the whole
page (``HX-Request`` without ``HX-Boosted`` is what tells a fragment is wanted).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import FormMultiDict
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Template

from switchboard.connectors.definitions import ConnectorDefinition
from switchboard.connectors.deps import ConnectorServices
from switchboard.identity.auth.guards import requires_builder
from switchboard.identity.principal import Principal
from switchboard.platform.core.errors import DomainError, NotFound
from switchboard.recipes.deps import RecipeServices
from switchboard.recipes.editing import (
    add_step,
    move_step,
    position_of,
    remove_step,
    replace_step,
    set_trigger,
)
from switchboard.recipes.model import (
    OPERATORS,
    STEP_TYPES,
    ActionStep,
    RecipeDefinition,
    ResultStep,
    Step,
    step_title,
    step_type,
)
from switchboard.recipes.outcomes import Problem, RunReport
from switchboard.recipes.service import Recipe, RecipeInvalid
from switchboard.recipes.validation import PillOption, available_pills
from switchboard.ui.pages.recipe_editor_forms import (
    ITEM_TYPES,
    PARAMETER_TYPES,
    FormRefused,
    ParameterForm,
    TriggerForm,
    action_options,
    check_step,
    connection_label,
    display_title,
    op_index,
    restructure,
    sample_inputs,
    status_label,
    step_from_form,
    structured_rows,
    text,
)
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


class RecipeEditorPages(Controller):
    path = EDITOR_PATH
    include_in_schema = False
    guards = [requires_builder]

    @get()
    async def editor(
        self,
        request: Request[Any, Any, Any],
        recipe_id: FromPath[UUID],
        recipes: NamedDependency[RecipeServices],
        connectors: NamedDependency[ConnectorServices],
    ) -> Template:
        recipe = await recipes.recipes.get(recipe_id)
        problems = await recipes.validator.check(recipe.draft, project_id=recipe.project_id)
        return await self._render(request, recipes, connectors, recipe, problems, EditorView(), full=True)

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
            return await self._form_only(request, recipes, connectors, recipe, "trigger", submitted, focus)
        if op.startswith("remove_parameter:"):
            index = op_index(op)
            if index is not None and index < len(submitted.parameters):
                del submitted.parameters[index]
            return await self._form_only(
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
                trigger_form=submitted, errors={"trigger": errors}, focus=_first(errors, "trigger")
            )
            return await self._refused(request, recipes, connectors, recipe, view, _status(exc))
        return await self._saved(
            request, recipes, connectors, saved.recipe, saved.problems, "trigger-form", "trigger-heading"
        )

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
        return await self._saved(
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
        step = await self._submitted_step(connectors, recipe, current, form)
        # Structured rows as typed: a dict would merge a blank or repeated key the builder must still see.
        rows = {step_id: structured_rows(form)} if isinstance(step, ResultStep) else {}
        op = text(form, "op")
        if op and op != "save":
            changed, focus = restructure(step, op, rows)
            return await self._form_only(request, recipes, connectors, recipe, step_id, changed, focus, rows)
        errors = check_step(step, form)
        if errors:
            view = EditorView(
                steps={step_id: step}, rows=rows, errors={step_id: errors}, focus=_first(errors, step_id)
            )
            return await self._refused(request, recipes, connectors, recipe, view, 422)
        saved = await recipes.recipes.save_draft(recipe_id, replace_step(recipe.draft, step), actor=principal)
        return await self._saved(
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
        return await self._saved(request, recipes, connectors, saved.recipe, saved.problems, "", focus)

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
        return await self._saved(
            request, recipes, connectors, saved.recipe, saved.problems, "", "steps-heading", notice=notice
        )

    @post("/test")
    async def test(
        self,
        request: Request[Any, Any, Any],
        recipe_id: FromPath[UUID],
        recipes: NamedDependency[RecipeServices],
        connectors: NamedDependency[ConnectorServices],
        principal: NamedDependency[Principal],
    ) -> Response[Any]:
        recipe = await recipes.recipes.get(recipe_id)
        form = await request.form()
        values, errors = sample_inputs(recipe.draft.trigger, form)
        raw = {key: text(form, key) for key in form if key.startswith("input.")}
        report = None if errors else await recipes.test_run(recipe_id, values, principal)
        view = EditorView(
            errors={"test": errors}, test_values=raw, report=report, focus="test-result-heading"
        )
        if errors:
            view.focus = _first(errors, "test")
        status = 422 if errors else 200
        if wants_fragment(request):
            return page(
                request,
                "console/recipe_editor/_test.html",
                status_code=status,
                **await self._context(
                    recipes, connectors, recipe, await recipes.recipes.check(recipe_id), view
                ),
            )
        return await self._render(
            request,
            recipes,
            connectors,
            recipe,
            await recipes.recipes.check(recipe_id),
            view,
            status=status,
            full=True,
        )

    @post("/publish")
    async def publish(
        self,
        request: Request[Any, Any, Any],
        recipe_id: FromPath[UUID],
        recipes: NamedDependency[RecipeServices],
        connectors: NamedDependency[ConnectorServices],
        principal: NamedDependency[Principal],
    ) -> Response[Any]:
        try:
            version = await recipes.recipes.publish(recipe_id, actor=principal)
        except RecipeInvalid as exc:
            recipe = await recipes.recipes.get(recipe_id)
            count = len(exc.problems)
            view = EditorView(
                notice=f"Not published: fix the {count} problem{'s' if count != 1 else ''} first.",
                notice_error=True,
                focus="problems-heading",
            )
            return await self._render(
                request,
                recipes,
                connectors,
                recipe,
                exc.problems,
                view,
                status=422,
                full=not wants_fragment(request),
            )
        notice = f"Published version {version.number}: tools now run it."
        recipe = await recipes.recipes.get(recipe_id)
        return await self._saved(request, recipes, connectors, recipe, [], "", "editor-notice", notice=notice)

    # -- answering -----------------------------------------------------------------------------------

    async def _submitted_step(
        self, connectors: ConnectorServices, recipe: Recipe, current: Step, form: FormMultiDict
    ) -> Step:
        input_names: list[str] = []
        connector = text(form, "connector")
        if isinstance(current, ActionStep) and connector:
            definition = await _definition(connectors, connector)
            action = (
                next((a for a in definition.actions if a.name == text(form, "action")), None)
                if definition
                else None
            )
            input_names = list((action.input_schema.get("properties") or {}) if action else {})
        connections = await connectors.connections.list_all(project_id=recipe.project_id)
        return step_from_form(current, form, input_names=input_names, connections=connections)

    async def _saved(
        self,
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
        response = await self._render(request, recipes, connectors, recipe, problems, view)
        if saved_form:
            # The page script clears the form's unsaved-changes mark on this event.
            response.headers["HX-Trigger"] = msgspec.json.encode(
                {"recipeSaved": {"form": saved_form}}
            ).decode()
        return response

    async def _refused(
        self,
        request: Request[Any, Any, Any],
        recipes: RecipeServices,
        connectors: ConnectorServices,
        recipe: Recipe,
        view: EditorView,
        status: int,
    ) -> Template:
        problems = await recipes.validator.check(recipe.draft, project_id=recipe.project_id)
        return await self._render(
            request,
            recipes,
            connectors,
            recipe,
            problems,
            view,
            status=status,
            full=not wants_fragment(request),
        )

    async def _form_only(
        self,
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
            return await self._render(request, recipes, connectors, recipe, problems, view, full=True)
        context = await self._context(recipes, connectors, recipe, problems, view)
        name = "_trigger_form.html" if scope == "trigger" else "_step_form.html"
        response = page(request, f"console/recipe_editor/{name}", step_id=scope, **context)
        target = "#trigger-form" if scope == "trigger" else f"#step-form-{scope}"
        response.headers.update({"HX-Retarget": target, "HX-Reswap": "outerHTML"})
        return response

    async def _render(
        self,
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
        context = await self._context(recipes, connectors, recipe, problems, view)
        if full:
            return page(
                request, "console/recipe_editor.html", status_code=status, title=recipe.title, **context
            )
        response = page(request, WORKSPACE, status_code=status, **context)
        response.headers.update({"HX-Retarget": "#workspace", "HX-Reswap": "outerHTML"})
        return response

    async def _context(
        self,
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
            key: d for key in sorted(keys) if (d := await _definition(connectors, key)) is not None
        }
        by_step: dict[str, list[Problem]] = {}
        for problem in problems:
            by_step.setdefault(
                problem.step_id or ("trigger" if problem.step == "trigger" else ""), []
            ).append(problem)

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


async def _definition(connectors: ConnectorServices, key: str) -> ConnectorDefinition | None:
    try:
        return await connectors.registry.get(key)
    except NotFound:
        return None


def _step(definition: RecipeDefinition, step_id: str) -> Step:
    step = definition.step(step_id)
    if step is None:
        raise NotFound("This recipe has no such step.", field="step_id")
    return step


def _errors(exc: FormRefused | DomainError) -> dict[str, str]:
    if isinstance(exc, FormRefused):
        return exc.errors
    return {exc.field or "form": exc.message}


def _status(exc: FormRefused | DomainError) -> int:
    return 422 if isinstance(exc, FormRefused) else exc.status


def _first(errors: dict[str, str], scope: str) -> str:
    """The DOM id of the first field with an error, to move the focus there."""
    field = next(iter(errors), "")
    prefix = scope if scope in ("trigger", "test") else f"step-{scope}"
    return f"{prefix}-{field.replace('.', '-')}"
