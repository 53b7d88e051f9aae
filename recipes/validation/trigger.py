"""Problems of a recipe's trigger: its parameters (names, enum options, defaults) and output schema.

Every run validates the tool's result against the output schema, so it is held to the limits of a
connector's input schemas (``schema_problem``): a few hundred bytes of ``$ref``s could otherwise stand
for millions of schemas to check on every call. The parameters build an input schema of fixed shape (a
type, options, a default that is only data), which references nothing.

Also the JSON types of parameter values as a builder reads them ("a number", "true or false"), which
the checks of action step inputs use too.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from switchboard.connectors.definitions.limits import schema_problem
from switchboard.recipes.model import Parameter, ToolTrigger
from switchboard.recipes.outcomes import Problem

TYPE_NAMES = {
    "string": "text",
    "number": "a number",
    "integer": "an integer",
    "boolean": "true or false",
    "object": "a JSON object",
    "array": "a JSON list",
}


def trigger_problems(trigger: ToolTrigger) -> Iterable[Problem]:
    seen: set[str] = set()
    for index, parameter in enumerate(trigger.parameters, start=1):
        where = f"parameters.{index}"
        if parameter.name in seen:
            yield _trigger(f"{where}.name", f"another parameter is called {parameter.name} already")
        seen.add(parameter.name)
        if parameter.type == "enum" and not parameter.options:
            yield _trigger(f"{where}.options", "an enum needs at least one option")
        message = _default_problem(parameter)
        if message:
            yield _trigger(f"{where}.default", message)
    if trigger.output_schema is not None:
        message = _output_schema_problem(trigger.output_schema)
        if message:
            yield _trigger("output_schema", message)


def _output_schema_problem(schema: dict[str, Any]) -> str:
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        path = "/".join(str(part) for part in exc.path)
        at = f" (at {path})" if path else ""
        return f"not a valid JSON Schema{at}: {exc.message}"
    return schema_problem(schema, what="the output schema") or ""


def _trigger(field: str, message: str) -> Problem:
    return Problem(step="trigger", field=field, message=message)


def _default_problem(parameter: Parameter) -> str:
    default = parameter.default
    if default is None:
        return ""
    if parameter.type == "enum":
        if parameter.options and default not in parameter.options:
            choices = ", ".join(parameter.options)
            return f"the default must be one of the options ({choices})"
        return ""
    if not suits(default, parameter.type):
        return f"the default must be {TYPE_NAMES[json_type(parameter)]}"
    if parameter.type == "array":
        wrong = next((item for item in default if not suits(item, parameter.items)), None)
        if wrong is not None:
            return f"every item of the default must be {TYPE_NAMES[parameter.items]}; {wrong!r} is not"
    return ""


def suits(value: Any, json_type: str) -> bool:
    if json_type == "string":
        return isinstance(value, str)
    if json_type == "boolean":
        return isinstance(value, bool)
    if isinstance(value, bool):
        return False
    if json_type == "integer":
        return isinstance(value, int) or (isinstance(value, float) and value.is_integer())
    if json_type == "number":
        return isinstance(value, int | float)
    if json_type == "object":
        return isinstance(value, dict)
    if json_type == "array":
        return isinstance(value, list | tuple)
    return True


def json_type(parameter: Parameter) -> str:
    """The JSON type of a parameter's values (an enum's are strings)."""
    return "string" if parameter.type == "enum" else parameter.type
