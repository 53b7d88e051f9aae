"""Piccolo app for the recipe tables."""

from __future__ import annotations

from pathlib import Path

from piccolo.conf.apps import AppConfig

from switchboard.recipes.tables import Recipe, RecipeRun, RecipeVersion

APP_CONFIG = AppConfig(
    app_name="recipes",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[Recipe, RecipeVersion, RecipeRun],
    migration_dependencies=["switchboard.connectors.piccolo_app"],
    commands=[],
)
