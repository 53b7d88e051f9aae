"""Piccolo app for the MCP server tables, the tool-call audit log and what clients said of themselves."""

from __future__ import annotations

from pathlib import Path

from piccolo.conf.apps import AppConfig

from switchboard.platform.mcp.audit import ToolCallRow
from switchboard.platform.mcp.tables import (
    ClientSighting,
    Server,
    ServerClientLimit,
    ServerGroup,
    ServerRemoteTool,
    ServerToken,
    ServerTool,
)

APP_CONFIG = AppConfig(
    app_name="mcp",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[
        Server,
        ServerClientLimit,
        ServerGroup,
        ServerTool,
        ServerRemoteTool,
        ServerToken,
        ToolCallRow,
        ClientSighting,
    ],
    migration_dependencies=["switchboard.recipes.piccolo_app", "switchboard.connectors.piccolo_app"],
    commands=[],
)
