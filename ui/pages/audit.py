"""Console → Audit: the authorization server's trail of tokens, registrations, approvals and consents."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get
from litestar.di import NamedDependency
from litestar.params import Parameter
from litestar.response import Template

from switchboard.identity.auth.guards import requires_admin
from switchboard.identity.oauth.server import AuthorizationServer
from switchboard.platform.core.errors import InvalidInput
from switchboard.ui.rendering import page

PAGE_SIZE = 50

# The filter matches actions by prefix: "token." is every token event.
ACTION_FILTERS: dict[str, str] = {
    "": "All events",
    "token.": "Tokens",
    "token.issued": "Tokens issued",
    "token.refused": "Tokens refused",
    "token.revoked": "Tokens revoked",
    "client.": "Clients",
    "client.registered": "Clients registered",
    "client.created": "Clients created by an admin",
    "client.approved": "Clients approved",
    "client.refused": "Clients refused",
    "client.secret_regenerated": "Client secrets regenerated",
    "client.deleted": "Clients deleted",
    "consent.": "Consents",
    "consent.granted": "Consents given",
    "consent.denied": "Consents denied",
    "consent.revoked": "Apps revoked by their users",
    "authorization.refused": "Authorizations refused",
    "policy.changed": "Registration policy changes",
}


class AuditPages(Controller):
    path = "/console/audit"
    include_in_schema = False
    guards = [requires_admin]

    @get()
    async def audit_events(
        self,
        request: Request[Any, Any, Any],
        oauth: NamedDependency[AuthorizationServer],
        offset: Annotated[int, Parameter(ge=0, le=10_000_000)] = 0,
        action: Annotated[str, Parameter(max_length=48)] = "",
    ) -> Template:
        if action not in ACTION_FILTERS:
            raise InvalidInput("Choose one of the listed kinds of events.", field="action")
        # One more than a page tells whether there are older events.
        events = await oauth.audit.recent(limit=PAGE_SIZE + 1, offset=offset, action=action)
        return page(
            request,
            "console/audit.html",
            title="Audit",
            events=events[:PAGE_SIZE],
            action=action,
            actions=ACTION_FILTERS,
            offset=offset,
            newer=max(offset - PAGE_SIZE, 0) if offset > 0 else None,
            older=offset + PAGE_SIZE if len(events) > PAGE_SIZE else None,
        )
