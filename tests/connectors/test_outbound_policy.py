"""Every request Switchboard sends to an app on a builder's behalf goes through the one outbound policy: https
and public addresses only, unless an admin allowed the connection onto private addresses — and then only
the addresses the connection named when the admin allowed it.

A builder reaches a local app here the way an attacker would try it: a generic HTTP connection and a
recipe's test run over the API, or a connector's OAuth endpoints."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import msgspec
import pytest
from litestar import Litestar

from switchboard.connectors.connections.credentials import Caller
from switchboard.connectors.connections.errors import ProviderError
from switchboard.connectors.connections.models import Connection, ConnectionInput, Mode, Project
from switchboard.connectors.deps import ConnectorServices
from switchboard.connectors.remote.discovery import AuthMode
from switchboard.connectors.remote.models import AuthInput, RemoteServerInput
from switchboard.connectors.remote.network import allowed_on_connection, allowed_on_connection_or_server
from switchboard.connectors.tables import Connection as ConnectionRow
from switchboard.connectors.tables import RemoteServer as RemoteServerRow
from switchboard.identity.deps import IdentityServices
from switchboard.identity.principal import Principal
from switchboard.identity.roles import Role
from switchboard.platform.core.errors import PermissionDenied
from switchboard.platform.core.settings import Settings
from switchboard.platform.demo import seed_demo_tasks
from switchboard.platform.services import Services
from tests.connectors.conftest import principal_of
from tests.identity.support import make_user, signed_in
from tests.support.actors import SETUP
from tests.support.fake_github import LocalServer, Recorded, Reply, json_reply
from tests.support.fault_provider import FaultProvider
from tests.support.remote_mcp import FilesServer
from tests.support.web import Browserless

SECRET = {"secret": "internal only"}
NOT_ALLOWED = "only an admin can allow it onto private addresses"


def refused_step(url: str, why: str) -> str:
    """A test run's message when its one step was refused before anything connected."""
    return f"Step 1 (Send an HTTP request): HTTP request was not called at {url}: {why}; {NOT_ALLOWED}."


def internal(request: Recorded) -> Reply:
    return json_reply(200, SECRET)


@pytest.fixture
def internal_app() -> Iterator[LocalServer]:
    """An app inside the network, on loopback, that answers anyone."""
    server = LocalServer(internal)
    server.start()
    yield server
    server.stop()


async def http_connection(
    connectors: ConnectorServices,
    project: Project,
    actor: Any,
    *,
    base_url: str = "",
    allow_private: bool | None = None,
    name: str = "Internal",
) -> Connection:
    allowance = {} if allow_private is None else {"allow_private": allow_private}
    data = ConnectionInput(
        name=name,
        project_id=project.id,
        connector="http",
        mode=Mode.SHARED,
        auth_type="none",
        fields={"base_url": base_url},
        **allowance,
    )
    return await connectors.connections.create(data, actor=actor)


async def builder_test_run(client: Any, connection: Connection, url: str) -> dict[str, Any]:
    """A builder's test run of a draft recipe whose one step sends GET ``url`` with ``connection``."""
    name = f"peek_{uuid4().hex[:8]}"
    recipe = await client.post(
        "/api/v1/recipes", json={"project_id": str(connection.project_id), "name": name}
    )
    assert recipe.status_code == 201, recipe.text
    recipe_id = recipe.json()["id"]
    draft = {
        "trigger": {"name": name},
        "steps": [
            {
                "type": "action",
                "id": "step_1",
                "connector": "http",
                "action": "request",
                "connection": {"name": connection.name, "id": str(connection.id)},
                "inputs": {"url": url},
            },
            {"type": "result", "id": "step_2", "text": "{{ steps.step_1 }}"},
        ],
    }
    saved = await client.put(f"/api/v1/recipes/{recipe_id}/draft", json=draft)
    assert saved.status_code == 200, saved.text
    assert saved.json()["problems"] == []
    response = await client.post(f"/api/v1/recipes/{recipe_id}/test", json={"input": {}})
    assert response.status_code == 201, response.text
    report: dict[str, Any] = response.json()
    return report


@pytest.fixture
async def builder_client(services: IdentityServices, web: Browserless) -> Any:
    await make_user(services, "builder@example.com", Role.BUILDER)
    return await signed_in(web, "builder@example.com")


async def builder_of(services: IdentityServices) -> Principal:
    user = await services.users.find_by_email("builder@example.com")
    assert user is not None
    return principal_of(user)


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
async def test_a_builder_s_test_run_cannot_reach_a_loopback_app(
    app: Litestar,
    app_services: Services,
    services: IdentityServices,
    builder_client: Any,
    project: Project,
    internal_app: LocalServer,
    host: str,
) -> None:
    connectors = app_services.connectors
    base = internal_app.url().replace("127.0.0.1", host)
    connection = await http_connection(connectors, project, await builder_of(services), base_url=base)

    report = await builder_test_run(builder_client, connection, "/anything")

    assert report["outcome"] == "failed"
    spellings = (
        ["127.0.0.1 is"]
        if host == "127.0.0.1"
        else [f"{host} resolves to {a}," for a in ("127.0.0.1", "::1")]
    )
    assert report["message"] in [
        refused_step(f"{base}/anything", f"{why} a loopback address, which is not allowed")
        for why in spellings
    ]
    assert report["steps"][0]["attempts"] == 1  # a refusal is not worth repeating
    assert "internal only" not in str(report)
    assert internal_app.requests == []


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("https://169.254.169.254/latest/meta-data", "169.254.169.254 is a link-local address"),
        ("https://10.0.0.5/admin", "10.0.0.5 is a private address"),
        ("https://[::1]:9/admin", "::1 is a loopback address"),
        ("https://[::ffff:127.0.0.1]:9/admin", "::ffff:127.0.0.1 is a loopback address"),
    ],
)
async def test_a_builder_s_test_run_cannot_reach_an_internal_https_address(
    app: Litestar,
    app_services: Services,
    services: IdentityServices,
    builder_client: Any,
    project: Project,
    url: str,
    why: str,
) -> None:
    connectors = app_services.connectors
    connection = await http_connection(connectors, project, await builder_of(services))

    report = await builder_test_run(builder_client, connection, url)

    assert report["outcome"] == "failed"
    assert report["message"] == refused_step(url, f"{why}, which is not allowed")
    assert report["steps"][0]["attempts"] == 1


async def test_no_allowance_reaches_an_unspecified_address(
    app: Litestar,
    app_services: Services,
    services: IdentityServices,
    builder_client: Any,
    project: Project,
) -> None:
    connectors = app_services.connectors
    admin = principal_of(await make_user(services, "it@example.com", Role.ADMIN))
    connection = await http_connection(
        connectors, project, admin, base_url="https://0.0.0.0:9", allow_private=True
    )

    report = await builder_test_run(builder_client, connection, "/admin")

    assert report["message"] == (
        "Step 1 (Send an HTTP request): HTTP request was not called at https://0.0.0.0:9/admin: 0.0.0.0 is "
        "an unspecified address, which is not allowed."
    )


async def test_a_connection_an_admin_allowed_reaches_its_own_private_address_and_no_other(
    app: Litestar,
    app_services: Services,
    services: IdentityServices,
    builder_client: Any,
    project: Project,
    internal_app: LocalServer,
) -> None:
    connectors = app_services.connectors
    admin = principal_of(await make_user(services, "it@example.com", Role.ADMIN))
    allowed = await http_connection(
        connectors, project, admin, base_url=internal_app.url("/v1"), allow_private=True
    )
    assert allowed.private_origins == (internal_app.url(),)

    report = await builder_test_run(builder_client, allowed, "/anything")

    assert report["outcome"] == "succeeded", report
    assert report["steps"][0]["output"] == SECRET
    assert [request.path for request in internal_app.requests] == ["/v1/anything"]

    # Another connection at another loopback port gets nothing from the allowance.
    other = await http_connection(
        connectors, project, await builder_of(services), base_url="http://127.0.0.1:9", name="Other"
    )
    refused = await builder_test_run(builder_client, other, "/x")
    assert refused["message"] == refused_step(
        "http://127.0.0.1:9/x", "127.0.0.1 is a loopback address, which is not allowed"
    )


async def test_a_remote_server_s_allowance_does_not_open_its_address_to_http_connections(
    app: Litestar,
    app_services: Services,
    services: IdentityServices,
    builder_client: Any,
    project: Project,
) -> None:
    connectors = app_services.connectors
    with FilesServer(token="files-token") as files:
        server = RemoteServerInput(
            key="files",
            name="Files",
            endpoint=files.endpoint,
            allow_private=True,
            auth=AuthInput(mode=AuthMode.TOKEN, token="files-token"),
        )
        await connectors.remote.create(server, actor=SETUP)  # an admin allowed the MCP server
        origin = files.endpoint.removesuffix("/mcp")
        connection = await http_connection(
            connectors, project, await builder_of(services), base_url=origin, name="Files as HTTP"
        )

        report = await builder_test_run(builder_client, connection, "/mcp")

    assert report["message"] == refused_step(
        f"{origin}/mcp", "127.0.0.1 is a loopback address, which is not allowed"
    )


@pytest.mark.both_engines
async def test_only_an_admin_allows_a_connection_onto_private_addresses(
    app_services: Services, services: IdentityServices, project: Project, internal_app: LocalServer
) -> None:
    connectors = app_services.connectors
    builder = principal_of(await make_user(services, "builder@example.com", Role.BUILDER))
    admin = principal_of(await make_user(services, "it@example.com", Role.ADMIN))

    with pytest.raises(PermissionDenied) as refused:
        await http_connection(connectors, project, builder, base_url=internal_app.url(), allow_private=True)
    assert refused.value.message == "Only owners and admins can do this."
    assert await ConnectionRow.count() == 0

    connection = await http_connection(connectors, project, builder, base_url=internal_app.url())
    with pytest.raises(PermissionDenied):
        await connectors.connections.update(
            connection.id, _edit(connection, allow_private=True), actor=builder
        )
    allowed = await connectors.connections.update(
        connection.id, _edit(connection, allow_private=True), actor=admin
    )
    assert allowed.allow_private is True
    # A builder may still rename it; the allowance stays as the admin left it.
    renamed = await connectors.connections.update(
        connection.id, _edit(allowed, name="Renamed"), actor=builder
    )
    assert (renamed.name, renamed.private_origins) == ("Renamed", (internal_app.url(),))
    # But only an admin can take the allowance away, or give it up.
    with pytest.raises(PermissionDenied):
        await connectors.connections.update(connection.id, _edit(renamed, allow_private=False), actor=builder)


@pytest.mark.both_engines
async def test_a_builder_cannot_move_an_allowed_connection_to_another_private_address(
    app_services: Services, services: IdentityServices, project: Project, internal_app: LocalServer
) -> None:
    connectors = app_services.connectors
    builder = principal_of(await make_user(services, "builder@example.com", Role.BUILDER))
    admin = principal_of(await make_user(services, "it@example.com", Role.ADMIN))
    connection = await http_connection(
        connectors, project, admin, base_url=internal_app.url(), allow_private=True
    )

    with pytest.raises(PermissionDenied) as refused:
        await connectors.connections.update(
            connection.id, _edit(connection, fields={"base_url": "http://127.0.0.1:6379"}), actor=builder
        )

    assert refused.value.message == (
        "An admin allowed Internal onto private addresses at "
        f"{internal_app.url()} only; only owners and admins can change where it connects."
    )
    assert refused.value.field == "fields"
    stored = await connectors.connections.get(connection.id)
    assert (stored.fields, stored.private_origins) == (
        {"base_url": internal_app.url()},
        (internal_app.url(),),
    )
    # The same change by an admin moves the allowance along with it.
    moved = await connectors.connections.update(
        connection.id, _edit(connection, fields={"base_url": "http://127.0.0.1:6379"}), actor=admin
    )
    assert moved.private_origins == ("http://127.0.0.1:6379",)


async def test_the_demo_seed_allows_demo_tasks_at_switchboard_s_own_address_only(
    settings: Settings, connectors: ConnectorServices
) -> None:
    # Demo Tasks runs inside Switchboard; the operator's seed is what allows its address.
    await seed_demo_tasks(msgspec.structs.replace(settings, base_url="http://127.0.0.1:8000"), connectors)
    [connection] = await connectors.connections.list_all()
    assert connection.private_origins == ("http://127.0.0.1:8000",)

    await seed_demo_tasks(msgspec.structs.replace(settings, base_url="http://localhost:9000"), connectors)

    [moved] = await connectors.connections.list_all()
    assert (moved.fields["host"], moved.private_origins) == (
        "http://localhost:9000/demo-tasks",
        ("http://localhost:9000",),
    )


@pytest.mark.both_engines
async def test_allowances_are_read_from_what_admins_stored(
    app_services: Services, project: Project, internal_app: LocalServer
) -> None:
    connectors = app_services.connectors
    await http_connection(connectors, project, SETUP, base_url=internal_app.url("/v1"), allow_private=True)
    await http_connection(connectors, project, SETUP, base_url="http://127.0.0.1:7", name="Not allowed")
    now = datetime.now(UTC)
    for key, allowed in (("allowed", True), ("refused", False)):
        settings = {"token_url": f"http://10.0.0.{9 if allowed else 8}:8443/token", "revocation_url": ""}
        await RemoteServerRow.insert(
            RemoteServerRow(
                key=key,
                name=key,
                endpoint=f"https://{key}.example.com/mcp",
                auth_mode="oauth",
                settings=json.dumps(settings),
                allow_private=allowed,
                created_at=now,
                updated_at=now,
            )
        )

    assert await allowed_on_connection(internal_app.url()) is True
    assert await allowed_on_connection("http://127.0.0.1:7") is False
    assert await allowed_on_connection("http://10.0.0.9:8443") is False  # a server's: not for actions
    assert await allowed_on_connection_or_server("http://10.0.0.9:8443") is True
    assert await allowed_on_connection_or_server(internal_app.url()) is True
    assert await allowed_on_connection_or_server("http://10.0.0.8:8443") is False
    assert await allowed_on_connection_or_server("https://allowed.example.com:443") is False


def _edit(connection: Connection, **changes: Any) -> ConnectionInput:
    data: dict[str, Any] = {
        "name": connection.name,
        "project_id": connection.project_id,
        "connector": connection.connector,
        "mode": connection.mode,
        "auth_type": connection.auth_type,
        "fields": connection.fields,
        **changes,
    }
    return ConnectionInput(**data)


# The OAuth requests of a connection go to its app's authorization server on the builder's behalf too.


TOKEN_DEFINITION = """
key: internal-idp
name: Internal IdP
base_url: "{host}/api"
fields:
  - {key: host, label: Host, kind: url}
auth:
  type: oauth2_client_credentials
  provider:
    token_url: "{host}/token"
actions:
  - {name: whoami, title: Who am I, path: /me}
"""


async def client_credentials_connection(
    connectors: ConnectorServices, project: Project, actor: Any, fake: FaultProvider, **changes: Any
) -> Connection:
    await connectors.registry.save(TOKEN_DEFINITION, actor="builder@example.com")
    data = ConnectionInput(
        name="Internal IdP",
        project_id=project.id,
        connector="internal-idp",
        mode=Mode.SHARED,
        client_id=fake.client_id,
        client_secret=fake.client_secret,
        fields={"host": fake.issuer},
        **changes,
    )
    return await connectors.connections.create(data, actor=actor)


async def test_a_token_request_to_a_loopback_authorization_server_is_refused(
    connectors: ConnectorServices, builder: Principal, project: Project, fake: FaultProvider
) -> None:
    connection = await client_credentials_connection(connectors, project, builder, fake)

    with pytest.raises(ProviderError) as refused:
        await connectors.credentials.request_auth(connection.id, Caller(None))

    assert refused.value.message == (
        f"Internal IdP's token endpoint was not called at {fake.issuer}/token: 127.0.0.1 is a loopback "
        f"address, which is not allowed; {NOT_ALLOWED}."
    )
    assert refused.value.problem == "refused"
    assert fake.requests == []


async def test_a_token_request_to_an_authorization_server_an_admin_allowed_is_sent(
    connectors: ConnectorServices, project: Project, fake: FaultProvider
) -> None:
    connection = await client_credentials_connection(connectors, project, SETUP, fake, allow_private=True)

    auth = await connectors.credentials.request_auth(connection.id, Caller(None))

    assert auth.headers["Authorization"].startswith("Bearer ")
    assert [request.path for request in fake.requests] == ["/token"]
