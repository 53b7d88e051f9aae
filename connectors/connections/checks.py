""" "Test connection": does the connection work, as the builder would use it?"""

from __future__ import annotations

from uuid import UUID

from switchboard.connectors.action_answers import ActionFailed
from switchboard.connectors.actions import ActionRunner
from switchboard.connectors.connections.credentials import Caller, CredentialService
from switchboard.connectors.connections.endpoints import endpoints_for
from switchboard.connectors.connections.errors import ConnectionRequired, ProviderError
from switchboard.connectors.connections.models import Mode, TestOutcome
from switchboard.connectors.connections.provider import ProviderClient
from switchboard.connectors.connections.service import ConnectionService
from switchboard.connectors.definitions import ConnectorDefinition
from switchboard.identity.principal import Principal
from switchboard.platform.core.errors import DomainError


class ConnectionCheck:
    def __init__(
        self,
        *,
        connections: ConnectionService,
        credentials: CredentialService,
        provider: ProviderClient,
        runner: ActionRunner,
    ) -> None:
        self._connections = connections
        self._credentials = credentials
        self._provider = provider
        self._runner = runner

    async def run(self, connection_id: UUID, principal: Principal) -> TestOutcome:
        """As the builder ``principal``: get credentials (an end user's connection: the builder's own
        grant), then read the connected account, or call the first action that needs no input."""
        principal.require_builder()
        caller = Caller(principal.user_id, principal.email)
        connection = await self._connections.get(connection_id)
        definition = await self._connections.definition_of(connection)
        try:
            auth = await self._credentials.request_auth(connection_id, caller)
        except ConnectionRequired:
            return TestOutcome(
                ok=False,
                message=f"You have not connected your own {definition.name} account yet: "
                "use Connect, then test.",
            )
        except (ProviderError, DomainError) as exc:
            return TestOutcome(ok=False, message=exc.message)
        own_account = connection.mode is Mode.END_USER or connection.auth_type == "oauth2_authorization_code"
        if own_account and definition.provider and definition.provider.userinfo_url:
            token = auth.headers.get("Authorization", "").partition(" ")[2]
            account = await self._provider.account_label(
                endpoints_for(connection, definition), token, definition.provider.account_label
            )
            if account:
                return TestOutcome(
                    ok=True, kind="account", message=f"{definition.name} answers: connected as {account}."
                )
        action = _probe(definition)
        if action is None:
            return TestOutcome(ok=True, message=f"Credentials for {definition.name} are in place.")
        try:
            result = await self._runner.run(definition, action, {}, auth)
        except ActionFailed as exc:
            return TestOutcome(ok=False, kind="action", message=exc.message)
        return TestOutcome(
            ok=True, kind="action", message=f"{definition.name} answered {result.status} to “{action}”."
        )


def _probe(definition: ConnectorDefinition) -> str | None:
    """The first GET action without required inputs: safe to call just to see the credentials work."""
    for action in definition.actions:
        if action.method == "GET" and not action.raw_http and not action.input_schema.get("required"):
            return action.name
    return None
