"""A deactivated user's tokens stop working; once reactivated, new ones work again."""

from __future__ import annotations

from typing import Any

import pytest

from switchboard.identity.deps import IdentityServices
from switchboard.identity.oauth.server import AuthorizationServer
from switchboard.identity.schemas import UserUpdate
from tests.support.actors import SETUP
from tests.support.oauth import OAuthClient, error_of, verifies
from tests.support.web import Browserless

pytestmark = pytest.mark.both_engines


async def test_deactivation_revokes_access_and_refresh_and_reactivation_allows_new_tokens(
    oauth: OAuthClient,
    alice: Browserless,
    public_client: dict[str, Any],
    services: IdentityServices,
    oauth_server: AuthorizationServer,
) -> None:
    tokens = await oauth.tokens(alice, public_client["client_id"])
    assert await verifies(oauth_server, tokens["access_token"])
    user = await services.users.find_by_email("alice@example.com")
    assert user is not None

    await services.users.update(user.id, UserUpdate(is_active=False), actor=SETUP)
    # The process that deactivated reads the revocation at its next verification.
    assert not await verifies(oauth_server, tokens["access_token"])
    refused = await oauth.refresh(tokens["refresh_token"], public_client["client_id"])
    assert error_of(refused) == (400, "invalid_grant")
    assert "deactivated" in refused.json()["error_description"]

    await services.users.update(user.id, UserUpdate(is_active=True), actor=SETUP)
    # Tokens issued from now on are accepted at once (within the second of the revocation too).
    again = await oauth.tokens(await _signed_in_again(alice), public_client["client_id"])
    assert await verifies(oauth_server, again["access_token"])
    assert not await verifies(oauth_server, tokens["access_token"])


async def _signed_in_again(browser: Browserless) -> Browserless:
    from tests.identity.support import signed_in

    await signed_in(browser, "alice@example.com")
    return browser
