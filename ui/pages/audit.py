"""Console → Audit → Events: the audit trail of every administrative change, sign-in, token and consent,
with filters, pages and a CSV download of everything the filters match."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get
from litestar.di import NamedDependency, Provide
from litestar.params import QueryParameter
from litestar.response import Stream, Template

from switchboard.identity.audit import OUTCOMES, AuditFilter
from switchboard.identity.auth.guards import requires_admin
from switchboard.identity.oauth.server import AuthorizationServer
from switchboard.platform.core.errors import InvalidInput
from switchboard.ui.forms import day_range
from switchboard.ui.rendering import PAGE_SECURITY_HEADERS, page

PAGE_SIZE = 50

# The kinds of events, by area. A value ending with a dot is the whole area: "token." is every token event.
ACTION_GROUPS: dict[str, dict[str, str]] = {
    "Users": {
        "user.": "Every change of a user",
        "user.created": "Users created",
        "user.role_changed": "Roles changed",
        "user.renamed": "Users renamed",
        "user.deactivated": "Users deactivated",
        "user.reactivated": "Users reactivated",
        "user.password_reset": "Passwords reset",
    },
    "Sign-ins": {
        "auth.": "Every sign-in and sign-out",
        "auth.signed_in": "Signed in",
        "auth.sign_in_refused": "Sign-ins refused",
        "auth.signed_out": "Signed out",
    },
    "Groups": {
        "group.": "Every change of a group",
        "group.created": "Groups created",
        "group.renamed": "Groups renamed",
        "group.changed": "Group descriptions changed",
        "group.deleted": "Groups deleted",
        "group.member_added": "Members added",
        "group.member_removed": "Members removed",
    },
    "Admin API tokens": {
        "api_token.": "Every change of an admin API token",
        "api_token.created": "Admin API tokens created",
        "api_token.revoked": "Admin API tokens revoked",
    },
    "MCP servers": {
        "server.": "Every change of an MCP server",
        "server.created": "Servers created",
        "server.changed": "Server settings changed",
        "server.deleted": "Servers deleted",
        "server.group_added": "User groups given a server",
        "server.group_removed": "User groups taken off a server",
        "server.tool_attached": "Tools attached",
        "server.tool_changed": "Tools changed",
        "server.tool_detached": "Tools detached",
        "server.remote_tool_attached": "Remote tools offered",
        "server.remote_tool_detached": "Remote tools withdrawn",
        "server.token_created": "Server API tokens created",
        "server.token_revoked": "Server API tokens revoked",
        "server.client_limit_set": "Client rate limits set",
        "server.client_limit_removed": "Client rate limits removed",
        "mcp.refused": "MCP requests refused",
    },
    "Recipes": {
        "recipe.": "Every change of a recipe",
        "recipe.created": "Recipes created",
        "recipe.imported": "Recipes imported",
        "recipe.published": "Recipes published",
        "recipe.deleted": "Recipes deleted",
    },
    "Connections": {
        "connection.": "Every connection event",
        "connection.created": "Connections created",
        "connection.changed": "Connections changed",
        "connection.deleted": "Connections deleted",
        "connection.connect": "Accounts connected",
        "connection.disconnect": "Accounts disconnected",
        "connection.refresh": "Grant refreshes refused",
        "connection.link": "Connect links refused",
    },
    "Projects": {
        "project.": "Every change of a project",
        "project.created": "Projects created",
        "project.deleted": "Projects deleted",
    },
    "Connectors": {
        "connector.": "Every change of a connector",
        "connector.created": "Connectors added",
        "connector.changed": "Connectors changed",
        "connector.imported": "OpenAPI documents imported",
        "connector.deleted": "Connectors deleted",
    },
    "Remote servers": {
        "remote_server.": "Every change of a remote MCP server",
        "remote_server.created": "Remote servers added",
        "remote_server.changed": "Remote servers changed",
        "remote_server.deleted": "Remote servers deleted",
        "remote_server.allowance_changed": "Private addresses allowed or refused",
    },
    "Tokens": {
        "token.": "Every OAuth token event",
        "token.issued": "Tokens issued",
        "token.refused": "Tokens refused",
        "token.revoked": "Tokens revoked",
    },
    "MCP clients": {
        "client.": "Every client event",
        "client.registered": "Clients registered",
        "client.created": "Clients created by an admin",
        "client.approved": "Clients approved",
        "client.refused": "Clients refused",
        "client.secret_regenerated": "Client secrets regenerated",
        "client.scopes_capped": "Client scopes capped",
        "client.changed": "Client metadata documents changed",
        "client.deleted": "Clients deleted",
    },
    "Consents": {
        "consent.": "Every consent event",
        "consent.granted": "Consents given",
        "consent.denied": "Consents denied",
        "consent.revoked": "Apps revoked by their users",
        "authorization.refused": "Authorizations refused",
    },
    "Settings": {
        "policy.changed": "Registration policy changes",
    },
    "Refused changes": {
        "access.refused": "Changes refused for lack of a role",
    },
}
ACTIONS = {action for group in ACTION_GROUPS.values() for action in group}

OBJECT_TYPES: dict[str, str] = {
    "user": "User",
    "group": "Group",
    "api_token": "Admin API token",
    "server": "MCP server",
    "recipe": "Recipe",
    "connection": "Connection",
    "connector": "Connector",
    "remote_server": "Remote server",
    "client": "MCP client",
    "project": "Project",
    "settings": "Settings",
    "request": "Request",
}

_Text = Annotated[str, QueryParameter(max_length=254)]


class Filters(msgspec.Struct, frozen=True, kw_only=True):
    """The filter form as typed: dates are days (UTC), both ends included."""

    actor: str = ""
    action: str = ""
    object_type: str = ""
    object: str = ""
    outcome: str = ""
    since: str = ""
    until: str = ""

    def to_filter(self) -> AuditFilter:
        if self.action and self.action not in ACTIONS:
            raise InvalidInput("Choose one of the listed kinds of events.", field="action")
        if self.object_type and self.object_type not in OBJECT_TYPES:
            raise InvalidInput("Choose one of the listed kinds of objects.", field="object_type")
        if self.outcome and self.outcome not in OUTCOMES:
            raise InvalidInput("Choose ok or refused.", field="outcome")
        since, until = day_range(self.since, self.until)
        return AuditFilter(
            actor=self.actor,
            action=self.action,
            object_type=self.object_type,
            object=self.object,
            outcome=self.outcome,
            since=since,
            until=until,
        )

    def query(self) -> dict[str, str]:
        """The filters set, for links that keep them (pages, the CSV download)."""
        return {key: value for key, value in msgspec.structs.asdict(self).items() if value}


def _filters(
    actor: _Text = "",
    action: _Text = "",
    object_type: _Text = "",
    object: _Text = "",
    outcome: _Text = "",
    since: _Text = "",
    until: _Text = "",
) -> Filters:
    """The filters from the query string (the page's form, its page links and the CSV link)."""
    return Filters(
        actor=actor,
        action=action,
        object_type=object_type,
        object=object,
        outcome=outcome,
        since=since,
        until=until,
    )


class AuditPages(Controller):
    path = "/console"
    include_in_schema = False
    guards = [requires_admin]
    dependencies = {"filters": Provide(_filters, sync_to_thread=False)}

    @get("/audit")
    async def audit_events(
        self,
        request: Request[Any, Any, Any],
        oauth: NamedDependency[AuthorizationServer],
        filters: NamedDependency[Filters],
        offset: Annotated[int, QueryParameter(ge=0, le=10_000_000)] = 0,
    ) -> Template:
        errors: dict[str, str] = {}
        events = []
        try:
            # One more than a page tells whether there are older events.
            events = await oauth.audit.search(filters.to_filter(), limit=PAGE_SIZE + 1, offset=offset)
        except InvalidInput as exc:
            errors[exc.field or "form"] = exc.message
        return page(
            request,
            "console/audit.html",
            status_code=422 if errors else 200,
            title="Audit",
            events=events[:PAGE_SIZE],
            filters=filters,
            query=filters.query(),
            action_groups=ACTION_GROUPS,
            object_types=OBJECT_TYPES,
            outcomes=OUTCOMES,
            errors=errors,
            offset=offset,
            newer=max(offset - PAGE_SIZE, 0) if offset > 0 else None,
            older=offset + PAGE_SIZE if len(events) > PAGE_SIZE else None,
        )

    @get("/audit.csv")
    async def audit_csv(
        self, oauth: NamedDependency[AuthorizationServer], filters: NamedDependency[Filters]
    ) -> Response[Any]:
        """Every event the filters match, newest first, as a spreadsheet opens it (see ``export_csv``)."""
        where = filters.to_filter()
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
        return Stream(
            oauth.audit.export_csv(where),
            media_type="text/csv; charset=utf-8",
            headers={
                "Content-Disposition": f'attachment; filename="audit-{stamp}.csv"',
                "Cache-Control": "no-store",
                "X-Content-Type-Options": PAGE_SECURITY_HEADERS["X-Content-Type-Options"],
            },
        )
