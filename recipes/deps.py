"""The recipe services a running app shares, and their dependency providers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import msgspec

from switchboard.connectors.deps import ConnectorServices
from switchboard.identity.principal import Principal
from switchboard.identity.services.users import UserService
from switchboard.platform.core.settings import Settings
from switchboard.recipes.engine import RecipeEngine
from switchboard.recipes.gateway import ServicesGateway
from switchboard.recipes.outcomes import RunCaller, RunReport
from switchboard.recipes.runs import RunStore
from switchboard.recipes.service import RecipeService
from switchboard.recipes.validation import RecipeValidator


class RecipeServices(msgspec.Struct, frozen=True):
    recipes: RecipeService
    validator: RecipeValidator
    engine: RecipeEngine
    runs: RunStore
    users: UserService
    retention: timedelta

    @classmethod
    def from_settings(
        cls, settings: Settings, *, connectors: ConnectorServices, users: UserService
    ) -> RecipeServices:
        validator = RecipeValidator(definitions=connectors.registry, connections=connectors.connections)
        runs = RunStore()
        return cls(
            recipes=RecipeService(validator=validator, connections=connectors.connections),
            validator=validator,
            engine=RecipeEngine(
                connectors=ServicesGateway(connectors),
                store=runs,
                step_timeout=float(settings.recipe_step_timeout_seconds),
                deadline=float(settings.recipe_deadline_seconds),
            ),
            runs=runs,
            users=users,
            retention=timedelta(days=settings.run_retention_days),
        )

    async def caller(self, user_id: UUID) -> RunCaller:
        """A verified user as recipes see them: the ``user`` data pill holds their e-mail, name and groups."""
        user = await self.users.get(user_id)
        return RunCaller(
            user_id=user.id, email=user.email, name=user.name, groups=tuple(g.name for g in user.groups)
        )

    async def test_run(self, recipe_id: UUID, inputs: dict[str, Any], principal: Principal) -> RunReport:
        """Run the draft from the editor as the builder, with their own end user's connections."""
        principal.require_builder()
        recipe = await self.recipes.get(recipe_id)
        return await self.engine.run(
            recipe_id=recipe_id,
            version=None,
            definition=recipe.draft,
            inputs=inputs,
            caller=await self.caller(principal.user_id),
            kind="test",
        )

    async def call_tool(self, recipe_id: UUID, inputs: dict[str, Any], caller: RunCaller) -> RunReport:
        """Run the published version for a tool call."""
        version = await self.recipes.published(recipe_id)
        return await self.engine.run(
            recipe_id=recipe_id,
            version=version.number,
            definition=version.definition,
            inputs=inputs,
            caller=caller,
            kind="tool",
        )

    async def remove_old_runs(self) -> int:
        """Retention: run history older than the configured number of days goes (run by the housekeeper)."""
        return await self.runs.remove_older_than(datetime.now(UTC) - self.retention)
