"""/api/v1/audit-events: the audit trail, read-only, for owners and admins."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import QueryParameter

from switchboard.identity.audit import OUTCOMES, AuditFilter, AuditRecord
from switchboard.identity.auth.guards import requires_admin
from switchboard.identity.oauth.server import AuthorizationServer
from switchboard.platform.core.errors import InvalidInput
from switchboard.platform.core.query_times import DateTimeQuery, query_time

_Text = Annotated[str, QueryParameter(max_length=254)]


class AuditEventController(Controller):
    path = "/api/v1/audit-events"
    tags = ["Audit"]
    guards = [requires_admin]

    @get(
        summary="Audit events, newest first; `before` (the `id` of the last one) pages on",
        description="`action` is one action (`user.created`) or a whole area ending with a dot (`user.`); "
        "`actor` and `object` match part of the actor's e-mail and of the object's id or name, in any case; "
        "`since` is included, `until` is not.",
    )
    async def list_events(
        self,
        oauth: NamedDependency[AuthorizationServer],
        actor: _Text = "",
        action: Annotated[str, QueryParameter(max_length=48)] = "",
        object_type: Annotated[str, QueryParameter(max_length=32)] = "",
        object: _Text = "",
        outcome: Annotated[str, QueryParameter(max_length=16)] = "",
        since: DateTimeQuery = None,
        until: DateTimeQuery = None,
        before: Annotated[int | None, QueryParameter(ge=1, le=2**63 - 1)] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=1000)] = 100,
    ) -> list[AuditRecord]:
        if outcome and outcome not in OUTCOMES:
            raise InvalidInput(f"outcome is one of {', '.join(OUTCOMES)}.", field="outcome")
        where = AuditFilter(
            actor=actor,
            action=action,
            object_type=object_type,
            object=object,
            outcome=outcome,
            since=query_time(since, field="since"),
            until=query_time(until, field="until"),
        )
        return await oauth.audit.search(where, limit=limit, before=before)
