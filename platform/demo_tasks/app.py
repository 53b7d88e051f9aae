"""Building Demo Tasks as a Litestar app, and mounting it inside another.

Its routes are relative to its own root and every URL it prints is built from its issuer, so the same
app serves ``http://host:8100`` on its own or ``http://host:8000/demo-tasks`` mounted in Switchboard.
Mounted, it uses the Piccolo engine its host already connected; its own start-up does nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from litestar import Litestar, Request, Response, asgi
from litestar.config.csrf import CSRFConfig
from litestar.di import Provide
from litestar.exceptions import HTTPException
from litestar.handlers import ASGIRouteHandler
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.template.config import TemplateConfig

from switchboard.platform.core.errors import InvalidInput
from switchboard.platform.demo_tasks.api import TasksApi, bearer_error_response, invalid_input_response
from switchboard.platform.demo_tasks.deps import DemoTasks, mount_path
from switchboard.platform.demo_tasks.endpoints import OAuthEndpoints, oauth_error_response
from switchboard.platform.demo_tasks.errors import BearerError, OAuthError
from switchboard.platform.demo_tasks.pages import Pages, error_page

if TYPE_CHECKING:
    from litestar.types import Receive, Scope, Send

MOUNT_PATH = "/demo-tasks"
CSRF_COOKIE = "demo_tasks_csrf"
MAX_REQUEST_BODY = 64 * 1024
TEMPLATES = Path(__file__).parent / "templates"


def create_demo_tasks_app(
    *,
    issuer: str,
    secret_key: str,
    access_token_lifetime: timedelta = timedelta(hours=1),
    secure_cookies: bool = False,
    previous_keys: Sequence[str] = (),
) -> Litestar:
    """Demo Tasks as an ASGI app. ``issuer`` is its public URL (with the mount path when mounted);
    ``previous_keys`` are earlier secret keys, which still open the stored client secrets."""
    demo = DemoTasks.build(
        issuer=issuer,
        secret_key=secret_key,
        access_token_lifetime=access_token_lifetime,
        secure_cookies=secure_cookies,
        previous_keys=previous_keys,
    )
    csrf = CSRFConfig(
        # Its own key: a token of the host app's forms must not pass here, nor the other way round.
        secret=hashlib.sha256(f"demo-tasks-csrf:{secret_key}".encode()).hexdigest(),
        cookie_name=CSRF_COOKIE,
        cookie_path=mount_path(demo.issuer),
        cookie_secure=secure_cookies,
        cookie_httponly=True,
        cookie_samesite="lax",
    )

    def http_error(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
        if request.scope["path"].startswith(("/api/", "/token", "/revoke", "/userinfo")):
            return Response({"error": "request_refused", "message": exc.detail}, status_code=exc.status_code)
        message = (
            "The form expired; go back, reload the page and try again."
            if exc.status_code == 403
            else exc.detail
        )
        return error_page(demo, message, status_code=exc.status_code)

    return Litestar(
        route_handlers=[Pages, OAuthEndpoints, TasksApi],
        dependencies={"demo": Provide(lambda: demo, use_cache=True, sync_to_thread=False)},
        csrf_config=csrf,
        template_config=TemplateConfig(directory=TEMPLATES, engine=JinjaTemplateEngine),
        exception_handlers={
            OAuthError: oauth_error_response,
            BearerError: bearer_error_response,
            InvalidInput: invalid_input_response,
            HTTPException: http_error,
        },
        openapi_config=None,
        request_max_body_size=MAX_REQUEST_BODY,
        logging_config=None,
        debug=False,
    )


def mount_handler(app: Litestar, path: str = MOUNT_PATH) -> ASGIRouteHandler:
    """A route handler serving ``app`` under ``path`` in a host Litestar app (``path`` must be the
    issuer's path). The host's CSRF check is skipped there: Demo Tasks checks its own forms."""

    @asgi(path, is_mount=True, copy_scope=True, opt={"exclude_from_csrf": True}, name="demo-tasks")
    async def demo_tasks(scope: Scope, receive: Receive, send: Send) -> None:
        # Its own per-request state: the host's cached request details (CSRF token, parsed form) stay
        # the host's.
        await app({**scope, "state": {}}, receive, send)  # type: ignore[arg-type]

    return demo_tasks
