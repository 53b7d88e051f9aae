"""Recipes: create them, edit the draft, publish immutable versions, restore, export and import.

A recipe has one editable draft. Saving a draft keeps it even when it has problems (a builder saves work in
progress); publishing refuses a draft with problems and freezes it as the next version. Tools always run
the published version, never the draft. The shapes it gives and takes are in ``schemas``, the exported
document in ``documents``.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from datetime import UTC, datetime
from typing import Any, Protocol
from uuid import UUID

from switchboard.connectors.connections.models import Connection, Project
from switchboard.identity.audit import AuditLog
from switchboard.identity.principal import Actor
from switchboard.platform.core.database import is_unique_violation
from switchboard.platform.core.errors import Conflict, InvalidInput, NotFound
from switchboard.recipes.documents import RecipeDocument, export_document, import_definition
from switchboard.recipes.errors import NothingChanged, RecipeInvalid
from switchboard.recipes.model import (
    TOOL_NAME_PATTERN,
    RecipeDefinition,
    ResultStep,
    ToolTrigger,
    decode_definition,
    encode_definition,
)
from switchboard.recipes.outcomes import Problem
from switchboard.recipes.schemas import (
    Recipe,
    RecipeCreate,
    RecipeStatus,
    RecipeVersion,
    SavedDraft,
    VersionSummary,
)
from switchboard.recipes.tables import Recipe as RecipeRow
from switchboard.recipes.tables import RecipeVersion as VersionRow


class Validator(Protocol):
    async def check(self, definition: RecipeDefinition, *, project_id: UUID) -> list[Problem]: ...


class Connections(Protocol):
    async def list_all(self, *, project_id: UUID | None = None) -> list[Connection]: ...


class Projects(Protocol):
    async def get(self, project_id: UUID) -> Project:
        """The project; raises NotFound when there is none."""
        ...


class RecipeService:
    """Recipes and their versions; creating, importing, publishing and deleting one is audited (saving a
    draft is not: it changes nothing a tool runs)."""

    def __init__(
        self,
        *,
        validator: Validator,
        connections: Connections,
        projects: Projects,
        audit: AuditLog | None = None,
    ) -> None:
        self._validator = validator
        self._connections = connections
        self._projects = projects
        self._audit = audit or AuditLog()

    # -- reading -------------------------------------------------------------------------------------

    async def list_all(self, *, project_id: UUID | None = None) -> list[Recipe]:
        query = RecipeRow.select(*_COLUMNS).order_by(RecipeRow.tool_name)
        if project_id is not None:
            query = query.where(RecipeRow.project == project_id)
        return [await self._out(row) for row in await query]

    async def get(self, recipe_id: UUID) -> Recipe:
        return await self._out(await self._row(recipe_id))

    async def find_by_tool_name(self, name: str) -> list[Recipe]:
        """The recipes whose draft is the tool ``name``: at most one a project, since a tool name is unique
        within its project."""
        rows = await RecipeRow.select(*_COLUMNS).where(RecipeRow.tool_name == name)
        return [await self._out(row) for row in rows]

    async def check(self, recipe_id: UUID) -> list[Problem]:
        recipe = await self.get(recipe_id)
        return await self._validator.check(recipe.draft, project_id=recipe.project_id)

    async def versions(self, recipe_id: UUID) -> list[VersionSummary]:
        await self._row(recipe_id)
        rows = (
            await VersionRow.select(VersionRow.number, VersionRow.definition, VersionRow.published_by)
            .columns(VersionRow.published_at)
            .where(VersionRow.recipe == recipe_id)
            .order_by(VersionRow.number, ascending=False)
        )
        return [
            VersionSummary(
                number=row["number"],
                tool_name=decode_definition(row["definition"]).trigger.name,
                published_by=row["published_by"],
                published_at=row["published_at"],
            )
            for row in rows
        ]

    async def version(self, recipe_id: UUID, number: int) -> RecipeVersion:
        row = (
            await VersionRow.select()
            .where((VersionRow.recipe == recipe_id) & (VersionRow.number == number))
            .first()
        )
        if row is None:
            raise NotFound(f"This recipe has no version {number}.", field="version")
        return _version(row)

    async def published(self, recipe_id: UUID) -> RecipeVersion:
        """The version tools run. Raises NotFound when the recipe was never published."""
        recipe = await self._row(recipe_id)
        if recipe["published_version"] is None:
            raise NotFound("This recipe is not published yet.", field="recipe_id")
        return await self.version(recipe_id, recipe["published_version"])

    # -- changing ------------------------------------------------------------------------------------

    async def create(self, data: RecipeCreate, *, actor: Actor) -> Recipe:
        """A new draft: the trigger named as given and one "Return result" step, so it can run at once.

        The result step's id is ``result``, not a number, so the steps a builder adds are ``step_1``,
        ``step_2`` … as the editor numbers them."""
        actor.require_builder()
        trigger = ToolTrigger(
            name=_tool_name(data.name),
            title=_bounded(data.title.strip(), 120, "title"),
            description=_bounded(data.description.strip(), 2000, "description"),
        )
        definition = RecipeDefinition(
            trigger=trigger, steps=(ResultStep(id="result", title="Return result", text="Done."),)
        )
        recipe = await self._insert(data.project_id, definition, actor)
        await self._changed(actor, "recipe.created", recipe, f"project {recipe.project_name}")
        return recipe

    async def save_draft(self, recipe_id: UUID, definition: RecipeDefinition, *, actor: Actor) -> SavedDraft:
        actor.require_builder()
        current = await self._row(recipe_id)
        await self._write(
            RecipeRow.update(
                {
                    RecipeRow.tool_name: definition.trigger.name,
                    RecipeRow.draft: encode_definition(definition).decode(),
                    RecipeRow.updated_by: actor.email,
                    RecipeRow.updated_at: datetime.now(UTC),
                }
            ).where(RecipeRow.id == recipe_id),
            definition.trigger.name,
        )
        problems = await self._validator.check(definition, project_id=current["project"])
        return SavedDraft(recipe=await self.get(recipe_id), problems=problems)

    async def publish(self, recipe_id: UUID, *, actor: Actor) -> RecipeVersion:
        """Freeze the draft as the next version. Refused, listing every problem, when the draft has any,
        and when it is the published version already (a version that changes nothing is only noise)."""
        actor.require_builder()
        recipe = await self.get(recipe_id)
        if recipe.status == "published" and recipe.published_version is not None:
            raise NothingChanged(recipe.published_version)
        problems = await self._validator.check(recipe.draft, project_id=recipe.project_id)
        if problems:
            raise RecipeInvalid(problems)
        latest = (
            await VersionRow.select(VersionRow.number)
            .where(VersionRow.recipe == recipe_id)
            .order_by(VersionRow.number, ascending=False)
            .first()
        )
        number = (latest["number"] if latest else 0) + 1
        now = datetime.now(UTC)
        row = VersionRow(
            recipe=recipe_id,
            number=number,
            definition=encode_definition(recipe.draft).decode(),
            published_by=actor.email,
            published_at=now,
        )
        try:
            await row.save()
        except Exception as exc:
            if is_unique_violation(exc):  # someone else published at the same moment
                raise Conflict("Someone else published this recipe just now; reload and try again.") from exc
            raise
        await RecipeRow.update({RecipeRow.published_version: number, RecipeRow.updated_at: now}).where(
            RecipeRow.id == recipe_id
        )
        await self._changed(actor, "recipe.published", recipe, f"version {number}")
        return await self.version(recipe_id, number)

    async def restore(self, recipe_id: UUID, number: int, *, actor: Actor) -> SavedDraft:
        """Make an earlier version the draft again (publish it to make tools run it)."""
        version = await self.version(recipe_id, number)
        return await self.save_draft(recipe_id, version.definition, actor=actor)

    async def delete(self, recipe_id: UUID, *, actor: Actor) -> None:
        actor.require_builder()
        recipe = await self.get(recipe_id)
        await RecipeRow.delete().where(RecipeRow.id == recipe_id)
        await self._changed(actor, "recipe.deleted", recipe, f"project {recipe.project_name}")

    # -- export and import ---------------------------------------------------------------------------

    async def export(self, recipe_id: UUID, *, version: int | None = None) -> RecipeDocument:
        """The draft (or a published version) as a document for version control: connections by name."""
        recipe = await self.get(recipe_id)
        definition = recipe.draft if version is None else (await self.version(recipe_id, version)).definition
        connections = await self._connections.list_all(project_id=recipe.project_id)
        return export_document(definition, connections, version=version)

    async def import_document(
        self, project_id: UUID, document: RecipeDocument, *, actor: Actor, replace: bool = False
    ) -> SavedDraft:
        """A recipe from an exported document, as a draft of ``project_id``. Each step's connection is the
        project's connection of that name and connector (a missing one is a problem to fix, not an error).
        A recipe with the same tool name is refused unless ``replace``, which makes the document its draft.
        """
        actor.require_builder()
        connections = await self._connections.list_all(project_id=project_id)
        definition = import_definition(document, connections)
        _tool_name(definition.trigger.name)
        existing = (
            await RecipeRow.select(RecipeRow.id)
            .where((RecipeRow.project == project_id) & (RecipeRow.tool_name == definition.trigger.name))
            .first()
        )
        if existing is not None:
            if not replace:
                raise Conflict(
                    f"This project already has a recipe named {definition.trigger.name!r}; "
                    "import it with replace to make the document its draft.",
                    field="name",
                )
            saved = await self.save_draft(existing["id"], definition, actor=actor)
            await self._changed(actor, "recipe.imported", saved.recipe, "the document replaced the draft")
            return saved
        recipe = await self._insert(project_id, definition, actor)
        await self._changed(actor, "recipe.imported", recipe, f"new in project {recipe.project_name}")
        problems = await self._validator.check(definition, project_id=project_id)
        return SavedDraft(recipe=recipe, problems=problems)

    # -- storage -------------------------------------------------------------------------------------

    async def _changed(self, actor: Actor, action: str, recipe: Recipe, reason: str) -> None:
        await self._audit.change(
            actor,
            action,
            object_type="recipe",
            object_id=recipe.id,
            object_name=recipe.tool_name,
            reason=reason,
        )

    async def _insert(self, project_id: UUID, definition: RecipeDefinition, actor: Actor) -> Recipe:
        await self._projects.get(project_id)  # NotFound when there is no such project
        now = datetime.now(UTC)
        row = RecipeRow(
            project=project_id,
            tool_name=definition.trigger.name,
            draft=encode_definition(definition).decode(),
            published_version=None,
            created_by=actor.email,
            created_at=now,
            updated_by=actor.email,
            updated_at=now,
        )
        await self._write(row.save(), definition.trigger.name)
        return await self.get(row.id)

    async def _write(self, query: Any, tool_name: str) -> None:
        try:
            await query
        except Exception as exc:
            if is_unique_violation(exc):
                raise Conflict(
                    f"This project already has a recipe with the tool name {tool_name!r}.", field="name"
                ) from exc
            raise

    async def _row(self, recipe_id: UUID) -> dict[str, Any]:
        row = await RecipeRow.select(*_COLUMNS).where(RecipeRow.id == recipe_id).first()
        if row is None:
            raise NotFound("No such recipe.", field="recipe_id")
        return row

    async def _out(self, row: dict[str, Any]) -> Recipe:
        draft = decode_definition(row["draft"])
        status: RecipeStatus = "draft"
        if row["published_version"] is not None:
            published = (
                await VersionRow.select(VersionRow.definition)
                .where((VersionRow.recipe == row["id"]) & (VersionRow.number == row["published_version"]))
                .first()
            )
            same = published is not None and decode_definition(published["definition"]) == draft
            status = "published" if same else "changed"
        return Recipe(
            id=row["id"],
            project_id=row["project"],
            project_name=row["project.name"],
            draft=draft,
            published_version=row["published_version"],
            status=status,
            created_by=row["created_by"],
            created_at=row["created_at"],
            updated_by=row["updated_by"],
            updated_at=row["updated_at"],
        )


async def draft_trigger(recipe_id: UUID) -> ToolTrigger | None:
    """The trigger of a recipe's draft (None: no such recipe), as the tool it would become."""
    row = await RecipeRow.select(RecipeRow.draft).where(RecipeRow.id == recipe_id).first()
    return decode_definition(row["draft"]).trigger if row is not None else None


async def published_triggers(versions: Collection[tuple[UUID, int]]) -> dict[tuple[UUID, int], ToolTrigger]:
    """The triggers of these published versions, by (recipe, number). They need no collaborator, so MCP
    servers read their tools with them; versions never change, so what a version says may be kept."""
    wanted = set(versions)
    if not wanted:
        return {}
    rows = await VersionRow.select(VersionRow.recipe, VersionRow.number, VersionRow.definition).where(
        VersionRow.recipe.is_in(list({recipe for recipe, _ in wanted}))
    )
    return {
        (row["recipe"], row["number"]): decode_definition(row["definition"]).trigger
        for row in rows
        if (row["recipe"], row["number"]) in wanted
    }


_COLUMNS = (
    RecipeRow.id,
    RecipeRow.project,
    RecipeRow.project.name,
    RecipeRow.draft,
    RecipeRow.published_version,
    RecipeRow.created_by,
    RecipeRow.created_at,
    RecipeRow.updated_by,
    RecipeRow.updated_at,
)


def _version(row: dict[str, Any]) -> RecipeVersion:
    return RecipeVersion(
        recipe_id=row["recipe"],
        number=row["number"],
        definition=decode_definition(row["definition"]),
        published_by=row["published_by"],
        published_at=row["published_at"],
    )


def _tool_name(name: str) -> str:
    name = name.strip()
    if not re.fullmatch(TOOL_NAME_PATTERN, name):
        raise InvalidInput(
            "A tool name has 1 to 64 characters: lower-case letters, digits and _, starting with a letter "
            "(for example list_tasks).",
            field="name",
        )
    return name


def _bounded(text: str, limit: int, field: str) -> str:
    if len(text) > limit:
        raise InvalidInput(f"At most {limit} characters.", field=field)
    return text
