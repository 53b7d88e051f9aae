"""Definitions and OpenAPI documents past the limits are refused before they cost time: YAML aliases that
multiply, nesting too deep, input schemas whose references multiply. Legitimate anchors still load."""

from __future__ import annotations

import time
from typing import Any

import pytest

from switchboard.connectors.definitions import DefinitionError, dump_definition, load_definition
from switchboard.connectors.definitions.loading import MAX_DEPTH, MAX_SCHEMA_VALUES, MAX_VALUES
from switchboard.connectors.openapi import definition_from_openapi
from tests.connectors.oversized import (
    alias_bomb,
    deep_json,
    deep_yaml,
    definition,
    nested,
    openapi_alias_bomb,
    reference_bomb,
)

TOO_MANY_VALUES = f"holds more than {MAX_VALUES:,} values once its YAML aliases are expanded"
TOO_DEEP = f"nests deeper than {MAX_DEPTH} levels"


def refused(document: Any, *, seconds: float = 1.0) -> DefinitionError:
    """The error loading ``document`` raised, checking it came within ``seconds``."""
    started = time.monotonic()
    with pytest.raises(DefinitionError) as caught:
        load_definition(document)
    assert time.monotonic() - started < seconds
    return caught.value


def test_an_alias_bomb_is_refused_at_once_naming_the_limit() -> None:
    error = refused(alias_bomb(6, 9))

    assert error.status == 400
    assert error.message == f"definition: the document {TOO_MANY_VALUES}"


def test_aliases_that_expand_to_fewer_values_than_the_limit_load() -> None:
    loaded = load_definition(alias_bomb(5, 9))

    assert len(loaded.actions[0].input_schema["default"]["l4"]) == 9


def test_an_alias_that_contains_itself_is_refused() -> None:
    text = (
        "key: loop\nname: Loop\nbase_url: https://api.example.com\nactions:\n  - name: go\n    title: Go\n"
        "    path: /go\n    input_schema: {type: object, default: &me [1, *me]}\n"
    )

    error = refused(text)

    assert error.message == "definition: a YAML alias refers to the value that contains it"


@pytest.mark.parametrize("document", [deep_json(200), deep_yaml(200)], ids=["json", "yaml"])
def test_a_deeply_nested_definition_is_refused_naming_the_limit(document: str) -> None:
    error = refused(document)

    assert error.status == 400
    assert error.message == f"definition: the document {TOO_DEEP}"


def test_a_deeply_nested_definition_given_as_data_is_refused_too() -> None:
    error = refused(definition(nested(200)))

    assert error.message == f"definition: the definition {TOO_DEEP}"


def test_nesting_past_what_the_yaml_parser_allows_is_refused_the_same_way() -> None:
    error = refused("a: " + "[" * 5000 + "]" * 5000)

    assert error.message == f"definition: the document {TOO_DEEP}"


def test_an_input_schema_whose_references_multiply_is_refused() -> None:
    error = refused(definition(reference_bomb(6, 9)))

    assert error.status == 400
    assert error.message == (
        f"definition: `actions.go.input_schema`: the input schema holds more than {MAX_SCHEMA_VALUES:,} "
        "values once its references are expanded"
    )


def test_recursive_and_shared_references_are_accepted() -> None:
    schema = {
        "type": "object",
        "$defs": {
            "node": {"type": "object", "properties": {"children": {"type": "array", "items": {"$ref": "#"}}}},
            "name": {"type": "string", "maxLength": 80},
        },
        "properties": {
            "tree": {"$ref": "#/$defs/node"},
            "first": {"$ref": "#/$defs/name"},
            "last": {"$ref": "#/$defs/name"},
        },
    }

    assert load_definition(definition(schema)).actions[0].input_schema == schema


def test_anchors_used_a_few_times_still_load() -> None:
    text = """\
key: anchored
name: Anchored
base_url: https://api.example.com
actions:
  - name: one
    title: One
    path: /one
    input_schema: &inputs
      type: object
      properties: {owner: &owner {type: string, description: The owner}, repo: {type: string}}
  - name: two
    title: Two
    path: /two
    input_schema: *inputs
  - name: three
    title: Three
    path: /three
    input_schema: {type: object, properties: {owner: *owner}}
"""
    loaded = load_definition(text)

    assert loaded.actions[1].input_schema == loaded.actions[0].input_schema
    assert loaded.actions[2].input_schema["properties"]["owner"]["description"] == "The owner"
    assert load_definition(dump_definition(loaded)) == loaded


def test_an_openapi_alias_bomb_is_refused_naming_the_limit() -> None:
    started = time.monotonic()
    with pytest.raises(DefinitionError) as caught:
        definition_from_openapi(openapi_alias_bomb(6, 9))

    assert time.monotonic() - started < 1.0
    assert caught.value.status == 400
    assert caught.value.message == f"OpenAPI document: the document {TOO_MANY_VALUES}"


def test_openapi_references_that_nest_too_deep_once_inlined_are_refused_in_words() -> None:
    # Each schema is a few levels deep and names the next: inlined, they nest far past the limit.
    schemas: dict[str, Any] = {"s30": {"type": "string"}}
    for level in range(30):
        inner: dict[str, Any] = {"$ref": f"#/components/schemas/s{level + 1}"}
        for _ in range(3):
            inner = {"type": "object", "properties": {"p": inner}}
        schemas[f"s{level}"] = inner
    document = {
        "openapi": "3.0.3",
        "info": {"title": "Deep", "version": "1"},
        "servers": [{"url": "https://deep.example.com"}],
        "paths": {
            "/x": {
                "get": {
                    "parameters": [
                        {"name": "q", "in": "query", "schema": {"$ref": "#/components/schemas/s0"}}
                    ],
                    "responses": {"200": {"description": "ok"}},
                }
            }
        },
        "components": {"schemas": schemas},
    }

    with pytest.raises(DefinitionError) as caught:
        definition_from_openapi(document)

    assert caught.value.message.startswith(
        f"the schemas nest deeper than {MAX_DEPTH} levels once their references are expanded - at "
    )
