"""Editing a definition as the editor does: steps added, moved, removed and replaced at any depth."""

from __future__ import annotations

import pytest

from switchboard.platform.core.errors import InvalidInput, NotFound
from switchboard.recipes.editing import add_step, move_step, position_of, remove_step, replace_step
from switchboard.recipes.model import (
    ActionStep,
    Condition,
    ForEachStep,
    IfStep,
    RecipeDefinition,
    ResultStep,
    ToolTrigger,
)


def definition() -> RecipeDefinition:
    """1 action, 2 if (then: 2.1 action; otherwise: 2.2 for-each with 2.2.1 action), 3 result."""
    return RecipeDefinition(
        trigger=ToolTrigger(name="tool"),
        steps=(
            ActionStep(id="step_1"),
            IfStep(
                id="step_2",
                then=(ActionStep(id="step_3"),),
                otherwise=(ForEachStep(id="step_4", steps=(ActionStep(id="step_5"),)),),
            ),
            ResultStep(id="step_6"),
        ),
    )


def numbered(recipe: RecipeDefinition) -> list[tuple[str, str]]:
    return [(number, step.id) for number, step in recipe.walk()]


def test_a_new_step_of_each_type_is_empty_and_gets_a_fresh_id() -> None:
    recipe, action = add_step(definition(), "action")
    assert action == ActionStep(id="step_7")
    # Before the closing Return result: the recipe still ends there.
    assert recipe.steps[-2:] == (action, ResultStep(id="step_6"))

    recipe, condition = add_step(recipe, "if", index=0)
    assert condition == IfStep(id="step_8", conditions=(Condition(),))
    assert recipe.steps[0] == condition

    recipe, loop = add_step(recipe, "for_each")
    recipe, result = add_step(recipe, "result")
    assert (type(loop), type(result)) == (ForEachStep, ResultStep)
    assert [step.id for step in recipe.steps] == [
        "step_8",
        "step_1",
        "step_2",
        "step_7",
        "step_9",
        "step_6",
        "step_10",
    ]


def test_steps_are_added_to_then_otherwise_and_for_each_bodies() -> None:
    recipe, first = add_step(definition(), "action", parent_id="step_2", branch="then")
    recipe, second = add_step(recipe, "result", parent_id="step_2", branch="otherwise", index=0)
    recipe, third = add_step(recipe, "action", parent_id="step_4")
    condition = recipe.step("step_2")
    assert isinstance(condition, IfStep)
    assert [s.id for s in condition.then] == ["step_3", first.id]
    assert [s.id for s in condition.otherwise] == [second.id, "step_4"]
    loop = recipe.step("step_4")
    assert isinstance(loop, ForEachStep)
    assert [s.id for s in loop.steps] == ["step_5", third.id]


def test_adding_to_an_unknown_parent_branch_or_type_is_refused() -> None:
    with pytest.raises(NotFound):
        add_step(definition(), "action", parent_id="step_99")
    with pytest.raises(InvalidInput) as refused:
        add_step(definition(), "action", parent_id="step_1")
    assert refused.value.field == "branch"
    with pytest.raises(InvalidInput):
        add_step(definition(), "action", parent_id="step_2", branch="steps")
    with pytest.raises(InvalidInput) as refused:
        add_step(definition(), "webhook")
    assert refused.value.field == "step_type"


def test_a_step_moves_within_its_own_list_and_stays_put_at_either_end() -> None:
    recipe = move_step(definition(), "step_6", -1)
    assert [s.id for s in recipe.steps] == ["step_1", "step_6", "step_2"]
    assert move_step(recipe, "step_1", -1) == recipe
    nested = move_step(definition(), "step_5", +1)
    assert nested == definition()
    with pytest.raises(NotFound):
        move_step(definition(), "step_99", 1)
    with pytest.raises(InvalidInput):
        move_step(definition(), "step_1", 2)


def test_removing_an_if_removes_its_branches_and_renumbers() -> None:
    recipe = remove_step(definition(), "step_2")
    assert numbered(recipe) == [("1", "step_1"), ("2", "step_6")]
    recipe = remove_step(definition(), "step_5")
    assert numbered(recipe) == [
        ("1", "step_1"),
        ("2", "step_2"),
        ("2.1", "step_3"),
        ("2.2", "step_4"),
        ("3", "step_6"),
    ]
    with pytest.raises(NotFound):
        remove_step(definition(), "step_99")


def test_a_step_is_replaced_at_any_depth_keeping_its_place() -> None:
    changed = ActionStep(id="step_5", connector="demo-tasks", action="create_task")
    recipe = replace_step(definition(), changed)
    assert recipe.step("step_5") == changed
    assert numbered(recipe) == numbered(definition())
    with pytest.raises(NotFound):
        replace_step(definition(), ActionStep(id="step_99"))


def test_position_of_tells_where_a_step_is_in_its_own_list() -> None:
    assert position_of(definition(), "step_6") == (2, 3)
    assert position_of(definition(), "step_5") == (0, 1)
    with pytest.raises(NotFound):
        position_of(definition(), "nope")
