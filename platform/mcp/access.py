"""Who is calling an MCP server, checked on every request (DESIGN.md §5 flow 2).

Under the Identity access method a request carries an access token Switchboard issued for exactly this
server: its signature, expiry, audience and revocation are checked by the identity layer's verifier, then
that its client still exists, its user is still active and still in one of the server's groups. Under the
Token access method it carries one of the server's API tokens, and there is no end user.

A refusal is an HTTP answer (401 or 403) with the ``WWW-Authenticate`` challenge MCP clients follow:
``resource_metadata`` leads them to the protected resource metadata, ``scope`` to what to ask for (with
``offline_access`` when the authorization server issues refresh tokens: clients that ask for exactly what
is advertised then keep working past the access token's life). A request with no credentials at all is
challenged without an error code (RFC 6750 §3.1). A refusal also carries what the audit trail records of
it: why, in a few words, and who asked when the token told.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol
from uuid import UUID

import msgspec

from switchboard.identity.oauth import scopes, spec
from switchboard.identity.oauth.verifier import AccessToken, InvalidToken
from switchboard.platform.core.requests import bearer_token
from switchboard.platform.mcp.models import (
    AccessMethod,
    McpServer,
    RemoteTool,
    ServerToken,
    ServerTool,
    Standing,
)

METADATA_PREFIX = "/.well-known/oauth-protected-resource"


class ServerLookup(Protocol):
    """What serving MCP reads of the servers (``ServerService`` provides it)."""

    async def get_by_slug(self, slug: str) -> McpServer: ...

    async def serving(self, slug: str) -> McpServer: ...

    async def may_use(self, server_id: UUID, user_id: UUID) -> bool: ...

    async def standing(self, server_id: UUID, user_id: UUID, client_id: str) -> Standing | None: ...

    async def tools(self, server_id: UUID) -> list[ServerTool]: ...

    async def serving_tools(self, server_id: UUID) -> list[ServerTool]: ...

    async def remote_tools(self, server_id: UUID) -> list[RemoteTool]: ...

    async def serving_remote_tools(self, server_id: UUID) -> list[RemoteTool]: ...

    async def verify_token(self, server_id: UUID, secret: str) -> ServerToken | None: ...


class AccessTokenVerifier(Protocol):
    """What the gate needs of the authorization server (its ``TokenVerifier`` provides it)."""

    async def verify(self, token: str, *, audience: str) -> AccessToken:
        """The token's claims, when it is valid for ``audience``; else ``InvalidToken``."""
        ...


class McpCaller(msgspec.Struct, frozen=True, kw_only=True):
    """A verified caller of one server. ``user_id`` is None under the Token access method;
    ``service_account`` when a client calls as its own service account (client credentials): an
    automation with no end user, whose tools cannot use an end user's connection."""

    server: McpServer
    user_id: UUID | None
    email: str
    name: str = ""
    groups: tuple[str, ...] = ()
    client_id: str
    scopes: tuple[str, ...]
    service_account: bool = False
    ip_address: str = ""  # where the request came from, and its User-Agent, for the records
    user_agent: str = ""

    @property
    def end_user_id(self) -> UUID | None:
        """The person the call is for, whose own connections its tools may use."""
        return None if self.service_account else self.user_id

    def may_call(self, scope: str) -> bool:
        return self.user_id is None or scopes.satisfies(self.scopes, scope)


class Refusal(Exception):
    """An answer instead of MCP: status, an OAuth-style error body and the headers a client follows.

    ``reason`` says why in a few words of a fixed set, for the audit trail; ``email``, ``client_id`` and
    ``scopes`` are the token's when it was verified but refused all the same."""

    def __init__(
        self,
        status: int,
        error: str,
        description: str,
        headers: dict[str, str],
        *,
        reason: str = "",
        email: str = "",
        client_id: str = "",
        scopes: tuple[str, ...] = (),
    ) -> None:
        super().__init__(description)
        self.status = status
        self.error = error
        self.description = description
        self.headers = headers
        self.reason = reason or description
        self.email = email
        self.client_id = client_id
        self.scopes = scopes

    def body(self) -> dict[str, Any]:
        return {"error": self.error, "error_description": self.description}


def server_url(base_url: str, slug: str) -> str:
    """The server's URL, which is also the audience of its tokens (RFC 8707) and its resource id."""
    return f"{base_url}/mcp/{slug}"


def metadata_url(base_url: str, slug: str) -> str:
    return f"{base_url}{METADATA_PREFIX}/mcp/{slug}"


class AccessGate:
    """Who may call a server. ``refresh_tokens``: whether the authorization server issues them (its
    metadata lists the ``refresh_token`` grant), so that ``offline_access`` is worth asking for."""

    def __init__(
        self,
        *,
        base_url: str,
        servers: ServerLookup,
        verifier: AccessTokenVerifier,
        refresh_tokens: bool,
    ) -> None:
        self._base_url = base_url
        self._servers = servers
        self._verifier = verifier
        self._refresh_tokens = refresh_tokens

    def advertised(self, offered: Iterable[str]) -> list[str]:
        """The scopes to advertise for the ``offered`` ones: with ``offline_access`` when refresh tokens
        are issued, so a client asking for exactly these gets one."""
        extra = [scopes.OFFLINE_ACCESS] if self._refresh_tokens else []
        return list(dict.fromkeys([*offered, *extra]))

    def challenge(self, server: McpServer, *, error: str = "", description: str = "", scope: str = "") -> str:
        """The ``WWW-Authenticate`` value of a refusal from ``server`` (RFC 6750 §3, RFC 9728 §5.1): with
        no ``error``, a request that carried no credentials; without ``scope``, the server's whole use."""
        parts = []
        if error:
            parts.append(f'error="{error}"')
        if description:
            parts.append(f'error_description="{spec.error_description(description)}"')
        if server.access_method is AccessMethod.IDENTITY:
            parts.append(f'resource_metadata="{metadata_url(self._base_url, server.slug)}"')
            asked = scope or scopes.join(self.advertised([scopes.TOOLS_WILDCARD]))
            parts.append(f'scope="{asked}"')
        return " ".join(["Bearer", ", ".join(parts)]).strip()

    async def caller(self, server: McpServer, authorization: str | None) -> McpCaller:
        """The verified caller of ``server``, or ``Refusal``."""
        token = bearer_token(authorization)
        if token is None:
            raise self._refused(
                server,
                401,
                "invalid_token",
                "This MCP server needs an access token.",
                reason="no access token",
                credentials_sent=False,
            )
        if server.access_method is AccessMethod.TOKEN:
            return await self._token_caller(server, token)
        return await self._user_caller(server, token)

    def insufficient_scope(self, server: McpServer, scope: str, tool: str) -> Refusal:
        description = f"Calling {tool} needs the scope {scope}: sign in again and allow it."
        reason = f"{tool} needs the scope {scope}"
        return self._refused(server, 403, "insufficient_scope", description, scope=scope, reason=reason)

    async def _token_caller(self, server: McpServer, token: str) -> McpCaller:
        found = await self._servers.verify_token(server.id, token)
        if found is None:
            description = "The API token is not valid for this server."
            raise self._refused(
                server, 401, "invalid_token", description, reason="not an API token of this server"
            )
        return McpCaller(server=server, user_id=None, email="", client_id=f"token:{found.name}", scopes=())

    async def _user_caller(self, server: McpServer, token: str) -> McpCaller:
        url = server_url(self._base_url, server.slug)
        try:
            access = await self._verifier.verify(token, audience=url)
        except InvalidToken as exc:
            raise self._refused(
                server, 401, "invalid_token", f"The access token is not valid: {exc}.", reason=str(exc)
            ) from None
        try:
            user_id: UUID | None = UUID(access.subject)
        except ValueError:
            user_id = None
        standing = (
            None if user_id is None else await self._servers.standing(server.id, user_id, access.client_id)
        )
        if standing is None:
            raise self._refused(
                server,
                401,
                "invalid_token",
                "The user of this token no longer exists.",
                reason="the token's user no longer exists",
                client_id=access.client_id,
            )
        email = standing.email

        def refused(status: int, error: str, description: str, reason: str) -> Refusal:
            return self._refused(
                server,
                status,
                error,
                description,
                reason=reason,
                email=email,
                client_id=access.client_id,
                scopes=access.scopes,
            )

        if not standing.client_exists:
            deleted = "The client of this token was deleted."
            raise refused(401, "invalid_token", deleted, "the token's client was deleted")
        if not standing.is_active:
            deactivated = "The user of this token is deactivated."
            raise refused(401, "invalid_token", deactivated, "the token's user is deactivated")
        if not standing.may_use:
            raise refused(
                403, "access_denied", no_access_message(server), "not in a group that may use the server"
            )
        return McpCaller(
            server=server,
            user_id=user_id,
            email=standing.email,
            name=standing.name,
            groups=standing.groups,
            client_id=access.client_id,
            scopes=access.scopes,
            service_account=standing.service_account,
        )

    def _refused(
        self,
        server: McpServer,
        status: int,
        error: str,
        description: str,
        *,
        scope: str = "",
        reason: str,
        email: str = "",
        client_id: str = "",
        scopes: tuple[str, ...] = (),
        credentials_sent: bool = True,
    ) -> Refusal:
        """The refusal. A request that sent no credentials is challenged without an error code (RFC 6750
        §3.1), though the body still says why."""
        if credentials_sent:
            header = self.challenge(server, error=error, description=description, scope=scope)
        else:
            header = self.challenge(server)
        return Refusal(
            status,
            error,
            description,
            {"www-authenticate": header},
            reason=reason,
            email=email,
            client_id=client_id,
            scopes=scopes,
        )


def offered_scopes(tools: Iterable[ServerTool | RemoteTool]) -> tuple[str, ...]:
    """The scopes a server offers (its protected resource metadata, and what consent may grant): every
    tool, or each tool's own."""
    return tuple(dict.fromkeys([scopes.TOOLS_WILDCARD, *(tool.scope for tool in tools)]))


def no_access_message(server: McpServer) -> str:
    """What a user outside the server's groups reads, on the consent page and in a refusal."""
    groups = _names(group.name for group in server.groups)
    ask = f"Ask an administrator to add you to {groups}." if groups else "Ask an administrator for access."
    return f"You are not in a group that may use the MCP server {server.name}. {ask}"


def _names(names: Iterable[str]) -> str:
    listed = [f"“{name}”" for name in names]
    if len(listed) <= 1:
        return "".join(f"the group {name}" for name in listed)
    return "one of the groups " + ", ".join(listed[:-1]) + " or " + listed[-1]
