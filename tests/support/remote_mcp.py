"""A remote MCP server Switchboard did not write: the official MCP SDK's low-level server over streamable
HTTP, offering a few "Files" tools, optionally protected by a static bearer token.

    python -m tests.support.remote_mcp PORT [--token TOKEN | --issuer URL] [--stateful] [--costly-tool]

Tools: ``search_files`` (read-only; answers structured content naming the query and the token it was
called with, so tests see whose credentials arrived), ``Delete File!`` (destructive; a name that is no
valid action name) and ``always_fails`` (a tool error). With ``--token`` every request without it gets
401 and a Bearer challenge. With ``--issuer`` the server is an OAuth resource server of that authorization
server (oidc-provider in the tests): it publishes protected resource metadata (RFC 9728) naming it,
challenges with ``resource_metadata`` and scope ``files:read``, and takes only JWT access tokens (RFC
9068) signed by its keys, for this server (``aud``), unexpired; ``search_files`` then names the token's
subject (``POST /__refuse?times=N`` makes it refuse the next N valid tokens, to inject faults), and
``Delete File!`` needs scope ``files:write`` too (403 ``insufficient_scope`` without it). With
``--stateful`` the server keeps sessions (``Mcp-Session-Id``), else it is stateless. With
``--costly-tool`` it also lists ``summarize_everything``, whose input schema is a reference bomb: a few
hundred bytes whose ``$ref``s stand for 10⁵ schemas that validating one call's arguments would check.
"""

from __future__ import annotations

import argparse
import contextlib
import contextvars
import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import httpx
import mcp_types as types
import msgspec
import uvicorn
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from mcp.server.lowlevel import Server
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecuritySettings

from tests.support.postgres import free_port

_caller: contextvars.ContextVar[str] = contextvars.ContextVar("caller", default="")
SCOPE = "files:read"
WRITE_SCOPE = "files:write"
PRM_PATH = "/.well-known/oauth-protected-resource/mcp"

TOOLS = [
    types.Tool(
        name="search_files",
        title="Search files",
        description="Find files whose name contains the query.",
        input_schema={
            "type": "object",
            "properties": {"query": {"type": "string", "description": "Part of a file name"}},
            "required": ["query"],
        },
        annotations=types.ToolAnnotations(read_only_hint=True),
    ),
    types.Tool(
        name="Delete File!",
        description="Delete a file.",
        input_schema={"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]},
        annotations=types.ToolAnnotations(destructive_hint=True),
    ),
    types.Tool(name="always_fails", input_schema={"type": "object"}),
]


# Behaviour injection: POST /__change_tools adds SUMMARIZE to the list, and the next tool call says so
# (notifications/tools/list_changed on its answer's stream).
_changes = {"pending": False, "added": False}
SUMMARIZE = types.Tool(name="summarize_file", title="Summarize a file", input_schema={"type": "object"})


def reference_bomb(levels: int = 5, width: int = 10) -> dict[str, Any]:
    """An object schema whose one property stands for ``width ** levels`` schemas: each level asks for
    every one of the level below, ``width`` times."""
    definitions: dict[str, Any] = {"level_0": {"type": "string"}}
    for level in range(1, levels + 1):
        definitions[f"level_{level}"] = {"allOf": [{"$ref": f"#/$defs/level_{level - 1}"}] * width}
    return {
        "type": "object",
        "$defs": definitions,
        "properties": {"text": {"$ref": f"#/$defs/level_{levels}"}},
    }


COSTLY = types.Tool(name="summarize_everything", input_schema=reference_bomb())


async def list_tools(ctx: Any, params: Any) -> types.ListToolsResult:
    return types.ListToolsResult(tools=[*TOOLS, *([SUMMARIZE] if _changes["added"] else [])])


async def call_tool(ctx: Any, params: Any) -> types.CallToolResult:
    if _changes["pending"]:
        _changes["pending"] = False
        notification = types.ToolListChangedNotification()
        await ctx.session.send_notification(notification, related_request_id=ctx.request_id)
    arguments = params.arguments or {}
    if params.name == "search_files":
        query = str(arguments.get("query", ""))
        found = {
            "query": query,
            "files": [f"{query}-report.txt", f"{query}-notes.md"],
            "caller": _caller.get(),
        }
        return types.CallToolResult(content=[types.TextContent(text=str(found))], structured_content=found)
    if params.name == "Delete File!":
        return types.CallToolResult(content=[types.TextContent(text=f"deleted {arguments.get('name')}")])
    if params.name == "always_fails":
        return types.CallToolResult(content=[types.TextContent(text="the disk is full")], is_error=True)
    return types.CallToolResult(content=[types.TextContent(text=f"no tool {params.name}")], is_error=True)


class JwtVerifier:
    """Checks an access token as a resource server of ``issuer`` would: signature (the issuer's JWKS),
    issuer, audience (this server), expiry."""

    def __init__(self, issuer: str, resource: str) -> None:
        self.issuer = issuer
        self.resource = resource
        self._keys: KeySet | None = None

    async def subject(self, token: str) -> tuple[str, set[str]] | None:
        """The token's subject and scopes, or None when the token is not good here."""
        if self._keys is None:
            async with httpx.AsyncClient() as http:
                metadata = (await http.get(f"{self.issuer}/.well-known/openid-configuration")).json()
                self._keys = KeySet.import_key_set((await http.get(metadata["jwks_uri"])).json())
        try:
            decoded = jwt.decode(token, self._keys, algorithms=["RS256"])
            jwt.JWTClaimsRegistry(
                iss={"essential": True, "value": self.issuer}, aud={"essential": True, "value": self.resource}
            ).validate(decoded.claims)
        except JoseError:
            return None
        return str(decoded.claims.get("sub", "")), set(str(decoded.claims.get("scope", "")).split())


def build(token: str, *, stateful: bool, issuer: str = "", port: int = 0, costly_tool: bool = False) -> Any:
    extra = [COSTLY] if costly_tool else []

    async def listing(ctx: Any, params: Any) -> types.ListToolsResult:
        listed = await list_tools(ctx, params)
        return types.ListToolsResult(tools=[*listed.tools, *extra])

    server = Server("files", on_list_tools=listing, on_call_tool=call_tool)
    manager = StreamableHTTPSessionManager(
        app=server,
        json_response=False,
        stateless=not stateful,
        security_settings=TransportSecuritySettings(enable_dns_rebinding_protection=False),
    )

    origin = f"http://127.0.0.1:{port}"
    endpoint = f"{origin}/mcp"
    verifier = JwtVerifier(issuer, endpoint) if issuer else None

    refusals = {"left": 0}  # fault injection: POST /__refuse?times=N refuses the next N tokens with 401

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] == "/__change_tools":
            _changes.update(pending=True, added=True)
            await _plain(send, 204, b"")
            return
        if scope["type"] == "http" and scope["path"] == "/__refuse":
            refusals["left"] = int(scope.get("query_string", b"").decode().partition("times=")[2] or 1)
            await _plain(send, 204, b"")
            return
        if scope["type"] == "lifespan":
            await receive()
            async with manager.run():
                await send({"type": "lifespan.startup.complete"})
                await receive()
            await send({"type": "lifespan.shutdown.complete"})
            return
        headers = {name.decode().lower(): value.decode() for name, value in scope.get("headers", [])}
        if verifier is not None and scope["path"] == PRM_PATH:
            metadata = {
                "resource": endpoint,
                "authorization_servers": [issuer],
                "scopes_supported": [SCOPE, WRITE_SCOPE],
            }
            await _plain(send, 200, json.dumps(metadata).encode(), [(b"content-type", b"application/json")])
            return
        if scope["path"] != "/mcp":
            await _plain(send, 404, b"not found")
            return
        sent = headers.get("authorization", "")
        presented = sent.removeprefix("Bearer ") if sent.startswith("Bearer ") else ""
        if verifier is not None:
            holder = await verifier.subject(presented) if presented else None
            if holder is not None and refusals["left"] > 0:
                refusals["left"] -= 1
                holder = None
            if holder is None:
                challenge = f'Bearer resource_metadata="{origin}{PRM_PATH}", scope="{SCOPE}"'
                if presented:
                    challenge += ', error="invalid_token"'
                await _plain(send, 401, b"", [(b"www-authenticate", challenge.encode())])
                return
            subject, scopes = holder
            receive, body = await _read_body(receive)
            if b'"Delete File!"' in body and WRITE_SCOPE not in scopes:
                challenge = (
                    f'Bearer error="insufficient_scope", scope="{SCOPE} {WRITE_SCOPE}", '
                    f'resource_metadata="{origin}{PRM_PATH}"'
                )
                await _plain(send, 403, b"", [(b"www-authenticate", challenge.encode())])
                return
            _caller.set(subject)
        elif token and sent != f"Bearer {token}":
            error = 'Bearer error="invalid_token"' if sent else "Bearer"
            await _plain(send, 401, b"", [(b"www-authenticate", error.encode())])
            return
        else:
            _caller.set(presented)
        await manager.handle_request(scope, receive, send)

    return app


async def _read_body(receive: Any) -> tuple[Any, bytes]:
    """The request's body, and a ``receive`` that hands it on again to the app that serves the request."""
    body, more = b"", True
    while more:
        message = await receive()
        if message["type"] != "http.request":
            return receive, body
        body += message.get("body", b"")
        more = message.get("more_body", False)
    replayed = False

    async def again() -> Any:
        nonlocal replayed
        if replayed:
            return await receive()
        replayed = True
        return {"type": "http.request", "body": body, "more_body": False}

    return again, body


async def _plain(
    send: Any, status: int, body: bytes, headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers or []})
    await send({"type": "http.response.body", "body": body})


class FilesServer:
    """This server in a process of its own on a free port of 127.0.0.1; a context manager."""

    def __init__(
        self,
        *,
        token: str = "",
        issuer: str = "",
        stateful: bool = False,
        port: int = 0,
        costly_tool: bool = False,
    ) -> None:
        self.port = port or free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}/mcp"
        options = [
            *(["--token", token] if token else []),
            *(["--issuer", issuer] if issuer else []),
            *(["--stateful"] if stateful else []),
            *(["--costly-tool"] if costly_tool else []),
        ]
        self._command = [sys.executable, "-m", "tests.support.remote_mcp", str(self.port), *options]
        self._process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> FilesServer:
        self._process = subprocess.Popen(self._command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return self
            except OSError as refused:
                if self._process.poll() is not None or time.monotonic() > deadline:
                    self.__exit__()
                    raise RuntimeError(f"the Files MCP server did not start on {self.port}") from refused
                time.sleep(0.05)

    def __exit__(self, *exc: object) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.wait(timeout=10)


class ProtectedFiles(msgspec.Struct):
    """The Files server as a resource server of a running oidc-provider (see ``protected_files``)."""

    endpoint: str
    provider: Any  # tests.support.oidc_provider.OidcProvider


@contextlib.contextmanager
def protected_files() -> Iterator[ProtectedFiles]:
    """oidc-provider (open dynamic registration, JWT access tokens for the Files resource, scope
    ``files:read``) and the Files server taking its tokens; both stopped afterwards."""
    from tests.support.oidc_provider import OidcProvider, require_oidc_provider

    require_oidc_provider()
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}/mcp"
    provider = OidcProvider(
        [],
        scopes=[SCOPE, WRITE_SCOPE],
        resources={endpoint: f"{SCOPE} {WRITE_SCOPE}"},
        registration=True,
        jwt_access_tokens=True,
    )
    with provider, FilesServer(issuer=provider.issuer, port=port):
        yield ProtectedFiles(endpoint=endpoint, provider=provider)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("port", type=int)
    parser.add_argument("--token", default="")
    parser.add_argument("--issuer", default="")
    parser.add_argument("--stateful", action="store_true")
    parser.add_argument("--costly-tool", action="store_true")
    options = parser.parse_args()
    app = build(
        options.token,
        stateful=options.stateful,
        issuer=options.issuer,
        port=options.port,
        costly_tool=options.costly_tool,
    )
    uvicorn.run(app, host="127.0.0.1", port=options.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
