"""Remote MCP servers: adding one by URL, filling in its auth from discovery, registering Switchboard with
its authorization server, and keeping its connector (same key; actions = its tools) up to date.

Builders add and change remote servers; allowing private addresses (and plain http) is an admin's
decision. Secrets (a token, a client secret, the registered client) are stored encrypted.
"""

from __future__ import annotations

import builtins
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import msgspec
from jsonschema import Draft202012Validator, SchemaError

from switchboard.connectors.connections.models import Credentials, union
from switchboard.connectors.definitions import (
    Action,
    ApiKeyAuth,
    AuthorizationCodeAuth,
    BearerAuth,
    ClientCredentialsAuth,
    ConnectorDefinition,
    NoAuth,
    OAuthProvider,
    RemoteMcp,
)
from switchboard.connectors.definitions.names import action_name, unique_name
from switchboard.connectors.registry import ConnectorRegistry
from switchboard.connectors.remote.client import NoCredentials, RemoteError, remote_session
from switchboard.connectors.remote.discovery import AuthMode, Discoverer, DiscoveryFailed, DiscoveryResult
from switchboard.connectors.remote.metadata import AuthorizationServer, origin_of
from switchboard.connectors.remote.models import (
    AuthInput,
    AuthSettings,
    RemoteServer,
    RemoteServerInput,
    RemoteServerPatch,
    RemoteTool,
)
from switchboard.connectors.remote.network import Network, NetworkPolicy
from switchboard.connectors.remote.registration import Registrar, Registration, RegistrationFailed, given
from switchboard.connectors.tables import Connection as ConnectionRow
from switchboard.connectors.tables import RemoteServer as RemoteServerRow
from switchboard.identity.principal import Principal
from switchboard.platform.core.crypto import DecryptionFailed, SecretBox
from switchboard.platform.core.errors import Conflict, InvalidInput, NotFound


class _Secrets(msgspec.Struct, frozen=True, kw_only=True):
    token: str = ""
    client_secret: str = ""


class RemoteServerService:
    def __init__(
        self,
        *,
        box: SecretBox,
        registry: ConnectorRegistry,
        network: Network,
        registrar: Registrar,
    ) -> None:
        self._box = box
        self._registry = registry
        self._network = network
        self._discoverer = Discoverer(network)
        self._registrar = registrar

    @property
    def registrar(self) -> Registrar:
        return self._registrar

    async def discover(
        self, endpoint: str, *, allow_private: bool, actor: Principal | None
    ) -> DiscoveryResult:
        """What the server at ``endpoint`` asks for. ``actor`` None: the operator (command line)."""
        _check_actor(actor, allow_private=allow_private)
        endpoint = _endpoint(endpoint)
        return await self._discoverer.discover(endpoint, NetworkPolicy(allow_private=allow_private))

    async def list(self) -> builtins.list[RemoteServer]:
        rows = await RemoteServerRow.select().order_by(RemoteServerRow.name)
        return [self._out(row) for row in rows]

    async def get(self, key: str) -> RemoteServer:
        return self._out(await self._row(key))

    async def create(self, data: RemoteServerInput, *, actor: Principal | None) -> RemoteServer:
        _check_actor(actor, allow_private=data.allow_private)
        taken = await self._registry.key_taken(data.key)
        if taken is not None:
            raise Conflict(
                f"The key {data.key!r} belongs to a {taken} connector; choose another key.", field="key"
            )
        endpoint = _endpoint(data.endpoint)
        name = " ".join(data.name.split())
        policy = NetworkPolicy(allow_private=data.allow_private)
        settings, secrets, registration, warnings = await self._configure(endpoint, data.auth, policy, None)
        now = datetime.now(UTC)
        row = RemoteServerRow(
            key=data.key,
            name=name,
            endpoint=endpoint,
            auth_mode=settings["mode"],
            settings=settings,
            secrets=self._seal(secrets),
            registration=self._seal(registration) if registration else "",
            allow_private=data.allow_private,
            created_by=actor.email if actor else "command line",
            created_at=now,
            updated_at=now,
        )
        await row.save()
        server = self._out(await self._row(data.key))
        await self._registry.save_remote(_definition(server), actor=server.created_by)
        server = await self._try_refresh(server)
        return msgspec.structs.replace(server, warnings=warnings + server.warnings)

    async def update(self, key: str, patch: RemoteServerPatch, *, actor: Principal | None) -> RemoteServer:
        row = await self._row(key)
        allow_private = row["allow_private"] if patch.allow_private is None else patch.allow_private
        if actor is not None:
            actor.require_builder()
            if allow_private != row["allow_private"]:
                actor.require_admin()
        endpoint = _endpoint(patch.endpoint) if patch.endpoint is not None else row["endpoint"]
        stored = self._secrets(row)
        given_auth = patch.auth or AuthInput()
        merged = msgspec.structs.replace(
            given_auth,
            mode=given_auth.mode or AuthMode(row["auth_mode"]),
            token=given_auth.token or stored.token,
            client_secret=given_auth.client_secret or stored.client_secret,
            client_id=given_auth.client_id or _settings(row).get("given_client_id", ""),
        )
        policy = NetworkPolicy(allow_private=allow_private)
        previous = self._registration(row)
        settings, secrets, registration, warnings = await self._configure(endpoint, merged, policy, previous)
        await RemoteServerRow.update(
            {
                RemoteServerRow.name: " ".join(patch.name.split()) if patch.name else row["name"],
                RemoteServerRow.endpoint: endpoint,
                RemoteServerRow.auth_mode: settings["mode"],
                RemoteServerRow.settings: {**settings, "tools": _settings(row).get("tools", [])},
                RemoteServerRow.secrets: self._seal(secrets),
                RemoteServerRow.registration: self._seal(registration) if registration else "",
                RemoteServerRow.allow_private: allow_private,
                RemoteServerRow.updated_at: datetime.now(UTC),
            }
        ).where(RemoteServerRow.key == key)
        server = self._out(await self._row(key))
        await self._registry.save_remote(_definition(server), actor=server.created_by)
        return msgspec.structs.replace(server, warnings=warnings)

    async def delete(self, key: str, *, actor: Principal | None) -> None:
        if actor is not None:
            actor.require_builder()
        await self._row(key)
        used = await ConnectionRow.count().where(ConnectionRow.connector == key)
        if used:
            plural = "s" if used != 1 else ""
            raise Conflict(f"{used} connection{plural} use {key!r}; delete them first.", field="key")
        await RemoteServerRow.delete().where(RemoteServerRow.key == key)
        await self._registry.delete_remote(key)

    async def refresh_tools(self, key: str, *, headers: dict[str, str]) -> RemoteServer:
        """Lists the server's tools with these request headers (a connection's credentials) and makes
        them the connector's actions. Raises RemoteError when the server cannot be used."""
        server = self._out(await self._row(key))
        tools, invalid = await self._list_tools(server, headers)
        stored = await self._store_tools(server, tools)
        left_out = tuple(f"The tool {name!r} was left out: it is not a valid MCP tool." for name in invalid)
        return msgspec.structs.replace(stored, warnings=left_out + stored.warnings)

    async def refresh_own(self, key: str) -> RemoteServer:
        """Lists the tools with the server's own settings: no credentials, or its token."""
        row = await self._row(key)
        server = self._out(row)
        if server.auth.mode.is_oauth:
            raise InvalidInput(
                f"{server.name} needs an OAuth token: refresh its tools through one of its connections.",
                field="connection_id",
            )
        headers = _token_headers(server.auth.header, self._secrets(row).token)
        return await self.refresh_tools(key, headers=headers)

    async def client_defaults(self, key: str) -> tuple[str, Credentials] | None:
        """The client ID and credentials a new connection to this server starts from, None if not remote."""
        row = await RemoteServerRow.select().where(RemoteServerRow.key == key).first()
        if row is None:
            return None
        secrets = self._secrets(row)
        registration = self._registration(row)
        client_id = registration.client_id if registration else ""
        client_secret = registration.client_secret if registration else ""
        return client_id, Credentials(token=secrets.token, client_secret=client_secret)

    # -- configuration ------------------------------------------------------------------------------

    async def _configure(
        self, endpoint: str, auth: AuthInput, policy: NetworkPolicy, previous: Registration | None
    ) -> tuple[dict[str, Any], _Secrets, Registration | None, tuple[str, ...]]:
        """Settings with every missing field filled from discovery, and the client to use."""
        result, server, discovery_problem = await self._discovered(endpoint, auth, policy)
        warnings = list(result.warnings if result else ())
        if discovery_problem:
            warnings.append(discovery_problem)
        mode = auth.mode or (result.recommended_auth_mode if result else AuthMode.NONE)
        if mode is AuthMode.TOKEN and not auth.token:
            raise InvalidInput("Enter the token the server expects.", field="auth.token")
        settings: dict[str, Any] = {
            "mode": mode.value,
            "header": auth.header if mode is AuthMode.TOKEN else "",
            "given_client_id": auth.client_id,
            "discovery": msgspec.to_builtins(result) if result else None,
        }
        registration: Registration | None = None
        if mode.is_oauth:
            server = _with_overrides(server, auth, endpoint)
            if not server.token_endpoint:
                raise InvalidInput(
                    f"{discovery_problem or 'The server publishes no token endpoint.'} Enter the token URL.",
                    field="auth.token_url",
                )
            if mode is not AuthMode.CLIENT_CREDENTIALS and not server.authorization_endpoint:
                raise InvalidInput("Enter the authorization URL.", field="auth.auth_url")
            if mode is not AuthMode.CLIENT_CREDENTIALS and not server.supports_s256:
                raise InvalidInput(
                    f"{server.issuer} does not advertise PKCE S256, which Switchboard requires for the "
                    "authorization code grant; use a token or client credentials.",
                    field="auth.mode",
                )
            scopes = auth.scopes if auth.scopes is not None else (result.scopes if result else ())
            # Registered for every scope the server names, so a later step-up may ask for more.
            usable = union(scopes, result.scopes_supported if result else ())
            registration = await self._client(server, mode, auth, policy, previous, usable)
            settings.update(
                scopes=list(scopes),
                auth_url=server.authorization_endpoint,
                token_url=server.token_endpoint,
                register_url=server.registration_endpoint,
                revocation_url=server.revocation_endpoint,
                resource=auth.resource or (result.resource if result else "") or endpoint,
                issuer=server.issuer,
                iss_parameter_supported=server.authorization_response_iss_parameter_supported,
                token_endpoint_auth_method=registration.auth_method,
                registered=registration.how,
            )
        secrets = _Secrets(
            token=auth.token if mode is AuthMode.TOKEN else "",
            client_secret=auth.client_secret if auth.client_id else "",
        )
        return settings, secrets, registration, tuple(warnings)

    async def _discovered(
        self, endpoint: str, auth: AuthInput, policy: NetworkPolicy
    ) -> tuple[DiscoveryResult | None, AuthorizationServer | None, str]:
        """Discovery's answer; when it fails but the settings given are enough, its error as a warning."""
        try:
            found = await self._discoverer.find(endpoint, policy)
        except DiscoveryFailed as failed:
            enough = auth.mode is not None and (
                not auth.mode.is_oauth or (bool(auth.token_url) and bool(auth.client_id))
            )
            if not enough:
                raise
            return None, None, failed.message
        return found.result, found.server, ""

    async def _client(
        self,
        server: AuthorizationServer,
        mode: AuthMode,
        auth: AuthInput,
        policy: NetworkPolicy,
        previous: Registration | None,
        scopes: tuple[str, ...],
    ) -> Registration:
        if auth.client_id:
            return given(server, auth.client_id, auth.client_secret)
        if previous is not None and previous.issuer == server.issuer and previous.how != "given":
            return previous  # still registered with this issuer
        grants = (
            ("client_credentials",)
            if mode is AuthMode.CLIENT_CREDENTIALS
            else ("authorization_code", "refresh_token")
        )
        try:
            return await self._registrar.register(
                server,
                policy,
                confidential=mode is not AuthMode.AUTHORIZATION_CODE,
                grant_types=grants,
                scopes=scopes,
            )
        except RegistrationFailed as failed:
            raise InvalidInput(failed.message, field="auth.client_id") from None

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
        described, skipped = _remote_tools(tools)
        now = datetime.now(UTC)
        row = await self._row(server.key)
        settings = {**_settings(row), "tools": [msgspec.to_builtins(tool) for tool in described]}
        await RemoteServerRow.update(
            {RemoteServerRow.settings: settings, RemoteServerRow.tools_refreshed_at: now}
        ).where(RemoteServerRow.key == server.key)
        fresh = self._out(await self._row(server.key))
        await self._registry.save_remote(_definition(fresh), actor=fresh.created_by)
        return msgspec.structs.replace(fresh, warnings=tuple(skipped))

    # -- storage ---------------------------------------------------------------------------------------

    async def _row(self, key: str) -> dict[str, Any]:
        row = await RemoteServerRow.select().where(RemoteServerRow.key == key).first()
        if row is None:
            raise NotFound(f"There is no remote MCP server {key!r}.", field="key")
        return row

    def _seal(self, value: msgspec.Struct) -> str:
        return self._box.encrypt(msgspec.json.encode(value).decode())

    def _secrets(self, row: dict[str, Any]) -> _Secrets:
        try:
            return (
                msgspec.json.decode(self._box.decrypt(row["secrets"]), type=_Secrets)
                if row["secrets"]
                else _Secrets()
            )
        except DecryptionFailed:
            return _Secrets()

    def _registration(self, row: dict[str, Any]) -> Registration | None:
        if not row["registration"]:
            return None
        try:
            return msgspec.json.decode(self._box.decrypt(row["registration"]), type=Registration)
        except DecryptionFailed:
            return None

    def _out(self, row: dict[str, Any]) -> RemoteServer:
        settings = _settings(row)
        secrets = self._secrets(row)
        registration = self._registration(row)
        discovery = settings.get("discovery")
        return RemoteServer(
            key=row["key"],
            name=row["name"],
            endpoint=row["endpoint"],
            auth=AuthSettings(
                mode=AuthMode(row["auth_mode"]),
                header=settings.get("header", ""),
                client_id=registration.client_id if registration else "",
                scopes=tuple(settings.get("scopes", ())),
                auth_url=settings.get("auth_url", ""),
                token_url=settings.get("token_url", ""),
                register_url=settings.get("register_url", ""),
                revocation_url=settings.get("revocation_url", ""),
                resource=settings.get("resource", ""),
                issuer=settings.get("issuer", ""),
                token_endpoint_auth_method=settings.get("token_endpoint_auth_method", "none"),
                iss_parameter_supported=bool(settings.get("iss_parameter_supported")),
                token_set=bool(secrets.token),
                client_secret_set=bool(registration and registration.client_secret),
                registered=settings.get("registered", ""),
            ),
            allow_private=row["allow_private"],
            discovery_result=msgspec.convert(discovery, DiscoveryResult) if discovery else None,
            tools=tuple(msgspec.convert(tool, RemoteTool) for tool in settings.get("tools", [])),
            tools_refreshed_at=row["tools_refreshed_at"],
            created_by=row["created_by"],
            created_at=row["created_at"],
            updated_at=row["updated_at"],
        )


def _check_actor(actor: Principal | None, *, allow_private: bool) -> None:
    if actor is None:
        return
    actor.require_builder()
    if allow_private:
        actor.require_admin()


def _endpoint(url: str) -> str:
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname or parts.username or parts.fragment:
        raise InvalidInput(
            "Enter the server's MCP endpoint URL, such as https://mcp.example.com/mcp.", field="endpoint"
        )
    return url


def _settings(row: dict[str, Any]) -> dict[str, Any]:
    settings = row["settings"]
    if isinstance(settings, str):
        settings = msgspec.json.decode(settings)
    return dict(settings or {})


def _token_headers(header: str, token: str) -> dict[str, str]:
    if not token:
        return {}
    if not header or header.lower() == "authorization":
        return {"Authorization": f"Bearer {token}"}
    return {header: token}


def _with_overrides(
    server: AuthorizationServer | None, auth: AuthInput, endpoint: str
) -> AuthorizationServer:
    """Discovery's authorization server, with the URLs the builder entered in place of its own."""
    base = server or AuthorizationServer(
        issuer=origin_of(auth.token_url or endpoint), code_challenge_methods_supported=("S256",)
    )
    return msgspec.structs.replace(
        base,
        authorization_endpoint=auth.auth_url or base.authorization_endpoint,
        token_endpoint=auth.token_url or base.token_endpoint,
        registration_endpoint=auth.register_url or base.registration_endpoint,
    )


def _remote_tools(tools: list[Any]) -> tuple[list[RemoteTool], list[str]]:
    """Each tool as an action (a safe, unique name); tools whose input schema is unusable are skipped."""
    described: list[RemoteTool] = []
    skipped: list[str] = []
    taken: set[str] = set()
    for tool in tools:
        schema = dict(tool.input_schema) if isinstance(tool.input_schema, dict) else {}
        try:
            Draft202012Validator.check_schema(schema)
        except SchemaError:
            skipped.append(
                f"The tool {tool.name[:80]!r} was left out: its input schema is not valid JSON Schema."
            )
            continue
        if schema.get("type", "object") != "object":
            skipped.append(f"The tool {tool.name[:80]!r} was left out: its input is not an object.")
            continue
        action = unique_name(action_name(tool.name, prefix="t") or "tool", taken)
        annotations = tool.annotations
        described.append(
            RemoteTool(
                action=action,
                name=tool.name,
                title=(tool.title or (annotations.title if annotations else None) or tool.name)[:120],
                description=(tool.description or "")[:2000],
                input_schema=schema,
                read_only=bool(annotations and annotations.read_only_hint),
                destructive=bool(annotations and annotations.destructive_hint),
            )
        )
    return described, skipped


def _provider(auth: AuthSettings) -> OAuthProvider:
    """The server's authorization server as connections use it (the resource always sent)."""
    return OAuthProvider(
        authorize_url=auth.auth_url,
        token_url=auth.token_url,
        revocation_url=auth.revocation_url,
        issuer=auth.issuer,
        default_scopes=auth.scopes,
        send_resource=True,
        resource=auth.resource,
        require_iss=auth.iss_parameter_supported,
        token_endpoint_auth_method="client_secret_post"
        if auth.token_endpoint_auth_method == "client_secret_post"
        else "client_secret_basic",
    )


def _definition(server: RemoteServer) -> ConnectorDefinition:
    """A remote server's connector: its auth as the connections machinery knows it, its tools as actions."""
    auth = server.auth
    definition_auth: Any
    if auth.mode is AuthMode.NONE:
        definition_auth = NoAuth()
    elif auth.mode is AuthMode.TOKEN:
        header = auth.header
        definition_auth = (
            BearerAuth()
            if not header or header.lower() == "authorization"
            else ApiKeyAuth(location="header", name=header)
        )
    elif auth.mode is AuthMode.CLIENT_CREDENTIALS:
        definition_auth = ClientCredentialsAuth(provider=_provider(auth))
    else:
        definition_auth = AuthorizationCodeAuth(provider=_provider(auth))
    actions = tuple(
        Action(
            name=tool.action,
            title=tool.title or tool.name,
            description=tool.description,
            input_schema=tool.input_schema or {"type": "object", "properties": {}},
            idempotent=tool.read_only,
            mcp_tool=tool.name,
        )
        for tool in server.tools
    )
    return ConnectorDefinition(
        key=server.key,
        name=server.name,
        description=f"Remote MCP server at {server.endpoint}",
        icon="🛰️",
        auth=definition_auth,
        actions=actions,
        mcp=RemoteMcp(endpoint=server.endpoint, allow_private=server.allow_private),
    )
