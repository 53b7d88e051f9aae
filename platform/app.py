"""The composition root: ``create_app(settings)`` wires every layer into one Litestar app.

Nothing imports this module except the CLI and the tests.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from litestar import Litestar
from litestar.config.csrf import CSRFConfig
from litestar.connection import ASGIConnection
from litestar.datastructures import State
from litestar.di import Provide
from litestar.middleware import DefineMiddleware
from litestar.openapi.config import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme

from switchboard.connectors.remote.controllers import API_CONTROLLERS as REMOTE_API_CONTROLLERS
from switchboard.identity.auth.guards import current_principal
from switchboard.identity.auth.middleware import SESSION_COOKIE, AuthenticationMiddleware
from switchboard.identity.controllers import API_CONTROLLERS
from switchboard.identity.oauth.endpoints import CLIENT_ENDPOINTS, OAuthEndpoints
from switchboard.identity.principal import Principal
from switchboard.platform.core.csrf import BearerExemptCSRFMiddleware
from switchboard.platform.core.health import healthz, readyz
from switchboard.platform.core.openapi_errors import document_errors
from switchboard.platform.core.settings import Settings
from switchboard.platform.demo_tasks.app import MOUNT_PATH, create_demo_tasks_app, mount_handler
from switchboard.platform.mcp.controllers import API_CONTROLLERS as MCP_API_CONTROLLERS
from switchboard.platform.mcp.routes import mcp_handlers
from switchboard.platform.services import Services, install, services_of
from switchboard.recipes.controllers import API_CONTROLLERS as RECIPE_API_CONTROLLERS
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
        "bearer token. Every error is answered as JSON of one shape, the Error schema: "
        '{"error": code, "message": text, "field": name of the input at fault, when there is one}; each '
        "operation lists every error status it can answer.",
        path="/schema",
        render_plugins=[JsonRenderPlugin()],
        components=Components(
            security_schemes={
                "apiToken": SecurityScheme(type="http", scheme="bearer", description="Admin API token")
            }
        ),
        security=[{"apiToken": []}],
    )


def create_app(settings: Settings, *, services: Services | None = None) -> Litestar:
    """Build the app serving ``services`` (by default ``Services.build(settings)``). The database is
    connected on start-up and closed on shut-down.

    What the app itself is made of (routes, middleware, CSRF, templates) depends on the settings alone
    (``shell_settings``); the services are found per request in ``app.state.services``.
    """
    services = services or Services.build(settings)
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
        *mcp_handlers(lambda state: services_of(state).endpoint),
    ]
    if settings.mounts_demo_tasks:
        demo_tasks = create_demo_tasks_app(
            issuer=settings.base_url + MOUNT_PATH,
            secret_key=settings.secret_key,
            secure_cookies=settings.secure_cookies,
            previous_keys=settings.previous_keys,
        )
        handlers.append(mount_handler(demo_tasks))
    app = Litestar(
        route_handlers=handlers,
        dependencies=_DEPENDENCIES,
        # Authentication first, so that a refused CSRF check still renders the page for who is signed in.
        middleware=[
            AuthenticationMiddleware(lambda scope: services_of(scope["app"].state).identity),
            DefineMiddleware(BearerExemptCSRFMiddleware, config=csrf, session_cookie=SESSION_COOKIE),
        ],
        exception_handlers=EXCEPTION_HANDLERS,
        template_config=template_config(),
        openapi_config=_openapi(),
        state=State({"flash": Flash(settings.secret_key, secure=settings.secure_cookies)}),
        lifespan=[lambda app: services_of(app.state).endpoint.running()],
        on_startup=[_start],
        on_shutdown=[_stop],
        request_max_body_size=MAX_REQUEST_BODY,
        logging_config=None,
        debug=False,
    )
    # Built here, before serving, so that the API's error answers are described in the API's shape.
    document_errors(app.openapi_schema)
    install(app, services)
    return app


async def _start(app: Litestar) -> None:
    """Connect the services' database and start housekeeping (a coroutine function: Litestar awaits
    only those)."""
    await services_of(app.state).start()


async def _stop(app: Litestar) -> None:
    await services_of(app.state).stop()


def shell_settings(settings: Settings) -> tuple[object, ...]:
    """The settings ``create_app`` builds the app itself from (the rest reach it through its services):
    apps built from settings with the same shell settings differ only in the services installed."""
    return (
        settings.secret_key,
        settings.base_url,
        settings.secure_cookies,
        settings.mounts_demo_tasks,
        settings.previous_keys,
    )


def _provide(pick: Callable[[Services], object]) -> Provide:
    """A dependency taken from the services the app serves."""

    def provide(state: State) -> object:
        return pick(services_of(state))

    return Provide(provide, sync_to_thread=False)


def _principal(request: ASGIConnection[Any, Any, Any, Any]) -> Principal:
    return current_principal(request)


_DEPENDENCIES = {
    "settings": _provide(lambda services: services.settings),
    "database": _provide(lambda services: services.database),
    "users": _provide(lambda services: services.identity.users),
    "groups": _provide(lambda services: services.identity.groups),
    "sessions": _provide(lambda services: services.identity.sessions),
    "api_tokens": _provide(lambda services: services.identity.api_tokens),
    "oauth": _provide(lambda services: services.identity.oauth),
    "connectors": _provide(lambda services: services.connectors),
    "recipes": _provide(lambda services: services.recipes),
    "mcp": _provide(lambda services: services.mcp),
    "principal": Provide(_principal, sync_to_thread=False),
}


logging.getLogger("switchboard").addHandler(logging.NullHandler())
