"""My apps: the MCP clients a person has authorized, when each last used Switchboard as them, how each
connects (its compatibility diagnostics, for the person's own clients only), and revoking them."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency, Provide
from litestar.response import Template

from switchboard.identity.auth.guards import requires_sign_in
from switchboard.identity.oauth.models import AppGrant
from switchboard.identity.oauth.server import AuthorizationServer
from switchboard.identity.principal import Principal
from switchboard.platform.core.errors import DomainError
from switchboard.platform.mcp.audit import ToolCallFilter
from switchboard.platform.mcp.client_diagnostics import ClientDiagnostics
from switchboard.platform.mcp.deps import McpServices
from switchboard.ui.forms import form_fields
from switchboard.ui.pages.clients import client_diagnostics
from switchboard.ui.rendering import page, redirect


class AppPages(Controller):
    path = "/me/apps"
    include_in_schema = False
    guards = [requires_sign_in]
    dependencies = {"diagnostics": Provide(client_diagnostics, sync_to_thread=False)}

    @get()
    async def list_apps(
        self,
        request: Request[Any, Any, Any],
        oauth: NamedDependency[AuthorizationServer],
        mcp: NamedDependency[McpServices],
        principal: NamedDependency[Principal],
        diagnostics: NamedDependency[ClientDiagnostics],
    ) -> Template:
        return await self._list(request, oauth, mcp, principal, diagnostics)

    @post("/revoke")
    async def revoke_app(
        self,
        request: Request[Any, Any, Any],
        oauth: NamedDependency[AuthorizationServer],
        mcp: NamedDependency[McpServices],
        principal: NamedDependency[Principal],
        diagnostics: NamedDependency[ClientDiagnostics],
    ) -> Response[Any]:
        # A form field, not a path: metadata-document client IDs are URLs.
        client_id = (await form_fields(request, "client_id"))["client_id"]
        names = {app.client_id: app.client_name for app in await oauth.consents.apps(principal.user_id)}
        try:
            await oauth.consents.revoke_app(principal.user_id, principal.email, client_id)
        except DomainError as exc:
            return await self._list(
                request, oauth, mcp, principal, diagnostics, error=exc.message, status_code=exc.status
            )
        name = names.get(client_id, client_id)
        return redirect(request, "/me/apps", f"{name} can no longer use Switchboard as you.")

    async def _list(
        self,
        request: Request[Any, Any, Any],
        oauth: AuthorizationServer,
        mcp: McpServices,
        principal: Principal,
        diagnostics: ClientDiagnostics,
        *,
        error: str | None = None,
        status_code: int = 200,
    ) -> Template:
        apps = [await _last_use(app, mcp, principal) for app in await oauth.consents.apps(principal.user_id)]
        names = {app.client_id: app.client_name for app in apps}
        # The person's own clients only (read by their user id), of the apps they still allow.
        own = [row for row in await diagnostics.of_person(principal.user_id) if row.client_id in names]
        return page(
            request,
            "me/apps.html",
            status_code=status_code,
            title="My apps",
            apps=apps,
            diagnostics=own,
            names=names,
            error=error,
        )


async def _last_use(app: AppGrant, mcp: McpServices, principal: Principal) -> AppGrant:
    """The app with its last use: the later of its grant's last token (issued or refreshed) and its last
    tool call as the person, from the tool-call log (an access token keeps being used after the refresh
    that issued it)."""
    calls = await mcp.calls.search(ToolCallFilter(user=principal.email, client=app.client_id), limit=1)
    called = calls[0].at if calls else None
    if called is None or (app.last_used_at is not None and app.last_used_at >= called):
        return app
    return msgspec.structs.replace(app, last_used_at=called)
