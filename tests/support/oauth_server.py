"""Switchboard with a minimal protected resource in front of it, for OAuth clients tested end to end.

Real MCP clients start from a protected server: its 401 names the protected resource metadata
(RFC 9728), which names Switchboard as the authorization server. Until Switchboard serves MCP itself,
``with_test_endpoint`` adds such a server at ``/mcp/test``: it accepts only access tokens Switchboard
issued for exactly that resource, checked with the verifier the MCP layer will use.

In process: ``with_test_endpoint(create_app(...), resource)`` is an ASGI app for an ASGI transport.
As a server (for clients in other processes, such as the Node conformance suite):
``python -m tests.support.oauth_server --port N`` with the usual ``SWITCHBOARD_*`` variables.
"""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from typing import Any, cast

import msgspec
from litestar import Litestar

from switchboard.identity.oauth.resources import ProtectedResource, StaticResources
from switchboard.identity.oauth.verifier import InvalidToken
from switchboard.platform.core.requests import bearer_token
from switchboard.platform.services import Services, services_of

TEST_PATH = "/mcp/test"
METADATA_PREFIX = "/.well-known/oauth-protected-resource"

# Plain ASGI 3, which every server and ASGI transport takes.
Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def make_test_resource(base_url: str, scopes: tuple[str, ...] = ()) -> ProtectedResource:
    return ProtectedResource(url=base_url + TEST_PATH, name="Test server", scopes=scopes)


def resource_metadata(resource: ProtectedResource, issuer: str) -> dict[str, object]:
    """RFC 9728 metadata: clients check that ``resource`` is the URL they called, byte for byte."""
    metadata: dict[str, object] = {
        "resource": resource.url,
        "authorization_servers": [issuer],
        "bearer_methods_supported": ["header"],
        "resource_name": resource.name,
    }
    if resource.scopes:
        metadata["scopes_supported"] = list(resource.scopes)
    return metadata


async def _send_json(send: Send, status: int, body: object, headers: Sequence[tuple[str, str]] = ()) -> None:
    content = msgspec.json.encode(body)
    raw_headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(content)).encode()),
        (b"cache-control", b"no-store"),
        *((name.encode(), value.encode("latin-1")) for name, value in headers),
    ]
    await send({"type": "http.response.start", "status": status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": content})


def _bearer(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"authorization":
            return bearer_token(value.decode("latin-1"))
    return None


def with_test_endpoint(app: Litestar, resource: ProtectedResource) -> ASGIApp:
    """``app`` with the protected test endpoint and its metadata in front; the rest (and the lifespan)
    goes to Switchboard."""
    switchboard = cast("ASGIApp", app)
    identity = services_of(app.state).identity
    issuer = identity.oauth.issuer
    metadata_url = issuer + METADATA_PREFIX + TEST_PATH
    challenge = f'Bearer resource_metadata="{metadata_url}"'

    async def protected(scope: Scope, receive: Receive, send: Send) -> None:
        token = _bearer(scope)
        if token is None:
            await _send_json(send, 401, {"error": "invalid_token"}, [("www-authenticate", challenge)])
            return
        try:
            access = await identity.oauth.verifier.verify(token, audience=resource.url)
        except InvalidToken as exc:
            await _send_json(
                send,
                401,
                {"error": "invalid_token", "error_description": str(exc)},
                [("www-authenticate", f'Bearer error="invalid_token", resource_metadata="{metadata_url}"')],
            )
            return
        await _send_json(
            send,
            200,
            {"subject": access.subject, "client_id": access.client_id, "scopes": list(access.scopes)},
        )

    async def dispatch(scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if path == TEST_PATH:
            await protected(scope, receive, send)
        elif path == METADATA_PREFIX + TEST_PATH:
            await _send_json(send, 200, resource_metadata(resource, issuer))
        else:
            await switchboard(scope, receive, send)

    return dispatch


def main(argv: Sequence[str] | None = None) -> None:
    """Serve Switchboard (configured by ``SWITCHBOARD_*``) with the test endpoint at ``<base>/mcp/test``."""
    import uvicorn

    from switchboard.platform.app import create_app
    from switchboard.platform.core.settings import load_settings

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    settings = load_settings()
    resource = make_test_resource(settings.base_url)
    app = create_app(settings, services=Services.build(settings, resources=StaticResources([resource])))
    uvicorn.run(with_test_endpoint(app, resource), host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
