"""The composition root: ``create_app(settings)`` wires every layer into one Litestar app.

Nothing imports this module except the CLI and the tests.
"""

from __future__ import annotations

import logging

import httpx
from litestar import Litestar
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import State
from litestar.middleware import DefineMiddleware
from litestar.openapi.config import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme

from switchboard.connectors.deps import ConnectorServices
from switchboard.connectors.remote.controllers import API_CONTROLLERS as REMOTE_API_CONTROLLERS
from switchboard.identity.auth.middleware import SESSION_COOKIE, AuthenticationMiddleware
from switchboard.identity.controllers import API_CONTROLLERS
from switchboard.identity.deps import IdentityServices
from switchboard.identity.oauth.clients import MetadataFetcher
from switchboard.identity.oauth.endpoints import CLIENT_ENDPOINTS, OAuthEndpoints
from switchboard.identity.oauth.housekeeping import Housekeeper
from switchboard.identity.oauth.resources import ResourceDirectory
from switchboard.platform.core.csrf import BearerExemptCSRFMiddleware
from switchboard.platform.core.database import Database
from switchboard.platform.core.health import healthz, readyz
from switchboard.platform.core.settings import Settings
from switchboard.platform.demo_tasks.app import MOUNT_PATH, create_demo_tasks_app, mount_handler
from switchboard.platform.mcp.controllers import API_CONTROLLERS as MCP_API_CONTROLLERS
from switchboard.platform.mcp.deps import McpServices
from switchboard.platform.mcp.directory import McpResources
from switchboard.platform.mcp.hosting import mcp_endpoint
from switchboard.platform.mcp.routes import mcp_handlers
from switchboard.recipes.controllers import API_CONTROLLERS as RECIPE_API_CONTROLLERS
from switchboard.recipes.deps import RecipeServices
from switchboard.ui.errors import EXCEPTION_HANDLERS
from switchboard.ui.pages import PAGE_CONTROLLERS
from switchboard.ui.rendering import Flash, static_files, template_config

VERSION = "0.1.0"
MAX_REQUEST_BODY = 1024 * 1024


def _openapi() -> OpenAPIConfig:
    return OpenAPIConfig(
        title="Switchboard API",
        version=VERSION,
        description="Manage users, end-user groups, admin API tokens, recipes and MCP servers. Authenticate "
        "with the console session (plus the x-csrftoken header on changes) or with an admin API token as a "
        "bearer token.",
        path="/schema",
        render_plugins=[JsonRenderPlugin()],
        components=Components(
            security_schemes={
                "apiToken": SecurityScheme(type="http", scheme="bearer", description="Admin API token")
            }
        ),
        security=[{"apiToken": []}],
    )


def create_app(
    settings: Settings,
    *,
    database: Database | None = None,
    resources: ResourceDirectory | None = None,
    metadata_fetcher: MetadataFetcher | None = None,
    provider_transport: httpx.AsyncBaseTransport | None = None,
) -> Litestar:
    """Build the app. The database is connected on start-up and closed on shut-down.

    ``resources`` are what OAuth tokens can be issued for (RFC 8707); ``metadata_fetcher`` fetches
    client ID metadata documents (tests pass their own to inject faults); ``provider_transport`` carries
    calls to third-party apps (tests inject faults with it).
    """
    database = database or Database(settings.database_url, pool_size=settings.database_pool_size)
    mcp = McpServices.create()
    identity = IdentityServices.from_settings(
        settings,
        resources=resources or McpResources(base_url=settings.base_url, servers=mcp.servers),
        metadata_fetcher=metadata_fetcher,
    )
    connectors = ConnectorServices.from_settings(
        settings,
        audit=identity.oauth.audit,
        sign=identity.oauth.keys.sign_assertion,
        transport=provider_transport,
    )
    recipes = RecipeServices.from_settings(settings, connectors=connectors, users=identity.users)
    endpoint = mcp_endpoint(
        settings,
        servers=mcp.servers,
        identity=identity,
        recipes=recipes,
        calls=mcp.calls,
        connectors=connectors,
    )
    housekeeper = Housekeeper(
        identity.oauth,
        extra=[
            connectors.connect.remove_expired_links,
            recipes.remove_old_runs,
            connectors.runner.end_idle_sessions,
        ],
    )
    csrf = CSRFConfig(
        secret=settings.secret_key,
        cookie_name="sb_csrf",
        cookie_secure=settings.secure_cookies,
        cookie_httponly=True,
        # Patterns are regular expressions searched in the path: anchored, they exempt these paths only.
        exclude=[f"^{path}$" for path in ("/healthz", "/readyz", *CLIENT_ENDPOINTS)],
    )
    handlers = [
        healthz,
        readyz,
        static_files(),
        *PAGE_CONTROLLERS,
        *API_CONTROLLERS,
        *RECIPE_API_CONTROLLERS,
        *MCP_API_CONTROLLERS,
        *REMOTE_API_CONTROLLERS,
        OAuthEndpoints,
        *mcp_handlers(endpoint),
    ]
    if settings.mounts_demo_tasks:
        demo_tasks = create_demo_tasks_app(
            issuer=settings.base_url + MOUNT_PATH,
            secret_key=settings.secret_key,
            secure_cookies=settings.secure_cookies,
            previous_keys=settings.previous_keys,
        )
        handlers.append(mount_handler(demo_tasks))
    return Litestar(
        route_handlers=handlers,
        dependencies={
            **identity.dependencies(),
            **connectors.dependencies(),
            **recipes.dependencies(),
            **mcp.dependencies(),
        },
        # Authentication first, so that a refused CSRF check still renders the page for who is signed in.
        middleware=[
            AuthenticationMiddleware(sessions=identity.sessions, api_tokens=identity.api_tokens),
            DefineMiddleware(BearerExemptCSRFMiddleware, config=csrf, session_cookie=SESSION_COOKIE),
        ],
        exception_handlers=EXCEPTION_HANDLERS,
        template_config=template_config(),
        openapi_config=_openapi(),
        state=State(
            {
                "settings": settings,
                "database": database,
                "flash": Flash(settings.secret_key),
                "identity": identity,
                "connectors": connectors,
                "recipes": recipes,
                "mcp": mcp,
                "mcp_endpoint": endpoint,
            }
        ),
        lifespan=[endpoint.running()],
        on_startup=[database.connect, housekeeper.start],
        on_shutdown=[housekeeper.stop, connectors.aclose, database.close],
        request_max_body_size=MAX_REQUEST_BODY,
        logging_config=None,
        debug=False,
    )


logging.getLogger("switchboard").addHandler(logging.NullHandler())
