"""Console → Connections: the list of connections and projects, and each connection's page.

"Connect" on the connection form (``connection_forms``) saves, then runs the builder's own authorization
code grant so that they can test the connection as an end user would.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from switchboard.connectors.connections.models import (
    SHARED_AUTH_TYPES,
    Connection,
    GrantStatus,
    Mode,
    ProjectCreate,
    TestOutcome,
)
from switchboard.connectors.definitions import AUTH_TYPES, ConnectorDefinition
from switchboard.connectors.deps import ConnectorServices
from switchboard.identity.auth.guards import requires_builder
from switchboard.identity.principal import Principal
from switchboard.platform.core.errors import DomainError, InvalidInput
from switchboard.platform.core.settings import Settings
from switchboard.ui.forms import form_fields, safe_next
from switchboard.ui.pages.connect import start_connecting
from switchboard.ui.pages.connection_forms import (
    FIELD_LABELS,
    OAUTH_AUTH_TYPES,
    ConnectionForm,
    allowed_modes,
    auth_choices,
    submitted_secrets,
)
from switchboard.ui.rendering import page, redirect

LIST_PATH = "/console/connections"


class ConnectionPages(Controller):
    path = LIST_PATH
    include_in_schema = False
    guards = [requires_builder]

    @get()
    async def list_connections(
        self, request: Request[Any, Any, Any], connectors: NamedDependency[ConnectorServices]
    ) -> Template:
        return await self._list(request, connectors)

    @post("/projects")
    async def create_project(
        self,
        request: Request[Any, Any, Any],
        connectors: NamedDependency[ConnectorServices],
        principal: NamedDependency[Principal],
    ) -> Response[Any]:
        values = await form_fields(request, "project_name", "project_description")
        typed = ProjectCreate(name=values["project_name"], description=values["project_description"])
        try:
            if len(typed.description) > 500:
                raise InvalidInput("A description can have at most 500 characters.", field="description")
            project = await connectors.projects.create(typed, actor=principal)
        except DomainError as exc:
            errors = {f"project_{exc.field or 'name'}": exc.message}
            return await self._list(
                request, connectors, project=values, errors=errors, status_code=exc.status
            )
        return redirect(request, LIST_PATH, f"Project {project.name} created.")

    @post("/projects/{project_id:uuid}/delete")
    async def delete_project(
        self,
        request: Request[Any, Any, Any],
        project_id: FromPath[UUID],
        connectors: NamedDependency[ConnectorServices],
        principal: NamedDependency[Principal],
    ) -> Response[Any]:
        project = await connectors.projects.get(project_id)
        try:
            await connectors.projects.delete(project_id, actor=principal)
        except DomainError as exc:
            errors = {"projects": f"{project.name}: {exc.message}"}
            return await self._list(request, connectors, errors=errors, status_code=exc.status)
        return redirect(request, LIST_PATH, f"Project {project.name} deleted.")

    @get("/new")
    async def new_connection(
        self,
        request: Request[Any, Any, Any],
        connectors: NamedDependency[ConnectorServices],
        settings: NamedDependency[Settings],
        connector: FromQuery[str | None] = None,
        project_id: FromQuery[str | None] = None,
        mode: FromQuery[str | None] = None,
        return_to: FromQuery[str | None] = None,
    ) -> Response[Any]:
        """``project_id``, ``mode`` and ``return_to`` preset the form when another page (the recipe editor)
        opens it, and lead back there after saving."""
        if not connector:
            return Redirect(path=f"{LIST_PATH}#new-connection-heading", status_code=303)
        definition = await connectors.registry.get(connector)
        projects = await connectors.projects.list_all()
        form = ConnectionForm.new(definition, str(projects[0].id) if projects else "", settings)
        if project_id and any(str(project.id) == project_id for project in projects):
            form.project_id = project_id
        if mode and allowed_modes(auth_choices(definition)).get(mode):
            form.mode = mode
        return await self._form(request, connectors, definition, form, return_to=safe_next(return_to, ""))

    @post("/new")
    async def create_connection(
        self,
        request: Request[Any, Any, Any],
        connectors: NamedDependency[ConnectorServices],
        principal: NamedDependency[Principal],
    ) -> Response[Any]:
        values = await form_fields(request, "connector", "action", "return_to")
        definition = await connectors.registry.get(values["connector"])
        form = ConnectionForm.parse(await request.form(), definition)
        return_to = safe_next(values["return_to"], "")
        try:
            data = form.to_input(definition.key, await submitted_secrets(request), admin=principal.is_admin)
            connection = await connectors.connections.create(data, actor=principal)
        except DomainError as exc:
            return await self._refused(request, connectors, definition, form, exc, return_to=return_to)
        return await self._after_save(
            connectors, principal, connection, values["action"], request, "created", return_to=return_to
        )

    @get("/{connection_id:uuid}")
    async def connection_detail(
        self,
        request: Request[Any, Any, Any],
        connection_id: FromPath[UUID],
        connectors: NamedDependency[ConnectorServices],
    ) -> Template:
        connection = await connectors.connections.get(connection_id)
        definition = await connectors.connections.definition_of(connection)
        form = ConnectionForm.of(connection, definition)
        return await self._form(request, connectors, definition, form, connection=connection)

    @post("/{connection_id:uuid}")
    async def update_connection(
        self,
        request: Request[Any, Any, Any],
        connection_id: FromPath[UUID],
        connectors: NamedDependency[ConnectorServices],
        principal: NamedDependency[Principal],
    ) -> Response[Any]:
        connection = await connectors.connections.get(connection_id)
        definition = await connectors.connections.definition_of(connection)
        form = ConnectionForm.parse(await request.form(), definition)
        action = (await form_fields(request, "action"))["action"]
        try:
            data = form.to_input(
                connection.connector, await submitted_secrets(request), admin=principal.is_admin
            )
            connection = await connectors.lifecycle.update(connection_id, data, actor=principal)
        except DomainError as exc:
            return await self._refused(request, connectors, definition, form, exc, connection=connection)
        return await self._after_save(connectors, principal, connection, action, request, "saved")

    @post("/{connection_id:uuid}/test")
    async def test_connection(
        self,
        request: Request[Any, Any, Any],
        connection_id: FromPath[UUID],
        connectors: NamedDependency[ConnectorServices],
        principal: NamedDependency[Principal],
    ) -> Template:
        connection = await connectors.connections.get(connection_id)
        definition = await connectors.connections.definition_of(connection)
        outcome = await connectors.checks.run(connection_id, principal)
        form = ConnectionForm.of(connection, definition)
        return await self._form(request, connectors, definition, form, connection=connection, outcome=outcome)

    @post("/{connection_id:uuid}/disconnect")
    async def disconnect_shared(
        self,
        request: Request[Any, Any, Any],
        connection_id: FromPath[UUID],
        connectors: NamedDependency[ConnectorServices],
        principal: NamedDependency[Principal],
    ) -> Response[Any]:
        connection = await connectors.connections.get(connection_id)
        warning = await connectors.grants.disconnect_shared(connection_id, principal)
        message = f"Disconnected {connection.name}; calls that use it fail until a builder connects it again."
        return redirect(request, f"{LIST_PATH}/{connection_id}", f"{message} {warning}".strip())

    @get("/{connection_id:uuid}/delete")
    async def confirm_delete(
        self,
        request: Request[Any, Any, Any],
        connection_id: FromPath[UUID],
        connectors: NamedDependency[ConnectorServices],
    ) -> Template:
        return await self._confirm_delete(request, connectors, connection_id)

    @post("/{connection_id:uuid}/delete")
    async def delete_connection(
        self,
        request: Request[Any, Any, Any],
        connection_id: FromPath[UUID],
        connectors: NamedDependency[ConnectorServices],
        principal: NamedDependency[Principal],
    ) -> Response[Any]:
        connection = await connectors.connections.get(connection_id)
        if (await form_fields(request, "confirm"))["confirm"] != "yes":
            # Deleting cannot be undone: a post without the confirmation form's answer only asks.
            return await self._confirm_delete(request, connectors, connection_id)
        await connectors.lifecycle.delete(connection_id, actor=principal)
        return redirect(request, LIST_PATH, f"Connection {connection.name} deleted.")

    async def _after_save(
        self,
        connectors: ConnectorServices,
        principal: Principal,
        connection: Connection,
        action: str,
        request: Request[Any, Any, Any],
        verb: str,
        *,
        return_to: str = "",
    ) -> Response[Any]:
        own_page = return_to or f"{LIST_PATH}/{connection.id}"
        if action == "connect" and connection.auth_type == "oauth2_authorization_code":
            return await start_connecting(
                connectors, principal, connection.id, return_to=own_page, shared=not connection.is_end_user
            )
        return redirect(request, own_page, f"Connection {connection.name} {verb}.")

    async def _refused(
        self,
        request: Request[Any, Any, Any],
        connectors: ConnectorServices,
        definition: ConnectorDefinition,
        form: ConnectionForm,
        exc: DomainError,
        *,
        connection: Connection | None = None,
        return_to: str = "",
    ) -> Template:
        field = exc.field or "form"
        errors = {field if field in FIELD_LABELS or field.startswith("fields.") else "form": exc.message}
        return await self._form(
            request,
            connectors,
            definition,
            form,
            connection=connection,
            errors=errors,
            status_code=exc.status,
            return_to=return_to,
        )

    async def _form(
        self,
        request: Request[Any, Any, Any],
        connectors: ConnectorServices,
        definition: ConnectorDefinition,
        form: ConnectionForm,
        *,
        connection: Connection | None = None,
        errors: dict[str, str] | None = None,
        outcome: TestOutcome | None = None,
        status_code: int = 200,
        return_to: str = "",
    ) -> Template:
        choices = auth_choices(definition)
        users = await connectors.accounts.of_connection(connection.id) if connection else []
        return page(
            request,
            "console/connection.html",
            status_code=status_code,
            title=connection.name if connection else f"New {definition.name} connection",
            definition=definition,
            connection=connection,
            form=form,
            projects=await connectors.projects.list_all(),
            auth_choices=choices,
            modes=allowed_modes(choices),
            mode_labels={mode.value: mode.label for mode in Mode},
            oauth=bool({value for value, _ in choices} & OAUTH_AUTH_TYPES),
            shared_auth={value for value, _ in choices} & set(SHARED_AUTH_TYPES),
            connects=definition.auth_type == "oauth2_authorization_code",
            known_scopes=definition.known_scopes,
            redirect_uri=connectors.grants.redirect_uri,
            users=users,
            statuses=GrantStatus,
            outcome=outcome,
            errors=errors or {},
            return_to=return_to,
        )

    async def _list(
        self,
        request: Request[Any, Any, Any],
        connectors: ConnectorServices,
        *,
        project: dict[str, str] | None = None,
        errors: dict[str, str] | None = None,
        status_code: int = 200,
    ) -> Template:
        summaries = await connectors.registry.list()
        connections = await connectors.connections.list_all()
        connected = await connectors.accounts.counts()
        return page(
            request,
            "console/connections.html",
            status_code=status_code,
            title="Connections",
            projects=await connectors.projects.list_all(),
            connections=connections,
            apps={summary.key: summary for summary in summaries},
            auth_types=AUTH_TYPES,
            connected=connected,
            project=project or {"project_name": "", "project_description": ""},
            errors=errors or {},
        )

    async def _confirm_delete(
        self, request: Request[Any, Any, Any], connectors: ConnectorServices, connection_id: UUID
    ) -> Template:
        connection = await connectors.connections.get(connection_id)
        users = (
            await connectors.accounts.of_connection(connection_id, names={}) if connection.is_end_user else []
        )
        return page(
            request,
            "console/connection_delete.html",
            title=f"Delete {connection.name}?",
            connection=connection,
            user_count=len(users),
        )
