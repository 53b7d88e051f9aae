"""Client authentication at the token, revocation and introspection endpoints (RFC 6749 §2.3).

A confidential client sends its secret by HTTP Basic (``client_secret_basic``, §2.3.1) or in the form
(``client_secret_post``); a public client sends its ``client_id`` alone (``none``). Each client must use
the kind of method it registered, one method per request, and be approved.
"""

from __future__ import annotations

import hmac

from switchboard.identity.oauth import spec
from switchboard.identity.oauth.client_store import ClientStore
from switchboard.identity.oauth.errors import invalid_client, invalid_request
from switchboard.identity.oauth.models import Client, ClientStatus
from switchboard.identity.oauth.parameters import RequestContext, single
from switchboard.platform.core.tokens import token_hash

# The token_endpoint_auth_method values (RFC 7591 §2) this server accepts.
AUTH_METHODS = ("client_secret_basic", "client_secret_post", "none")


class ClientAuthenticator:
    def __init__(self, store: ClientStore) -> None:
        self._store = store

    async def authenticate(self, context: RequestContext) -> Client:
        """The client that sent the request; ``invalid_client`` (401) when it cannot be authenticated."""
        basic_id, basic_secret = spec.basic_credentials(context.headers)
        form_id = single(context.form, "client_id")
        form_secret = single(context.form, "client_secret")
        if basic_id is not None:
            if form_secret is not None or (form_id is not None and form_id != basic_id):
                raise invalid_request("Use one client authentication method per request.")
            return await self._check(
                client_id=basic_id, client_secret=basic_secret, method="client_secret_basic"
            )
        if form_secret is not None:
            return await self._check(
                client_id=form_id, client_secret=form_secret, method="client_secret_post"
            )
        if form_id is None:
            raise invalid_client("Send client_id (and the client secret for a confidential client).")
        return await self._check(client_id=form_id, client_secret=None, method="none")

    async def _check(self, *, client_id: str | None, client_secret: str | None, method: str) -> Client:
        """The client, when it exists, used the kind of method it registered, and is approved."""
        basic = method == "client_secret_basic"
        found = await self._store.find_with_secret_hash(client_id)
        if found is None:
            raise invalid_client("Unknown client.", basic=basic)
        client, stored = found
        if client.token_endpoint_auth_method == "none":
            if client_secret or method != "none":
                raise invalid_client("This public client has no secret; send only client_id.", basic=basic)
        else:
            if method == "none" or not client_secret:
                raise invalid_client("This client must authenticate with its client secret.", basic=basic)
            if not stored or not hmac.compare_digest(stored, token_hash(client_secret)):
                raise invalid_client("The client secret is wrong.", basic=basic)
        if client.status is not ClientStatus.APPROVED:
            raise invalid_client(
                "This client is awaiting approval by an administrator."
                if client.status is ClientStatus.PENDING
                else "This client was refused by an administrator.",
                basic=basic,
            )
        return client
