"""Running recipes for people: a draft tested from the editor as its builder, a published version called
as a tool by a verified user."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from switchboard.identity.principal import Principal
from switchboard.identity.services.users import UserService
from switchboard.recipes.engine import RecipeEngine
from switchboard.recipes.outcomes import RunCaller, RunReport
from switchboard.recipes.service import RecipeService


class RecipeRuns:
    def __init__(self, *, recipes: RecipeService, engine: RecipeEngine, users: UserService) -> None:
        self._recipes = recipes
        self._engine = engine
        self._users = users

    async def caller(self, user_id: UUID) -> RunCaller:
        """A verified user as recipes see them: the ``user`` data pill holds their e-mail, name and groups."""
        user = await self._users.get(user_id)
        return RunCaller(
            user_id=user.id, email=user.email, name=user.name, groups=tuple(g.name for g in user.groups)
        )

    async def test_run(self, recipe_id: UUID, inputs: dict[str, Any], principal: Principal) -> RunReport:
        """Run the draft from the editor as the builder, with their own end user's connections."""
        principal.require_builder()
        recipe = await self._recipes.get(recipe_id)
        return await self._engine.run(
            recipe_id=recipe_id,
            version=None,
            definition=recipe.draft,
            inputs=inputs,
            caller=await self.caller(principal.user_id),
            kind="test",
        )

    async def call_tool(self, recipe_id: UUID, inputs: dict[str, Any], caller: RunCaller) -> RunReport:
        """Run the published version for a tool call."""
        version = await self._recipes.published(recipe_id)
        return await self._engine.run(
            recipe_id=recipe_id,
            version=version.number,
            definition=version.definition,
            inputs=inputs,
            caller=caller,
            kind="tool",
        )
