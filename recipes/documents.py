"""Recipe documents: a recipe exported for version control, and imported again into a project.

A document holds the trigger and the steps; each step names its connection only by name, never by id
and never with secrets. On export the name is the connection's current one; on import a step gets the
project's connection of that name and connector, and a missing one is a problem to fix, not an error.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final, Literal

import msgspec

from switchboard.connectors.connections.models import Connection
from switchboard.recipes.model import ActionStep, ConnectionRef, RecipeDefinition, Step, children

DOCUMENT_FORMAT: Final = "switchboard-recipe"


class RecipeDocument(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A recipe as exported: trigger and steps, connections by name only, never secrets."""

    format: Literal["switchboard-recipe"]
    format_version: Literal[1]
    definition: RecipeDefinition
    exported_version: int | None = None


def export_document(
    definition: RecipeDefinition, connections: Iterable[Connection], *, version: int | None
) -> RecipeDocument:
    """The definition as a document, each connection named as it is now among ``connections``."""
    # The connection's current name: it may have been renamed since the step chose it.
    names = {connection.id: connection.name for connection in connections}

    def by_name(step: ActionStep) -> ActionStep:
        if step.connection is None:
            return step
        ref = step.connection
        name = names.get(ref.id, ref.name) if ref.id is not None else ref.name
        return msgspec.structs.replace(step, connection=ConnectionRef(name=name))

    return RecipeDocument(
        format=DOCUMENT_FORMAT,
        format_version=1,
        definition=_map_actions(definition, by_name),
        exported_version=version,
    )


def import_definition(document: RecipeDocument, connections: Iterable[Connection]) -> RecipeDefinition:
    """The document's definition, each step's connection found by name (any case) and connector."""
    by_name = {(connection.name.lower(), connection.connector): connection for connection in connections}

    def resolve(step: ActionStep) -> ActionStep:
        if step.connection is None:
            return step
        found = by_name.get((step.connection.name.lower(), step.connector))
        name = found.name if found else step.connection.name
        ref = ConnectionRef(name=name, id=found.id if found else None)
        return msgspec.structs.replace(step, connection=ref)

    return _map_actions(document.definition, resolve)


def _map_actions(definition: RecipeDefinition, change: Any) -> RecipeDefinition:
    """The definition with ``change`` applied to every action step, at any depth."""

    def mapped(steps: tuple[Step, ...]) -> tuple[Step, ...]:
        out: list[Step] = []
        for step in steps:
            if isinstance(step, ActionStep):
                out.append(change(step))
                continue
            nested = {name: mapped(branch) for name, branch in children(step)}
            out.append(msgspec.structs.replace(step, **nested) if nested else step)
        return tuple(out)

    return msgspec.structs.replace(definition, steps=mapped(definition.steps))
