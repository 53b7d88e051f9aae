"""The console's connection form (Shared or End user's connection), as shown and as submitted.

The form is the one builders know from integration platforms: Name, Location (the project), connection
type, Authentication type, Client ID and secret, the connector's own fields (such as Host), Scopes (the
connector's known scopes plus free entry), the shared credentials, and the Redirect URI to register at the
app. Secrets are never shown: a blank secret on an edit keeps the stored one. Only owners and admins see
"Allow private network addresses"; a builder's form leaves the allowance as it is.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec
from litestar import Request
from litestar.datastructures import FormMultiDict

from switchboard.connectors.connections.inputs import GENERIC_AUTH_TYPES, GENERIC_CONNECTORS, SECRET_FIELDS
from switchboard.connectors.connections.models import (
    END_USER_AUTH_TYPES,
    PERSONAL_AUTH_TYPES,
    SHARED_AUTH_TYPES,
    Connection,
    ConnectionInput,
    Mode,
)
from switchboard.connectors.definitions import AUTH_TYPES, ConnectorDefinition
from switchboard.platform.core.errors import InvalidInput
from switchboard.platform.core.settings import Settings
from switchboard.platform.demo_tasks.app import MOUNT_PATH as DEMO_TASKS_PATH

DEMO_TASKS_CONNECTOR = "demo-tasks"
OAUTH_AUTH_TYPES = frozenset(
    {"oauth2_authorization_code", "oauth2_client_credentials", "oauth2_token_exchange"}
)
FIELD_LABELS = {
    "name": "Name",
    "project_id": "Location",
    "mode": "Connection type",
    "auth_type": "Authentication type",
    "client_id": "Client ID",
    "client_secret": "Client secret",
    "username": "User name",
    "password": "Password",
    "api_key": "API key",
    "token": "Token",
    "scopes": "Scopes",
    "allow_private": "Private addresses",
}


class ConnectionForm(msgspec.Struct, kw_only=True):
    """The connection form as shown or submitted, secrets excepted: they are never sent back."""

    name: str = ""
    project_id: str = ""
    mode: str = Mode.END_USER.value
    auth_type: str = ""
    client_id: str = ""
    username: str = ""
    scopes: list[str] = []
    other_scopes: str = ""
    fields: dict[str, str] = {}
    allow_private: bool = False

    @classmethod
    def new(cls, definition: ConnectorDefinition, project_id: str, settings: Settings) -> ConnectionForm:
        provider = definition.provider
        fields = {field.key: field.default for field in definition.fields}
        if definition.key == DEMO_TASKS_CONNECTOR and settings.mounts_demo_tasks:
            # The bundled Demo Tasks is served by this Switchboard, under its own base URL.
            fields["host"] = settings.base_url + DEMO_TASKS_PATH
        return cls(
            name=definition.name,
            project_id=project_id,
            mode=(Mode.END_USER if definition.auth_type in OAUTH_END_USER else Mode.SHARED).value,
            auth_type=definition.auth_type,
            scopes=list(provider.default_scopes) if provider else [],
            fields=fields,
        )

    @classmethod
    def of(cls, connection: Connection, definition: ConnectorDefinition) -> ConnectionForm:
        known = {scope.name for scope in definition.known_scopes}
        return cls(
            name=connection.name,
            project_id=str(connection.project_id),
            mode=connection.mode.value,
            auth_type=connection.auth_type,
            client_id=connection.client_id,
            username=connection.username,
            scopes=[scope for scope in connection.scopes if scope in known],
            other_scopes=" ".join(scope for scope in connection.scopes if scope not in known),
            fields=dict(connection.fields),
            allow_private=connection.allow_private,
        )

    @classmethod
    def parse(cls, form: FormMultiDict, definition: ConnectorDefinition) -> ConnectionForm:
        def text(name: str) -> str:
            value = form.get(name, "")
            return value.strip() if isinstance(value, str) else ""

        return cls(
            name=text("name"),
            project_id=text("project_id"),
            mode=text("mode"),
            auth_type=text("auth_type"),
            client_id=text("client_id"),
            username=text("username"),
            scopes=[scope for scope in form.getall("scopes", []) if isinstance(scope, str) and scope],
            other_scopes=text("other_scopes"),
            fields={field.key: text(f"field.{field.key}") for field in definition.fields},
            allow_private=text("allow_private") == "1",
        )

    def to_input(self, connector: str, secrets: dict[str, str], *, admin: bool) -> ConnectionInput:
        """The form as the service's input. Only an admin's form has the allowance's checkbox: left
        unchecked there, it withdraws the allowance; missing from a builder's, it keeps it as it is (and a
        builder's checked one is for the service to refuse)."""
        if not self.project_id:
            raise InvalidInput("Choose a project (Location) for the connection.", field="project_id")
        data = {
            **msgspec.structs.asdict(self),
            "connector": connector,
            "scopes": [*self.scopes, self.other_scopes],
            "allow_private": True if self.allow_private else (False if admin else None),
            **secrets,
        }
        del data["other_scopes"]
        try:
            return msgspec.convert(data, ConnectionInput)
        except msgspec.ValidationError as exc:
            raise _invalid(exc) from None


async def submitted_secrets(request: Request[Any, Any, Any]) -> dict[str, str]:
    """The secrets the form sent (blank ones included: a blank secret keeps the stored one)."""
    # Not stripped: a secret is taken exactly as pasted (form_fields strips all but "password").
    form = await request.form()
    return {name: str(form.get(name, "") or "") for name in SECRET_FIELDS}


def auth_choices(definition: ConnectorDefinition) -> list[tuple[str, str]]:
    """The authentication types the form offers for the connector, with their labels."""
    if definition.key in GENERIC_CONNECTORS:
        return [(value, AUTH_TYPES[value]) for value in GENERIC_AUTH_TYPES]
    return [(definition.auth_type, AUTH_TYPES.get(definition.auth_type, definition.auth_type))]


OAUTH_END_USER = tuple(kind for kind in END_USER_AUTH_TYPES if kind not in PERSONAL_AUTH_TYPES)
"""Auth types whose connections are made per person by default (a key is shared unless chosen otherwise)."""


def allowed_modes(choices: list[tuple[str, str]]) -> dict[str, bool]:
    """Which connection types the connector's auth types allow."""
    values = {value for value, _ in choices}
    # Several choices: a generic connector, whose key would have no place named to go in for each person.
    per_person = set(END_USER_AUTH_TYPES) - (set(PERSONAL_AUTH_TYPES) if len(values) > 1 else set())
    return {
        Mode.SHARED.value: bool(values & set(SHARED_AUTH_TYPES)),
        Mode.END_USER.value: bool(values & per_person),
    }


def _invalid(exc: msgspec.ValidationError) -> InvalidInput:
    """msgspec's refusal in the form's words, on the field it concerns."""
    text = str(exc)
    found = re.search(r"at `\$\.(\w+)", text)
    field = found.group(1) if found else "name"
    label = FIELD_LABELS.get(field, field)
    longest = re.search(r"length <= (\d+)", text)
    if field == "project_id":
        return InvalidInput("Choose a project (Location) for the connection.", field=field)
    if field == "mode":
        return InvalidInput("Choose Shared or End user's connection.", field=field)
    if field == "name" and not longest:
        return InvalidInput("Enter a name for the connection.", field=field)
    if longest:
        return InvalidInput(f"{label} can have at most {longest.group(1)} characters.", field=field)
    return InvalidInput(f"{label} is not valid.", field=field)
