"""The endpoints OAuth clients call: metadata (RFC 8414), token, revocation (RFC 7009) and userinfo.

They carry no cookies or CSRF tokens: clients authenticate with their credentials or a bearer token.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency

from switchboard.platform.demo_tasks import accounts, bearer
from switchboard.platform.demo_tasks.authorization import SCOPES
from switchboard.platform.demo_tasks.deps import DemoTasks
from switchboard.platform.demo_tasks.errors import OAuthError, invalid_request, invalid_token
from switchboard.platform.demo_tasks.tokens import GRANT_TYPES

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
AUTH_METHODS = ["client_secret_basic", "client_secret_post"]


def metadata(demo: DemoTasks) -> dict[str, Any]:
    return {
        "issuer": demo.issuer,
        "authorization_endpoint": demo.url("/authorize"),
        "token_endpoint": demo.url("/token"),
        "revocation_endpoint": demo.url("/revoke"),
        "userinfo_endpoint": demo.url("/userinfo"),
        "scopes_supported": list(SCOPES),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": list(GRANT_TYPES),
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": AUTH_METHODS,
        "revocation_endpoint_auth_methods_supported": AUTH_METHODS,
        "authorization_response_iss_parameter_supported": True,
    }


async def _form(request: Request[Any, Any, Any]) -> dict[str, list[str]]:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        raise invalid_request("Send the parameters as application/x-www-form-urlencoded.")
    try:
        return parse_qs((await request.body()).decode(), keep_blank_values=True, max_num_fields=50)
    except (UnicodeDecodeError, ValueError):
        raise invalid_request("The request body is not a valid form.") from None


class OAuthEndpoints(Controller):
    opt = {"exclude_from_csrf": True}
    include_in_schema = False

    @get("/.well-known/oauth-authorization-server")
    async def server_metadata(self, demo: NamedDependency[DemoTasks]) -> Response[Any]:
        return Response(metadata(demo), headers={"Cache-Control": "public, max-age=300"})

    @post("/token", status_code=200)
    async def token(self, request: Request[Any, Any, Any], demo: NamedDependency[DemoTasks]) -> Response[Any]:
        answer = await demo.tokens.token(await _form(request), dict(request.headers))
        return Response(answer, headers=NO_STORE)

    @post("/revoke", status_code=200)
    async def revoke(
        self, request: Request[Any, Any, Any], demo: NamedDependency[DemoTasks]
    ) -> Response[Any]:
        await demo.tokens.revoke(await _form(request), dict(request.headers))
        return Response(b"", headers=NO_STORE)

    @get("/userinfo")
    async def userinfo(self, request: Request[Any, Any, Any]) -> Response[Any]:
        token = await bearer.verify(request.headers.get("authorization"))
        account = await accounts.find(token.account_id)
        if account is None:
            raise invalid_token("The account of this access token no longer exists.")
        return Response(
            {"sub": str(account.id), "email": account.email, "name": account.name}, headers=NO_STORE
        )


def oauth_error_response(request: Request[Any, Any, Any], exc: OAuthError) -> Response[Any]:
    headers = dict(NO_STORE)
    if exc.www_authenticate:
        headers["WWW-Authenticate"] = exc.www_authenticate
    return Response(exc.body(), status_code=exc.status, headers=headers)
