"""Console → Recipes → import a recipe, and export one (its draft or a published version).

An exported document names connections only by name and never holds secrets; importing makes it a draft
of the chosen project and sends the builder to the editor with what is still to fix.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import FormMultiDict, UploadFile
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Template

from switchboard.connectors.deps import ConnectorServices
from switchboard.identity.auth.guards import requires_builder
from switchboard.identity.principal import Principal
from switchboard.platform.core.errors import DomainError, InvalidInput
from switchboard.recipes.deps import RecipeServices
from switchboard.recipes.documents import RecipeDocument
from switchboard.recipes.outcomes import Problem
from switchboard.ui.pages.recipes import LIST_PATH, chosen_project_id, editor_path
from switchboard.ui.rendering import page, redirect

# An exported recipe is a few KiB; a quarter MiB leaves room for big ones and refuses stray files.
MAX_DOCUMENT_BYTES = 256 * 1024


def problems_notice(problems: list[Problem]) -> str:
    if not problems:
        return "It has no problems: check it in the editor, then publish."
    count = len(problems)
    first = str(problems[0])
    first = first if len(first) <= 140 else first[:139] + "…"
    plural = "s" if count != 1 else ""
    return f"The draft has {count} problem{plural} to fix before publishing, such as: {first}"


class ImportForm(msgspec.Struct, kw_only=True):
    project_id: str = ""
    document: str = ""
    replace: bool = False


async def _document_text(form: FormMultiDict, pasted: str) -> tuple[str, str]:
    """The chosen file's text when a file was chosen, else what was pasted; and the field it came from."""
    limit = f"at most {MAX_DOCUMENT_BYTES // 1024} KiB"
    upload = form.get("file")
    if isinstance(upload, UploadFile) and upload.filename:
        content = await upload.read(MAX_DOCUMENT_BYTES + 1)
        if len(content) > MAX_DOCUMENT_BYTES:
            raise InvalidInput(f"The file is too large: a recipe document is {limit}.", field="file")
        if content:
            try:
                return content.decode("utf-8"), "file"
            except UnicodeDecodeError:
                raise InvalidInput("The file is not UTF-8 text (JSON).", field="file") from None
    if not pasted.strip():
        raise InvalidInput("Paste an exported recipe or choose its file.", field="document")
    if len(pasted.encode()) > MAX_DOCUMENT_BYTES:
        raise InvalidInput(f"The text is too large: a recipe document is {limit}.", field="document")
    return pasted, "document"


def _decode_document(text: str, field: str) -> RecipeDocument:
    """An exported recipe; msgspec's message names the offending place (``at `$.definition...```)."""
    try:
        return msgspec.json.decode(text, type=RecipeDocument)
    except msgspec.ValidationError as exc:
        message = f"This is not a recipe document Switchboard can read: {exc}"
        raise InvalidInput(message, field=field) from None
    except msgspec.DecodeError as exc:
        raise InvalidInput(f"This is not valid JSON: {exc}", field=field) from None


def _text(form: FormMultiDict, name: str) -> str:
    value = form.get(name, "")
    return value if isinstance(value, str) else ""


def document_json(document: RecipeDocument) -> str:
    return msgspec.json.format(msgspec.json.encode(document), indent=2).decode()


class RecipeImportExportPages(Controller):
    path = LIST_PATH
    include_in_schema = False
    guards = [requires_builder]

    @get("/import")
    async def import_form(
        self, request: Request[Any, Any, Any], connectors: NamedDependency[ConnectorServices]
    ) -> Template:
        return await self._import(request, connectors, ImportForm())

    @post("/import")
    async def import_recipe(
        self,
        request: Request[Any, Any, Any],
        recipes: NamedDependency[RecipeServices],
        connectors: NamedDependency[ConnectorServices],
        principal: NamedDependency[Principal],
    ) -> Response[Any]:
        submitted = await request.form()
        form = ImportForm(
            project_id=_text(submitted, "project_id").strip(),
            document=_text(submitted, "document"),
            replace=_text(submitted, "replace") == "yes",
        )
        try:
            text, field = await _document_text(submitted, form.document)
            document = _decode_document(text, field)
            project_id = await chosen_project_id(connectors, form.project_id)
            saved = await recipes.recipes.import_document(
                project_id, document, actor=principal, replace=form.replace
            )
        except DomainError as exc:
            # A recipe of that tool name exists: the answer is the "Replace" checkbox.
            fields = {"name": "replace", "project_id": "project_id", "file": "file"}
            errors = {fields.get(exc.field or "", "document"): exc.message}
            return await self._import(request, connectors, form, errors=errors, status_code=exc.status)
        recipe = saved.recipe
        notice = f"Recipe {recipe.tool_name} imported into {recipe.project_name}. "
        return redirect(request, editor_path(recipe.id), notice + problems_notice(saved.problems))

    @get("/{recipe_id:uuid}/export")
    async def export_recipe(
        self,
        recipe_id: FromPath[UUID],
        recipes: NamedDependency[RecipeServices],
        version: FromQuery[int | None] = None,
    ) -> Response[bytes]:
        document = await recipes.recipes.export(recipe_id, version=version)
        # Tool names are a-z, 0-9 and _ only: safe inside the quoted file name.
        filename = f"{document.definition.trigger.name}.recipe.json"
        return Response(
            content=document_json(document).encode() + b"\n",
            media_type="application/json",
            headers={
                "Content-Disposition": f'attachment; filename="{filename}"',
                "Cache-Control": "no-store",
                "X-Content-Type-Options": "nosniff",
            },
        )

    async def _import(
        self,
        request: Request[Any, Any, Any],
        connectors: ConnectorServices,
        form: ImportForm,
        *,
        errors: dict[str, str] | None = None,
        status_code: int = 200,
    ) -> Template:
        return page(
            request,
            "console/recipes_import.html",
            status_code=status_code,
            title="Import a recipe",
            form=form,
            projects=await connectors.projects.list_all(),
            max_kib=MAX_DOCUMENT_BYTES // 1024,
            errors=errors or {},
        )
