"""URLs with odd spellings inside a remote server's metadata (RFC 9728, RFC 8414): whoever writes the
documents picks them, and each is refused with a message naming the document, before anything connects to
it — never an unhandled error."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from switchboard.connectors.connections.errors import ProviderError
from switchboard.connectors.remote.authorization import RemoteOAuth
from switchboard.connectors.remote.discovery import Discoverer
from switchboard.connectors.remote.network import Network
from switchboard.connectors.remote.registration import Registrar, Registration, RegistrationFailed
from tests.connectors.test_remote_discovery import (
    LOCAL,
    PROFILE,
    authorization_server,
    document,
    failure,
    healthy,
    metadata,
    protected_resource,
)
from tests.support.document_server import DocumentServer

ODD = ["https://[::1", "https://0177.0.0.1/x", "https://xn--/x", "https://2130706433/x"]


@pytest.fixture
async def remote() -> AsyncIterator[DocumentServer]:
    server = DocumentServer(healthy())
    await server.start()
    yield server
    await server.stop()


@pytest.mark.parametrize("odd", ODD)
async def test_protected_resource_metadata_naming_an_odd_authorization_server_is_refused(
    remote: DocumentServer, odd: str
) -> None:
    remote.routes["/custom/prm.json"] = document(lambda b: protected_resource(b, authorization_servers=[odd]))
    b = remote.url("")

    message = await failure(Discoverer(Network()), f"{b}/mcp")

    assert message.startswith(
        f"The protected resource metadata at {b}/custom/prm.json names an authorization server that "
        f"cannot be used ({odd}: "
    )
    assert remote.hits["/.well-known/oauth-authorization-server/tenant"] == 0


@pytest.mark.parametrize("odd", ODD)
async def test_protected_resource_metadata_for_an_odd_resource_is_refused(
    remote: DocumentServer, odd: str
) -> None:
    remote.routes["/custom/prm.json"] = document(lambda b: protected_resource(b, resource=odd))
    b = remote.url("")

    message = await failure(Discoverer(Network()), f"{b}/mcp")

    assert message == (
        f"The protected resource metadata at {b}/custom/prm.json is for {odd!r}, not for {b}/mcp; "
        "Switchboard will not send tokens for it. Check the server URL."
    )


@pytest.mark.parametrize("member", ["issuer", "token_endpoint", "registration_endpoint"])
@pytest.mark.parametrize("odd", ODD)
async def test_authorization_server_metadata_with_an_odd_url_is_refused(
    remote: DocumentServer, member: str, odd: str
) -> None:
    remote.routes["/.well-known/oauth-authorization-server/tenant"] = document(
        lambda b: authorization_server(b, **{member: odd})
    )
    b = remote.url("")

    message = await failure(Discoverer(Network()), f"{b}/mcp")

    where = f"{b}/.well-known/oauth-authorization-server/tenant"
    if member == "issuer":
        assert message == (
            f"The authorization server metadata at {where} names the issuer {odd!r}, not "
            f"{b + '/tenant'!r}; Switchboard will not trust it (RFC 8414 §3.3)."
        )
    else:
        assert message.startswith(
            f"The authorization server metadata at {where} names a {member} that cannot be used ({odd}: "
        )


@pytest.mark.parametrize("odd", ODD)
async def test_registering_at_an_odd_registration_endpoint_is_refused(
    remote: DocumentServer, odd: str
) -> None:
    server = await metadata(remote, registration_endpoint=odd)

    with pytest.raises(RegistrationFailed) as refused:
        await Registrar(Network(), PROFILE).register(server, LOCAL, confidential=False)

    assert refused.value.message.startswith(f"Could not fetch {odd}: ")
    assert remote.requests == []


async def test_a_token_request_to_an_odd_token_endpoint_is_refused(remote: DocumentServer) -> None:
    server = await metadata(remote, token_endpoint="https://0177.0.0.1/token")
    registration = Registration(issuer=server.issuer, client_id="c", auth_method="none", how="dynamic")
    oauth = RemoteOAuth(Network())
    try:
        with pytest.raises(ProviderError) as refused:
            await oauth.client_credentials(server, registration, resource="", scopes=(), policy=LOCAL)
    finally:
        await oauth.aclose()

    assert refused.value.message == (
        f"{remote.url('')[len('http://') :]}'s token endpoint was not called at https://0177.0.0.1/token: "
        "0177.0.0.1 is not a valid host name or IP address."
    )
