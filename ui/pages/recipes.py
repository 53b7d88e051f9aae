"""Console → Recipes: recipes by project, a new recipe, import and export, versions and job history.

The editor (``/console/recipes/{id}``) is a page of its own; these pages link to it and send the builder
back to it after creating, importing or restoring a recipe. Exported documents name connections only by
name and never hold secrets; run history shows the values the run store kept (masked, truncated).
"""

from __future__ import annotations

import json
from datetime import datetime
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
from switchboard.platform.core.errors import DomainError, InvalidInput, NotFound
from switchboard.recipes.deps import RecipeServices
from switchboard.recipes.engine import MAX_STEP_RECORDS
from switchboard.recipes.model import (
    OPERATORS,
    STEP_TYPES,
    ActionStep,
    ForEachStep,
    IfStep,
    RecipeDefinition,
    Step,
    step_title,
    step_type,
    walk_steps,
)
from switchboard.recipes.outcomes import Problem
from switchboard.recipes.service import Recipe, RecipeCreate, RecipeDocument
from switchboard.ui.forms import form_fields
from switchboard.ui.rendering import page, redirect

LIST_PATH = "/console/recipes"
# An exported recipe is a few KiB; a quarter MiB leaves room for big ones and refuses stray files.
MAX_DOCUMENT_BYTES = 256 * 1024
RUNS_PER_PAGE = 50
KINDS = {"tool": "Tool call", "test": "Test"}
NAME_HINT = (
    "What MCP clients call the tool: 1 to 64 lower-case letters, digits and _, starting with a letter "
    "(for example list_tasks)."
)
_NEW_FIELDS = ("project_id", "name", "title", "description")


def editor_path(recipe_id: UUID) -> str:
    return f"{LIST_PATH}/{recipe_id}"


def status_label(recipe: Recipe) -> str:
    """Draft, Published vN, or Published vN · draft changed (tools run vN; the draft differs)."""
    if recipe.published_version is None:
        return "Draft"
    published = f"Published v{recipe.published_version}"
    return f"{published} · draft changed" if recipe.status == "changed" else published


def duration(milliseconds: int) -> str:
    if milliseconds < 1000:
        return f"{milliseconds} ms"
    return f"{milliseconds / 1000:.1f} s"


def pretty_json(value: Any) -> str:
    """A stored value (decoded JSON) as indented JSON for a <pre>; the template escapes it."""
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)


def status_text(status: str) -> str:
    return status.replace("_", " ").capitalize()


def problems_notice(problems: list[Problem]) -> str:
    if not problems:
        return "It has no problems: check it in the editor, then publish."
    count = len(problems)
    first = str(problems[0])
    first = first if len(first) <= 140 else first[:139] + "…"
    plural = "s" if count != 1 else ""
    return f"The draft has {count} problem{plural} to fix before publishing, such as: {first}"


# --- the new-recipe and import forms ---------------------------------------------------------------


class NewRecipeForm(msgspec.Struct, kw_only=True):
    project_id: str = ""
    name: str = ""
    title: str = ""
    description: str = ""


class ImportForm(msgspec.Struct, kw_only=True):
    project_id: str = ""
    document: str = ""
    replace: bool = False


async def _project_id(connectors: ConnectorServices, chosen: str) -> UUID:
    """The chosen project; none chosen (there is none yet) is the "Default" project, made when missing."""
    if not chosen:
        return (await connectors.projects.ensure()).id
    try:
        return UUID(chosen)
    except ValueError:
        raise InvalidInput("Choose a project.", field="project_id") from None


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


# --- read-only views of a definition ----------------------------------------------------------------


class StepView(msgspec.Struct, frozen=True, kw_only=True):
    """One step as the version page lists it: its number, type, title and what it is set to."""

    number: str
    depth: int
    type: str
    title: str
    connector: str = ""
    action: str = ""
    connection: str = ""
    settings: list[tuple[str, str]] = []


def step_views(definition: RecipeDefinition, connection_names: dict[UUID, str]) -> list[StepView]:
    """Every step, numbered as ``walk_steps`` numbers them (2, 2.1 …), as the editor and runs do."""
    return [_step_view(number, step, connection_names) for number, step in walk_steps(definition.steps)]


def _step_view(number: str, step: Step, connection_names: dict[UUID, str]) -> StepView:
    view = StepView(
        number=number,
        depth=number.count("."),
        type=STEP_TYPES[step_type(step)],
        title=step_title(step),
        settings=_settings(number, step),
    )
    if not isinstance(step, ActionStep):
        return view
    ref = step.connection
    connection = ""
    if ref is not None:
        connection = connection_names.get(ref.id, ref.name) if ref.id is not None else ref.name
    return msgspec.structs.replace(
        view, connector=step.connector, action=step.action, connection=connection or "none chosen"
    )


def _settings(number: str, step: Step) -> list[tuple[str, str]]:
    if isinstance(step, ActionStep):
        settings = [(f"Input {name}", template) for name, template in step.inputs.items()]
        if step.idempotent:
            settings.append(("Safe to repeat", "yes"))
        if step.timeout_seconds is not None:
            settings.append(("Time limit", f"{step.timeout_seconds:g} s"))
        return settings
    if isinstance(step, IfStep):
        settings = [
            (f"Condition {index}", f"{c.left} {OPERATORS[c.operator]} {c.right}".strip())
            for index, c in enumerate(step.conditions, start=1)
        ]
        settings.append(("Match", "all conditions" if step.match == "all" else "any condition"))
        numbers = [f"{number}.{index}" for index in range(1, len(step.then) + len(step.otherwise) + 1)]
        then, otherwise = numbers[: len(step.then)], numbers[len(step.then) :]
        settings.append(("Then", ", ".join(then) or "nothing"))
        settings.append(("Otherwise", ", ".join(otherwise) or "nothing"))
        return settings
    if isinstance(step, ForEachStep):
        return [("Items", step.items), ("Each item as", step.as_name), ("At most", str(step.max_items))]
    settings = [("Text", step.text)]
    settings.extend((f"Structured {key}", template) for key, template in step.structured.items())
    if step.structured_from:
        settings.append(("Structured result from", step.structured_from))
    return settings


def _document_json(document: RecipeDocument) -> str:
    return msgspec.json.format(msgspec.json.encode(document), indent=2).decode()


# --- the pages -------------------------------------------------------------------------------------


class RecipePages(Controller):
    path = LIST_PATH
    include_in_schema = False
    guards = [requires_builder]

    @get()
    async def list_recipes(
        self,
        request: Request[Any, Any, Any],
        recipes: NamedDependency[RecipeServices],
        connectors: NamedDependency[ConnectorServices],
    ) -> Template:
        found = await recipes.recipes.list_all()
        last_runs = await recipes.runs.last_runs([recipe.id for recipe in found])
        projects = [
            project
            for project in await connectors.projects.list_all()
            if any(recipe.project_id == project.id for recipe in found)
        ]
        return page(
            request,
            "console/recipes.html",
            title="Recipes",
            recipes=found,
            projects=projects,
            last_runs=last_runs,
            status_label=status_label,
        )

    @get("/new")
    async def new_recipe(
        self, request: Request[Any, Any, Any], connectors: NamedDependency[ConnectorServices]
    ) -> Template:
        return await self._new(request, connectors, NewRecipeForm())

    @post("/new")
    async def create_recipe(
        self,
        request: Request[Any, Any, Any],
        recipes: NamedDependency[RecipeServices],
        connectors: NamedDependency[ConnectorServices],
        principal: NamedDependency[Principal],
    ) -> Response[Any]:
        form = NewRecipeForm(**await form_fields(request, *_NEW_FIELDS))
        try:
            data = RecipeCreate(
                project_id=await _project_id(connectors, form.project_id),
                name=form.name,
                title=form.title,
                description=form.description,
            )
            recipe = await recipes.recipes.create(data, actor=principal)
        except DomainError as exc:
            field = exc.field if exc.field in _NEW_FIELDS else "form"
            errors = {field: exc.message}
            return await self._new(request, connectors, form, errors=errors, status_code=exc.status)
        return redirect(request, editor_path(recipe.id), f"Recipe {recipe.tool_name} created.")

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
            project_id = await _project_id(connectors, form.project_id)
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
            content=_document_json(document).encode() + b"\n",
            media_type="application/json",
            headers={
                "Content-Disposition": f'attachment; filename="{filename}"',
                "Cache-Control": "no-store",
                "X-Content-Type-Options": "nosniff",
            },
        )

    @get("/{recipe_id:uuid}/versions")
    async def list_versions(
        self,
        request: Request[Any, Any, Any],
        recipe_id: FromPath[UUID],
        recipes: NamedDependency[RecipeServices],
    ) -> Template:
        recipe = await recipes.recipes.get(recipe_id)
        return page(
            request,
            "console/recipe_versions.html",
            title=f"Versions of {recipe.tool_name}",
            recipe=recipe,
            versions=await recipes.recipes.versions(recipe_id),
            status_label=status_label,
        )

    @get("/{recipe_id:uuid}/versions/{number:int}")
    async def version_detail(
        self,
        request: Request[Any, Any, Any],
        recipe_id: FromPath[UUID],
        number: FromPath[int],
        recipes: NamedDependency[RecipeServices],
        connectors: NamedDependency[ConnectorServices],
    ) -> Template:
        recipe = await recipes.recipes.get(recipe_id)
        version = await recipes.recipes.version(recipe_id, number)
        names = {
            connection.id: connection.name
            for connection in await connectors.connections.list_all(project_id=recipe.project_id)
        }
        document = await recipes.recipes.export(recipe_id, version=number)
        return page(
            request,
            "console/recipe_versions_view.html",
            title=f"{version.definition.trigger.name} version {number}",
            recipe=recipe,
            version=version,
            trigger=version.definition.trigger,
            steps=step_views(version.definition, names),
            document_json=_document_json(document),
        )

    @post("/{recipe_id:uuid}/versions/{number:int}/restore")
    async def restore_version(
        self,
        request: Request[Any, Any, Any],
        recipe_id: FromPath[UUID],
        number: FromPath[int],
        recipes: NamedDependency[RecipeServices],
        principal: NamedDependency[Principal],
    ) -> Response[Any]:
        await recipes.recipes.restore(recipe_id, number, actor=principal)
        notice = f"Version {number} restored as the draft; publish to make tools run it."
        return redirect(request, editor_path(recipe_id), notice)

    @get("/{recipe_id:uuid}/runs")
    async def list_runs(
        self,
        request: Request[Any, Any, Any],
        recipe_id: FromPath[UUID],
        recipes: NamedDependency[RecipeServices],
        before: FromQuery[datetime | None] = None,
    ) -> Template:
        recipe = await recipes.recipes.get(recipe_id)
        runs = await recipes.runs.list_for(recipe_id, limit=RUNS_PER_PAGE, before=before)
        return page(
            request,
            "console/recipe_runs.html",
            title=f"Job history of {recipe.tool_name}",
            recipe=recipe,
            runs=runs,
            older=runs[-1].started_at if len(runs) == RUNS_PER_PAGE else None,
            paged=before is not None,
            kinds=KINDS,
            duration=duration,
        )

    @get("/{recipe_id:uuid}/runs/{run_id:uuid}")
    async def run_detail(
        self,
        request: Request[Any, Any, Any],
        recipe_id: FromPath[UUID],
        run_id: FromPath[UUID],
        recipes: NamedDependency[RecipeServices],
    ) -> Template:
        recipe = await recipes.recipes.get(recipe_id)
        run = await recipes.runs.get(run_id)
        if run.recipe_id != recipe_id:
            raise NotFound("There is no such run.", field="run_id")
        return page(
            request,
            "console/recipe_runs_view.html",
            title=f"Run of {recipe.tool_name}",
            recipe=recipe,
            run=run,
            max_step_records=MAX_STEP_RECORDS,
            kinds=KINDS,
            duration=duration,
            pretty_json=pretty_json,
            status_text=status_text,
        )

    @get("/{recipe_id:uuid}/delete")
    async def confirm_delete(
        self,
        request: Request[Any, Any, Any],
        recipe_id: FromPath[UUID],
        recipes: NamedDependency[RecipeServices],
    ) -> Template:
        return await self._confirm_delete(request, await recipes.recipes.get(recipe_id))

    @post("/{recipe_id:uuid}/delete")
    async def delete_recipe(
        self,
        request: Request[Any, Any, Any],
        recipe_id: FromPath[UUID],
        recipes: NamedDependency[RecipeServices],
        principal: NamedDependency[Principal],
    ) -> Response[Any]:
        recipe = await recipes.recipes.get(recipe_id)
        if (await form_fields(request, "confirm"))["confirm"] != "yes":
            # Deleting cannot be undone: a post without the confirmation form's answer only asks.
            return await self._confirm_delete(request, recipe)
        await recipes.recipes.delete(recipe_id, actor=principal)
        return redirect(request, LIST_PATH, f"Recipe {recipe.tool_name} deleted.")

    async def _new(
        self,
        request: Request[Any, Any, Any],
        connectors: ConnectorServices,
        form: NewRecipeForm,
        *,
        errors: dict[str, str] | None = None,
        status_code: int = 200,
    ) -> Template:
        return page(
            request,
            "console/recipes_new.html",
            status_code=status_code,
            title="New recipe",
            form=form,
            projects=await connectors.projects.list_all(),
            name_hint=NAME_HINT,
            errors=errors or {},
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

    async def _confirm_delete(self, request: Request[Any, Any, Any], recipe: Recipe) -> Template:
        return page(
            request,
            "console/recipes_delete.html",
            title=f"Delete {recipe.tool_name}?",
            recipe=recipe,
            status_label=status_label,
        )
