"""``RecipeValidator``: every problem of a recipe definition, and the pills a step may use.

It walks the steps once and asks each concern in turn: ``trigger``, ``steps`` (each step's settings;
an action step's app, connection and inputs) and ``references`` (the data pills its fields use). The
trigger's checks read its output schema, whose cost grows with what the builder wrote: they run in a
worker thread, leaving the event loop free.
"""

from __future__ import annotations

from uuid import UUID

from anyio import to_thread

from switchboard.connectors.definitions.model import ConnectorDefinition
from switchboard.platform.core.errors import NotFound
from switchboard.recipes.model import ActionStep, RecipeDefinition, ResultStep, walk_steps
from switchboard.recipes.outcomes import Problem
from switchboard.recipes.validation.lookups import Connections, Definitions, Lookups
from switchboard.recipes.validation.pills import PillOption, available_pills
from switchboard.recipes.validation.references import field_problems, template_fields
from switchboard.recipes.validation.scope import Layout
from switchboard.recipes.validation.steps import action_problems, step_problems
from switchboard.recipes.validation.trigger import trigger_problems


class RecipeValidator:
    def __init__(self, *, definitions: Definitions, connections: Connections) -> None:
        self._definitions = definitions
        self._connections = connections

    async def check(self, definition: RecipeDefinition, *, project_id: UUID) -> list[Problem]:
        """Every problem of the definition, trigger first, then the steps in order, then the recipe."""
        problems = await to_thread.run_sync(lambda: list(trigger_problems(definition.trigger)))
        layout = Layout(definition)
        lookups = Lookups(self._definitions, self._connections)
        first_number: dict[str, str] = {}
        for number, step in walk_steps(definition.steps):
            problems += step_problems(definition.trigger, number, step, first_number)
            place = layout.at[id(step)]
            for field, text in template_fields(step):
                problems += field_problems(definition, layout, step, place, number, field, text)
            if isinstance(step, ActionStep):
                problems += await action_problems(definition, number, step, project_id, lookups)
        last = definition.steps[-1] if definition.steps else None
        if not isinstance(last, ResultStep):
            problems.append(
                Problem(step="", field="", message="Every recipe ends in a result: add a Return result step")
            )
        return problems

    async def available_pills(self, definition: RecipeDefinition, step_id: str) -> list[PillOption]:
        """``available_pills`` with the connector definitions of the recipe's action steps looked up."""
        connectors: dict[str, ConnectorDefinition] = {}
        for _, step in definition.walk():
            if isinstance(step, ActionStep) and step.connector and step.connector not in connectors:
                try:
                    connectors[step.connector] = await self._definitions.get(step.connector)
                except NotFound:
                    continue
        return available_pills(definition, step_id, connectors=connectors)
