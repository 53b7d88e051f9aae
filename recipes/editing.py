"""Editing a recipe definition: add, move, remove and replace steps, change the trigger.

Pure functions on the immutable :class:`RecipeDefinition`: each returns a new definition, so the editor
can build the next draft, validate it and only then save it. Steps are found by id at any depth (inside
if/else branches and for-each bodies); an unknown id raises :class:`NotFound`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import msgspec

from switchboard.platform.core.errors import InvalidInput, NotFound
from switchboard.recipes.model import (
    ActionStep,
    Condition,
    ForEachStep,
    IfStep,
    RecipeDefinition,
    ResultStep,
    Step,
    ToolTrigger,
)

StepType = Literal["action", "if", "for_each", "result"]
# The nested lists a step may hold, as named in the definition.
BRANCHES: dict[type, tuple[str, ...]] = {IfStep: ("then", "otherwise"), ForEachStep: ("steps",)}

StepList = tuple[Step, ...]


def empty_step(step_type: str, step_id: str) -> Step:
    """A new step of ``step_type`` with nothing chosen yet (an if has one empty condition)."""
    if step_type == "action":
        return ActionStep(id=step_id)
    if step_type == "if":
        return IfStep(id=step_id, conditions=(Condition(),))
    if step_type == "for_each":
        return ForEachStep(id=step_id)
    if step_type == "result":
        return ResultStep(id=step_id)
    raise InvalidInput("Choose Action, If / else, For each or Return result.", field="step_type")


def add_step(
    definition: RecipeDefinition,
    step_type: str,
    *,
    parent_id: str | None = None,
    branch: str = "",
    index: int | None = None,
) -> tuple[RecipeDefinition, Step]:
    """Add an empty step at the end of a list (or at ``index``): the top level, or a branch of a parent.

    ``branch`` is ``then`` or ``otherwise`` for an if, ``steps`` (or empty) for a for-each. Without an
    ``index``, a step other than a result goes before a list's closing Return result: a recipe ends there.
    """
    step = empty_step(step_type, definition.new_step_id())

    def insert(steps: StepList) -> StepList:
        if index is not None:
            position = max(0, min(index, len(steps)))
        elif steps and isinstance(steps[-1], ResultStep) and not isinstance(step, ResultStep):
            position = len(steps) - 1
        else:
            position = len(steps)
        return (*steps[:position], step, *steps[position:])

    if not parent_id:
        return msgspec.structs.replace(definition, steps=insert(definition.steps)), step
    parent = definition.step(parent_id)
    if parent is None:
        raise NotFound("No such step.", field="parent_id")
    names = BRANCHES.get(type(parent), ())
    name = branch or (names[0] if len(names) == 1 else "")
    if name not in names:
        raise InvalidInput("Steps can be added to then, otherwise or a for-each body only.", field="branch")
    changed = msgspec.structs.replace(parent, **{name: insert(getattr(parent, name))})
    return replace_step(definition, changed), step


def replace_step(definition: RecipeDefinition, step: Step) -> RecipeDefinition:
    """The definition with the step of the same id replaced by ``step``, wherever it is."""
    return _edit(
        definition, step.id, lambda steps, position: (*steps[:position], step, *steps[position + 1 :])
    )


def remove_step(definition: RecipeDefinition, step_id: str) -> RecipeDefinition:
    """The definition without the step (and, for an if or for-each, the steps inside it)."""
    return _edit(definition, step_id, lambda steps, position: (*steps[:position], *steps[position + 1 :]))


def move_step(definition: RecipeDefinition, step_id: str, offset: int = -1) -> RecipeDefinition:
    """Move a step up (-1) or down (+1) within its list; at either end it stays where it is."""
    if offset not in (-1, 1):
        raise InvalidInput("A step moves up or down by one place.", field="offset")

    def swap(steps: StepList, position: int) -> StepList:
        other = position + offset
        if not 0 <= other < len(steps):
            return steps
        moved = list(steps)
        moved[position], moved[other] = moved[other], moved[position]
        return tuple(moved)

    return _edit(definition, step_id, swap)


def set_trigger(definition: RecipeDefinition, trigger: ToolTrigger) -> RecipeDefinition:
    return msgspec.structs.replace(definition, trigger=trigger)


def position_of(definition: RecipeDefinition, step_id: str) -> tuple[int, int]:
    """The step's place in its own list and that list's length (to offer Move up / Move down)."""
    found = _locate(definition.steps, step_id)
    if found is None:
        raise NotFound("No such step.", field="step_id")
    return found


def _locate(steps: StepList, step_id: str) -> tuple[int, int] | None:
    for position, step in enumerate(steps):
        if step.id == step_id:
            return position, len(steps)
        for name in BRANCHES.get(type(step), ()):
            found = _locate(getattr(step, name), step_id)
            if found is not None:
                return found
    return None


def _edit(
    definition: RecipeDefinition, step_id: str, change: Callable[[StepList, int], StepList]
) -> RecipeDefinition:
    steps, found = _edit_list(definition.steps, step_id, change)
    if not found:
        raise NotFound("No such step.", field="step_id")
    return msgspec.structs.replace(definition, steps=steps)


def _edit_list(
    steps: StepList, step_id: str, change: Callable[[StepList, int], StepList]
) -> tuple[StepList, bool]:
    """Apply ``change`` to the list holding ``step_id``, rebuilding the parents on the way back up."""
    for position, step in enumerate(steps):
        if step.id == step_id:
            return change(steps, position), True
        for name in BRANCHES.get(type(step), ()):
            inner, found = _edit_list(getattr(step, name), step_id, change)
            if found:
                changed = msgspec.structs.replace(step, **{name: inner})
                return (*steps[:position], changed, *steps[position + 1 :]), True
    return steps, False
