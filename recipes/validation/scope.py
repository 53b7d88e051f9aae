"""Where each step stands in a recipe, and so which data pills it may use.

Scope of data pills: a step sees the trigger's inputs, ``user``, the earlier steps of its own list, the
earlier steps of each list it is nested in (those before the enclosing step), and the loop variables of
the for-eachs it is inside. A step inside an if-branch or a for-each body is not visible outside it.
"""

from __future__ import annotations

import msgspec

from switchboard.recipes.model import ForEachStep, RecipeDefinition, ResultStep, Step, children, walk_steps

USER_FIELDS: dict[str, str] = {"email": "string", "name": "string", "groups": "list of strings"}
# The names every step may use, besides the loop variables of the for-eachs around it.
ROOTS = ("input", "steps", "user")


class Place(msgspec.Struct, frozen=True):
    """A step's position: its number, walk order, the steps it can see, the for-eachs around it and the
    steps that contain it (innermost last)."""

    number: str
    order: int
    visible: tuple[str, ...]
    loops: tuple[ForEachStep, ...]
    parents: tuple[tuple[Step, str], ...]


class Layout:
    """Every step's place, computed once per check."""

    def __init__(self, definition: RecipeDefinition) -> None:
        self.places: dict[str, Place] = {}
        # By the step object too: a duplicated id must not give its second step the first one's place.
        self.at: dict[int, Place] = {}
        self.steps: dict[str, Step] = {}
        numbers = {id(step): number for number, step in walk_steps(definition.steps)}
        order = {id(step): index for index, (_, step) in enumerate(walk_steps(definition.steps))}
        self._numbers = numbers
        self._place(definition.steps, (), (), (), order)

    def _place(
        self,
        steps: tuple[Step, ...],
        seen: tuple[str, ...],
        loops: tuple[ForEachStep, ...],
        parents: tuple[tuple[Step, str], ...],
        order: dict[int, int],
    ) -> None:
        visible = seen
        for step in steps:
            place = Place(self._numbers[id(step)], order[id(step)], visible, loops, parents)
            self.places.setdefault(step.id, place)
            self.at[id(step)] = place
            self.steps.setdefault(step.id, step)
            inner_loops = (*loops, step) if isinstance(step, ForEachStep) else loops
            for branch, inner in children(step):
                self._place(inner, visible, inner_loops, (*parents, (step, branch)), order)
            if not isinstance(step, ResultStep):
                visible = (*visible, step.id)

    def number(self, step: Step) -> str:
        return self._numbers[id(step)]
