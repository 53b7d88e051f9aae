"""What the audit trail keeps of a change to a remote MCP server: who made it, to which server, and what it
changed, in words (which secrets were entered, never their values)."""

from __future__ import annotations

from switchboard.connectors.remote.models import RemoteServer, RemoteServerPatch
from switchboard.identity.audit import AuditLog
from switchboard.identity.principal import Actor

_AUTH_SETTINGS = ("mode", "header", "client_id", "scopes", "auth_url", "token_url", "register_url")


async def record_remote_change(
    audit: AuditLog, actor: Actor, action: str, server: RemoteServer, reason: str = ""
) -> None:
    await audit.change(
        actor,
        action,
        object_type="remote_server",
        object_id=server.key,
        object_name=server.name,
        reason=reason,
    )


def describe_new(server: RemoteServer) -> str:
    described = f"endpoint {server.endpoint}; auth {server.auth.mode.value}"
    return described + ("; private addresses allowed" if server.allow_private else "")


def describe_changes(before: RemoteServer, after: RemoteServer, patch: RemoteServerPatch) -> str:
    """What an edit changed, the private-address allowance aside; "" when nothing else changed."""
    changed: list[str] = []
    if before.name != after.name:
        changed.append(f"name: {before.name} → {after.name}")
    if before.endpoint != after.endpoint:
        changed.append(f"endpoint: {before.endpoint} → {after.endpoint}")
    auth = [name for name in _AUTH_SETTINGS if getattr(before.auth, name) != getattr(after.auth, name)]
    if auth:
        changed.append(f"auth settings changed: {', '.join(auth)}")
    entered = [
        name for name in ("token", "client_secret") if patch.auth is not None and getattr(patch.auth, name)
    ]
    if entered:
        changed.append(f"secrets entered: {', '.join(entered)}")
    return "; ".join(changed)
