"""The authorization endpoint as people see it: sign-in, approval state, access, consent, redirect.

``GET /oauth/authorize`` checks the request; an unknown client or redirect URI is shown an error page
(never redirected). A signed-out person signs in first and comes back here. When the person already
allowed this client the same (or more) for the same resource, the code is issued at once; otherwise
the consent page asks, and its form posts back here with the original request.

A member whose app awaits an administrator's approval sees a waiting page that polls
``/oauth/authorize/status`` and, once the app is approved, opens the same authorization request again,
which reaches the consent page. The status URL carries a signature over the signed-in person and the
request, so it answers nobody else. Administrators see how many apps await approval on the console's
"MCP clients" entry.
"""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import parse_qs, quote, urlencode

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.response import Redirect, Template

from switchboard.identity.audit import AuditEntry
from switchboard.identity.auth.guards import requires_admin
from switchboard.identity.oauth.authorization_endpoint import AuthorizationRequest
from switchboard.identity.oauth.errors import PageError, RedirectError, ReturnTo
from switchboard.identity.oauth.models import ClientStatus
from switchboard.identity.oauth.server import AuthorizationServer
from switchboard.identity.principal import Principal
from switchboard.platform.core.requests import client_ip
from switchboard.platform.core.tokens import Signer
from switchboard.ui.forms import form_fields
from switchboard.ui.rendering import page, principal_of

_MAX_QUERY = 8192


# How long a refusal stays on screen before the browser takes the person back to an approved client.
RETURN_AFTER_SECONDS = 6


def _message(
    request: Request[Any, Any, Any],
    title: str,
    message: str,
    status: int,
    return_to: ReturnTo | None = None,
) -> Response[Any]:
    """A page telling the person why; with ``return_to``, the way back to the client, which then hears
    ``access_denied`` instead of waiting for an answer that never comes."""
    shown = page(
        request,
        "oauth/message.html",
        status_code=status,
        title=title,
        message=message,
        return_to=return_to,
        return_after=RETURN_AFTER_SECONDS,
    )
    if return_to is not None and return_to.automatic:
        shown.headers["Refresh"] = f"{RETURN_AFTER_SECONDS}; url={return_to.location}"
    return shown


_STATUS_PATH = "/oauth/authorize/status"


def _waiting_signer(request: Request[Any, Any, Any]) -> Signer:
    return Signer(request.app.state.services.settings.secret_key, "oauth-awaiting-approval")


def _waiter(principal: Principal, query: str) -> str:
    """Who waits for which authorization request: the value the status URL's signature covers."""
    return f"{principal.user_id} {hashlib.sha256(query.encode()).hexdigest()}"


def _awaiting_approval(
    request: Request[Any, Any, Any],
    oauth: AuthorizationServer,
    auth: AuthorizationRequest,
    query: str = "",
    principal: Principal | None = None,
) -> Response[Any]:
    """The waiting page; for a signed-in person it checks the app's approval and continues by itself."""
    status_url = None
    if principal is not None:
        wait = _waiting_signer(request).sign(_waiter(principal, query))
        status_url = f"{_STATUS_PATH}?{urlencode({'request': query, 'wait': wait})}"
    return page(
        request,
        "oauth/awaiting_approval.html",
        status_code=403,
        title="This app awaits approval",
        client_name=auth.client.name,
        status_url=status_url,
        return_to=oauth.return_to(auth, f"{auth.client.name} awaits an administrator's approval."),
    )


def _to_client(location: str) -> Response[Any]:
    # 303 after the consent form's POST, and fine for GET too: the client receives a GET.
    return Redirect(path=location, status_code=303)


async def _audit(
    oauth: AuthorizationServer, auth: AuthorizationRequest, principal: Principal, action: str, reason: str
) -> None:
    await oauth.audit.record(
        AuditEntry(
            action=action,
            outcome="ok" if action.startswith("consent.") else "refused",
            actor=principal.email,
            subject=principal.email,
            client_id=auth.client.client_id,
            client_name=auth.client.name,
            reason=reason,
        )
    )


class AuthorizePages(Controller):
    include_in_schema = False

    @get("/oauth/authorize")
    async def authorize(
        self, request: Request[Any, Any, Any], oauth: NamedDependency[AuthorizationServer]
    ) -> Response[Any]:
        query = request.scope.get("query_string", b"").decode("latin-1")
        return await self._handle(request, oauth, query, decision=None)

    @get(_STATUS_PATH)
    async def approval_status(
        self, request: Request[Any, Any, Any], oauth: NamedDependency[AuthorizationServer]
    ) -> Response[Any]:
        """Whether the app of the waiting person's authorization request is still pending; once it is
        not, ``HX-Redirect`` sends the waiting page back to that request. Anyone else gets a bare 404."""
        principal = principal_of(request)
        query = request.query_params.get("request") or ""
        wait = request.query_params.get("wait") or ""
        nothing: Response[Any] = Response(content=b"", status_code=404, headers={"Cache-Control": "no-store"})
        if principal is None or len(query) > _MAX_QUERY:
            return nothing
        if _waiting_signer(request).unsign(wait) != _waiter(principal, query):
            return nothing
        client_id = parse_qs(query).get("client_id", [""])[0]
        client = await oauth.clients.find(client_id) if client_id else None
        headers = {"Cache-Control": "no-store"}
        if client is None or client.status is not ClientStatus.PENDING:
            # Approved, refused or deleted meanwhile: the authorization request says which.
            headers["HX-Redirect"] = f"/oauth/authorize?{query}"
        status = client.status.value if client is not None else "deleted"
        return Response(content={"status": status}, headers=headers)

    @get("/console/clients/awaiting-approval", guards=[requires_admin])
    async def awaiting_approval_badge(self, oauth: NamedDependency[AuthorizationServer]) -> Template:
        """The count of clients awaiting approval, shown on the console's "MCP clients" entry (loaded by
        the entry itself, for administrators only)."""
        return Template(
            template_name="oauth/awaiting_badge.html",
            context={"count": await oauth.clients.count_awaiting_approval()},
            headers={"Cache-Control": "no-store"},
        )

    @post("/oauth/authorize")
    async def decide(
        self, request: Request[Any, Any, Any], oauth: NamedDependency[AuthorizationServer]
    ) -> Response[Any]:
        values = await form_fields(request, "request", "decision")
        # Anything but an explicit "allow" is a refusal.
        decision = "allow" if values["decision"] == "allow" else "deny"
        return await self._handle(request, oauth, values["request"], decision=decision)

    async def _handle(
        self,
        request: Request[Any, Any, Any],
        oauth: AuthorizationServer,
        query: str,
        *,
        decision: str | None,
    ) -> Response[Any]:
        if len(query) > _MAX_QUERY:
            return _message(request, "This sign-in link is not valid", "The request is too long.", 400)
        params = parse_qs(query, keep_blank_values=True)
        try:
            auth = await oauth.validate_authorization(params, ip_address=client_ip(request))
        except PageError as exc:
            refused = _message(request, exc.title, exc.message, exc.status, exc.return_to)
            if exc.retry_after is not None:
                refused.headers["Retry-After"] = str(exc.retry_after)
            return refused
        except RedirectError as exc:
            return _to_client(exc.location)
        principal = principal_of(request)
        silent = "none" in auth.prompt
        if silent and auth.client.status is not ClientStatus.APPROVED:
            # prompt=none answers at the redirect URI at once, and a pending client's is not trusted yet.
            return _awaiting_approval(request, oauth, auth)
        if principal is None and silent:
            return _to_client(oauth.redirect_with(auth.redirect_uri, auth.state, error="login_required"))
        if principal is None:
            return Redirect(path=f"/login?next={quote('/oauth/authorize?' + query)}", status_code=303)
        refusal = await self._refusal(request, oauth, auth, principal, query)
        if refusal is not None:
            if silent:
                return _to_client(oauth.redirect_with(auth.redirect_uri, auth.state, error="access_denied"))
            return refusal
        if decision == "deny":
            await _audit(oauth, auth, principal, "consent.denied", auth.audience)
            return _to_client(
                oauth.redirect_with(
                    auth.redirect_uri,
                    auth.state,
                    error="access_denied",
                    error_description="The user denied the request.",
                )
            )
        covered = auth.client.status is ClientStatus.APPROVED and await oauth.consents.covers(
            principal.user_id, auth.client.id, auth.audience, auth.scopes
        )
        if decision is None and silent and not covered:
            return _to_client(oauth.redirect_with(auth.redirect_uri, auth.state, error="consent_required"))
        if decision is None and (not covered or "consent" in auth.prompt):
            return self._consent_page(request, auth, query, principal)
        if auth.client.status is ClientStatus.PENDING:
            # An owner or admin completing the first authorization approves the client.
            await oauth.clients.approve(auth.client.client_id, actor=principal)
        if decision == "allow":
            await oauth.consents.grant(
                user_id=principal.user_id,
                user_email=principal.email,
                client_pk=auth.client.id,
                client_id=auth.client.client_id,
                client_name=auth.client.name,
                resource=auth.audience,
                requested=auth.scopes,
            )
        code = await oauth.issue_code(auth, user_id=principal.user_id)
        return _to_client(oauth.redirect_with(auth.redirect_uri, auth.state, code=code))

    async def _refusal(
        self,
        request: Request[Any, Any, Any],
        oauth: AuthorizationServer,
        auth: AuthorizationRequest,
        principal: Principal,
        query: str,
    ) -> Response[Any] | None:
        if auth.client.status is ClientStatus.PENDING and not principal.is_admin:
            await _audit(oauth, auth, principal, "authorization.refused", "client awaiting approval")
            return _awaiting_approval(request, oauth, auth, query, principal)
        if auth.resource is not None:
            problem = await oauth.resources.access_problem(auth.resource, principal.user_id)
            if problem:
                await _audit(oauth, auth, principal, "authorization.refused", problem)
                return _message(
                    request, "You do not have access", problem, 403, oauth.return_to(auth, problem)
                )
        return None

    def _consent_page(
        self, request: Request[Any, Any, Any], auth: AuthorizationRequest, query: str, principal: Principal
    ) -> Response[Any]:
        template: Template = page(
            request,
            "oauth/consent.html",
            title=f"Allow {auth.client.name}?",
            auth=auth,
            request_query=query,
            approving=auth.client.status is ClientStatus.PENDING and principal.is_admin,
        )
        return template
