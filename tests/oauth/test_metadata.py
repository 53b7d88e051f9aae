"""Discovery: the authorization server metadata (RFC 8414) and the published signing keys."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from joserfc import jwt
from joserfc.errors import BadSignatureError
from joserfc.jwk import KeySet

from switchboard.identity.oauth import spec
from switchboard.platform.app import create_app
from switchboard.platform.core.database import Database
from switchboard.platform.core.settings import Settings
from switchboard.platform.services import Services
from tests.conftest import TEST_SECRET
from tests.support.oauth import RESOURCE, OAuthClient, decode_jwt
from tests.support.web import Browserless

BASE = "http://testserver.local"


async def _metadata(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/.well-known/oauth-authorization-server")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    result: dict[str, Any] = response.json()
    return result


async def _metadata_for(base_url: str, tmp_path: Path) -> dict[str, Any]:
    """The metadata an app serving at ``base_url`` publishes (it reads nothing from the database)."""
    url = f"sqlite:///{tmp_path}/unused.db"
    settings = Settings(secret_key=TEST_SECRET, database_url=url, data_dir=str(tmp_path), base_url=base_url)
    app = create_app(settings, services=Services.build(settings, database=Database(url)))
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 51000))
    async with httpx.AsyncClient(transport=transport, base_url=base_url) as client:
        return await _metadata(client)


@pytest.mark.parametrize("base_url", [BASE, "https://switchboard.example.com:8443"])
async def test_issuer_is_exactly_the_base_url_and_every_endpoint_is_advertised(
    base_url: str, tmp_path: Path
) -> None:
    metadata = await _metadata_for(base_url, tmp_path)
    assert metadata["issuer"] == base_url
    assert not metadata["issuer"].endswith("/")
    assert {key: value for key, value in metadata.items() if key.endswith(("_endpoint", "_uri"))} == {
        "authorization_endpoint": f"{base_url}/oauth/authorize",
        "token_endpoint": f"{base_url}/oauth/token",
        "registration_endpoint": f"{base_url}/oauth/register",
        "revocation_endpoint": f"{base_url}/oauth/revoke",
        "introspection_endpoint": f"{base_url}/oauth/introspect",
        "jwks_uri": f"{base_url}/oauth/jwks",
    }


async def test_advertised_capabilities(tmp_path: Path) -> None:
    metadata = await _metadata_for(BASE, tmp_path)
    assert metadata["response_types_supported"] == ["code"]
    assert sorted(metadata["grant_types_supported"]) == [
        "authorization_code",
        "client_credentials",
        "refresh_token",
    ]
    assert metadata["code_challenge_methods_supported"] == ["S256"]
    assert sorted(metadata["token_endpoint_auth_methods_supported"]) == [
        "client_secret_basic",
        "client_secret_post",
        "none",
    ]
    assert {"mcp:tools:*", "offline_access"} <= set(metadata["scopes_supported"])
    assert metadata["client_id_metadata_document_supported"] is True
    assert metadata["authorization_response_iss_parameter_supported"] is True


async def test_metadata_passes_authlibs_rfc_8414_validation(tmp_path: Path) -> None:
    # RFC 8414 requires an https issuer, as in production.
    metadata = await _metadata_for("https://switchboard.example.com", tmp_path)
    spec.validate_server_metadata(metadata)
    with pytest.raises(ValueError, match="issuer"):
        spec.validate_server_metadata({**metadata, "issuer": "https://switchboard.example.com/?tenant=1"})
    without_response_types = {
        key: value for key, value in metadata.items() if key != "response_types_supported"
    }
    with pytest.raises(ValueError, match="response_types_supported"):
        spec.validate_server_metadata(without_response_types)


async def test_every_advertised_endpoint_answers(client: httpx.AsyncClient) -> None:
    metadata = await _metadata(client)
    for key in ("token_endpoint", "registration_endpoint", "revocation_endpoint", "introspection_endpoint"):
        answer = await client.post(metadata[key].removeprefix(BASE), data={})
        assert answer.status_code in (400, 401), f"{key}: {answer.status_code}"
        assert "error" in answer.json(), key
    assert (await client.get(metadata["jwks_uri"].removeprefix(BASE))).status_code == 200
    authorize = await client.get(metadata["authorization_endpoint"].removeprefix(BASE))
    assert authorize.status_code == 400  # no client_id: an error page, not a 404


async def test_jwks_publishes_the_signing_key_without_its_private_part(
    oauth: OAuthClient, alice: Browserless, public_client: dict[str, Any], client: httpx.AsyncClient
) -> None:
    tokens = await oauth.tokens(alice, public_client["client_id"])
    header, _ = decode_jwt(tokens["access_token"])
    response = await client.get("/oauth/jwks")
    assert response.status_code == 200
    keys = response.json()["keys"]
    assert [key["kid"] for key in keys] == [header["kid"]]
    (key,) = keys
    assert (key["kty"], key["crv"], key["alg"]) == ("EC", "P-256", "ES256")
    assert {"x", "y"} <= set(key)
    assert "d" not in key
    # A resource server verifies the tokens with the published keys alone.
    published = KeySet.import_key_set(response.json())
    assert jwt.decode(tokens["access_token"], published, algorithms=["ES256"]).claims["aud"] == RESOURCE
    token = tokens["access_token"]
    tampered = token[:-20] + ("A" if token[-20] != "A" else "B") + token[-19:]  # inside the signature
    with pytest.raises(BadSignatureError):
        jwt.decode(tampered, published, algorithms=["ES256"])


async def test_browser_based_clients_may_call_the_client_endpoints_from_another_origin(
    client: httpx.AsyncClient,
) -> None:
    """The MCP Inspector runs in a browser: discovery, registration and tokens need CORS (no cookies)."""
    origin = {"Origin": "http://localhost:6274"}
    for path in (
        "/.well-known/oauth-authorization-server",
        "/oauth/token",
        "/oauth/register",
        "/oauth/revoke",
    ):
        preflight = await client.options(
            path,
            headers={
                **origin,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "content-type",
            },
        )
        assert preflight.status_code == 204, path
        assert preflight.headers["access-control-allow-origin"] == "*", path
        assert "POST" in preflight.headers["access-control-allow-methods"], path
        assert "access-control-allow-credentials" not in preflight.headers, path
    metadata = await client.get("/.well-known/oauth-authorization-server", headers=origin)
    assert metadata.headers["access-control-allow-origin"] == "*"
    refused = await client.post("/oauth/token", data={"grant_type": "refresh_token"}, headers=origin)
    assert refused.headers["access-control-allow-origin"] == "*"
    # Pages are not opened to other origins.
    login = await client.get("/login", headers=origin)
    assert "access-control-allow-origin" not in login.headers
