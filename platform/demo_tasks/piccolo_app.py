"""Piccolo app for Demo Tasks' tables (no dependency on Switchboard's own apps)."""

from __future__ import annotations

from pathlib import Path

from piccolo.conf.apps import AppConfig

from switchboard.platform.demo_tasks.tables import Account, AuthorizationCode, Client, Grant, Task, Token

APP_CONFIG = AppConfig(
    app_name="demo_tasks",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[Account, Client, Grant, AuthorizationCode, Token, Task],
    migration_dependencies=[],
    commands=[],
)
