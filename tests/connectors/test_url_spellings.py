"""URLs with odd host spellings, given wherever Switchboard takes a URL it will call: each is refused with
the same clean error (the SSRF-guarded fetcher's URL check), never a server error, and nothing is stored
or called."""

from __future__ import annotations

from typing import Any

import pytest
from litestar import Litestar

from switchboard.connectors.connections.models import ConnectionInput, Mode, Project
from switchboard.connectors.definitions import DefinitionError, load_definition
from switchboard.connectors.deps import ConnectorServices
from switchboard.connectors.tables import Connection as ConnectionRow
from switchboard.connectors.tables import RemoteServer as RemoteServerRow
from switchboard.identity.deps import IdentityServices
from switchboard.identity.principal import Principal
from switchboard.identity.roles import Role
from switchboard.platform.core.errors import InvalidInput
from switchboard.platform.services import Services
from tests.connectors.grant_support import provider_definition
from tests.connectors.test_definitions import changed
from tests.connectors.test_outbound_policy import (
    builder_client,
    builder_of,
    builder_test_run,
    http_connection,
)
from tests.identity.support import answer, error, make_user, signed_in
from tests.support.web import Browserless

__all__ = ["builder_client"]  # a fixture

API = "/api/v1/remote-servers"

# What each spelling is refused for, after "Could not fetch <url>: ".
ODD_HOSTS = {
    "https://0177.0.0.1/mcp": "0177.0.0.1 is not a valid host name or IP address",
    "https://01.02.03.04/mcp": "01.02.03.04 is not a valid host name or IP address",
    "https://127.0.0.01/mcp": "127.0.0.01 is not a valid host name or IP address",
    "https://2130706433/mcp": "2130706433 is not a valid host name or IP address",
    "https://0x7f.1/mcp": "0x7f.1 is not a valid host name or IP address",
    "https://[::1/mcp": "it is not a valid URL",
    "https://xn--/mcp": "xn-- is not a valid host name or IP address",
    "https://xn--zz/mcp": "xn--zz is not a valid host name or IP address",
    "https://a..b/mcp": "a..b is not a valid host name or IP address",
    "https://-a.example/mcp": "-a.example is not a valid host name or IP address",
    "https://ex%41mple.com/mcp": "ex%41mple.com is not a valid host name or IP address",
    "https://example.com:99999/mcp": "the port is out of range",
}


@pytest.fixture
async def admin(services: IdentityServices, web: Browserless) -> Browserless:
    await make_user(services, "it@example.com", Role.ADMIN)
    await signed_in(web, "it@example.com")
    return web


@pytest.mark.parametrize(("url", "why"), ODD_HOSTS.items(), ids=list(ODD_HOSTS))
async def test_discovery_refuses_an_odd_host_spelling_cleanly(
    app: Litestar, admin: Browserless, url: str, why: str
) -> None:
    response = await admin.client.post(f"{API}/discover", json={"endpoint": url})

    assert answer(response) == error(422, "invalid_input", f"Could not fetch {url}: {why}.", "endpoint")


@pytest.mark.parametrize(("url", "why"), ODD_HOSTS.items(), ids=list(ODD_HOSTS))
async def test_adding_a_server_at_an_odd_host_spelling_is_refused_and_nothing_is_stored(
    app: Litestar, admin: Browserless, url: str, why: str
) -> None:
    body = {"key": "odd", "name": "Odd", "endpoint": url, "auth": {"mode": "none"}}

    response = await admin.client.post(API, json=body)

    assert answer(response) == error(422, "invalid_input", f"Could not fetch {url}: {why}.", "endpoint")
    assert await RemoteServerRow.count() == 0


# The same spellings in a connector definition, a connection's URL field and a step's URL.

ODD_BASES = ["https://0177.0.0.1", "https://127.0.0.01", "https://0x7f.1", "https://xn--", "https://a..b"]


@pytest.mark.parametrize(
    ("path", "where"),
    [
        ("base_url", "base_url"),
        ("auth.provider.token_url", "auth.provider.token_url"),
        ("fields.0.default", "fields.host.default"),
    ],
)
@pytest.mark.parametrize("odd", ODD_BASES)
def test_a_connector_definition_naming_an_odd_host_is_refused(path: str, where: str, odd: str) -> None:
    with pytest.raises(DefinitionError) as refused:
        load_definition(changed(path, f"{odd}/api"))

    assert refused.value.message.startswith(f"definition: `{where}`: ")
    assert refused.value.path == where


@pytest.mark.parametrize("odd", ODD_BASES)
async def test_a_connection_at_an_odd_host_is_refused_and_nothing_is_stored(
    connectors: ConnectorServices, builder: Principal, project: Project, odd: str
) -> None:
    await connectors.registry.save(provider_definition("test-app", "https://app.example.com"), actor="b")
    data = ConnectionInput(
        name="Odd",
        project_id=project.id,
        connector="test-app",
        mode=Mode.END_USER,
        client_id="client",
        fields={"host": odd},
    )

    with pytest.raises(InvalidInput) as refused:
        await connectors.connections.create(data, actor=builder)

    host = odd.removeprefix("https://")
    assert refused.value.message == f"Host cannot be used: {host} is not a valid host name or IP address."
    assert refused.value.field == "fields.host"
    assert await ConnectionRow.count() == 0


@pytest.mark.parametrize("odd", ODD_BASES)
async def test_a_step_sending_to_an_odd_host_fails_cleanly(
    app: Litestar,
    app_services: Services,
    services: IdentityServices,
    builder_client: Any,
    project: Project,
    odd: str,
) -> None:
    connection = await http_connection(app_services.connectors, project, await builder_of(services))

    report = await builder_test_run(builder_client, connection, f"{odd}/x")

    host = odd.removeprefix("https://")
    assert report["outcome"] == "failed"
    assert report["message"] == (
        f"Step 1 (Send an HTTP request): url: {host} is not a valid host name or IP address."
    )
