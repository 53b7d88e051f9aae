"""Problems of the data pills a step's fields use: Jinja syntax, and pills the step cannot see.

Each message says why a pill is out of reach ("step 3 runs after this step", "step 2.1 is inside the
'then' branch of the if at step 2") so a builder knows where to move a step; see ``scope`` for what a
step sees.
"""

from __future__ import annotations

from collections.abc import Iterable

from switchboard.recipes.model import ActionStep, ForEachStep, IfStep, RecipeDefinition, ResultStep, Step
from switchboard.recipes.outcomes import Problem
from switchboard.recipes.templates import PillRef, references, syntax_problem
from switchboard.recipes.validation.scope import ROOTS, USER_FIELDS, Layout, Place


def template_fields(step: Step) -> Iterable[tuple[str, str]]:
    """Every builder-written template of the step, with its field name."""
    if isinstance(step, ActionStep):
        if step.account:
            yield "account", step.account
        for name, text in step.inputs.items():
            yield f"inputs.{name}", text
    elif isinstance(step, IfStep):
        for index, condition in enumerate(step.conditions, start=1):
            yield f"conditions.{index}.left", condition.left
            yield f"conditions.{index}.right", condition.right
    elif isinstance(step, ForEachStep):
        yield "items", step.items
    else:
        yield "text", step.text
        for key, text in step.structured.items():
            yield f"structured.{key}", text
        yield "structured_from", step.structured_from


def field_problems(
    definition: RecipeDefinition,
    layout: Layout,
    step: Step,
    place: Place,
    number: str,
    field: str,
    text: str,
) -> Iterable[Problem]:
    if not text:
        return
    syntax = syntax_problem(text)
    if syntax is not None:
        yield Problem(step=number, step_id=step.id, field=field, message=syntax)
        return
    for reference in references(text):
        message = _reference_problem(definition, layout, step, place, reference)
        if message:
            yield Problem(step=number, step_id=step.id, field=field, message=f"{reference}: {message}")


def _reference_problem(
    definition: RecipeDefinition, layout: Layout, step: Step, place: Place, reference: PillRef
) -> str:
    root, path = reference.root, reference.path
    if root == "input":
        if path and isinstance(path[0], str) and definition.trigger.parameter(path[0]) is None:
            return f"the trigger has no parameter {path[0]}"
        return ""
    if root == "user":
        if path and path[0] not in USER_FIELDS:
            return "user has only email, name and groups"
        return ""
    if root == "steps":
        return _step_reference_problem(layout, step, place, path)
    loop_names = {loop.as_name for loop in place.loops} | ({"loop"} if place.loops else set())
    if root in loop_names:
        return ""
    outer = next(
        (
            other
            for other in layout.steps.values()
            if isinstance(other, ForEachStep) and other.as_name == root
        ),
        None,
    )
    if outer is not None or (root == "loop" and not place.loops):
        where = f"the for-each at step {layout.number(outer)}" if outer is not None else "a for-each"
        return f"{root} is the loop variable of {where}; use it only inside that for-each"
    names = ", ".join((*ROOTS, *sorted(loop_names)))
    return f"{root} is not a data pill (use {names})"


def _step_reference_problem(layout: Layout, step: Step, place: Place, path: tuple[str | int, ...]) -> str:
    if not path or not isinstance(path[0], str):
        return "name a step, such as steps.step_1"
    target_id = path[0]
    target = layout.steps.get(target_id)
    if target is None:
        return f"there is no step {target_id}"
    if target_id == step.id:
        return "a step cannot use its own output"
    target_place = layout.places[target_id]
    if isinstance(target, ResultStep):
        return f"step {target_place.number} returns the result and gives no data to other steps"
    if target_id in place.visible:
        return ""
    if any(parent.id == target_id for parent, _ in place.parents):
        return f"step {target_place.number} contains this step; its output is ready only after it"
    if target_place.order > place.order:
        return f"step {target_place.number} runs after this step"
    parent, branch = target_place.parents[-1]
    if isinstance(parent, ForEachStep):
        return (
            f"step {target_place.number} is inside the for-each at step {layout.number(parent)}; "
            f"only the steps in that for-each can use it"
        )
    return (
        f"step {target_place.number} is inside the {branch!r} branch of the if at step "
        f"{layout.number(parent)}; only the steps in that branch can use it"
    )
