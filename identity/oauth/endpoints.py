"""The authorization server's HTTP endpoints for clients: metadata, JWKS, token, registration,
revocation and introspection. (The authorization endpoint is a page: ``ui.pages.oauth``.)

These endpoints are called by MCP clients, some of them from a browser on another origin (the MCP
Inspector): they answer CORS requests without credentials, and carry no cookies or CSRF tokens.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

import msgspec
from litestar import Controller, Request, Response, post, route
from litestar.di import NamedDependency
from litestar.enums import HttpMethod
from litestar.exceptions.http_exceptions import RequestEntityTooLarge

from switchboard.identity.oauth.errors import OAuthError, invalid_request
from switchboard.identity.oauth.parameters import RequestContext
from switchboard.identity.oauth.server import AuthorizationServer
from switchboard.platform.core.json_nesting import nested_deeper_than
from switchboard.platform.core.requests import client_ip

CLIENT_ENDPOINTS = ("/oauth/token", "/oauth/register", "/oauth/revoke", "/oauth/introspect")
_CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
    "Access-Control-Allow-Headers": "Authorization, Content-Type, MCP-Protocol-Version",
    "Access-Control-Max-Age": "600",
}
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
_MAX_FORM = 64 * 1024
# Client metadata is a few hundred bytes; client ID metadata documents are held to the same size.
MAX_CLIENT_METADATA = 16 * 1024
# And a few levels deep (a JSON Web Key Set is the deepest: five).
MAX_CLIENT_METADATA_DEPTH = 16


def oauth_error_response(exc: OAuthError) -> Response[Any]:
    headers = {**_CORS, **_NO_STORE}
    if exc.retry_after is not None:
        headers["Retry-After"] = str(exc.retry_after)
    if exc.www_authenticate:
        headers["WWW-Authenticate"] = exc.www_authenticate
    return Response(exc.body(), status_code=exc.status, headers=headers, media_type="application/json")


def _json(body: Any, status: int = 200, *, cacheable: bool = False) -> Response[Any]:
    headers = {**_CORS, **({"Cache-Control": "public, max-age=300"} if cacheable else _NO_STORE)}
    return Response(body, status_code=status, headers=headers, media_type="application/json")


async def _context(request: Request[Any, Any, Any]) -> RequestContext:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        raise invalid_request("Send the parameters as application/x-www-form-urlencoded.")
    body = await _body(request, _MAX_FORM, invalid_request("The request is too large."))
    try:
        form = parse_qs(body.decode(), keep_blank_values=True, strict_parsing=False, max_num_fields=100)
    except (UnicodeDecodeError, ValueError):
        raise invalid_request("The request body is not a valid form.") from None
    if any("\x00" in key or any("\x00" in value for value in values) for key, values in form.items()):
        raise invalid_request("The request contains NUL characters.")
    return RequestContext(form=form, headers=dict(request.headers), ip_address=client_ip(request))


async def _body(request: Request[Any, Any, Any], limit: int, too_large: OAuthError) -> bytes:
    """The request body, read up to ``limit`` bytes (the handler's own limit), else ``too_large``."""
    try:
        body = await request.body()
    except RequestEntityTooLarge:
        raise too_large from None
    if len(body) > limit:
        raise too_large
    return body


class OAuthEndpoints(Controller):
    include_in_schema = False

    @route(
        list(CLIENT_ENDPOINTS),
        http_method=[HttpMethod.OPTIONS],
        status_code=204,
    )
    async def preflight(self) -> Response[None]:
        """CORS preflight for the POST endpoints."""
        return Response(None, status_code=204, headers=_CORS)

    # GET and its preflight in one handler: Litestar answers OPTIONS itself for a GET-only path.
    @route("/.well-known/oauth-authorization-server", http_method=[HttpMethod.GET, HttpMethod.OPTIONS])
    async def metadata(
        self, request: Request[Any, Any, Any], oauth: NamedDependency[AuthorizationServer]
    ) -> Response[Any]:
        if request.method == HttpMethod.OPTIONS:
            return Response(None, status_code=204, headers=_CORS)
        return _json(oauth.metadata(), cacheable=True)

    @route("/oauth/jwks", http_method=[HttpMethod.GET, HttpMethod.OPTIONS])
    async def jwks(
        self, request: Request[Any, Any, Any], oauth: NamedDependency[AuthorizationServer]
    ) -> Response[Any]:
        if request.method == HttpMethod.OPTIONS:
            return Response(None, status_code=204, headers=_CORS)
        return _json(await oauth.keys.jwks(), cacheable=False)

    @post("/oauth/token", status_code=200, request_max_body_size=_MAX_FORM)
    async def token(
        self, request: Request[Any, Any, Any], oauth: NamedDependency[AuthorizationServer]
    ) -> Response[Any]:
        try:
            answer = await oauth.token(await _context(request))
        except OAuthError as exc:
            return oauth_error_response(exc)
        return _json(msgspec.to_builtins(answer))

    @post("/oauth/register", status_code=201, request_max_body_size=MAX_CLIENT_METADATA)
    async def register(
        self, request: Request[Any, Any, Any], oauth: NamedDependency[AuthorizationServer]
    ) -> Response[Any]:
        try:
            content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
            if content_type != "application/json":
                raise OAuthError("invalid_client_metadata", "Send the client metadata as application/json.")
            too_large = f"The client metadata is larger than {MAX_CLIENT_METADATA // 1024} KiB."
            body = await _body(request, MAX_CLIENT_METADATA, OAuthError("invalid_client_metadata", too_large))
            if nested_deeper_than(MAX_CLIENT_METADATA_DEPTH, body):
                too_deep = f"The client metadata is nested more than {MAX_CLIENT_METADATA_DEPTH} levels deep."
                raise OAuthError("invalid_client_metadata", too_deep)
            try:
                metadata = msgspec.json.decode(body)
            except msgspec.DecodeError:
                raise OAuthError("invalid_client_metadata", "The request body is not valid JSON.") from None
            answer = await oauth.register(metadata, ip_address=client_ip(request))
        except OAuthError as exc:
            return oauth_error_response(exc)
        return _json(answer, status=201)

    @post("/oauth/revoke", status_code=200, request_max_body_size=_MAX_FORM)
    async def revoke(
        self, request: Request[Any, Any, Any], oauth: NamedDependency[AuthorizationServer]
    ) -> Response[Any]:
        try:
            await oauth.revoke(await _context(request))
        except OAuthError as exc:
            return oauth_error_response(exc)
        return Response(b"", status_code=200, headers={**_CORS, **_NO_STORE})

    @post("/oauth/introspect", status_code=200, request_max_body_size=_MAX_FORM)
    async def introspect(
        self, request: Request[Any, Any, Any], oauth: NamedDependency[AuthorizationServer]
    ) -> Response[Any]:
        try:
            answer = await oauth.introspect(await _context(request))
        except OAuthError as exc:
            return oauth_error_response(exc)
        return _json(answer)
