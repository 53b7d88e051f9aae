"""Server-rendered pages: sign-in, the admin console and the member's own area."""

from __future__ import annotations

from switchboard.ui.pages.api_tokens import ApiTokenPages
from switchboard.ui.pages.apps import AppPages
from switchboard.ui.pages.audit import AuditPages
from switchboard.ui.pages.auth import AuthPages
from switchboard.ui.pages.clients import ClientPages
from switchboard.ui.pages.connect import ConnectPages, MyConnectionsPages
from switchboard.ui.pages.connections import ConnectionPages
from switchboard.ui.pages.connectors import ConnectorPages
from switchboard.ui.pages.groups import GroupPages
from switchboard.ui.pages.me import MePages
from switchboard.ui.pages.me_servers import MyServerPages
from switchboard.ui.pages.oauth import AuthorizePages
from switchboard.ui.pages.recipe_editor.page import RecipeEditorPages
from switchboard.ui.pages.recipe_editor.steps import RecipeStepPages
from switchboard.ui.pages.recipe_editor.trigger import RecipeTriggerPages
from switchboard.ui.pages.recipe_import_export import RecipeImportExportPages
from switchboard.ui.pages.recipe_runs import RecipeRunPages
from switchboard.ui.pages.recipe_versions import RecipeVersionPages
from switchboard.ui.pages.recipes import RecipePages
from switchboard.ui.pages.remote_servers import RemoteServerPages
from switchboard.ui.pages.server_access import ServerAccessPages
from switchboard.ui.pages.server_overview import ServerOverviewPages
from switchboard.ui.pages.server_tokens import ServerTokenPages
from switchboard.ui.pages.server_tools import ServerToolPages
from switchboard.ui.pages.servers import ServerPages
from switchboard.ui.pages.tool_calls import ToolCallPages
from switchboard.ui.pages.users import UserPages

PAGE_CONTROLLERS = [
    AuthPages,
    MePages,
    MyConnectionsPages,
    MyServerPages,
    ConnectPages,
    AppPages,
    UserPages,
    GroupPages,
    ClientPages,
    ApiTokenPages,
    AuditPages,
    ConnectorPages,
    ConnectionPages,
    RecipePages,
    RecipeImportExportPages,
    RecipeVersionPages,
    RecipeRunPages,
    RecipeEditorPages,
    RecipeTriggerPages,
    RecipeStepPages,
    ServerPages,
    ServerOverviewPages,
    ServerAccessPages,
    ServerToolPages,
    ServerTokenPages,
    RemoteServerPages,
    ToolCallPages,
    AuthorizePages,
]
