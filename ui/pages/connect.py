"""Connecting a person's own account in a third-party app, and "My connections".

A connect link (``/connect/<token>``) belongs to one Switchboard user: it first shows what will be
connected, and only its "Continue" button spends the link and sends the person to the app. The app sends
them back to ``/connections/callback``, where the grant is finished and stored. For a connection whose
people enter their own API key or login, the link's page is a form that stores it instead. Both pages need the
person signed in as the link's user; a signed-out person signs in first and comes back to the same
address.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template

from switchboard.connectors.connections.errors import LinkRefused, ProviderError
from switchboard.connectors.connections.models import PERSONAL_AUTH_TYPES, Connection, GrantStatus
from switchboard.connectors.definitions import ConnectorDefinition
from switchboard.connectors.deps import ConnectorServices
from switchboard.identity.auth.guards import current_principal, requires_sign_in
from switchboard.identity.principal import Principal
from switchboard.platform.core.errors import DomainError, InvalidInput
from switchboard.ui.forms import safe_next
from switchboard.ui.rendering import page, redirect

MY_CONNECTIONS = "/me/connections"


def link_token(link: str) -> str:
    """The token at the end of an absolute connect link (``…/connect/<token>``)."""
    return link.rsplit("/", 1)[-1]


def to_app(authorize_url: str) -> Response[Any]:
    """Send the browser to the app's authorization page (a GET after the form's POST)."""
    return Redirect(path=authorize_url, status_code=303)


def scope_descriptions(definition: ConnectorDefinition, scopes: tuple[str, ...]) -> list[tuple[str, str]]:
    """Each scope with what the connector says it allows ('' when the connector does not know it)."""
    known = {scope.name: scope.description for scope in definition.known_scopes}
    return [(scope, known.get(scope, "")) for scope in scopes]


def _problem(request: Request[Any, Any, Any], title: str, exc: DomainError) -> Template:
    return page(request, "connect/problem.html", status_code=exc.status, title=title, message=exc.message)


async def start_connecting(
    connectors: ConnectorServices,
    principal: Principal,
    connection_id: UUID,
    *,
    return_to: str,
    shared: bool = False,
    label: str = "",
) -> Response[Any]:
    """A link for oneself, spent at once: the console's and My connections' Connect buttons (``shared``:
    a builder connects a shared connection for everyone; ``label``: the person's account of that name,
    connected again or as another account)."""
    if shared:
        link = await connectors.grants.shared_connect_link(connection_id, principal, return_to=return_to)
    else:
        link = await connectors.grants.connect_link(
            principal.user_id, connection_id, return_to=return_to, label=label
        )
    return to_app(await connectors.connect.open_link(link_token(link), principal.user_id))


def _kind(auth_type: str) -> str:
    return "user name and password" if auth_type == "basic" else "API key"


def _uuid(value: str) -> UUID | None:
    """The UUID a form sent; one that is not a UUID finds nothing (never the default account)."""
    try:
        return UUID(value) if value else None
    except ValueError:
        return UUID(int=0)


def _secret(form: Any) -> str:
    """The key or password a form sent (its field is named after what it is)."""
    return str(form.get("api_key") or form.get("password") or "")


class ConnectPages(Controller):
    include_in_schema = False

    @get("/connect/{token:str}")
    async def describe_link(
        self,
        request: Request[Any, Any, Any],
        token: FromPath[str],
        connectors: NamedDependency[ConnectorServices],
    ) -> Template:
        principal = current_principal(request)
        try:
            connection = await connectors.connect.describe_link(token, principal.user_id)
        except LinkRefused as exc:
            return _problem(request, "This connect link cannot be used", exc)
        return await self._start_page(request, connectors, connection, principal)

    @post("/connect/{token:str}")
    async def open_link(
        self,
        request: Request[Any, Any, Any],
        token: FromPath[str],
        connectors: NamedDependency[ConnectorServices],
    ) -> Response[Any]:
        principal = current_principal(request)
        try:
            connection = await connectors.connect.describe_link(token, principal.user_id)
            if connection.auth_type in PERSONAL_AUTH_TYPES:
                return await self._enter(request, connectors, token, connection, principal)
            authorize_url = await connectors.connect.open_link(token, principal.user_id)
        except LinkRefused as exc:
            return _problem(request, "This connect link cannot be used", exc)
        return to_app(authorize_url)

    async def _enter(
        self,
        request: Request[Any, Any, Any],
        connectors: ConnectorServices,
        token: str,
        connection: Connection,
        principal: Principal,
    ) -> Template:
        """The person's key or login from the link's form: stored, or the form again with what is wrong."""
        form = await request.form()
        try:
            connected = await connectors.connect.enter_with_link(
                token, principal.user_id, secret=_secret(form), username=str(form.get("username", ""))
            )
        except InvalidInput as exc:
            return await self._start_page(request, connectors, connection, principal, error=exc.message)
        return page(
            request,
            "connect/done.html",
            title=f"{connected.app_name} connected",
            connected=connected,
            back=safe_next(connected.return_to, MY_CONNECTIONS),
        )

    @get("/connections/callback")
    async def callback(
        self, request: Request[Any, Any, Any], connectors: NamedDependency[ConnectorServices]
    ) -> Template:
        principal = current_principal(request)
        # Repeated parameters are suspicious in an authorization response; the first one is checked.
        params = {key: request.query_params.getall(key)[0] for key in request.query_params}
        try:
            connected = await connectors.connect.finish(params, principal.user_id)
        except LinkRefused as exc:
            return _problem(request, "Your account was not connected", exc)
        except ProviderError as exc:
            return _problem(request, "The app did not answer as expected", exc)
        return page(
            request,
            "connect/done.html",
            title=f"{connected.app_name} connected",
            connected=connected,
            back=safe_next(connected.return_to, MY_CONNECTIONS),
        )

    async def _start_page(
        self,
        request: Request[Any, Any, Any],
        connectors: ConnectorServices,
        connection: Connection,
        principal: Principal,
        *,
        error: str | None = None,
    ) -> Template:
        definition = await connectors.connections.definition_of(connection)
        if connection.auth_type in PERSONAL_AUTH_TYPES:
            return page(
                request,
                "connect/enter_key.html",
                status_code=400 if error else 200,
                title=f"Enter your {definition.name} {_kind(connection.auth_type)}",
                connection=connection,
                definition=definition,
                account=principal.email,
                error=error,
            )
        return page(
            request,
            "connect/start.html",
            title=f"Connect your {definition.name} account",
            connection=connection,
            definition=definition,
            scopes=scope_descriptions(definition, connection.scopes),
            account=principal.email,
        )


class MyConnectionsPages(Controller):
    path = MY_CONNECTIONS
    include_in_schema = False
    guards = [requires_sign_in]

    @get()
    async def my_connections(
        self,
        request: Request[Any, Any, Any],
        connectors: NamedDependency[ConnectorServices],
        principal: NamedDependency[Principal],
    ) -> Template:
        return await self._list(request, connectors, principal)

    @post("/{connection_id:uuid}/connect")
    async def connect(
        self,
        request: Request[Any, Any, Any],
        connection_id: FromPath[UUID],
        connectors: NamedDependency[ConnectorServices],
        principal: NamedDependency[Principal],
    ) -> Response[Any]:
        """Connect (again) the person's account named by the form's ``label``, or another account under a
        new name; no name: their default account (their first, when they have none)."""
        form = await request.form()
        label = str(form.get("label", "")).strip()
        try:
            if form.get("new"):
                await connectors.grants.accounts.check_new(principal.user_id, connection_id, label)
            return await start_connecting(
                connectors, principal, connection_id, return_to=MY_CONNECTIONS, label=label
            )
        except DomainError as exc:
            return await self._list(request, connectors, principal, error=exc.message, status_code=exc.status)

    @post("/{connection_id:uuid}/accounts/{grant_id:uuid}/rename")
    async def rename_account(
        self,
        request: Request[Any, Any, Any],
        connection_id: FromPath[UUID],
        grant_id: FromPath[UUID],
        connectors: NamedDependency[ConnectorServices],
        principal: NamedDependency[Principal],
    ) -> Response[Any]:
        """Rename one of the person's own accounts (anyone else's is not found)."""
        label = str((await request.form()).get("label", ""))
        try:
            label = await connectors.grants.accounts.rename(principal.user_id, connection_id, grant_id, label)
        except DomainError as exc:
            return await self._list(request, connectors, principal, error=exc.message, status_code=exc.status)
        return redirect(request, MY_CONNECTIONS, f"Renamed the account to {label}.")

    @post("/{connection_id:uuid}/accounts/{grant_id:uuid}/default")
    async def make_default(
        self,
        request: Request[Any, Any, Any],
        connection_id: FromPath[UUID],
        grant_id: FromPath[UUID],
        connectors: NamedDependency[ConnectorServices],
        principal: NamedDependency[Principal],
    ) -> Response[Any]:
        """Tools that name no account use this one of the person's accounts from now on."""
        try:
            label = await connectors.grants.accounts.make_default(principal.user_id, connection_id, grant_id)
        except DomainError as exc:
            return await self._list(request, connectors, principal, error=exc.message, status_code=exc.status)
        return redirect(request, MY_CONNECTIONS, f"{label} is now your default account there.")

    @post("/{connection_id:uuid}/disconnect")
    async def disconnect(
        self,
        request: Request[Any, Any, Any],
        connection_id: FromPath[UUID],
        connectors: NamedDependency[ConnectorServices],
        principal: NamedDependency[Principal],
    ) -> Response[Any]:
        """Disconnect one of the person's accounts (the form's ``grant_id``; none: their default one); their
        other accounts stay."""
        grant_id = _uuid(str((await request.form()).get("grant_id", "")))
        rows = await connectors.accounts.for_user(principal.user_id)
        row = next((row for row in rows if row.connection_id == connection_id), None)
        app_name = row.app_name if row else "the app"
        accounts = row.accounts if row else ()
        gone = next((a for a in accounts if a.grant_id == grant_id), None) if grant_id else None
        # With several accounts, the notice names the one that went.
        which = f" ({gone.label})" if gone is not None and len(accounts) > 1 else ""
        try:
            if row is not None and row.auth_type in PERSONAL_AUTH_TYPES:
                await connectors.connect.personal.remove(principal.user_id, connection_id, grant_id)
                notice = f"Removed your {app_name} {_kind(row.auth_type)}{which}."
                return redirect(request, MY_CONNECTIONS, notice)
            warning = await connectors.grants.disconnect(principal.user_id, connection_id, grant_id)
        except DomainError as exc:
            return await self._list(request, connectors, principal, error=exc.message, status_code=exc.status)
        return redirect(request, MY_CONNECTIONS, f"Disconnected {app_name}{which}. {warning}".strip())

    @post("/{connection_id:uuid}/credential")
    async def enter_credential(
        self,
        request: Request[Any, Any, Any],
        connection_id: FromPath[UUID],
        connectors: NamedDependency[ConnectorServices],
        principal: NamedDependency[Principal],
    ) -> Response[Any]:
        """Set or replace the person's own API key or login (always their own: the row is theirs)."""
        form = await request.form()
        try:
            if form.get("new"):
                await connectors.grants.accounts.check_new(
                    principal.user_id, connection_id, str(form.get("label", ""))
                )
            await connectors.connect.personal.save(
                principal.user_id,
                connection_id,
                secret=_secret(form),
                username=str(form.get("username", "")),
                label=str(form.get("label", "")),
            )
        except DomainError as exc:
            return await self._list(request, connectors, principal, error=exc.message, status_code=exc.status)
        return redirect(request, MY_CONNECTIONS, "Saved. Tools now use it when you call them.")

    async def _list(
        self,
        request: Request[Any, Any, Any],
        connectors: ConnectorServices,
        principal: Principal,
        *,
        error: str | None = None,
        status_code: int = 200,
    ) -> Template:
        return page(
            request,
            "me/connections.html",
            status_code=status_code,
            title="My connections",
            rows=await connectors.accounts.for_user(principal.user_id),
            statuses=GrantStatus,
            error=error,
        )
