"""The editor's pill picker: the data pills a step may use, with a label and where each comes from.

It offers what ``scope`` lets the step see, so a picked pill never becomes a validation problem.
"""

from __future__ import annotations

from collections.abc import Mapping

import msgspec

from switchboard.connectors.definitions.model import Action, ConnectorDefinition
from switchboard.recipes.model import ActionStep, Parameter, RecipeDefinition, Step, step_title, step_type
from switchboard.recipes.validation.scope import USER_FIELDS, Layout


class PillOption(msgspec.Struct, frozen=True, kw_only=True):
    """One entry of the editor's pill picker: what to insert, what to call it, where it comes from."""

    expression: str
    label: str
    source: str
    type: str = ""

    @property
    def pill(self) -> str:
        return "{{ " + self.expression + " }}"


def available_pills(
    definition: RecipeDefinition, step_id: str, *, connectors: Mapping[str, ConnectorDefinition] | None = None
) -> list[PillOption]:
    """What the pill picker offers at ``step_id``: trigger parameters, earlier steps' outputs (with the
    keys an action's output is known to have, given its connector definition), loop variables, and the
    caller (``user``). An unknown step id gets the trigger's and the caller's pills only."""
    connectors = connectors or {}
    layout = Layout(definition)
    place = layout.places.get(step_id)
    options = [
        PillOption(
            expression=f"input.{parameter.name}",
            label=parameter.name,
            source="Trigger",
            type=_parameter_hint(parameter),
        )
        for parameter in definition.trigger.parameters
    ]
    if place is not None:
        for visible_id in place.visible:
            options += _step_options(layout, layout.steps[visible_id], connectors)
        for loop in place.loops:
            source = f"For each {loop.as_name}"
            options.append(
                PillOption(expression=loop.as_name, label=loop.as_name, source=source, type="item")
            )
        if place.loops:
            options.append(
                PillOption(expression="loop.index", label="position (1, 2, …)", source=source, type="integer")
            )
    options += [
        PillOption(expression=f"user.{name}", label=name, source="User", type=hint)
        for name, hint in USER_FIELDS.items()
    ]
    return options


def _step_options(
    layout: Layout, step: Step, connectors: Mapping[str, ConnectorDefinition]
) -> list[PillOption]:
    title = step_title(step)
    action: Action | None = None
    if isinstance(step, ActionStep) and step.connector in connectors:
        action = connectors[step.connector].action(step.action)
        if action is not None and not step.title:
            title = action.title
    source = f"Step {layout.number(step)} · {title}"
    kind = step_type(step)
    hint = {"if": "true or false", "for_each": "list"}.get(kind, "action output")
    label = {"if": "condition held", "for_each": "outputs of each item"}.get(kind, "output")
    options = [PillOption(expression=f"steps.{step.id}", label=label, source=source, type=hint)]
    if action is not None:
        keys = action.output.pick
        options += [
            PillOption(expression=f"steps.{step.id}.{key}", label=key, source=source, type="value")
            for key in keys
            if key.isidentifier()
        ]
    return options


def _parameter_hint(parameter: Parameter) -> str:
    if parameter.type == "enum":
        return "one of " + ", ".join(parameter.options)
    if parameter.type == "array":
        return f"list of {parameter.items}"
    return parameter.type
