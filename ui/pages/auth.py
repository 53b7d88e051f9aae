"""Sign-in, sign-out and the start page."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.di import NamedDependency
from litestar.params import FromQuery
from litestar.response import Redirect, Template

from switchboard.identity.auth.middleware import SESSION_COOKIE
from switchboard.identity.services.sessions import SessionService
from switchboard.platform.core.errors import NotAuthenticated, Throttled
from switchboard.platform.core.requests import client_ip
from switchboard.platform.core.settings import Settings
from switchboard.ui.forms import form_fields, safe_next
from switchboard.ui.rendering import page, principal_of


def _home_for(request: Request[Any, Any, Any]) -> str:
    principal = principal_of(request)
    if principal is None:
        return "/login"
    return "/console/users" if principal.is_admin else "/me"


class AuthPages(Controller):
    include_in_schema = False

    @get("/")
    async def home(self, request: Request[Any, Any, Any]) -> Redirect:
        return Redirect(path=_home_for(request), status_code=303)

    @get("/console")
    async def console(self, request: Request[Any, Any, Any]) -> Redirect:
        """The console's own address leads to its first page (or to sign-in, or to the person's own)."""
        return Redirect(path=_home_for(request), status_code=303)

    @get("/favicon.ico")
    async def favicon(self) -> Redirect:
        """Browsers ask here whatever the page says: the icon is in /static."""
        return Redirect(path="/static/favicon.svg", status_code=301)

    @get("/login")
    async def login_form(
        self, request: Request[Any, Any, Any], next: FromQuery[str | None] = None
    ) -> Template | Redirect:
        if principal_of(request) is not None:
            return Redirect(path=safe_next(next, _home_for(request)), status_code=303)
        return page(request, "login.html", title="Sign in", next=safe_next(next, ""), values={}, error=None)

    @post("/login")
    async def login(
        self,
        request: Request[Any, Any, Any],
        sessions: NamedDependency[SessionService],
        settings: NamedDependency[Settings],
    ) -> Response[Any]:
        values = await form_fields(request, "email", "password", "next")
        client = client_ip(request)
        try:
            if not values["email"] or not values["password"]:
                raise NotAuthenticated("Enter your e-mail and password.")
            session = await sessions.sign_in(
                values["email"],
                values["password"],
                ip_address=client,
                user_agent=request.headers.get("user-agent", ""),
            )
        except (NotAuthenticated, Throttled) as exc:
            refused = page(
                request,
                "login.html",
                status_code=exc.status,
                title="Sign in",
                next=safe_next(values["next"], ""),
                values={"email": values["email"]},
                error=exc.message,
            )
            if isinstance(exc, Throttled):
                refused.headers["Retry-After"] = str(exc.retry_after)
            return refused
        home = "/console/users" if session.principal.is_admin else "/me"
        response: Response[Any] = Redirect(path=safe_next(values["next"], home), status_code=303)
        # A new session: the CSRF middleware issues its token with this cookie (platform/core/csrf.py).
        response.cookies.append(
            Cookie(
                key=SESSION_COOKIE,
                value=session.cookie_value,
                httponly=True,
                samesite="lax",
                secure=settings.secure_cookies,
                max_age=int(sessions.lifetime.total_seconds()),
                path="/",
            )
        )
        return response

    @post("/logout")
    async def logout(
        self,
        request: Request[Any, Any, Any],
        sessions: NamedDependency[SessionService],
        settings: NamedDependency[Settings],
    ) -> Response[Any]:
        principal = principal_of(request)
        if principal is not None:
            await sessions.sign_out(principal)
        response: Response[Any] = Redirect(path="/login", status_code=303)
        # Clearing the session cookie also clears the session's CSRF token (platform/core/csrf.py).
        response.cookies.append(
            Cookie(
                key=SESSION_COOKIE,
                value="",
                max_age=0,
                expires=0,
                path="/",
                httponly=True,
                samesite="lax",
                secure=settings.secure_cookies,
            )
        )
        return response
