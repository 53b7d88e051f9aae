"""Discovering a remote MCP server's authorization, registering with its authorization server, and the
checks Switchboard makes as an OAuth client — against a small HTTP server that plays the remote server
and its authorization server, serving whichever documents (good or faulty) a test sets up.

The full flow against real servers is covered by the conformance suite (tests/conformance) and the
end-to-end tests; these tests pin each fault to its message.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import msgspec
import pytest

from switchboard.connectors.remote.authorization import AuthorizationRefused, RemoteOAuth
from switchboard.connectors.remote.discovery import AuthMode, Discoverer, DiscoveryFailed
from switchboard.connectors.remote.metadata import AuthorizationServer, bearer_challenge
from switchboard.connectors.remote.network import Network, NetworkPolicy
from switchboard.connectors.remote.registration import (
    ClientProfile,
    Registrar,
    Registration,
    RegistrationFailed,
)
from tests.support.document_server import (
    DocumentServer,
    Handler,
    Request,
    answer,
    certificate,
    redirect,
    resolving,
    write,
)

LOCAL = NetworkPolicy(allow_private=True)  # the test servers are on 127.0.0.1, over http
REDIRECT_URI = "https://switchboard.example/connections/remote/callback"
PROFILE = ClientProfile(name="Switchboard", redirect_uri=REDIRECT_URI)


def base(request: Request) -> str:
    return f"http://{request.headers['host']}"


def document(make: Callable[[str], Any], status: int = 200, *headers: tuple[str, str]) -> Handler:
    """A JSON answer built from the server's own base URL (known only once it listens)."""

    async def handle(request: Request, writer: Any) -> None:
        body = json.dumps(make(base(request))).encode()
        await write(writer, status, body, [("Content-Type", "application/json"), *headers])

    return handle


def challenged(
    params: Callable[[str], str] = lambda b: f'resource_metadata="{b}/custom/prm.json", scope="files:read"',
) -> Handler:
    async def handle(request: Request, writer: Any) -> None:
        await write(writer, 401, b"", [("WWW-Authenticate", f"Bearer {params(base(request))}")])

    return handle


def authorization_server(b: str, **changes: Any) -> dict[str, Any]:
    return {
        "issuer": f"{b}/tenant",
        "authorization_endpoint": f"{b}/tenant/authorize",
        "token_endpoint": f"{b}/tenant/token",
        "registration_endpoint": f"{b}/tenant/register",
        "revocation_endpoint": f"{b}/tenant/revoke",
        "response_types_supported": ["code"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "authorization_response_iss_parameter_supported": True,
        "scopes_supported": ["files:read", "files:write", "openid"],
        **changes,
    }


def protected_resource(b: str, **changes: Any) -> dict[str, Any]:
    return {
        "resource": f"{b}/mcp",
        "authorization_servers": [f"{b}/tenant"],
        "scopes_supported": ["files:read", "files:write"],
        **changes,
    }


def healthy() -> dict[str, Handler]:
    return {
        "/mcp": challenged(),
        "/custom/prm.json": document(protected_resource),
        "/.well-known/oauth-authorization-server/tenant": document(authorization_server),
    }


@pytest.fixture
async def remote() -> AsyncIterator[DocumentServer]:
    server = DocumentServer(healthy())
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
def discoverer() -> Discoverer:
    return Discoverer(Network())


async def failure(discoverer: Discoverer, url: str, policy: NetworkPolicy = LOCAL) -> str:
    with pytest.raises(DiscoveryFailed) as caught:
        await discoverer.discover(url, policy)
    assert caught.value.field == "endpoint"
    return caught.value.message


# What discovery finds.


async def test_discovery_follows_the_challenge_to_both_documents(
    remote: DocumentServer, discoverer: Discoverer
) -> None:
    b = remote.url("")
    result = await discoverer.discover(f"{b}/mcp", LOCAL)

    assert result.requires_auth is True
    assert result.recommended_auth_mode is AuthMode.AUTHORIZATION_CODE
    assert result.resource_metadata_url == f"{b}/custom/prm.json"
    assert result.resource == f"{b}/mcp"
    assert result.authorization_servers == (f"{b}/tenant",)
    assert result.issuer == f"{b}/tenant"
    assert (result.auth_url, result.token_url, result.register_url, result.revocation_url) == (
        f"{b}/tenant/authorize",
        f"{b}/tenant/token",
        f"{b}/tenant/register",
        f"{b}/tenant/revoke",
    )
    assert result.scopes == ("files:read",)  # the challenge's scope comes before scopes_supported
    assert result.scopes_supported == ("files:read", "files:write")
    assert result.token_endpoint_auth_methods_supported == (
        "client_secret_basic",
        "client_secret_post",
        "none",
    )
    assert result.pkce_s256_supported is True
    assert result.client_id_metadata_document_supported is False
    assert result.iss_parameter_supported is True
    assert result.warnings == ()
    # The probe was an MCP initialize; the path-based and root metadata were not needed.
    probe = remote.requests[0]
    assert (probe.method, probe.path) == ("POST", "/mcp")
    assert json.loads(probe.body)["method"] == "initialize"
    assert remote.hits["/.well-known/oauth-protected-resource/mcp"] == 0


async def test_without_a_challenge_url_the_path_based_metadata_comes_before_the_root(
    remote: DocumentServer, discoverer: Discoverer
) -> None:
    remote.routes["/mcp"] = challenged(lambda b: "")
    remote.routes["/.well-known/oauth-protected-resource/mcp"] = document(protected_resource)
    remote.routes["/.well-known/oauth-protected-resource"] = document(
        lambda b: protected_resource(b, resource=f"{b}/")
    )

    result = await discoverer.discover(remote.url("/mcp"), LOCAL)

    assert result.resource_metadata_url == remote.url("/.well-known/oauth-protected-resource/mcp")
    assert result.scopes == ("files:read", "files:write")  # no scope in the challenge: scopes_supported
    assert remote.hits["/.well-known/oauth-protected-resource"] == 0


async def test_root_metadata_for_the_origin_covers_an_endpoint_below_it(
    remote: DocumentServer, discoverer: Discoverer
) -> None:
    remote.routes["/mcp"] = challenged(lambda b: "")
    remote.routes["/.well-known/oauth-protected-resource"] = document(
        lambda b: protected_resource(b, resource=b, scopes_supported=[])
    )

    result = await discoverer.discover(remote.url("/mcp"), LOCAL)

    assert result.resource == remote.url("")
    assert result.scopes == ()  # neither the challenge nor the metadata name scopes: none are asked for


async def test_openid_configuration_with_the_path_appended_is_the_last_place_tried(
    remote: DocumentServer, discoverer: Discoverer
) -> None:
    del remote.routes["/.well-known/oauth-authorization-server/tenant"]
    remote.routes["/tenant/.well-known/openid-configuration"] = document(authorization_server)

    result = await discoverer.discover(remote.url("/mcp"), LOCAL)

    assert result.token_url == remote.url("/tenant/token")
    assert remote.hits["/.well-known/oauth-authorization-server/tenant"] == 1
    assert remote.hits["/.well-known/openid-configuration/tenant"] == 1


async def test_a_server_that_answers_without_a_token_needs_no_authorization(
    remote: DocumentServer, discoverer: Discoverer
) -> None:
    initialized = {"jsonrpc": "2.0", "id": 0, "result": {"protocolVersion": "2025-11-25", "capabilities": {}}}
    remote.routes["/mcp"] = document(lambda b: initialized)

    result = await discoverer.discover(remote.url("/mcp"), LOCAL)

    assert (result.requires_auth, result.recommended_auth_mode) == (False, AuthMode.NONE)
    assert result.token_url == ""


async def test_without_protected_resource_metadata_the_origin_is_tried_as_its_own_authorization_server(
    remote: DocumentServer, discoverer: Discoverer
) -> None:
    remote.routes = {
        "/mcp": answer(401),
        "/.well-known/oauth-authorization-server": document(
            lambda b: authorization_server(b, issuer=b, client_id_metadata_document_supported=True)
        ),
    }

    result = await discoverer.discover(remote.url("/mcp"), LOCAL)

    assert result.issuer == remote.url("")
    assert result.resource == remote.url("/mcp")
    assert result.client_id_metadata_document_supported is True
    assert "publishes no protected resource metadata" in result.warnings[0]


async def test_a_provider_without_s256_or_registration_is_reported_with_warnings(
    remote: DocumentServer, discoverer: Discoverer
) -> None:
    remote.routes["/.well-known/oauth-authorization-server/tenant"] = document(
        lambda b: authorization_server(
            b,
            code_challenge_methods_supported=["plain"],
            registration_endpoint=None,
            grant_types_supported=["authorization_code", "client_credentials"],
        )
    )

    result = await discoverer.discover(remote.url("/mcp"), LOCAL)

    assert result.pkce_s256_supported is False
    assert result.recommended_auth_mode is AuthMode.CLIENT_CREDENTIALS
    assert result.warnings == (
        "The authorization server does not advertise PKCE S256 (code_challenge_methods_supported); "
        "Switchboard will not use its authorization code grant.",
        "The authorization server supports neither dynamic registration nor client ID metadata "
        "documents: enter a client ID (and secret) registered with it.",
    )


# Faults, each with its message.


async def test_missing_metadata_says_what_was_tried_and_what_to_enter(
    remote: DocumentServer, discoverer: Discoverer
) -> None:
    remote.routes = {"/mcp": answer(401)}
    b = remote.url("")

    message = await failure(discoverer, f"{b}/mcp")

    assert message == (
        "The server requires authorization, but Switchboard cannot find out how. It publishes no protected "
        "resource metadata, and its origin no authorization server metadata (tried "
        f"{b}/.well-known/oauth-authorization-server, {b}/.well-known/openid-configuration). "
        "Enter the authorization and token URLs yourself, or use a token."
    )


async def test_an_authorization_server_without_metadata_is_named(
    remote: DocumentServer, discoverer: Discoverer
) -> None:
    del remote.routes["/.well-known/oauth-authorization-server/tenant"]
    b = remote.url("")

    message = await failure(discoverer, f"{b}/mcp")

    assert f"Its authorization server {b}/tenant publishes no metadata (tried " in message
    assert f"{b}/tenant/.well-known/openid-configuration)" in message


async def test_metadata_for_another_resource_is_refused(
    remote: DocumentServer, discoverer: Discoverer
) -> None:
    remote.routes["/custom/prm.json"] = document(lambda b: protected_resource(b, resource=f"{b}/other"))
    b = remote.url("")

    message = await failure(discoverer, f"{b}/mcp")

    assert message == (
        f"The protected resource metadata at {b}/custom/prm.json is for '{b}/other', not for {b}/mcp; "
        "Switchboard will not send tokens for it. Check the server URL."
    )
    assert remote.hits["/.well-known/oauth-authorization-server/tenant"] == 0


@pytest.mark.parametrize(
    "resource",
    ["https://attacker.example/mcp", "{b}/mcp-other", "{b}/mcp/deeper", "{b}/mcp?tenant=2"],
)
async def test_a_resource_on_another_origin_or_path_is_refused(
    remote: DocumentServer, discoverer: Discoverer, resource: str
) -> None:
    remote.routes["/custom/prm.json"] = document(
        lambda b: protected_resource(b, resource=resource.format(b=b))
    )

    assert "Switchboard will not send tokens for it" in await failure(discoverer, remote.url("/mcp"))


async def test_authorization_server_metadata_naming_another_issuer_is_refused(
    remote: DocumentServer, discoverer: Discoverer
) -> None:
    remote.routes["/.well-known/oauth-authorization-server/tenant"] = document(
        lambda b: authorization_server(b, issuer="https://evil.example/tenant")
    )
    b = remote.url("")

    message = await failure(discoverer, f"{b}/mcp")

    assert message == (
        f"The authorization server metadata at {b}/.well-known/oauth-authorization-server/tenant names "
        f"the issuer 'https://evil.example/tenant', not '{b}/tenant'; Switchboard will not trust it "
        "(RFC 8414 §3.3)."
    )


@pytest.fixture
async def named_remote(tmp_path: Path) -> AsyncIterator[tuple[DocumentServer, Discoverer]]:
    """The remote server over https as mcp.example, a host the admin named (it resolves to loopback)."""
    server_context, client_context, _ = certificate("mcp.example", tmp_path)
    server = DocumentServer(healthy(), ssl_context=server_context)
    await server.start()
    network = Network(resolver=resolving({"mcp.example": ["127.0.0.1"]}), ssl_context=client_context)
    yield server, Discoverer(network)
    await server.stop()


NAMED = NetworkPolicy(allowed_hosts=frozenset({"mcp.example"}))


async def test_a_metadata_url_on_a_link_local_address_is_refused(
    named_remote: tuple[DocumentServer, Discoverer],
) -> None:
    remote, discoverer = named_remote
    remote.routes["/mcp"] = challenged(
        lambda b: 'resource_metadata="https://169.254.169.254/latest/meta-data", scope="x"'
    )

    message = await failure(discoverer, remote.url("/mcp", host="mcp.example", scheme="https"), NAMED)

    assert message == (
        "Could not fetch https://169.254.169.254/latest/meta-data: 169.254.169.254 is a link-local "
        "address, which is not allowed."
    )


async def test_a_metadata_redirect_to_a_private_address_is_refused(
    named_remote: tuple[DocumentServer, Discoverer],
) -> None:
    remote, discoverer = named_remote
    endpoint = remote.url("/mcp", host="mcp.example", scheme="https")
    remote.routes["/mcp"] = challenged(
        lambda b: f'resource_metadata="{endpoint.removesuffix("/mcp")}/custom/prm.json"'
    )
    remote.routes["/custom/prm.json"] = redirect("https://10.0.0.7/prm.json")

    message = await failure(discoverer, endpoint, NAMED)

    assert message == (
        f"Could not fetch {endpoint.removesuffix('/mcp')}/custom/prm.json: it redirects to "
        "https://10.0.0.7/prm.json, and 10.0.0.7 is a private address, which is not allowed."
    )


async def test_plain_http_is_refused_unless_private_addresses_are_allowed(
    remote: DocumentServer, discoverer: Discoverer
) -> None:
    message = await failure(
        discoverer, remote.url("/mcp"), NetworkPolicy(allowed_hosts=frozenset({"127.0.0.1"}))
    )

    assert message == f"Could not fetch {remote.url('/mcp')}: only https URLs are allowed."


async def test_the_endpoint_itself_on_loopback_is_refused_under_the_default_policy(
    discoverer: Discoverer,
) -> None:
    message = await failure(discoverer, "https://127.0.0.1:9/mcp", NetworkPolicy())

    assert (
        message
        == "Could not fetch https://127.0.0.1:9/mcp: 127.0.0.1 is a loopback address, which is not allowed."
    )


async def test_a_url_that_is_no_mcp_endpoint_says_so(remote: DocumentServer, discoverer: Discoverer) -> None:
    message = await failure(discoverer, remote.url("/not-here"))

    assert message == (
        f"{remote.url('/not-here')} answered an MCP initialize request with HTTP 404; "
        "check that this is the server's MCP endpoint URL."
    )


# Registration.


def registrar(profile: ClientProfile = PROFILE) -> Registrar:
    return Registrar(Network(), profile)


async def metadata(remote: DocumentServer, **changes: Any) -> AuthorizationServer:
    server = AuthorizationServer(**authorization_server(remote.url(""), **changes))
    return msgspec.convert(msgspec.to_builtins(server), AuthorizationServer)


def registrations(handle: Callable[[dict[str, Any]], tuple[int, dict[str, Any]]]) -> Handler:
    async def respond(request: Request, writer: Any) -> None:
        status, body = handle(json.loads(request.body))
        await write(writer, status, json.dumps(body).encode(), [("Content-Type", "application/json")])

    return respond


async def test_a_public_client_registers_dynamically_without_a_secret(remote: DocumentServer) -> None:
    remote.routes["/tenant/register"] = registrations(lambda body: (201, {"client_id": "pub-1", **body}))

    registration = await registrar().register(await metadata(remote), LOCAL, confidential=False)

    assert registration == Registration(
        issuer=remote.url("/tenant"), client_id="pub-1", auth_method="none", how="dynamic"
    )
    sent = json.loads(remote.requests[-1].body)
    assert sent["token_endpoint_auth_method"] == "none"
    assert sent["redirect_uris"] == [REDIRECT_URI]
    assert sent["grant_types"] == ["authorization_code", "refresh_token"]


async def test_a_client_id_metadata_document_is_used_when_the_server_accepts_them(
    remote: DocumentServer,
) -> None:
    profile = msgspec.structs.replace(
        PROFILE, metadata_document_url="https://switchboard.example/oauth/client"
    )
    server = await metadata(remote, client_id_metadata_document_supported=True)

    registration = await registrar(profile).register(server, LOCAL, confidential=False)

    assert (registration.client_id, registration.how) == (
        "https://switchboard.example/oauth/client",
        "metadata_document",
    )
    assert remote.hits["/tenant/register"] == 0


async def test_a_refused_method_falls_back_to_the_next_and_the_secret_is_kept(remote: DocumentServer) -> None:
    def handle(body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if body["token_endpoint_auth_method"] == "client_secret_basic":
            return 400, {"error": "invalid_client_metadata", "error_description": "basic is not allowed"}
        return 201, {
            "client_id": "conf-1",
            "client_secret": "s3cret",
            "token_endpoint_auth_method": "client_secret_post",
        }

    remote.routes["/tenant/register"] = registrations(handle)

    registration = await registrar().register(await metadata(remote), LOCAL, confidential=True)

    assert registration == Registration(
        issuer=remote.url("/tenant"),
        client_id="conf-1",
        client_secret="s3cret",
        auth_method="client_secret_post",
        how="dynamic",
    )
    tried = [json.loads(request.body)["token_endpoint_auth_method"] for request in remote.requests]
    assert tried == ["client_secret_basic", "client_secret_post"]


async def test_when_every_method_is_refused_the_error_lists_them_and_says_what_to_enter(
    remote: DocumentServer,
) -> None:
    remote.routes["/tenant/register"] = registrations(lambda body: (403, {"error": "access_denied"}))
    server = await metadata(remote, token_endpoint_auth_methods_supported=["client_secret_post", "none"])

    with pytest.raises(RegistrationFailed) as caught:
        await registrar().register(server, LOCAL, confidential=True)

    assert caught.value.message == (
        f"The authorization server {remote.url('/tenant')} refused dynamic registration "
        "(client_secret_post: access_denied; none: access_denied): enter a client ID and secret registered "
        f"with it, with the redirect URI {REDIRECT_URI}."
    )


async def test_without_a_registration_endpoint_the_error_says_what_to_enter(remote: DocumentServer) -> None:
    with pytest.raises(RegistrationFailed) as caught:
        await registrar().register(await metadata(remote, registration_endpoint=""), LOCAL, confidential=True)

    assert caught.value.message == (
        f"The authorization server {remote.url('/tenant')} has no registration endpoint: enter a client ID "
        f"and secret registered with it, with the redirect URI {REDIRECT_URI}."
    )
    assert caught.value.field == "client_id"


# The authorization request and its callback.


async def test_the_authorization_request_carries_pkce_s256_state_resource_and_scopes(
    remote: DocumentServer,
) -> None:
    server = await metadata(remote)
    registration = Registration(issuer=server.issuer, client_id="pub-1")

    url, pending = RemoteOAuth(Network()).start(
        server,
        registration,
        redirect_uri=REDIRECT_URI,
        resource=remote.url("/mcp"),
        scopes=("files:read", "files:write"),
    )

    query = {name: values[0] for name, values in parse_qs(urlsplit(url).query).items()}
    assert url.startswith(remote.url("/tenant/authorize?"))
    assert query["response_type"] == "code"
    assert query["client_id"] == "pub-1"
    assert query["code_challenge_method"] == "S256"
    assert len(query["code_challenge"]) == 43
    assert query["state"] == pending.state
    assert query["resource"] == remote.url("/mcp")
    assert query["scope"] == "files:read files:write"
    assert query["redirect_uri"] == REDIRECT_URI


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            {"code": "c", "state": "forged", "iss": "{issuer}"},
            "The answer does not belong to this authorization (state mismatch).",
        ),
        (
            {"code": "c", "state": "{state}", "iss": "https://evil.example"},
            "The answer came from 'https://evil.example', not from {issuer}; nothing was stored.",
        ),
        (
            {"code": "c", "state": "{state}"},
            "The answer does not name its issuer, though {issuer} says it always does (RFC 9207); "
            "nothing was stored.",
        ),
        (
            {"error": "access_denied", "state": "{state}", "iss": "{issuer}"},
            "{issuer} did not authorize Switchboard (access_denied).",
        ),
    ],
)
async def test_a_callback_that_cannot_be_trusted_is_refused_before_any_token_request(
    remote: DocumentServer, params: dict[str, str], message: str
) -> None:
    server = await metadata(remote)
    registration = Registration(issuer=server.issuer, client_id="pub-1")
    oauth = RemoteOAuth(Network())
    _, pending = oauth.start(
        server, registration, redirect_uri=REDIRECT_URI, resource=remote.url("/mcp"), scopes=()
    )
    filled = {name: value.format(state=pending.state, issuer=server.issuer) for name, value in params.items()}

    with pytest.raises(AuthorizationRefused) as caught:
        await oauth.finish(server, registration, pending, filled, LOCAL)

    assert caught.value.message == message.format(issuer=server.issuer)
    assert remote.hits["/tenant/token"] == 0
    await oauth.aclose()


async def test_a_provider_without_s256_is_refused(remote: DocumentServer) -> None:
    server = await metadata(remote, code_challenge_methods_supported=["plain"])

    with pytest.raises(AuthorizationRefused, match="does not advertise PKCE S256"):
        RemoteOAuth(Network()).start(
            server,
            Registration(issuer=server.issuer, client_id="c"),
            redirect_uri=REDIRECT_URI,
            resource="",
            scopes=(),
        )


async def test_a_registration_with_another_issuer_is_never_used(remote: DocumentServer) -> None:
    server = await metadata(remote)
    stale = Registration(issuer="https://old-issuer.example", client_id="old")

    with pytest.raises(AuthorizationRefused, match="it must register again"):
        RemoteOAuth(Network()).start(server, stale, redirect_uri=REDIRECT_URI, resource="", scopes=())


# The challenge header.


def test_the_bearer_challenge_is_read_among_others_with_quoted_values() -> None:
    header = (
        'Basic realm="x", Bearer error="insufficient_scope", scope="a b", '
        'resource_metadata="https://h.example/.well-known/oauth-protected-resource/mcp", '
        'error_description="needs \\"b\\""'
    )

    challenge = bearer_challenge(header)

    assert challenge is not None
    assert challenge.error == "insufficient_scope"
    assert challenge.scopes == ("a", "b")
    assert challenge.resource_metadata == "https://h.example/.well-known/oauth-protected-resource/mcp"
    assert challenge.params["error_description"] == 'needs "b"'
    assert bearer_challenge('Basic realm="x"') is None
    assert bearer_challenge("Bearer") == bearer_challenge("bearer ")
