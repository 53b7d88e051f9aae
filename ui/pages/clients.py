"""Console → MCP clients: which clients may ask for tokens, their approval, scope caps, secrets and
deletion.

Client IDs of metadata-document clients are URLs, so pages address a client by its database id.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import FormMultiDict
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath
from litestar.response import Template

from switchboard.identity.auth.guards import requires_admin
from switchboard.identity.oauth.models import Client, RegistrationPolicy, StaticClientCreate
from switchboard.identity.oauth.offline_access import OfflineAccess
from switchboard.identity.oauth.server import AuthorizationServer
from switchboard.identity.principal import Principal
from switchboard.platform.core.errors import DomainError, InvalidInput
from switchboard.platform.mcp.client_diagnostics import ClientDiagnostics
from switchboard.ui.forms import form_fields
from switchboard.ui.rendering import page, redirect

LIST_PATH = "/console/clients"

# What an admin ticks, and the OAuth grant types each choice gives the client.
GRANT_CHOICES: dict[str, tuple[str, ...]] = {
    "authorization_code": ("authorization_code", "refresh_token"),
    "client_credentials": ("client_credentials",),
}


class NewClientForm(msgspec.Struct, kw_only=True):
    """The create form as submitted, so that a refused form comes back as it was filled in."""

    name: str = ""
    redirect_uris: str = ""
    grants: list[str] = msgspec.field(default_factory=lambda: ["authorization_code"])
    confidential: bool = True
    may_introspect_any: bool = False

    @classmethod
    def parse(cls, form: FormMultiDict) -> NewClientForm:
        return cls(
            name=str(form.get("name", "")).strip(),
            redirect_uris=str(form.get("redirect_uris", "")),
            grants=[grant for grant in form.getall("grant", []) if grant in GRANT_CHOICES],
            confidential=form.get("confidential") == "1",
            may_introspect_any=form.get("may_introspect_any") == "1",
        )

    def to_create(self) -> StaticClientCreate:
        if not self.grants:
            raise InvalidInput("Choose at least one way the client gets tokens.", field="grant_types")
        return StaticClientCreate(
            name=self.name,
            redirect_uris=[line.strip() for line in self.redirect_uris.splitlines() if line.strip()],
            grant_types=[grant for choice in self.grants for grant in GRANT_CHOICES[choice]],
            confidential=self.confidential,
            may_introspect_any=self.may_introspect_any,
        )


def _policy(value: str) -> RegistrationPolicy:
    try:
        return RegistrationPolicy(value)
    except ValueError:
        raise InvalidInput("Choose open, admin approval or closed.", field="policy") from None


def client_diagnostics(oauth: NamedDependency[AuthorizationServer]) -> ClientDiagnostics:
    """What the compatibility pages read: the clients' own words, refresh tokens, refusals."""
    return ClientDiagnostics(offline=OfflineAccess(), refusals=oauth.audit)


class ClientPages(Controller):
    path = LIST_PATH
    include_in_schema = False
    guards = [requires_admin]

    @get()
    async def list_clients(
        self, request: Request[Any, Any, Any], oauth: NamedDependency[AuthorizationServer]
    ) -> Template:
        return await self._list(request, oauth)

    @post()
    async def create_client(
        self,
        request: Request[Any, Any, Any],
        oauth: NamedDependency[AuthorizationServer],
        principal: NamedDependency[Principal],
    ) -> Template:
        form = NewClientForm.parse(await request.form())
        try:
            created = await oauth.clients.create_static(form.to_create(), actor=principal)
        except DomainError as exc:
            errors = {exc.field or "form": exc.message}
            return await self._list(request, oauth, form=form, errors=errors, status_code=exc.status)
        # The secret is in this response only; the page is not cached.
        return self._detail(request, oauth, created.client, secret=created.client_secret, created=True)

    @post("/policy")
    async def set_policy(
        self,
        request: Request[Any, Any, Any],
        oauth: NamedDependency[AuthorizationServer],
        principal: NamedDependency[Principal],
    ) -> Response[Any]:
        values = await form_fields(request, "policy", "allow_private_metadata_hosts")
        await oauth.clients.set_policy(
            _policy(values["policy"]),
            allow_private_metadata_hosts=values["allow_private_metadata_hosts"] == "1",
            actor=principal,
        )
        return redirect(request, LIST_PATH, "Registration policy saved.")

    @get("/{client_pk:uuid}")
    async def client_detail(
        self,
        request: Request[Any, Any, Any],
        client_pk: FromPath[UUID],
        oauth: NamedDependency[AuthorizationServer],
    ) -> Template:
        return self._detail(request, oauth, await oauth.clients.get_by_pk(client_pk))

    @get(
        "/{client_pk:uuid}/diagnostics",
        dependencies={"diagnostics": Provide(client_diagnostics, sync_to_thread=False)},
    )
    async def client_compatibility(
        self,
        request: Request[Any, Any, Any],
        client_pk: FromPath[UUID],
        oauth: NamedDependency[AuthorizationServer],
        diagnostics: NamedDependency[ClientDiagnostics],
    ) -> Template:
        client = await oauth.clients.get_by_pk(client_pk)
        return page(
            request,
            "console/client_diagnostics.html",
            title=f"Compatibility of {client.name}",
            client=client,
            rows=await diagnostics.of_client(client.client_id),
        )

    @post("/{client_pk:uuid}/secret")
    async def regenerate_secret(
        self,
        request: Request[Any, Any, Any],
        client_pk: FromPath[UUID],
        oauth: NamedDependency[AuthorizationServer],
        principal: NamedDependency[Principal],
    ) -> Template:
        client = await oauth.clients.get_by_pk(client_pk)
        secret = await oauth.clients.regenerate_secret(client.client_id, actor=principal)
        return self._detail(request, oauth, client, secret=secret)

    @post("/{client_pk:uuid}/approve")
    async def approve_client(
        self,
        request: Request[Any, Any, Any],
        client_pk: FromPath[UUID],
        oauth: NamedDependency[AuthorizationServer],
        principal: NamedDependency[Principal],
    ) -> Response[Any]:
        client = await oauth.clients.approve(
            (await oauth.clients.get_by_pk(client_pk)).client_id, actor=principal
        )
        notice = f"{client.name} approved: people can now authorize it."
        return redirect(request, await _back(request, client), notice)

    @post("/{client_pk:uuid}/refuse")
    async def refuse_client(
        self,
        request: Request[Any, Any, Any],
        client_pk: FromPath[UUID],
        oauth: NamedDependency[AuthorizationServer],
        principal: NamedDependency[Principal],
    ) -> Response[Any]:
        client = await oauth.clients.refuse(
            (await oauth.clients.get_by_pk(client_pk)).client_id, actor=principal
        )
        notice = f"{client.name} refused: it cannot sign anyone in, and its tokens no longer work."
        return redirect(request, await _back(request, client), notice)

    @post("/{client_pk:uuid}/scopes")
    async def cap_scopes(
        self,
        request: Request[Any, Any, Any],
        client_pk: FromPath[UUID],
        oauth: NamedDependency[AuthorizationServer],
        principal: NamedDependency[Principal],
    ) -> Response[Any] | Template:
        client = await oauth.clients.get_by_pk(client_pk)
        cap = (await form_fields(request, "scope_cap"))["scope_cap"]
        try:
            capped = await oauth.clients.cap_scopes(client.client_id, cap.split(), actor=principal)
        except InvalidInput as exc:
            errors = {exc.field or "scope_cap": exc.message}
            return self._detail(request, oauth, client, errors=errors, cap=cap, status_code=exc.status)
        if capped.scope_cap:
            notice = f"{client.name} may now get at most: {' '.join(capped.scope_cap)}."
        else:
            notice = f"{client.name} may get any scope people allow it."
        return redirect(request, f"{LIST_PATH}/{client.id}", notice)

    @get("/{client_pk:uuid}/delete")
    async def confirm_delete(
        self,
        request: Request[Any, Any, Any],
        client_pk: FromPath[UUID],
        oauth: NamedDependency[AuthorizationServer],
    ) -> Template:
        return _confirm_delete(request, await oauth.clients.get_by_pk(client_pk))

    @post("/{client_pk:uuid}/delete")
    async def delete_client(
        self,
        request: Request[Any, Any, Any],
        client_pk: FromPath[UUID],
        oauth: NamedDependency[AuthorizationServer],
        principal: NamedDependency[Principal],
    ) -> Response[Any]:
        client = await oauth.clients.get_by_pk(client_pk)
        if (await form_fields(request, "confirm"))["confirm"] != "yes":
            # Deleting cannot be undone: a post without the confirmation form's answer only asks.
            return _confirm_delete(request, client)
        await oauth.clients.delete(client.client_id, actor=principal)
        notice = f"{client.name} deleted. Its tokens and codes were revoked."
        return redirect(request, LIST_PATH, notice)

    async def _list(
        self,
        request: Request[Any, Any, Any],
        oauth: AuthorizationServer,
        *,
        form: NewClientForm | None = None,
        errors: dict[str, str] | None = None,
        status_code: int = 200,
    ) -> Template:
        return page(
            request,
            "console/clients.html",
            status_code=status_code,
            title="MCP clients",
            groups=await oauth.clients.list_grouped(),
            policy=(await oauth.clients.policy()).value,
            allow_private=await oauth.clients.allow_private_metadata_hosts(),
            form=form or NewClientForm(),
            errors=errors or {},
        )

    def _detail(
        self,
        request: Request[Any, Any, Any],
        oauth: AuthorizationServer,
        client: Client,
        *,
        secret: str | None = None,
        created: bool = False,
        errors: dict[str, str] | None = None,
        cap: str | None = None,
        status_code: int = 200,
    ) -> Template:
        return page(
            request,
            "console/client.html",
            status_code=status_code,
            title=client.name,
            client=client,
            secret=secret,
            created=created,
            token_minutes=int(oauth.lifetimes.access_token.total_seconds() // 60),
            errors=errors or {},
            scope_cap=" ".join(client.scope_cap) if cap is None else cap,
        )


def _confirm_delete(request: Request[Any, Any, Any], client: Client) -> Template:
    return page(request, "console/client_delete.html", title=f"Delete {client.name}?", client=client)


async def _back(request: Request[Any, Any, Any], client: Client) -> str:
    """Approving from the list returns to the list; from the client's page, to that page."""
    came_from = (await form_fields(request, "from"))["from"]
    return LIST_PATH if came_from == "list" else f"{LIST_PATH}/{client.id}"
