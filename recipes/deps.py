"""The recipe services a running app shares, wired from the settings."""

from __future__ import annotations

from datetime import timedelta

import msgspec

from switchboard.connectors.deps import ConnectorServices
from switchboard.identity.services.users import UserService
from switchboard.platform.core.settings import Settings
from switchboard.recipes.engine import RecipeEngine
from switchboard.recipes.gateway import ServicesGateway
from switchboard.recipes.running import RecipeRuns
from switchboard.recipes.runs import RunStore
from switchboard.recipes.service import RecipeService
from switchboard.recipes.validation import RecipeValidator


class RecipeServices(msgspec.Struct, frozen=True):
    recipes: RecipeService
    validator: RecipeValidator
    engine: RecipeEngine
    running: RecipeRuns
    runs: RunStore

    @classmethod
    def from_settings(
        cls, settings: Settings, *, connectors: ConnectorServices, users: UserService
    ) -> RecipeServices:
        validator = RecipeValidator(definitions=connectors.registry, connections=connectors.connections)
        runs = RunStore(retention=timedelta(days=settings.run_retention_days))
        recipes = RecipeService(
            validator=validator,
            connections=connectors.connections,
            projects=connectors.projects,
            audit=connectors.audit,
        )
        engine = RecipeEngine(
            connectors=ServicesGateway(connectors),
            store=runs,
            step_timeout=float(settings.recipe_step_timeout_seconds),
            deadline=float(settings.recipe_deadline_seconds),
        )
        return cls(
            recipes=recipes,
            validator=validator,
            engine=engine,
            running=RecipeRuns(recipes=recipes, engine=engine, users=users),
            runs=runs,
        )
