"""The editor page: showing a recipe's draft, test runs of the draft, and publishing it."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Template

from switchboard.connectors.deps import ConnectorServices
from switchboard.identity.auth.guards import requires_builder
from switchboard.identity.principal import Principal
from switchboard.recipes.deps import RecipeServices
from switchboard.recipes.errors import NothingChanged, RecipeInvalid
from switchboard.ui.pages.recipe_editor.forms import sample_inputs, text
from switchboard.ui.pages.recipe_editor.workspace import (
    EDITOR_PATH,
    EditorView,
    answer_saved,
    editor_context,
    first_error_id,
    render_editor,
    wants_fragment,
)
from switchboard.ui.rendering import page


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
        return await render_editor(request, recipes, connectors, recipe, problems, EditorView(), full=True)

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
        report = None if errors else await recipes.running.test_run(recipe_id, values, principal)
        view = EditorView(
            errors={"test": errors}, test_values=raw, report=report, focus="test-result-heading"
        )
        if errors:
            view.focus = first_error_id(errors, "test")
        status = 422 if errors else 200
        if wants_fragment(request):
            return page(
                request,
                "console/recipe_editor/_test.html",
                status_code=status,
                **await editor_context(
                    recipes, connectors, recipe, await recipes.recipes.check(recipe_id), view
                ),
            )
        return await render_editor(
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
            return await render_editor(
                request,
                recipes,
                connectors,
                recipe,
                exc.problems,
                view,
                status=422,
                full=not wants_fragment(request),
            )
        except NothingChanged as exc:
            recipe = await recipes.recipes.get(recipe_id)
            return await answer_saved(
                request, recipes, connectors, recipe, [], "", "editor-notice", notice=exc.message
            )
        notice = f"Published version {version.number}: tools now run it."
        recipe = await recipes.recipes.get(recipe_id)
        return await answer_saved(
            request, recipes, connectors, recipe, [], "", "editor-notice", notice=notice
        )
