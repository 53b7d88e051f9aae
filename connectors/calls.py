"""Running a connector's action as a caller: the one way recipe steps and offered remote tools reach apps.

``ActionCalls.open`` takes the caller's credentials for a connection (an end user's connection gives the
caller's own); the ``Call`` it returns runs actions with them and handles the app's refusals in one place:

- 401 (RFC 6750 §3.1 ``invalid_token``): a remote MCP server's refusal is answered by refreshing the token
  once, across callers, and repeating the call (``CredentialService.after_refusal``). Refused for good,
  a person's grant is marked as needing reconnection and the call ends in ``ConnectionRequired`` with
  their new connect link; any other connection's call fails with the app's words.
- 403 ``insufficient_scope``: a remote MCP server's request for more scopes is a step-up (a client
  credentials token with the union of scopes, or a link asking the person to consent); an HTTP action's
  fails naming the scopes and who can add them.
"""

from __future__ import annotations

from uuid import UUID

from switchboard.connectors.action_answers import ActionFailed, ActionResult
from switchboard.connectors.action_requests import RequestAuth
from switchboard.connectors.actions import ActionRunner
from switchboard.connectors.connections.credentials import Caller, CredentialService
from switchboard.connectors.connections.errors import ConnectionRequired
from switchboard.connectors.connections.grants import GrantService
from switchboard.connectors.connections.models import Connection, Mode
from switchboard.connectors.connections.service import ConnectionService
from switchboard.connectors.definitions import ConnectorDefinition
from switchboard.platform.core.errors import DomainError


class ActionCalls:
    def __init__(
        self,
        *,
        connections: ConnectionService,
        credentials: CredentialService,
        grants: GrantService,
        runner: ActionRunner,
    ) -> None:
        self._connections = connections
        self._credentials = credentials
        self._grants = grants
        self._runner = runner

    async def open(self, definition: ConnectorDefinition, connection_id: UUID | None, caller: Caller) -> Call:
        """The caller's credentials for a connection (None: a connector that needs none), ready to run
        ``definition``'s actions. Raises ``ConnectionRequired`` when the caller must connect their account
        first, and the connection's own errors (``PermissionDenied`` for an end user's connection called
        without a user, ``SharedGrantMissing``, ``NotFound``)."""
        connection, auth = None, RequestAuth()
        if connection_id is not None:
            connection = await self._connections.get(connection_id)
            auth = await self._credentials.auth_for(connection, caller)
        return Call(
            definition,
            connection,
            caller,
            auth,
            runner=self._runner,
            credentials=self._credentials,
            grants=self._grants,
        )


class Call:
    """Actions of one connector run with one caller's credentials (see the module's docstring)."""

    def __init__(
        self,
        definition: ConnectorDefinition,
        connection: Connection | None,
        caller: Caller,
        auth: RequestAuth,
        *,
        runner: ActionRunner,
        credentials: CredentialService,
        grants: GrantService,
    ) -> None:
        self._runner = runner
        self._credentials = credentials
        self._grants = grants
        self.definition = definition
        self._connection = connection
        self._caller = caller
        self._auth = auth

    async def run(self, action: str, inputs: dict[str, object]) -> ActionResult:
        """Run ``action``; raises ``ActionFailed`` (with ``retryable`` saying whether repeating it may
        help), ``ConnectionRequired`` when the caller must (re)connect, or another ``DomainError``."""
        connection = self._connection
        try:
            return await self._runner.run(
                self.definition,
                action,
                dict(inputs),
                self._auth,
                self._reauthorize if connection is not None else None,
            )
        except ActionFailed as failure:
            if connection is None:
                raise
            if failure.auth_problem:
                raise await self._refused(connection, failure) from None
            if failure.required_scopes:
                raise _lacking_scopes(connection, failure) from None
            raise

    async def _reauthorize(self, scopes: tuple[str, ...]) -> RequestAuth | None:
        """New credentials after a remote MCP server refused the current ones (see the runner)."""
        assert self._connection is not None
        renewed = await self._credentials.after_refusal(self._connection.id, self._caller, self._auth, scopes)
        if renewed is not None:
            self._auth = renewed
        return renewed

    async def _refused(self, connection: Connection, failure: ActionFailed) -> DomainError:
        """The app refused the credentials for good: a person's grant needs reconnecting, and the call ends
        with their new connect link; another connection's call fails with the app's words."""
        user_id = self._caller.user_id
        if user_id is None or connection.mode is not Mode.END_USER:
            return failure
        await self._grants.mark_needs_reconnect(user_id, connection.id, failure.message, self._caller.account)
        try:
            await self._credentials.auth_for(connection, self._caller)
        except ConnectionRequired as required:
            return required
        except DomainError:
            pass
        return failure


def _lacking_scopes(connection: Connection, failure: ActionFailed) -> ActionFailed:
    """RFC 6750 §3.1 ``insufficient_scope``: which scopes are missing, and where to add them."""
    scopes = " ".join(failure.required_scopes)
    fix = (
        "reconnect with that scope" if connection.mode is Mode.END_USER else "give the connection that scope"
    )
    return ActionFailed(
        f"{failure.app} answered {failure.http_status}: the connected account lacks {scopes}; {fix}",
        app=failure.app,
        http_status=failure.http_status,
        required_scopes=failure.required_scopes,
    )
