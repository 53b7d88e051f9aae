"""Console → Recipes → a recipe's job history: its runs, newest first, and one run step by step.

Run history shows the values the run store kept (masked, truncated), never more.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from uuid import UUID

from litestar import Controller, Request, get
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Template

from switchboard.identity.auth.guards import requires_builder
from switchboard.platform.core.errors import NotFound
from switchboard.recipes.deps import RecipeServices
from switchboard.recipes.run_state import MAX_STEP_RECORDS
from switchboard.ui.pages.recipes import LIST_PATH
from switchboard.ui.rendering import page

RUNS_PER_PAGE = 50
KINDS = {"tool": "Tool call", "test": "Test"}


def duration(milliseconds: int) -> str:
    if milliseconds < 1000:
        return f"{milliseconds} ms"
    return f"{milliseconds / 1000:.1f} s"


def pretty_json(value: Any) -> str:
    """A stored value (decoded JSON) as indented JSON for a <pre>; the template escapes it."""
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)


def status_text(status: str) -> str:
    return status.replace("_", " ").capitalize()


class RecipeRunPages(Controller):
    path = LIST_PATH
    include_in_schema = False
    guards = [requires_builder]

    @get("/{recipe_id:uuid}/runs")
    async def list_runs(
        self,
        request: Request[Any, Any, Any],
        recipe_id: FromPath[UUID],
        recipes: NamedDependency[RecipeServices],
        before: FromQuery[datetime | None] = None,
    ) -> Template:
        recipe = await recipes.recipes.get(recipe_id)
        runs = await recipes.runs.list_for(recipe_id, limit=RUNS_PER_PAGE, before=before)
        return page(
            request,
            "console/recipe_runs.html",
            title=f"Job history of {recipe.tool_name}",
            recipe=recipe,
            runs=runs,
            older=runs[-1].started_at if len(runs) == RUNS_PER_PAGE else None,
            paged=before is not None,
            kinds=KINDS,
            duration=duration,
        )

    @get("/{recipe_id:uuid}/runs/{run_id:uuid}")
    async def run_detail(
        self,
        request: Request[Any, Any, Any],
        recipe_id: FromPath[UUID],
        run_id: FromPath[UUID],
        recipes: NamedDependency[RecipeServices],
    ) -> Template:
        recipe = await recipes.recipes.get(recipe_id)
        run = await recipes.runs.get(run_id)
        if run.recipe_id != recipe_id:
            raise NotFound("There is no such run.", field="run_id")
        return page(
            request,
            "console/recipe_runs_view.html",
            title=f"Run of {recipe.tool_name}",
            recipe=recipe,
            run=run,
            max_step_records=MAX_STEP_RECORDS,
            kinds=KINDS,
            duration=duration,
            pretty_json=pretty_json,
            status_text=status_text,
        )
