"""Console → Connectors: the registry's connectors, adding one (a definition or an OpenAPI document), and
reading, editing or deleting a custom one.

Definition errors name the definition field at fault (``actions.list_tasks.path``); the page shows them
next to the text or file they came from and keeps what was entered. Reading, checking and writing out
definitions is the registry's work, done off the event loop.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import FormMultiDict, UploadFile
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Template

from switchboard.connectors.definitions import AUTH_TYPES, DefinitionError
from switchboard.connectors.deps import ConnectorServices
from switchboard.identity.auth.guards import requires_builder
from switchboard.identity.principal import Principal
from switchboard.platform.core.errors import DomainError, InvalidInput
from switchboard.ui.forms import form_fields
from switchboard.ui.rendering import page, redirect

LIST_PATH = "/console/connectors"
ORIGIN_LABELS = {"built-in": "Built in", "folder": "Connectors folder", "custom": "Added in the console"}


class AddForm(msgspec.Struct, kw_only=True):
    """The "Add connector" and "Import OpenAPI" forms as submitted, to show them again when refused."""

    source: str = ""
    document: str = ""
    key: str = ""


async def _uploaded_text(form: FormMultiDict, typed: str, *, field: str) -> str:
    """The chosen file's text when a file was chosen, else what was pasted."""
    upload = form.get("file")
    if isinstance(upload, UploadFile) and upload.filename:
        content = await upload.read()
        if content:
            try:
                return content.decode("utf-8")
            except UnicodeDecodeError:
                raise InvalidInput("The file is not UTF-8 text (YAML or JSON).", field="file") from None
    if not typed.strip():
        raise InvalidInput("Paste the document or choose a file.", field=field)
    return typed


def _text(form: FormMultiDict, name: str) -> str:
    value = form.get(name, "")
    return value if isinstance(value, str) else ""


class ConnectorPages(Controller):
    path = LIST_PATH
    include_in_schema = False
    guards = [requires_builder]

    @get()
    async def list_connectors(
        self, request: Request[Any, Any, Any], connectors: NamedDependency[ConnectorServices]
    ) -> Template:
        return await self._list(request, connectors)

    @post()
    async def add_connector(
        self,
        request: Request[Any, Any, Any],
        connectors: NamedDependency[ConnectorServices],
        principal: NamedDependency[Principal],
    ) -> Response[Any]:
        form = await request.form()
        typed = AddForm(source=_text(form, "source"))
        try:
            typed.source = await _uploaded_text(form, typed.source, field="source")
            definition = await connectors.registry.save(typed.source, actor=principal)
        except DomainError as exc:
            errors = {"file" if exc.field == "file" else "source": exc.message}
            return await self._list(request, connectors, form=typed, errors=errors, status_code=exc.status)
        return redirect(request, f"{LIST_PATH}/{definition.key}", f"Connector {definition.name} saved.")

    @post("/import")
    async def import_openapi(
        self,
        request: Request[Any, Any, Any],
        connectors: NamedDependency[ConnectorServices],
        principal: NamedDependency[Principal],
    ) -> Response[Any]:
        form = await request.form()
        typed = AddForm(document=_text(form, "document"), key=_text(form, "key").strip())
        try:
            typed.document = await _uploaded_text(form, typed.document, field="document")
            definition = await connectors.registry.import_openapi(
                typed.document, actor=principal, key=typed.key or None
            )
        except DomainError as exc:
            field = exc.field if exc.field in {"file", "key"} else "document"
            if typed.key and isinstance(exc, DefinitionError) and exc.path == "key":
                field = "key"
            errors = {f"import_{field}": exc.message}
            return await self._list(request, connectors, form=typed, errors=errors, status_code=exc.status)
        notice = f"Connector {definition.name} imported with {len(definition.actions)} actions."
        return redirect(request, f"{LIST_PATH}/{definition.key}", notice)

    @get("/{key:str}")
    async def connector_detail(
        self,
        request: Request[Any, Any, Any],
        key: FromPath[str],
        connectors: NamedDependency[ConnectorServices],
    ) -> Template:
        return await self._detail(request, connectors, key)

    @post("/{key:str}")
    async def edit_connector(
        self,
        request: Request[Any, Any, Any],
        key: FromPath[str],
        connectors: NamedDependency[ConnectorServices],
        principal: NamedDependency[Principal],
    ) -> Response[Any]:
        source = (await form_fields(request, "source"))["source"]
        try:
            if await connectors.registry.origin(key) != "custom":
                raise InvalidInput("Only connectors added in the console can be edited here.", field="source")
            # The key names the connector everywhere; a new key is a new connector, added as such.
            definition = await connectors.registry.save(source, actor=principal, keeping_key=key)
        except DomainError as exc:
            errors = {"source": exc.message}
            return await self._detail(
                request, connectors, key, source=source, errors=errors, status_code=exc.status
            )
        return redirect(request, f"{LIST_PATH}/{key}", f"Connector {definition.name} saved.")

    @get("/{key:str}/delete")
    async def confirm_delete(
        self,
        request: Request[Any, Any, Any],
        key: FromPath[str],
        connectors: NamedDependency[ConnectorServices],
    ) -> Template:
        return await self._confirm_delete(request, connectors, key)

    @post("/{key:str}/delete")
    async def delete_connector(
        self,
        request: Request[Any, Any, Any],
        key: FromPath[str],
        connectors: NamedDependency[ConnectorServices],
        principal: NamedDependency[Principal],
    ) -> Response[Any]:
        definition = await connectors.registry.get(key)
        if (await form_fields(request, "confirm"))["confirm"] != "yes":
            # Deleting cannot be undone: a post without the confirmation form's answer only asks.
            return await self._confirm_delete(request, connectors, key)
        try:
            await connectors.registry.delete(key, actor=principal)
        except DomainError as exc:
            errors = {"delete": exc.message}
            return await self._detail(request, connectors, key, errors=errors, status_code=exc.status)
        return redirect(request, LIST_PATH, f"Connector {definition.name} deleted.")

    async def _list(
        self,
        request: Request[Any, Any, Any],
        connectors: ConnectorServices,
        *,
        form: AddForm | None = None,
        errors: dict[str, str] | None = None,
        status_code: int = 200,
    ) -> Template:
        summaries = await connectors.registry.list()
        return page(
            request,
            "console/connectors.html",
            status_code=status_code,
            title="Connectors",
            connectors=summaries,
            problems=connectors.registry.problems(),
            auth_types=AUTH_TYPES,
            origins=ORIGIN_LABELS,
            form=form or AddForm(),
            errors=errors or {},
        )

    async def _detail(
        self,
        request: Request[Any, Any, Any],
        connectors: ConnectorServices,
        key: str,
        *,
        source: str | None = None,
        errors: dict[str, str] | None = None,
        status_code: int = 200,
    ) -> Template:
        definition = await connectors.registry.get(key)
        origin = await connectors.registry.origin(key)
        editable = origin == "custom"
        return page(
            request,
            "console/connectors_view.html",
            status_code=status_code,
            title=definition.name,
            definition=definition,
            origin=ORIGIN_LABELS[origin],
            editable=editable,
            yaml=await connectors.registry.yaml_of(definition),
            source=source
            if source is not None
            else (await connectors.registry.source(key) if editable else ""),
            auth_types=AUTH_TYPES,
            errors=errors or {},
        )

    async def _confirm_delete(
        self, request: Request[Any, Any, Any], connectors: ConnectorServices, key: str
    ) -> Template:
        definition = await connectors.registry.get(key)
        return page(
            request,
            "console/connectors_delete.html",
            title=f"Delete {definition.name}?",
            definition=definition,
        )
