"""Connector definitions: the built-in ones load, and each kind of mistake is refused naming its field."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from switchboard.connectors.definitions import (
    AuthorizationCodeAuth,
    DefinitionError,
    dump_definition,
    load_definition,
)
from switchboard.connectors.registry import BUILTIN_FOLDER, load_builtins

BUILTIN_FILES = sorted(BUILTIN_FOLDER.glob("*.yaml"))


def test_the_built_in_connectors_are_http_demo_tasks_and_github() -> None:
    assert sorted(load_builtins()) == ["demo-tasks", "github", "http"]


@pytest.mark.parametrize("path", BUILTIN_FILES, ids=lambda path: path.name)
def test_every_built_in_definition_loads_and_survives_a_round_trip_through_yaml(path: Path) -> None:
    definition = load_definition(path.read_text(encoding="utf-8"), source=path.name)

    assert load_definition(dump_definition(definition)) == definition


def test_demo_tasks_offers_both_scopes_at_its_host() -> None:
    definition = load_builtins()["demo-tasks"]

    assert isinstance(definition.auth, AuthorizationCodeAuth)
    assert [field.key for field in definition.fields] == ["host"]
    assert definition.fields[0].default == ""  # the console fills in where this Switchboard serves it
    assert [scope.name for scope in definition.known_scopes] == ["tasks:read", "tasks:write"]
    assert definition.auth.provider.default_scopes == ("tasks:read", "tasks:write")
    assert definition.auth.provider.token_url == "{host}/token"


def test_github_signs_in_at_web_url_and_calls_the_api_at_api_url() -> None:
    definition = load_builtins()["github"]

    assert isinstance(definition.auth, AuthorizationCodeAuth)
    provider = definition.auth.provider
    assert provider.authorize_url == "{web_url}/login/oauth/authorize"
    assert provider.token_url == "{web_url}/login/oauth/access_token"
    assert provider.userinfo_url == "{api_url}/user"
    assert provider.account_label == ("login",)
    assert provider.token_endpoint_auth_method == "client_secret_post"
    assert definition.base_url == "{api_url}"
    assert {field.key: field.default for field in definition.fields} == {
        "web_url": "https://github.com",
        "api_url": "https://api.github.com",
    }
    assert [action.name for action in definition.actions] == [
        "list_my_repositories",
        "list_issues",
        "create_issue",
    ]


GOOD: dict[str, Any] = {
    "key": "tasks",
    "name": "Tasks",
    "base_url": "{host}/api",
    "fields": [{"key": "host", "label": "Host", "kind": "url"}],
    "auth": {
        "type": "oauth2_authorization_code",
        "provider": {"authorize_url": "{host}/authorize", "token_url": "{host}/token"},
    },
    "actions": [
        {
            "name": "get_task",
            "title": "Get a task",
            "path": "/tasks/{task_id}",
            "input_schema": {"type": "object", "properties": {"task_id": {"type": "string"}}},
        },
        {
            "name": "create_task",
            "title": "Create a task",
            "method": "POST",
            "path": "/tasks",
            "input_schema": {"type": "object", "properties": {"title": {"type": "string"}}},
            "request": {"body": "json", "body_fields": {"title": "title"}},
        },
    ],
}


def changed(path: str, value: Any) -> dict[str, Any]:
    """GOOD with one value replaced, at a dotted path (list indexes as numbers)."""
    data = copy.deepcopy(GOOD)
    *parents, last = path.split(".")
    target: Any = data
    for part in parents:
        target = target[int(part)] if isinstance(target, list) else target[part]
    if isinstance(target, list):
        target[int(last)] = value
    else:
        target[last] = value
    return data


def test_the_sample_definition_is_good() -> None:
    assert load_definition(GOOD).key == "tasks"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            changed("key", "Tasks!"),
            "definition: `key` must be lower-case letters, digits, - and _, starting with a letter "
            "(at most 63); got 'Tasks!'.",
        ),
        (
            changed("auth.provider.token_url", "{hots}/token"),
            "definition: `auth.provider.token_url`: {hots} names no connection field",
        ),
        (
            changed("actions.0.path", "/tasks/{id}"),
            "definition: `actions.get_task.path`: {id} names no input",
        ),
        (
            changed("actions.1.name", "get_task"),
            "definition: `actions[1].name`: the action name 'get_task' is used twice",
        ),
        (
            changed(
                "actions.0.input_schema", {"type": "object", "properties": {"task_id": {"type": "text"}}}
            ),
            "definition: `actions.get_task.input_schema`: not a valid JSON Schema: 'text' is not valid "
            "under any of the given schemas",
        ),
        (
            changed("actions.1.method", "GET"),
            "definition: `actions.create_task.request.body`: a GET request has no body",
        ),
        (
            changed("auth", {"type": "kerberos"}),
            "definition: `auth.type` must be one of none, api_key, bearer, basic, "
            "oauth2_authorization_code, oauth2_client_credentials, oauth2_token_exchange; got 'kerberos'.",
        ),
        (
            changed("base_url", "ftp://tasks.example.com"),
            "definition: `base_url`: must be an https URL (http only for this machine)",
        ),
        (
            changed("auth.provider.authorize_url", "http://tasks.example.com/authorize"),
            "definition: `auth.provider.authorize_url`: must be an https URL (http only for this machine)",
        ),
        (
            changed(
                "fields.0", {"key": "host", "label": "Host", "kind": "url", "default": "http://10.1.2.3"}
            ),
            "definition: `fields.host.default`: the default is not an https URL",
        ),
        (
            changed("actions.1.request", {"body": "json", "body_fields": {"title": "name"}}),
            "definition: `actions.create_task.request.body_fields.title`: 'name' names no input",
        ),
        (
            changed("actions.0.colour", "blue"),
            "definition: `actions.get_task` has no field `colour`; the fields are name, title, "
            "description, method, path, input_schema, request, output, idempotent, raw_http, mcp_tool.",
        ),
    ],
    ids=[
        "bad key",
        "unknown placeholder",
        "unknown path input",
        "duplicate action",
        "bad JSON Schema",
        "GET with body",
        "unknown auth type",
        "bad URL",
        "http for a remote host",
        "http default for a remote host",
        "unknown body input",
        "unknown field",
    ],
)
def test_a_wrong_definition_is_refused_naming_the_field(data: dict[str, Any], message: str) -> None:
    with pytest.raises(DefinitionError) as refused:
        load_definition(data)

    assert refused.value.message == message


def without(path: str) -> dict[str, Any]:
    """GOOD with the field at a dotted path left out."""
    data = copy.deepcopy(GOOD)
    *parents, last = path.split(".")
    target: Any = data
    for part in parents:
        target = target[int(part)] if isinstance(target, list) else target[part]
    del target[last]
    return data


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (changed("base_url", 5), "`base_url` must be text of at most 2000 characters; got the number 5."),
        (
            without("actions.1.title"),
            "`actions.create_task.title` is missing: it must be text of 1 to 120 characters.",
        ),
        (
            changed("actions.0.method", "FETCH"),
            "`actions.get_task.method` must be one of DELETE, GET, PATCH, POST, PUT; got 'FETCH'.",
        ),
        (
            changed("auth", {"type": "oauth2_authorization_code"}),
            "`auth.provider` is missing: it must be a mapping with `token_url`.",
        ),
        (
            changed("auth", {"type": "api_key", "location": "cookie"}),
            "`auth.location` must be one of header, query; got 'cookie'.",
        ),
        (changed("actions", {"get_task": {}}), "`actions` must be a list; got a mapping."),
        (changed("headers", {"Accept": 1}), "every value of `headers` must be text."),
    ],
    ids=[
        "wrong type",
        "missing field",
        "bad method",
        "missing provider",
        "bad auth option",
        "not a list",
        "bad value",
    ],
)
def test_a_builder_reads_which_field_is_wrong_and_what_it_expects(data: dict[str, Any], message: str) -> None:
    with pytest.raises(DefinitionError) as refused:
        load_definition(data, source="definition")

    assert refused.value.message == f"definition: {message}"


def test_a_yaml_slip_is_refused_with_its_line_and_what_usually_causes_it() -> None:
    with pytest.raises(DefinitionError) as refused:
        load_definition("key: tasks\nname: Tasks\ndescription: Tasks: the list\n")

    assert refused.value.message == (
        "definition: line 3, column 19: mapping values are not allowed in this context "
        "(a value with a colon in it needs quotes)"
    )


def test_plain_http_is_accepted_for_this_machine() -> None:
    definition = load_definition(changed("base_url", "http://127.0.0.1:8080/api"))

    assert definition.base_url == "http://127.0.0.1:8080/api"


def test_unparsable_yaml_is_refused_with_its_line() -> None:
    with pytest.raises(DefinitionError) as refused:
        load_definition("key: tasks\nname: [unclosed\n", source="tasks.yaml")

    assert refused.value.message == "tasks.yaml: line 3, column 1: did not find expected ',' or ']'"
