"""The step forms: a step made from what was submitted, what is wrong with it, and unsaved row changes.

``step_from_form`` builds the step unchecked, so a refused form shows what was typed; ``check_step``
names what the form itself got wrong (validation lists the rest as the draft's problems); ``restructure``
adds or removes a condition or a structured row without saving.
"""

from __future__ import annotations

from uuid import UUID

import msgspec
from litestar.datastructures import FormMultiDict

from switchboard.connectors.connections.models import Connection
from switchboard.recipes.model import (
    ActionStep,
    Condition,
    ConnectionRef,
    ForEachStep,
    IfStep,
    ResultStep,
    Step,
)
from switchboard.ui.pages.recipe_editor.forms import check_struct, indices, op_index, text


def step_from_form(
    step: Step,
    form: FormMultiDict,
    *,
    input_names: list[str],
    connections: list[Connection],
) -> Step:
    """The step as submitted (not yet checked): ``check_step`` tells what is wrong with it."""
    title = text(form, "title")
    if isinstance(step, ActionStep):
        connector = text(form, "connector")
        action = text(form, "action")
        chosen = _connection(text(form, "connection"), connector, connections)
        inputs = {name: form.get(f"inputs.{name}", "") for name in input_names}
        return ActionStep(
            id=step.id,
            title=title,
            connector=connector,
            action=action,
            connection=chosen,
            account=str(form.get("account", "")).strip(),
            inputs={name: str(value) for name, value in inputs.items() if str(value).strip()},
            idempotent=bool(form.get("idempotent")),
            timeout_seconds=step.timeout_seconds,
        )
    if isinstance(step, IfStep):
        conditions = tuple(
            Condition(
                left=str(form.get(f"conditions.{i}.left", "")),
                operator=text(form, f"conditions.{i}.operator") or "equals",  # type: ignore[arg-type]
                right=str(form.get(f"conditions.{i}.right", "")),
            )
            for i in indices(form, "conditions", "left")
        )
        match = "any" if text(form, "match") == "any" else "all"
        return msgspec.structs.replace(step, title=title, conditions=conditions, match=match)
    if isinstance(step, ForEachStep):
        return msgspec.structs.replace(
            step, title=title, items=str(form.get("items", "")).strip(), as_name=text(form, "as_name")
        )
    return ResultStep(
        id=step.id,
        title=title,
        text=str(form.get("text", "")),
        structured=dict(structured_rows(form)),
        structured_from=text(form, "structured_from"),
    )


def structured_rows(form: FormMultiDict) -> list[tuple[str, str]]:
    """The result's key/value rows in order, as typed."""
    return [
        (text(form, f"structured.{i}.key"), str(form.get(f"structured.{i}.value", "")))
        for i in indices(form, "structured", "key")
    ]


def check_step(step: Step, form: FormMultiDict) -> dict[str, str]:
    """What is wrong with a submitted step, by field, beyond what validation lists as a problem."""
    errors: dict[str, str] = {}
    if isinstance(step, ResultStep):
        keys = [text(form, f"structured.{i}.key") for i in indices(form, "structured", "key")]
        for position, key in enumerate(keys):
            if not key:
                errors[f"structured.{position + 1}.key"] = "Enter a key, or remove the row."
            elif keys.index(key) != position:
                errors[f"structured.{position + 1}.key"] = f"The key {key!r} is used twice."
        if step.structured and step.structured_from:
            errors["structured_from"] = "Use either key/value rows or one pill, not both."
    if isinstance(step, ForEachStep) and not step.as_name:
        errors["as_name"] = "Enter a name for the loop variable, such as item."
    check_struct(step, type(step), "", errors)
    return errors


def _connection(value: str, connector: str, connections: list[Connection]) -> ConnectionRef | None:
    try:
        wanted = UUID(value) if value else None
    except ValueError:
        return None
    found = next((c for c in connections if c.id == wanted and c.connector == connector), None)
    return ConnectionRef(name=found.name, id=found.id) if found else None


def restructure(step: Step, op: str, rows: dict[str, list[tuple[str, str]]]) -> tuple[Step, str]:
    """Add or remove a condition or a structured row without saving; and where the focus goes."""
    base = f"step-{step.id}"
    if isinstance(step, IfStep):
        if op == "add_condition":
            changed = msgspec.structs.replace(step, conditions=(*step.conditions, Condition()))
            return changed, f"{base}-conditions-{len(step.conditions) + 1}-left"
        index = op_index(op)
        if op.startswith("remove_condition:") and index is not None:
            kept = tuple(c for i, c in enumerate(step.conditions) if i != index)
            return msgspec.structs.replace(step, conditions=kept), f"{base}-add-condition"
    if isinstance(step, ResultStep):
        shown = rows.setdefault(step.id, [])
        if op == "add_key":
            shown.append(("", ""))
            return step, f"{base}-structured-{len(shown)}-key"
        index = op_index(op)
        if op.startswith("remove_key:") and index is not None:
            del shown[index : index + 1]
            return step, f"{base}-add-key"
    # "reload": the connector or action changed; show that action's inputs.
    if isinstance(step, ActionStep):
        # The next choice to make: the action of the connector, then the connection.
        return step, f"{base}-{'connection' if step.action else 'action' if step.connector else 'connector'}"
    return step, f"{base}-title"
