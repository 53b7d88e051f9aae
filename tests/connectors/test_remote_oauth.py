"""A remote MCP server protected by a third-party authorization server, with each end user's own grant.

The remote server is the official MCP SDK's server (tests/support/remote_mcp.py) acting as a resource
server of oidc-provider, which issues it JWT access tokens; neither was written for Switchboard. Adding
the server discovers oidc-provider from the 401 and registers Switchboard there dynamically; a builder
connects and lists the tools; a person connects through their connect link (sign-in and consent at
oidc-provider), and the tool runs with that person's own token.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, urlsplit
from uuid import UUID

import httpx
import pytest

from switchboard.connectors.action_answers import ActionFailed
from switchboard.connectors.connections.credentials import Caller
from switchboard.connectors.connections.errors import ConnectionRequired, LinkRefused
from switchboard.connectors.connections.models import Connection, ConnectionInput, GrantStatus, Mode
from switchboard.connectors.deps import ConnectorServices
from switchboard.connectors.remote.discovery import AuthMode
from switchboard.connectors.remote.models import AuthInput, RemoteServerInput, RemoteServerPatch
from switchboard.identity.deps import IdentityServices
from switchboard.identity.principal import Principal
from switchboard.identity.roles import Role
from switchboard.identity.schemas import UserOut
from switchboard.platform.core.errors import InvalidInput
from switchboard.platform.services import Services
from tests.connectors.conftest import principal_of
from tests.connectors.grant_support import link_token
from tests.identity.support import make_user
from tests.support.actors import SETUP
from tests.support.oidc_provider import authorize_without_browser_async
from tests.support.remote_mcp import SCOPE, ProtectedFiles, protected_files

CALLBACK = "http://testserver.local/connections/callback"


@pytest.fixture(scope="module")
def remote() -> Iterator[ProtectedFiles]:
    with protected_files() as files:
        yield files


async def connect_at_provider(
    connectors: ConnectorServices, user_id: UUID, connection_id: UUID, login: str, *, shared: bool = False
) -> None:
    """What a person does: open the connect link, sign in and consent at oidc-provider, come back
    (``shared``: a builder connects a shared connection for everyone)."""
    link = await connectors.grants.connect_link(user_id, connection_id, shared=shared)
    authorize_url = await connectors.connect.open_link(link_token(link), user_id)
    back = await authorize_without_browser_async(authorize_url, login)
    assert back.startswith(CALLBACK + "?"), back
    await connectors.connect.finish(dict(parse_qsl(urlsplit(back).query)), user_id)


async def files_connection(
    connectors: ConnectorServices, builder: Principal, remote: ProtectedFiles, mode: Mode = Mode.END_USER
) -> Connection:
    """The Files server added, and a connection to it that the builder connected at oidc-provider (their
    own grant, or the shared one) and listed the tools with."""
    await connectors.remote.create(
        RemoteServerInput(key="files", name="Files", endpoint=remote.endpoint, allow_private=True),
        actor=SETUP,
    )
    project = await connectors.projects.ensure("Operations")
    name = "Files (each user)" if mode is Mode.END_USER else "Files (team)"
    connection = await connectors.connections.create(
        ConnectionInput(name=name, project_id=project.id, connector="files", mode=mode), actor=builder
    )
    shared = mode is Mode.SHARED
    await connect_at_provider(connectors, builder.user_id, connection.id, "builder", shared=shared)
    await connectors.remote_connections.refresh_tools("files", builder, connection_id=connection.id)
    return connection


async def connected_for_alice(
    connectors: ConnectorServices, services: IdentityServices, remote: ProtectedFiles
) -> tuple[Connection, UserOut]:
    """``files_connection`` for each end user, which Alice has connected too."""
    builder = principal_of(await make_user(services, "builder@example.com", Role.BUILDER))
    alice = await make_user(services, "alice@example.com")
    connection = await files_connection(connectors, builder, remote)
    await connect_at_provider(connectors, alice.id, connection.id, "alice")
    return connection, alice


async def call_as(
    connectors: ConnectorServices, connection: Connection, user: UserOut, action: str, inputs: dict[str, Any]
) -> object:
    """A remote tool called with the user's credentials, as recipe steps and offered tools call it."""
    definition = await connectors.registry.get(connection.connector)
    call = await connectors.calls.open(definition, connection.id, Caller(user.id, user.email))
    return (await call.run(action, inputs)).output


async def test_each_person_calls_the_remote_tool_with_their_own_token(
    app_services: Services, services: IdentityServices, remote: ProtectedFiles
) -> None:
    connectors: ConnectorServices = app_services.connectors
    admin = principal_of(await make_user(services, "it@example.com", Role.ADMIN))
    builder_user = await make_user(services, "builder@example.com", Role.BUILDER)
    builder = principal_of(builder_user)
    alice = await make_user(services, "alice@example.com")
    bob = await make_user(services, "bob@example.com")
    issuer = remote.provider.issuer

    server = await connectors.remote.create(
        RemoteServerInput(key="files", name="Files", endpoint=remote.endpoint, allow_private=True),
        actor=admin,
    )

    # Everything came from discovery: the challenge, the resource metadata, oidc-provider's metadata.
    assert server.auth.mode is AuthMode.AUTHORIZATION_CODE
    assert (server.auth.issuer, server.auth.resource, server.auth.scopes) == (
        issuer,
        remote.endpoint,
        (SCOPE,),
    )
    assert server.auth.token_url == remote.provider.token_url
    assert server.auth.registered == "dynamic"
    assert server.auth.client_id  # registered at oidc-provider, as a public client
    assert server.discovery_result is not None
    assert server.discovery_result.resource_metadata_url == remote.endpoint.replace(
        "/mcp", "/.well-known/oauth-protected-resource/mcp"
    )
    assert server.tools == ()  # listing them needs someone's grant

    project = await connectors.projects.ensure("Operations")
    connection = await connectors.connections.create(
        ConnectionInput(
            name="Files (each user)", project_id=project.id, connector="files", mode=Mode.END_USER
        ),
        actor=builder,
    )
    assert connection.client_id == server.auth.client_id

    # The builder connects their own account and lists the tools with it.
    await connect_at_provider(connectors, builder.user_id, connection.id, "builder")
    listed = await connectors.remote_connections.refresh_tools("files", builder, connection_id=connection.id)
    assert [tool.action for tool in listed.tools] == ["search_files", "delete_file", "always_fails"]

    # Alice connects hers; the tool runs with Alice's token, for Alice.
    await connect_at_provider(connectors, alice.id, connection.id, "alice")
    definition = await connectors.registry.get("files")
    auth = await connectors.credentials.request_auth(connection.id, Caller(alice.id, alice.email))
    result = await connectors.runner.run(definition, "search_files", {"query": "q3"}, auth)
    assert result.output == {"query": "q3", "files": ["q3-report.txt", "q3-notes.md"], "caller": "alice"}

    # Every token request named the remote server as the resource (RFC 8707), as a public client.
    requests = remote.provider.stats().token_requests
    assert {(r.grant_type, r.resource, r.client_auth) for r in requests} == {
        ("authorization_code", remote.endpoint, "none")
    }

    # Bob has not connected: he gets a connect link, not someone else's token.
    with pytest.raises(ConnectionRequired) as required:
        await connectors.credentials.request_auth(connection.id, Caller(bob.id, bob.email))
    assert required.value.connect_url.startswith("http://testserver.local/connect/")


async def test_a_builder_cannot_list_tools_with_a_connection_to_another_server(
    app_services: Services, services: IdentityServices, remote: ProtectedFiles
) -> None:
    connectors: ConnectorServices = app_services.connectors
    builder: Principal = principal_of(await make_user(services, "builder@example.com", Role.BUILDER))
    await connectors.remote.create(
        RemoteServerInput(key="files", name="Files", endpoint=remote.endpoint, allow_private=True),
        actor=SETUP,
    )
    project = await connectors.projects.ensure("Operations")
    other = await connectors.connections.create(
        ConnectionInput(
            name="Status API",
            project_id=project.id,
            connector="http",
            mode=Mode.SHARED,
            fields={"base_url": ""},
        ),
        actor=builder,
    )

    with pytest.raises(InvalidInput, match=r"is not a connection to .files."):
        await connectors.remote_connections.refresh_tools("files", builder, connection_id=other.id)


async def test_a_new_client_moves_the_connections_and_asks_everyone_to_connect_again(
    app_services: Services, services: IdentityServices, remote: ProtectedFiles
) -> None:
    connectors: ConnectorServices = app_services.connectors
    builder = principal_of(await make_user(services, "builder@example.com", Role.BUILDER))
    alice = await make_user(services, "alice@example.com")
    created = await connectors.remote.create(
        RemoteServerInput(key="files", name="Files", endpoint=remote.endpoint, allow_private=True),
        actor=SETUP,
    )
    project = await connectors.projects.ensure("Operations")
    connection = await connectors.connections.create(
        ConnectionInput(
            name="Files (each user)", project_id=project.id, connector="files", mode=Mode.END_USER
        ),
        actor=builder,
    )
    await connect_at_provider(connectors, alice.id, connection.id, "alice")
    assert await connectors.credentials.request_auth(connection.id, Caller(alice.id, alice.email))

    # Registered again (as when the server moves to another authorization server): here, by hand.
    changed = await connectors.remote_connections.update(
        "files", RemoteServerPatch(auth=AuthInput(client_id="registered-by-hand")), actor=builder
    )

    assert created.auth.client_id != "registered-by-hand"
    assert (changed.auth.client_id, changed.auth.registered) == ("registered-by-hand", "given")
    moved = await connectors.connections.get(connection.id)
    assert moved.client_id == "registered-by-hand"
    with pytest.raises(ConnectionRequired) as required:
        await connectors.credentials.request_auth(connection.id, Caller(alice.id, alice.email))
    assert required.value.reason == "needs_reconnect"


async def test_a_refused_token_is_refreshed_once_and_the_call_repeated(
    app_services: Services, services: IdentityServices, remote: ProtectedFiles
) -> None:
    connectors: ConnectorServices = app_services.connectors
    connection, alice = await connected_for_alice(connectors, services, remote)

    async def call() -> object:
        return await call_as(connectors, connection, alice, "search_files", {"query": "q1"})

    async def refuse(times: int) -> None:
        async with httpx.AsyncClient() as http:
            await http.post(remote.endpoint.replace("/mcp", f"/__refuse?times={times}"))

    async def refreshes() -> int | None:
        return (await asyncio.to_thread(remote.provider.stats)).token.get("refresh_token")

    await asyncio.to_thread(remote.provider.reset_stats)
    await refuse(1)
    output = await call()

    assert output == {"query": "q1", "files": ["q1-report.txt", "q1-notes.md"], "caller": "alice"}
    assert await refreshes() == 1  # one refresh, then the same call again

    # Refused again after the refresh: Alice must connect again, and is given her link.
    await refuse(2)
    with pytest.raises(ConnectionRequired) as refused:
        await call()
    link = refused.value.connect_url
    assert refused.value.reason == "needs_reconnect"
    assert refused.value.message == (
        f"This tool needs your Files account. Open {link} to reconnect it (the link works once, for 10 "
        "minutes), then try again."
    )
    assert await refreshes() == 2  # renewed once only
    [mine] = await connectors.accounts.for_user(alice.id)
    assert mine.status is GrantStatus.NEEDS_RECONNECT
    assert mine.reason == "Files did not accept Switchboard's credentials; reconnect."


async def test_a_shared_grant_refused_for_good_fails_with_the_app_s_words_and_no_link(
    app_services: Services, services: IdentityServices, remote: ProtectedFiles
) -> None:
    connectors: ConnectorServices = app_services.connectors
    builder = principal_of(await make_user(services, "builder@example.com", Role.BUILDER))
    alice = await make_user(services, "alice@example.com")
    connection = await files_connection(connectors, builder, remote, Mode.SHARED)
    async with httpx.AsyncClient() as http:
        await http.post(remote.endpoint.replace("/mcp", "/__refuse?times=2"))

    with pytest.raises(ActionFailed) as refused:
        await call_as(connectors, connection, alice, "search_files", {"query": "q1"})

    assert refused.value.auth_problem is True
    assert refused.value.message == "Files did not accept Switchboard's credentials; reconnect."
    assert (await connectors.accounts.of_connection(connection.id))[0].status is GrantStatus.CONNECTED


async def test_an_answer_without_the_issuer_is_refused_when_the_provider_always_names_itself(
    app_services: Services, services: IdentityServices, remote: ProtectedFiles
) -> None:
    connectors: ConnectorServices = app_services.connectors
    alice = await make_user(services, "alice@example.com")
    server = await connectors.remote.create(
        RemoteServerInput(key="files", name="Files", endpoint=remote.endpoint, allow_private=True),
        actor=SETUP,
    )
    assert server.auth.iss_parameter_supported is True  # oidc-provider advertises RFC 9207
    project = await connectors.projects.ensure("Operations")
    data = ConnectionInput(
        name="Files (each user)", project_id=project.id, connector="files", mode=Mode.END_USER
    )
    connection = await connectors.connections.create(data, actor=SETUP)
    link = await connectors.grants.connect_link(alice.id, connection.id)
    authorize_url = await connectors.connect.open_link(link_token(link), alice.id)
    params = dict(parse_qsl(urlsplit(await authorize_without_browser_async(authorize_url, "alice")).query))
    del params["iss"]  # as a mix-up attacker's answer would come, without the real issuer

    with pytest.raises(LinkRefused) as refused:
        await connectors.connect.finish(params, alice.id)

    assert refused.value.message == (
        "The answer does not say it came from Files, which always says so; nothing was stored."
    )
    with pytest.raises(ConnectionRequired):
        await connectors.credentials.request_auth(connection.id, Caller(alice.id, alice.email))


async def test_a_tool_needing_another_scope_asks_the_person_to_allow_it_then_works(
    app_services: Services, services: IdentityServices, remote: ProtectedFiles
) -> None:
    connectors: ConnectorServices = app_services.connectors
    connection, alice = await connected_for_alice(connectors, services, remote)

    async def delete() -> object:
        return await call_as(connectors, connection, alice, "delete_file", {"name": "old.txt"})

    with pytest.raises(ConnectionRequired) as more:
        await delete()

    link = more.value.connect_url
    assert more.value.message == (
        f"This tool needs more access to your Files account (files:write). Open {link} to allow it "
        "(the link works once, for 10 minutes), then try again."
    )
    assert more.value.reason == "more_access"
    described = await connectors.connect.describe_link(link_token(link), alice.id)
    assert described.scopes == ("files:read", "files:write")
    authorize_url = await connectors.connect.open_link(link_token(link), alice.id)
    assert dict(parse_qsl(urlsplit(authorize_url).query))["scope"] == "files:read files:write"
    back = await authorize_without_browser_async(authorize_url, "alice")
    connected = await connectors.connect.finish(dict(parse_qsl(urlsplit(back).query)), alice.id)
    assert set(connected.scopes) == {"files:read", "files:write"}

    assert await delete() == "deleted old.txt"
    # The connection itself still asks new people only for what it always did.
    assert (await connectors.connections.get(connection.id)).scopes == ("files:read",)
