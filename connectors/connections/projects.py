"""Projects: the builder's folders ("Location" in the connection form) that own connections and recipes."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

import msgspec

from switchboard.connectors.connections.models import Project, ProjectCreate
from switchboard.connectors.tables import Connection as ConnectionRow
from switchboard.connectors.tables import Project as ProjectRow
from switchboard.identity.audit import AuditLog
from switchboard.identity.principal import Actor, Principal, SystemActor
from switchboard.identity.services.users import validate_text
from switchboard.platform.core.database import is_foreign_key_violation, is_unique_violation
from switchboard.platform.core.errors import Conflict, InvalidInput, NotFound

DEFAULT_PROJECT = "Default"
PROJECT = "project"
"""The audit trail's object type of a project."""
PROJECT_SET_UP = SystemActor("project set-up")
"""Who makes the project ``ensure`` finds missing: whoever asked for it may work in it (a builder, the
command line, the demo seed), and a project records no creator."""


def _clean_name(name: str) -> str:
    name = validate_text(" ".join(name.split()), field="name")
    if not name:
        raise InvalidInput("Enter a project name.", field="name")
    if len(name) > 80:
        raise InvalidInput("A project name can have at most 80 characters.", field="name")
    return name


def _clean_description(description: str) -> str:
    description = validate_text(description.strip(), field="description")
    if len(description) > 500:
        raise InvalidInput("A description can have at most 500 characters.", field="description")
    return description


class ProjectService:
    """Projects, each one made or deleted recorded in the audit trail (who, which project, from where)."""

    def __init__(self, audit: AuditLog | None = None) -> None:
        # The app's services pass the app's one audit log; a reader on its own (the demo seed) may not.
        self._audit = audit or AuditLog()

    async def list_all(self) -> list[Project]:
        rows = await ProjectRow.select().order_by(ProjectRow.name_key)
        return [msgspec.convert(row, Project) for row in rows]

    async def get(self, project_id: UUID) -> Project:
        row = await ProjectRow.select().where(ProjectRow.id == project_id).first()
        if row is None:
            raise NotFound("No such project.", field="project_id")
        return msgspec.convert(row, Project)

    async def find(self, name: str) -> Project | None:
        row = await ProjectRow.select().where(ProjectRow.name_key == _clean_name(name).lower()).first()
        return msgspec.convert(row, Project) if row else None

    async def create(self, data: ProjectCreate, *, actor: Actor) -> Project:
        actor.require_builder()
        name = _clean_name(data.name)
        row = ProjectRow(
            name=name,
            name_key=name.lower(),
            description=_clean_description(data.description),
            created_at=datetime.now(UTC),
        )
        try:
            await row.save()
        except Exception as exc:
            if is_unique_violation(exc):
                raise Conflict(f"A project named {name!r} already exists.", field="name") from exc
            raise
        await self._audit.change(
            actor, "project.created", object_type=PROJECT, object_id=row.id, object_name=name
        )
        return await self.get(row.id)

    async def ensure(self, name: str = DEFAULT_PROJECT) -> Project:
        """The named project, created when missing (the demo seed and first-time builders use it)."""
        return await self.find(name) or await self.create(ProjectCreate(name=name), actor=PROJECT_SET_UP)

    async def delete(self, project_id: UUID, *, actor: Principal) -> None:
        actor.require_builder()
        project = await self.get(project_id)
        if await ConnectionRow.exists().where(ConnectionRow.project == project_id):
            raise Conflict("Delete or move the project's connections first.", field="project_id")
        try:
            await ProjectRow.delete().where(ProjectRow.id == project_id)
        except Exception as exc:
            if is_foreign_key_violation(exc):  # recipes, which this layer does not know, still use it
                raise Conflict("Delete the project's recipes first.", field="project_id") from exc
            raise
        await self._audit.change(
            actor, "project.deleted", object_type=PROJECT, object_id=project.id, object_name=project.name
        )
