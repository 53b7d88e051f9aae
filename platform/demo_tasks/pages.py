"""The pages a person sees: sign-in, the consent page of the authorization endpoint, and their tasks.

Forms are protected by the app's own CSRF cookie (scoped to its path, like the session cookie).
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import parse_qs, urlencode

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromQuery
from litestar.response import Redirect, Template

from switchboard.platform.demo_tasks import accounts, tasks
from switchboard.platform.demo_tasks.accounts import AccountInfo
from switchboard.platform.demo_tasks.authorization import PageError, RedirectError
from switchboard.platform.demo_tasks.deps import DemoTasks
from switchboard.platform.demo_tasks.sessions import SESSION_COOKIE

# No page may be framed by another site: the consent page least of all (clickjacking). Pages run no
# script at all.
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": (
        "script-src 'none'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
MAX_QUERY = 4096


class LoginForm(msgspec.Struct, frozen=True):
    email: str = ""
    password: str = ""
    next: str = "/"


class ConsentForm(msgspec.Struct, frozen=True):
    request: str = ""
    decision: str = ""


def page(demo: DemoTasks, template: str, *, status_code: int = 200, **context: Any) -> Template:
    return Template(
        template_name=template,
        status_code=status_code,
        context={"base": demo.issuer, **context},
        headers=PAGE_HEADERS,
    )


def error_page(demo: DemoTasks, message: str, *, status_code: int = 400) -> Template:
    return page(demo, "error.html", status_code=status_code, message=message)


def safe_next(value: str | None) -> str:
    """A path inside this app to return to after signing in; anything else goes to the task list.
    (It is appended to the issuer, so it can never lead to another site.)"""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value[:MAX_QUERY]


async def signed_in(request: Request[Any, Any, Any], demo: DemoTasks) -> AccountInfo | None:
    account_id = demo.sessions.account_id(request.cookies.get(SESSION_COOKIE))
    return await accounts.find(account_id) if account_id else None


def to_login(demo: DemoTasks, next_path: str) -> Redirect:
    return Redirect(demo.url("/login?" + urlencode({"next": next_path})), status_code=303)


class Pages(Controller):
    include_in_schema = False

    @get("/")
    async def home(self, request: Request[Any, Any, Any], demo: NamedDependency[DemoTasks]) -> Response[Any]:
        account = await signed_in(request, demo)
        if account is None:
            return to_login(demo, "/")
        return page(demo, "home.html", account=account, tasks=await tasks.list_tasks(account.id))

    @get("/login")
    async def login_form(
        self,
        request: Request[Any, Any, Any],
        demo: NamedDependency[DemoTasks],
        next: FromQuery[str | None] = None,
    ) -> Response[Any]:
        if await signed_in(request, demo) is not None:
            return Redirect(demo.url(safe_next(next)), status_code=303)
        return page(demo, "login.html", next=safe_next(next), email="", error=None)

    @post("/login")
    async def login(
        self,
        demo: NamedDependency[DemoTasks],
        data: Annotated[LoginForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Response[Any]:
        account = await accounts.authenticate(data.email[:254], data.password[:256])
        if account is None:
            return page(
                demo,
                "login.html",
                status_code=400,
                next=safe_next(data.next),
                email=data.email[:254],
                error="Wrong email or password.",
            )
        response: Response[Any] = Redirect(demo.url(safe_next(data.next)), status_code=303)
        response.cookies.append(demo.sessions.issue(account.id))
        return response

    @post("/logout")
    async def logout(self, demo: NamedDependency[DemoTasks]) -> Response[Any]:
        response: Response[Any] = Redirect(demo.url("/login"), status_code=303)
        response.cookies.append(demo.sessions.clear())
        return response

    @get("/authorize")
    async def authorize(
        self, request: Request[Any, Any, Any], demo: NamedDependency[DemoTasks]
    ) -> Response[Any]:
        query = request.scope.get("query_string", b"").decode("latin-1")
        return await _authorization(request, demo, query, decision=None)

    @post("/authorize")
    async def decide(
        self,
        request: Request[Any, Any, Any],
        demo: NamedDependency[DemoTasks],
        data: Annotated[ConsentForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Response[Any]:
        if data.decision not in ("allow", "deny"):
            return error_page(demo, "Choose Allow or Deny.")
        return await _authorization(request, demo, data.request, decision=data.decision)


async def _authorization(
    request: Request[Any, Any, Any], demo: DemoTasks, query: str, *, decision: str | None
) -> Response[Any]:
    """The authorization endpoint (RFC 6749 §4.1.1): validate, make sure someone is signed in, then show
    the consent page (GET) or answer the client with a code or ``access_denied`` (POST)."""
    if len(query) > MAX_QUERY:
        return error_page(demo, "The link is too long.")
    try:
        auth = await demo.authorizer.validate(parse_qs(query, keep_blank_values=True, max_num_fields=30))
    except PageError as exc:
        return error_page(demo, exc.message)
    except RedirectError as exc:
        return Redirect(exc.location, status_code=303)
    except ValueError:  # more fields than any request needs
        return error_page(demo, "The link is not a valid authorization request.")
    account = await signed_in(request, demo)
    if account is None:
        return to_login(demo, "/authorize?" + query)
    if decision is None:
        return page(demo, "consent.html", auth=auth, account=account, request_query=query)
    if decision == "deny":
        return Redirect(demo.authorizer.deny(auth), status_code=303)
    return Redirect(await demo.authorizer.allow(auth, account_id=account.id), status_code=303)
