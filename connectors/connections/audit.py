"""What the audit trail keeps of a change to a connection: who made it, to which connection, and what it
changed, in words (the names of secrets replaced, never their values)."""

from __future__ import annotations

from switchboard.connectors.connections.models import Connection, ConnectionInput
from switchboard.identity.audit import AuditLog
from switchboard.identity.principal import Actor

_SECRETS = ("client_secret", "password", "api_key", "token")


async def record_connection_change(
    audit: AuditLog, actor: Actor, action: str, connection: Connection, reason: str = ""
) -> None:
    await audit.change(
        actor,
        action,
        object_type="connection",
        object_id=connection.id,
        object_name=connection.name,
        reason=reason,
    )


def describe_new(connection: Connection) -> str:
    described = f"{connection.connector} in project {connection.project_name}, {connection.mode.value}"
    if connection.private_origins:
        described += f"; private addresses allowed at {', '.join(connection.private_origins)}"
    return described


def describe_changes(before: Connection, after: Connection, data: ConnectionInput) -> str:
    """What an edit changed; "" when it changed nothing."""
    changed: list[str] = []
    for label, old, new in (
        ("name", before.name, after.name),
        ("project", before.project_name, after.project_name),
        ("mode", before.mode.value, after.mode.value),
        ("auth type", before.auth_type, after.auth_type),
        ("client ID", before.client_id, after.client_id),
        ("username", before.username, after.username),
    ):
        if old != new:
            changed.append(f"{label}: {old or '(none)'} → {new or '(none)'}")
    added = sorted(set(after.scopes) - set(before.scopes))
    removed = sorted(set(before.scopes) - set(after.scopes))
    if added or removed:
        changed.append("scopes: " + ", ".join([*(f"+{s}" for s in added), *(f"-{s}" for s in removed)]))
    fields = sorted(
        key for key in {*before.fields, *after.fields} if before.fields.get(key) != after.fields.get(key)
    )
    if fields:
        changed.append(f"fields changed: {', '.join(fields)}")
    replaced = [name for name in _SECRETS if getattr(data, name)]
    if replaced:
        changed.append(f"secrets entered: {', '.join(replaced)}")
    if before.private_origins != after.private_origins:
        if not after.private_origins:
            changed.append("private addresses no longer allowed")
        else:
            changed.append(f"private addresses allowed at {', '.join(after.private_origins)}")
    return "; ".join(changed)
