"""Rendering pages: the template configuration, flash messages and the page helper."""

from __future__ import annotations

from base64 import urlsafe_b64decode, urlsafe_b64encode
from pathlib import Path
from typing import Any

from litestar import Request, Response
from litestar.datastructures import Cookie
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Redirect, Template
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig
from litestar.types import ControllerRouterHandler

from switchboard.identity.principal import Principal
from switchboard.platform.core.tokens import Signer

UI_DIR = Path(__file__).parent
FLASH_COOKIE = "sb_flash"


def template_config() -> TemplateConfig[JinjaTemplateEngine]:
    return TemplateConfig(directory=UI_DIR / "templates", engine=JinjaTemplateEngine)


def static_files() -> ControllerRouterHandler:
    return create_static_files_router(
        path="/static", directories=[UI_DIR / "static"], include_in_schema=False, name="static"
    )


def principal_of(request: Request[Any, Any, Any]) -> Principal | None:
    user = request.scope.get("user")
    return user if isinstance(user, Principal) else None


class Flash:
    """A one-time notice carried across a redirect in a signed cookie."""

    def __init__(self, secret_key: str) -> None:
        self.signer = Signer(secret_key, "flash")

    def cookie(self, message: str) -> Cookie:
        # base64url, not percent-encoding: cookie parsing percent-decodes values, which would break
        # the signature over an encoded message.
        encoded = urlsafe_b64encode(message[:300].encode()).decode().rstrip("=")
        return Cookie(
            key=FLASH_COOKIE,
            value=self.signer.sign(encoded),
            httponly=True,
            samesite="lax",
            max_age=60,
        )

    def read(self, request: Request[Any, Any, Any]) -> str | None:
        raw = request.cookies.get(FLASH_COOKIE)
        value = self.signer.unsign(raw) if raw else None
        if not value:
            return None
        try:
            return urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
        except (ValueError, UnicodeDecodeError):
            return None


def page(
    request: Request[Any, Any, Any],
    template_name: str,
    *,
    status_code: int = 200,
    **context: Any,
) -> Template:
    """Render a page with what every page shows: who is signed in and any pending notice."""
    flash: Flash = request.app.state.flash
    notice = flash.read(request)
    response = Template(
        template_name=template_name,
        status_code=status_code,
        context={"principal": principal_of(request), "notice": notice, "path": request.url.path, **context},
        # No page may be framed by another site (clickjacking).
        headers={
            "Cache-Control": "no-store",
            "X-Frame-Options": "DENY",
            "Content-Security-Policy": "frame-ancestors 'none'",
        },
    )
    if notice is not None:
        response.cookies.append(Cookie(key=FLASH_COOKIE, value="", max_age=0, expires=0))
    return response


def redirect(request: Request[Any, Any, Any], path: str, notice: str | None = None) -> Response[Any]:
    """Post/redirect/get, with an optional notice for the next page."""
    response: Response[Any] = Redirect(path=path, status_code=303)
    if notice:
        flash: Flash = request.app.state.flash
        response.cookies.append(flash.cookie(notice))
    return response
