"""The client credentials grant: static confidential clients acting as their service account."""

from __future__ import annotations

from typing import Any

from switchboard.identity.deps import IdentityServices
from switchboard.identity.oauth.models import ClientWithSecret, StaticClientCreate
from switchboard.identity.oauth.server import AuthorizationServer
from switchboard.identity.schemas import GroupCreate, UserUpdate
from tests.support.actors import SETUP
from tests.support.oauth import RESOURCE, OAuthClient, decode_jwt, error_of, verifies

ISSUER = "http://testserver.local"


def _credentials(service_client: ClientWithSecret) -> tuple[str, str]:
    assert service_client.client_secret is not None
    return service_client.client.client_id, service_client.client_secret


async def test_a_service_client_gets_a_token_for_its_service_account(
    oauth: OAuthClient, service_client: ClientWithSecret, oauth_server: AuthorizationServer
) -> None:
    account_id = service_client.client.service_account_id
    assert account_id is not None
    answer = await oauth.client_credentials(*_credentials(service_client), resource=RESOURCE)
    assert answer.status_code == 200, answer.text
    assert answer.headers["cache-control"] == "no-store"
    tokens = answer.json()
    assert "refresh_token" not in tokens
    assert tokens["scope"] == "mcp:tools:*"
    header, claims = decode_jwt(tokens["access_token"])
    assert header["typ"] == "at+jwt"
    assert claims["sub"] == str(account_id)
    assert claims["aud"] == RESOURCE
    assert claims["client_id"] == service_client.client.client_id
    access = await oauth_server.verifier.verify(tokens["access_token"], audience=RESOURCE)
    assert access.subject == str(account_id)


async def test_scope_and_resource_are_checked_as_for_people(
    oauth: OAuthClient, service_client: ClientWithSecret, oauth_server: AuthorizationServer
) -> None:
    credentials = _credentials(service_client)
    narrow = await oauth.client_credentials(
        *credentials, resource=RESOURCE, scope="mcp:tools:echo offline_access"
    )
    assert narrow.json()["scope"] == "mcp:tools:echo"  # never a refresh token, so never offline_access
    assert "refresh_token" not in narrow.json()
    no_resource = await oauth.client_credentials(*credentials)
    assert decode_jwt(no_resource.json()["access_token"])[1]["aud"] == ISSUER
    assert not await verifies(oauth_server, no_resource.json()["access_token"], RESOURCE)
    unknown = await oauth.client_credentials(*credentials, resource="http://testserver.local/mcp/unknown")
    assert error_of(unknown) == (400, "invalid_target")
    bad_scope = await oauth.client_credentials(*credentials, resource=RESOURCE, scope="admin")
    assert error_of(bad_scope) == (400, "invalid_scope")


async def test_the_service_account_belongs_to_groups_like_a_user(
    services: IdentityServices, service_client: ClientWithSecret
) -> None:
    email = service_client.client.service_account_email
    account_id = service_client.client.service_account_id
    assert email is not None
    assert account_id is not None
    group = await services.groups.create(GroupCreate(name="Reporting"), actor=SETUP)
    await services.groups.add_member(group.id, email, actor=SETUP)
    account = await services.users.get(account_id)
    assert [ref.name for ref in account.groups] == ["Reporting"]
    assert [member.email for member in (await services.groups.get(group.id)).members] == [email]


async def test_only_a_confidential_client_with_the_grant_may_use_it(
    oauth: OAuthClient, oauth_server: AuthorizationServer, public_client: dict[str, Any], open_policy: None
) -> None:
    web_app = await oauth_server.clients.create_static(
        StaticClientCreate(name="Web app", redirect_uris=["https://app.example.com/cb"]), actor=SETUP
    )
    assert web_app.client_secret is not None
    refused = await oauth.client_credentials(web_app.client.client_id, web_app.client_secret)
    assert error_of(refused) == (400, "unauthorized_client")
    dynamic = await oauth.registered(client_name="Dynamic confidential")
    refused = await oauth.client_credentials(dynamic["client_id"], dynamic["client_secret"])
    assert error_of(refused) == (400, "unauthorized_client")
    public = await oauth.token({"grant_type": "client_credentials", "client_id": public_client["client_id"]})
    assert error_of(public) == (400, "unauthorized_client")


async def test_a_wrong_secret_or_a_deactivated_service_account_gets_no_token(
    oauth: OAuthClient, services: IdentityServices, service_client: ClientWithSecret
) -> None:
    client_id, secret = _credentials(service_client)
    for wrong in (secret + "x", secret[:-1], ""):
        answer = await oauth.client_credentials(client_id, wrong)
        assert error_of(answer) == (401, "invalid_client"), wrong
        assert answer.headers["www-authenticate"] == 'Basic realm="switchboard"'

    account_id = service_client.client.service_account_id
    assert account_id is not None
    await services.users.update(account_id, UserUpdate(is_active=False), actor=SETUP)
    answer = await oauth.client_credentials(client_id, secret, resource=RESOURCE)
    assert error_of(answer) == (400, "invalid_grant")
    assert "deactivated" in answer.json()["error_description"]
