"""A running app records through one audit log, identity's, handed to every area's services as they are
built: none of them makes one of its own."""

from __future__ import annotations

from typing import Any

from switchboard.identity.audit import AuditLog
from switchboard.platform.services import Services


def audit_logs_in(root: object) -> dict[int, list[str]]:
    """Every audit log reachable from ``root`` through Switchboard's own objects, with where it was
    found (by id, so that two equal logs are still two)."""
    found: dict[int, list[str]] = {}
    seen: set[int] = set()
    stack: list[tuple[str, Any]] = [("services", root)]
    while stack:
        path, value = stack.pop()
        if id(value) in seen:
            continue
        seen.add(id(value))
        if isinstance(value, AuditLog):
            found.setdefault(id(value), []).append(path)
            continue
        if isinstance(value, dict):
            stack.extend((f"{path}[{key!r}]", item) for key, item in value.items())
        elif isinstance(value, list | tuple):
            stack.extend((f"{path}[{index}]", item) for index, item in enumerate(value))
        elif type(value).__module__.startswith("switchboard."):
            fields = getattr(value, "__struct_fields__", None) or getattr(value, "__dict__", {}).keys()
            stack.extend((f"{path}.{name}", getattr(value, name)) for name in fields)
    return found


def test_every_service_of_an_app_records_through_identity_s_one_audit_log(app_services: Services) -> None:
    services = app_services

    logs = audit_logs_in(services)

    assert list(logs) == [id(services.identity.oauth.audit)], {
        key: sorted(paths)[:3] for key, paths in logs.items()
    }
    one = id(services.identity.oauth.audit)
    for name, service in [
        ("MCP servers", services.mcp.servers),
        ("their groups", services.mcp.groups),
        ("their tools", services.mcp.tools),
        ("their tokens", services.mcp.tokens),
        ("their client limits", services.mcp.limits),
        ("projects", services.connectors.projects),
        ("connectors", services.connectors.registry),
        ("connections", services.connectors.connections),
        ("remote servers", services.connectors.remote),
        ("recipes", services.recipes.recipes),
    ]:
        assert list(audit_logs_in(service)) == [one], name
