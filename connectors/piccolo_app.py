"""Piccolo app for the connector tables."""

from __future__ import annotations

from pathlib import Path

from piccolo.conf.apps import AppConfig

from switchboard.connectors.tables import (
    Connection,
    ConnectLink,
    CustomConnector,
    Project,
    RemoteServer,
    UserGrant,
)

APP_CONFIG = AppConfig(
    app_name="connectors",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[Project, CustomConnector, Connection, UserGrant, ConnectLink, RemoteServer],
    migration_dependencies=["switchboard.identity.piccolo_app"],
    commands=[],
)
