"""Connections: the end user's connection form's rules, shared credentials, and secrets kept encrypted."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from switchboard.connectors.connections.credentials import Caller
from switchboard.connectors.connections.models import (
    ConnectionInput,
    Credentials,
    Mode,
    Project,
    ProjectCreate,
)
from switchboard.connectors.deps import CREDENTIALS_PURPOSE, ConnectorServices
from switchboard.connectors.tables import Connection as ConnectionRow
from switchboard.identity.audit import AuditLog
from switchboard.identity.deps import IdentityServices
from switchboard.identity.principal import Principal
from switchboard.identity.services.users import UserService
from switchboard.platform.core.crypto import DecryptionFailed, SecretBox
from switchboard.platform.core.errors import Conflict, InvalidInput, PermissionDenied
from switchboard.platform.core.settings import Settings
from tests.connectors.conftest import principal_of
from tests.identity.support import make_user

pytestmark = pytest.mark.both_engines

SECRET = "demo-client-secret-4b1f9c"


def demo_tasks(project: Project, **changes: object) -> ConnectionInput:
    data = ConnectionInput(
        name="Demo Tasks (each user)",
        project_id=project.id,
        connector="demo-tasks",
        mode=Mode.END_USER,
        client_id="switchboard",
        client_secret=SECRET,
        scopes=("tasks:read", "tasks:write"),
        fields={"host": "https://tasks.example.com/"},
    )
    return msgspec.structs.replace(data, **changes)


async def test_an_end_user_connection_keeps_its_settings_and_shows_no_secret(
    connectors: ConnectorServices, project: Project, builder: Principal
) -> None:
    connection = await connectors.connections.create(demo_tasks(project), actor=builder)

    assert (connection.name, connection.mode, connection.auth_type) == (
        "Demo Tasks (each user)",
        Mode.END_USER,
        "oauth2_authorization_code",
    )
    assert connection.project_name == "Sales tools"
    assert connection.fields == {"host": "https://tasks.example.com"}
    assert connection.scopes == ("tasks:read", "tasks:write")
    assert connection.secrets_set == ("client_secret",)
    assert SECRET not in repr(connection)
    assert connection.created_by == "builder@example.com"


async def test_the_client_secret_is_stored_only_as_ciphertext(
    connectors: ConnectorServices, project: Project, builder: Principal
) -> None:
    connection = await connectors.connections.create(demo_tasks(project), actor=builder)

    raw = await ConnectionRow.select(ConnectionRow.secrets, ConnectionRow.settings).where(
        ConnectionRow.id == connection.id
    )
    assert SECRET not in str(raw)
    assert raw[0]["secrets"].startswith("v1.")
    assert (await connectors.connections.credentials(connection.id)).client_secret == SECRET


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"name": "   "}, "name", "Enter a name for the connection."),
        ({"client_id": ""}, "client_id", "Enter the Client ID."),
        ({"fields": {"host": "http://tasks.example.com"}}, "fields.host", "Host must be an https URL"),
        ({"fields": {"host": "not a url"}}, "fields.host", "Host must be an https URL"),
        ({"fields": {"hots": "https://x.example.com"}}, "fields.hots", "Demo Tasks has no field 'hots'."),
        ({"scopes": ("tasks:read", 'bad"scope')}, "scopes", "'bad\"scope' is not a valid scope."),
        ({"connector": "no-such-app"}, "connector", "There is no connector 'no-such-app'."),
        (
            {"connector": "http", "mode": Mode.SHARED, "auth_type": "oauth2_authorization_code"},
            "auth_type",
            "HTTP request connections use one of: none, api_key, bearer, basic.",
        ),
        (
            {"connector": "http", "mode": Mode.END_USER, "auth_type": "bearer"},
            "mode",
            "An end user's connection needs an OAuth 2.0 authorization code grant (or token exchange); "
            "HTTP request does not offer one.",
        ),
    ],
)
async def test_a_bad_connection_form_is_refused_naming_the_field(
    connectors: ConnectorServices,
    project: Project,
    builder: Principal,
    changes: dict[str, object],
    field: str,
    message: str,
) -> None:
    with pytest.raises(InvalidInput) as refused:
        await connectors.connections.create(demo_tasks(project, **changes), actor=builder)

    assert refused.value.field == field
    assert refused.value.message.startswith(message)
    assert await ConnectionRow.count() == 0


async def test_scopes_may_be_typed_freely_and_are_kept_once_each(
    connectors: ConnectorServices, project: Project, builder: Principal
) -> None:
    data = demo_tasks(project, scopes=("tasks:read", "tasks:write, tasks:read", "offline_access"))

    connection = await connectors.connections.create(data, actor=builder)

    assert connection.scopes == ("tasks:read", "tasks:write", "offline_access")


async def test_connection_names_are_unique_within_a_project_only(
    connectors: ConnectorServices, project: Project, builder: Principal
) -> None:
    await connectors.connections.create(demo_tasks(project), actor=builder)
    with pytest.raises(Conflict) as taken:
        await connectors.connections.create(demo_tasks(project, name="demo tasks (EACH user)"), actor=builder)
    other = await connectors.projects.create(ProjectCreate(name="Support"), actor=builder)

    await connectors.connections.create(demo_tasks(other), actor=builder)

    assert taken.value.message == "The project already has a connection named 'demo tasks (EACH user)'."


async def test_members_cannot_create_or_edit_connections(
    connectors: ConnectorServices, services: IdentityServices, project: Project, builder: Principal
) -> None:
    member = principal_of(await make_user(services, "mia@example.com"))
    connection = await connectors.connections.create(demo_tasks(project), actor=builder)

    with pytest.raises(PermissionDenied):
        await connectors.connections.create(demo_tasks(project, name="Mine"), actor=member)
    with pytest.raises(PermissionDenied):
        await connectors.connections.update(connection.id, demo_tasks(project, name="Mine"), actor=member)
    with pytest.raises(PermissionDenied):
        await connectors.connections.delete(connection.id, actor=member)
    assert (await connectors.connections.get(connection.id)).name == "Demo Tasks (each user)"


async def test_an_edit_with_a_blank_secret_keeps_the_stored_one(
    connectors: ConnectorServices, project: Project, builder: Principal
) -> None:
    connection = await connectors.connections.create(demo_tasks(project), actor=builder)

    edited = await connectors.connections.update(
        connection.id, demo_tasks(project, name="Tasks", client_secret=""), actor=builder
    )

    assert edited.name == "Tasks"
    assert (await connectors.connections.credentials(connection.id)).client_secret == SECRET
    assert edited.scopes_version == connection.scopes_version


async def test_changing_scopes_or_host_asks_every_user_to_consent_again(
    connectors: ConnectorServices, project: Project, builder: Principal
) -> None:
    connection = await connectors.connections.create(demo_tasks(project), actor=builder)

    rescoped = await connectors.connections.update(
        connection.id, demo_tasks(project, scopes=("tasks:read",)), actor=builder
    )
    moved = await connectors.connections.update(
        connection.id,
        demo_tasks(project, scopes=("tasks:read",), fields={"host": "https://other.example.com"}),
        actor=builder,
    )

    assert (connection.scopes_version, rescoped.scopes_version, moved.scopes_version) == (1, 2, 3)


async def test_shared_credentials_of_the_generic_http_connector_are_encrypted_and_used(
    connectors: ConnectorServices, project: Project, builder: Principal
) -> None:
    data = ConnectionInput(
        name="Status API",
        project_id=project.id,
        connector="http",
        mode=Mode.SHARED,
        auth_type="bearer",
        token="status-api-token-123",
        fields={"base_url": "https://status.example.com/api"},
    )
    connection = await connectors.connections.create(data, actor=builder)

    auth = await connectors.credentials.request_auth(connection.id, caller=_nobody())

    assert auth.headers == {"Authorization": "Bearer status-api-token-123"}
    assert "status-api-token-123" not in str(await ConnectionRow.select(ConnectionRow.secrets))
    with pytest.raises(InvalidInput) as refused:
        await connectors.connections.create(
            ConnectionInput(
                name="No token", project_id=project.id, connector="http", mode=Mode.SHARED, auth_type="bearer"
            ),
            actor=builder,
        )
    assert (refused.value.field, refused.value.message) == ("token", "Enter the Token.")
    with pytest.raises(InvalidInput) as unpinned:
        await connectors.connections.create(
            msgspec.structs.replace(data, name="Anywhere", fields={}), actor=builder
        )
    assert (unpinned.value.field, unpinned.value.message) == (
        "fields.base_url",
        "Enter the Base URL: the credentials are only ever sent to that address.",
    )


async def test_an_end_user_connection_has_no_credentials_for_a_call_without_a_user(
    connectors: ConnectorServices, project: Project, builder: Principal
) -> None:
    connection = await connectors.connections.create(demo_tasks(project), actor=builder)

    with pytest.raises(PermissionDenied) as refused:
        await connectors.credentials.request_auth(connection.id, caller=_nobody())

    assert "has no signed-in user" in refused.value.message


async def test_after_a_secret_key_change_stored_credentials_still_open_and_can_be_moved_to_the_new_key(
    settings: Settings, connectors: ConnectorServices, project: Project, builder: Principal
) -> None:
    connection = await connectors.connections.create(demo_tasks(project), actor=builder)
    new_key = "a-brand-new-secret-key-for-switchboard-0987654321"
    rotated = msgspec.structs.replace(settings, secret_key=new_key, previous_secret_keys=settings.secret_key)

    async def no_signing(claims: dict[str, Any]) -> str:
        raise AssertionError("nothing is signed here")

    after = ConnectorServices.from_settings(rotated, audit=AuditLog(), sign=no_signing, users=UserService())

    assert (await after.connections.credentials(connection.id)).client_secret == SECRET
    assert await after.connections.reencrypt() == 1
    assert await after.connections.reencrypt() == 0
    stored = (await ConnectionRow.select(ConnectionRow.secrets).first())["secrets"]
    with pytest.raises(DecryptionFailed):
        SecretBox(settings.secret_key, CREDENTIALS_PURPOSE).decrypt(stored)
    assert (
        msgspec.json.decode(
            SecretBox(new_key, CREDENTIALS_PURPOSE).decrypt(stored), type=Credentials
        ).client_secret
        == SECRET
    )


def _nobody() -> Caller:
    return Caller(None)


async def test_secrets_sealed_with_a_key_no_longer_configured_are_asked_for_again(
    settings: Settings, connectors: ConnectorServices, project: Project, builder: Principal
) -> None:
    connection = await connectors.connections.create(demo_tasks(project), actor=builder)
    changed = msgspec.structs.replace(
        settings, secret_key="another-secret-key-without-the-old-one-0123456789"
    )

    async def no_signing(claims: dict[str, Any]) -> str:
        raise AssertionError("nothing is signed here")

    after = ConnectorServices.from_settings(changed, audit=AuditLog(), sign=no_signing, users=UserService())
    shown = await after.connections.get(connection.id)
    with pytest.raises(Conflict) as unreadable:
        await after.connections.credentials(connection.id)
    await after.connections.update(
        connection.id, demo_tasks(project, client_secret="typed-again"), actor=builder
    )

    assert shown.secrets_set == ()
    assert unreadable.value.message.startswith("This connection's secrets were encrypted with a secret key")
    assert (await after.connections.credentials(connection.id)).client_secret == "typed-again"
    await after.aclose()
