"""Remote MCP servers: adding one by URL, changing and removing it, and keeping its connector (same key;
actions = its tools) up to date.

Builders add and change remote servers; allowing private addresses (and plain http) is an admin's
decision, and it covers the addresses the admin approved: while it holds, only an admin may point the
server (its endpoint, its authorization server URLs) elsewhere. Every URL given is checked as the guarded
fetcher checks it before anything is stored or called. How the auth settings are completed from discovery
and Switchboard registered is ``configuration``'s business; how secrets are stored, ``store``'s; how a
server becomes a connector, ``connector``'s.
"""

from __future__ import annotations

import builtins
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import anyio
import msgspec

from switchboard.connectors.connections.models import Credentials
from switchboard.connectors.registry import ConnectorRegistry
from switchboard.connectors.remote.audit import describe_changes, describe_new, record_remote_change
from switchboard.connectors.remote.configuration import AuthConfigurator
from switchboard.connectors.remote.connector import connector_definition, remote_tools
from switchboard.connectors.remote.credentials import NoCredentials
from switchboard.connectors.remote.discovery import AuthMode, Discoverer, DiscoveryResult
from switchboard.connectors.remote.errors import RemoteError
from switchboard.connectors.remote.models import (
    AuthInput,
    RemoteServer,
    RemoteServerInput,
    RemoteServerPatch,
)
from switchboard.connectors.remote.network import Network, NetworkPolicy
from switchboard.connectors.remote.registration import Registrar
from switchboard.connectors.remote.session import remote_session
from switchboard.connectors.remote.store import RemoteServerStore, settings_of
from switchboard.connectors.tables import Connection as ConnectionRow
from switchboard.connectors.tables import RemoteServer as RemoteServerRow
from switchboard.identity.audit import AuditLog
from switchboard.identity.principal import Actor
from switchboard.platform.core.crypto import SecretBox
from switchboard.platform.core.errors import Conflict, InvalidInput, PermissionDenied
from switchboard.platform.core.safe_fetch import FetchPolicy, FetchRefused, checked_url

# The URLs of ``AuthInput`` that Switchboard sends requests to, or sends people to.
_AUTH_URLS = ("auth_url", "token_url", "register_url")


class RemoteServerService:
    def __init__(
        self,
        *,
        box: SecretBox,
        registry: ConnectorRegistry,
        network: Network,
        registrar: Registrar,
        audit: AuditLog | None = None,
    ) -> None:
        self._audit = audit or AuditLog()
        self._store = RemoteServerStore(box)
        self._registry = registry
        self._network = network
        self._discoverer = Discoverer(network)
        self._registrar = registrar
        self._configurator = AuthConfigurator(self._discoverer, registrar)

    @property
    def registrar(self) -> Registrar:
        return self._registrar

    async def discover(self, endpoint: str, *, allow_private: bool, actor: Actor) -> DiscoveryResult:
        """What the server at ``endpoint`` asks for."""
        _check_actor(actor, allow_private=allow_private)
        endpoint = _endpoint(endpoint)
        return await self._discoverer.discover(endpoint, NetworkPolicy(allow_private=allow_private))

    async def list(self) -> builtins.list[RemoteServer]:
        rows = await RemoteServerRow.select().order_by(RemoteServerRow.name)
        return [self._store.server(row) for row in rows]

    async def get(self, key: str) -> RemoteServer:
        return self._store.server(await self._store.row(key))

    async def create(self, data: RemoteServerInput, *, actor: Actor) -> RemoteServer:
        _check_actor(actor, allow_private=data.allow_private)
        taken = await self._registry.key_taken(data.key)
        if taken is not None:
            raise Conflict(
                f"The key {data.key!r} belongs to a {taken} connector; choose another key.", field="key"
            )
        endpoint = _endpoint(data.endpoint)
        _check_auth_urls(data.auth)
        name = " ".join(data.name.split())
        policy = NetworkPolicy(allow_private=data.allow_private)
        settings, secrets, registration, warnings = await self._configurator.configure(
            endpoint, data.auth, policy, None
        )
        now = datetime.now(UTC)
        row = RemoteServerRow(
            key=data.key,
            name=name,
            endpoint=endpoint,
            auth_mode=settings["mode"],
            settings=settings,
            secrets=self._store.seal(secrets),
            registration=self._store.seal(registration) if registration else "",
            allow_private=data.allow_private,
            created_by=actor.email or actor.name,
            created_at=now,
            updated_at=now,
        )
        await row.save()
        server = self._store.server(await self._store.row(data.key))
        await self._registry.save_remote(connector_definition(server), actor=server.created_by)
        await record_remote_change(self._audit, actor, "remote_server.created", server, describe_new(server))
        server = await self._try_refresh(server)
        return msgspec.structs.replace(server, warnings=warnings + server.warnings)

    async def update(self, key: str, patch: RemoteServerPatch, *, actor: Actor) -> RemoteServer:
        row = await self._store.row(key)
        allow_private = row["allow_private"] if patch.allow_private is None else patch.allow_private
        actor.require_builder()
        if allow_private != row["allow_private"]:
            actor.require_admin()
        endpoint = _endpoint(patch.endpoint) if patch.endpoint is not None else row["endpoint"]
        given_auth = patch.auth or AuthInput()
        _check_auth_urls(given_auth)
        if row["allow_private"] and allow_private and not actor.is_admin:
            _keeps_address(row, endpoint, given_auth)
        stored = self._store.secrets(row)
        merged = msgspec.structs.replace(
            given_auth,
            mode=given_auth.mode or AuthMode(row["auth_mode"]),
            token=given_auth.token or stored.token,
            client_secret=given_auth.client_secret or stored.client_secret,
            client_id=given_auth.client_id or settings_of(row).get("given_client_id", ""),
        )
        policy = NetworkPolicy(allow_private=allow_private)
        previous = self._store.registration(row)
        settings, secrets, registration, warnings = await self._configurator.configure(
            endpoint, merged, policy, previous
        )
        await RemoteServerRow.update(
            {
                RemoteServerRow.name: " ".join(patch.name.split()) if patch.name else row["name"],
                RemoteServerRow.endpoint: endpoint,
                RemoteServerRow.auth_mode: settings["mode"],
                RemoteServerRow.settings: {**settings, "tools": settings_of(row).get("tools", [])},
                RemoteServerRow.secrets: self._store.seal(secrets),
                RemoteServerRow.registration: self._store.seal(registration) if registration else "",
                RemoteServerRow.allow_private: allow_private,
                RemoteServerRow.updated_at: datetime.now(UTC),
            }
        ).where(RemoteServerRow.key == key)
        server = self._store.server(await self._store.row(key))
        await self._registry.save_remote(connector_definition(server), actor=server.created_by)
        if changed := describe_changes(self._store.server(row), server, patch):
            await record_remote_change(self._audit, actor, "remote_server.changed", server, changed)
        if server.allow_private != row["allow_private"]:
            allowance = (
                "private addresses allowed" if server.allow_private else "private addresses no longer allowed"
            )
            await record_remote_change(
                self._audit, actor, "remote_server.allowance_changed", server, allowance
            )
        return msgspec.structs.replace(server, warnings=warnings)

    async def delete(self, key: str, *, actor: Actor) -> None:
        actor.require_builder()
        server = self._store.server(await self._store.row(key))
        used = await ConnectionRow.count().where(ConnectionRow.connector == key)
        if used:
            plural = "s" if used != 1 else ""
            raise Conflict(f"{used} connection{plural} use {key!r}; delete them first.", field="key")
        await RemoteServerRow.delete().where(RemoteServerRow.key == key)
        await self._registry.delete_remote(key)
        await record_remote_change(
            self._audit, actor, "remote_server.deleted", server, f"endpoint {server.endpoint}"
        )

    async def refresh_tools(self, key: str, *, headers: dict[str, str]) -> RemoteServer:
        """Lists the server's tools with these request headers (a connection's credentials) and makes
        them the connector's actions. Raises RemoteError when the server cannot be used."""
        server = self._store.server(await self._store.row(key))
        tools, invalid = await self._list_tools(server, headers)
        stored = await self._store_tools(server, tools)
        left_out = tuple(f"The tool {name!r} was left out: it is not a valid MCP tool." for name in invalid)
        return msgspec.structs.replace(stored, warnings=left_out + stored.warnings)

    async def refresh_own(self, key: str) -> RemoteServer:
        """Lists the tools with the server's own settings: no credentials, or its token."""
        row = await self._store.row(key)
        server = self._store.server(row)
        if server.auth.mode.is_oauth:
            raise InvalidInput(
                f"{server.name} needs an OAuth token: refresh its tools through one of its connections.",
                field="connection_id",
            )
        headers = _token_headers(server.auth.header, self._store.secrets(row).token)
        return await self.refresh_tools(key, headers=headers)

    async def client_defaults(self, key: str) -> tuple[str, Credentials] | None:
        """The client ID and credentials a new connection to this server starts from, None if not remote."""
        row = await self._store.find(key)
        if row is None:
            return None
        secrets = self._store.secrets(row)
        registration = self._store.registration(row)
        client_id = registration.client_id if registration else ""
        client_secret = registration.client_secret if registration else ""
        return client_id, Credentials(token=secrets.token, client_secret=client_secret)

    # -- tools -----------------------------------------------------------------------------------------

    async def _try_refresh(self, server: RemoteServer) -> RemoteServer:
        """Lists the tools right away when no person's grant is needed; a failure is a warning."""
        if server.auth.mode.is_oauth:
            return server  # a connection's token is needed: refreshed through a connection
        try:
            return await self.refresh_own(server.key)
        except RemoteError as error:
            return msgspec.structs.replace(
                server, warnings=(f"The tools could not be listed: {error.message}",)
            )

    async def _list_tools(
        self, server: RemoteServer, headers: dict[str, str]
    ) -> tuple[builtins.list[Any], builtins.list[str]]:
        policy = NetworkPolicy(allow_private=server.allow_private)
        async with remote_session(
            self._network, policy, server.endpoint, NoCredentials(), name=server.name, headers=headers
        ) as session:
            tools = list(await session.list_tools())
        return tools, session.skipped_tools

    async def _store_tools(self, server: RemoteServer, tools: builtins.list[Any]) -> RemoteServer:
        # Checking the tools' schemas is CPU work: a worker thread, so other requests are answered meanwhile.
        described, skipped = await anyio.to_thread.run_sync(remote_tools, tools)
        now = datetime.now(UTC)
        row = await self._store.row(server.key)
        settings = {**settings_of(row), "tools": [msgspec.to_builtins(tool) for tool in described]}
        await RemoteServerRow.update(
            {RemoteServerRow.settings: settings, RemoteServerRow.tools_refreshed_at: now}
        ).where(RemoteServerRow.key == server.key)
        fresh = self._store.server(await self._store.row(server.key))
        await self._registry.save_remote(connector_definition(fresh), actor=fresh.created_by)
        return msgspec.structs.replace(fresh, warnings=tuple(skipped))


def _check_actor(actor: Actor, *, allow_private: bool) -> None:
    actor.require_builder()
    if allow_private:
        actor.require_admin()


def _endpoint(url: str) -> str:
    url = url.strip()
    try:
        parts = urlsplit(url)
        usable = bool(
            parts.scheme in ("https", "http") and parts.hostname and not parts.username and not parts.fragment
        )
    except ValueError:
        usable = True  # unparsable: the fetcher's check says why
    if not usable:
        raise InvalidInput(
            "Enter the server's MCP endpoint URL, such as https://mcp.example.com/mcp.", field="endpoint"
        )
    _check_url(url, field="endpoint")
    return url


def _check_auth_urls(auth: AuthInput) -> None:
    for name in _AUTH_URLS:
        url = getattr(auth, name).strip()
        if url:
            _check_url(url, field=f"auth.{name}")


def _check_url(url: str, *, field: str) -> None:
    """The guarded fetcher's check of a URL's form (scheme http or https, host spelling, port), so that a
    URL that can never be fetched is refused here, cleanly, rather than when it is first called."""
    try:
        checked_url(url, FetchPolicy(require_https=False))
    except FetchRefused as refused:
        raise InvalidInput(refused.message, field=field) from None


def _keeps_address(row: dict[str, Any], endpoint: str, auth: AuthInput) -> None:
    """A builder's change to a server an admin allowed onto private addresses keeps the addresses the admin
    approved: its endpoint and its authorization server URLs. Raises PermissionDenied naming why."""
    settings = settings_of(row)
    moved = [("endpoint", endpoint != row["endpoint"])] + [
        (f"auth.{name}", bool(getattr(auth, name)) and getattr(auth, name).strip() != settings.get(name, ""))
        for name in _AUTH_URLS
    ]
    field = next((name for name, changed in moved if changed), None)
    if field is not None:
        raise PermissionDenied(
            f"An admin allowed {row['name']} onto private addresses at {row['endpoint']} only; only owners "
            "and admins can change where it connects.",
            field=field,
        )


def _token_headers(header: str, token: str) -> dict[str, str]:
    if not token:
        return {}
    if not header or header.lower() == "authorization":
        return {"Authorization": f"Bearer {token}"}
    return {header: token}
