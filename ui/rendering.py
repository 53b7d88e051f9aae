"""Rendering pages: the template configuration, flash messages and the page helper."""

from __future__ import annotations

import time
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
from switchboard.platform.core.csrf import csrf_token_of
from switchboard.platform.core.tokens import Signer

UI_DIR = Path(__file__).parent
FLASH_COOKIE = "sb_flash"
NOTICE_LIFETIME = 60  # seconds: a notice is for the page right after the redirect


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
    """A one-time notice carried across a redirect in a signed cookie.

    The signature covers the CSRF token of the browser session the notice was written for, and the
    time of writing: a notice cookie copied into another browser or session, or kept past its minute,
    shows nothing.
    """

    def __init__(self, secret_key: str, *, secure: bool = False) -> None:
        self.signer = Signer(secret_key, "flash")
        self.secure = secure

    def cookie(self, request: Request[Any, Any, Any], message: str) -> Cookie | None:
        """The notice for the next page of this browser session (None outside one)."""
        session = csrf_token_of(request.scope)
        if session is None:
            return None
        # base64url, not percent-encoding: cookie parsing percent-decodes values, which would break
        # the signature over an encoded message.
        encoded = urlsafe_b64encode(message[:300].encode()).decode().rstrip("=")
        payload = f"{encoded}.{int(time.time())}"
        signature = self.signer.sign(f"{session}.{payload}").rpartition(".")[2]
        return self._cookie(f"{payload}.{signature}", max_age=NOTICE_LIFETIME)

    def read(self, request: Request[Any, Any, Any]) -> str | None:
        raw = request.cookies.get(FLASH_COOKIE)
        session = csrf_token_of(request.scope)
        signed = self.signer.unsign(f"{session}.{raw}") if raw and session else None
        if signed is None or session is None:
            return None
        encoded, _, written = signed[len(session) + 1 :].partition(".")
        if not written.isdigit() or time.time() - int(written) > NOTICE_LIFETIME:
            return None
        try:
            return urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
        except (ValueError, UnicodeDecodeError):
            return None

    def clear(self) -> Cookie:
        return self._cookie("", max_age=0)

    def _cookie(self, value: str, *, max_age: int) -> Cookie:
        return Cookie(
            key=FLASH_COOKIE,
            value=value,
            path="/",
            httponly=True,
            secure=self.secure,
            samesite="lax",
            max_age=max_age,
            expires=0 if max_age == 0 else None,
        )


# No page may be framed by another site (clickjacking), and a page runs only the scripts served from
# /static: no inline script or event handler, so markup that slipped into a page cannot run.
PAGE_SECURITY_HEADERS = {
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": (
        "script-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


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
        headers={"Cache-Control": "no-store", **PAGE_SECURITY_HEADERS},
    )
    if FLASH_COOKIE in request.cookies:
        response.cookies.append(flash.clear())
    return response


def redirect(request: Request[Any, Any, Any], path: str, notice: str | None = None) -> Response[Any]:
    """Post/redirect/get, with an optional notice for the next page."""
    response: Response[Any] = Redirect(path=path, status_code=303)
    if notice:
        flash: Flash = request.app.state.flash
        cookie = flash.cookie(request, notice)
        if cookie is not None:
            response.cookies.append(cookie)
    return response
