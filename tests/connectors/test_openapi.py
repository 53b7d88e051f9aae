"""Connectors made from OpenAPI 3.0 and 3.1 documents."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from switchboard.connectors.action_requests import RequestAuth
from switchboard.connectors.actions import ActionRunner
from switchboard.connectors.definitions import (
    ApiKeyAuth,
    AuthorizationCodeAuth,
    BasicAuth,
    BearerAuth,
    ClientCredentialsAuth,
    ConnectorDefinition,
    DefinitionError,
    NoAuth,
    dump_definition,
    load_definition,
)
from switchboard.connectors.openapi import definition_from_openapi
from tests.support.connector_fixtures import loopback_apps
from tests.support.fake_github import LocalServer, Recorded, Reply, json_reply

DOCUMENTS = Path(__file__).parent / "openapi"


@pytest.fixture(scope="module")
def petstore() -> ConnectorDefinition:
    return definition_from_openapi((DOCUMENTS / "petstore.yaml").read_text())


@pytest.fixture(scope="module")
def tasks() -> ConnectorDefinition:
    return definition_from_openapi((DOCUMENTS / "tasks.json").read_bytes())


def minimal(**extra: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "openapi": "3.0.3",
        "info": {"title": "Mini", "version": "1"},
        "servers": [{"url": "https://mini.example.com"}],
        "paths": {
            "/things": {"get": {"operationId": "listThings", "responses": {"200": {"description": "ok"}}}}
        },
    }
    document.update(extra)
    return document


def with_schemes(schemes: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return minimal(components={"securitySchemes": schemes}, **extra)


# -- a 3.0 YAML document -----------------------------------------------------------------------------------


def test_the_title_servers_and_docs_name_and_place_the_connector(petstore: ConnectorDefinition) -> None:
    assert (petstore.key, petstore.name) == ("swagger-petstore", "Swagger Petstore")
    assert (
        petstore.description == "A sample pet store, to show how an OpenAPI 3.0 document becomes a connector."
    )
    assert petstore.base_url == "https://petstore.example.com/api/v3"
    assert petstore.docs_url == "https://petstore.example.com/docs"
    assert petstore.fields == ()


def test_each_operation_is_an_action_named_after_its_operation_id(petstore: ConnectorDefinition) -> None:
    assert [(action.name, action.method, action.path) for action in petstore.actions] == [
        ("list_pets", "GET", "/pets"),
        ("create_pet", "POST", "/pets"),
        ("get_pet_by_id", "GET", "/pets/{pet_id}"),
        ("update_pet", "PUT", "/pets/{pet_id}"),
        ("delete_pets_pet_id", "DELETE", "/pets/{pet_id}"),
        ("place_order", "POST", "/store/order"),
    ]
    delete = petstore.action("delete_pets_pet_id")
    assert delete is not None
    assert (delete.title, delete.is_idempotent) == ("Delete a pet", True)


def test_an_upload_that_cannot_be_sent_as_json_or_a_form_is_left_out(petstore: ConnectorDefinition) -> None:
    assert petstore.action("upload_photo") is None


def test_parameters_become_inputs_and_the_request_mapping(petstore: ConnectorDefinition) -> None:
    action = petstore.action("list_pets")
    assert action is not None

    assert action.title == "List all pets"
    assert action.description == "Pets in the store, optionally only those of one status."
    assert action.input_schema == {
        "type": "object",
        "properties": {
            "limit": {"type": "integer", "maximum": 100, "description": "How many pets to return at most"},
            "status": {
                "type": "string",
                "enum": ["available", "pending", "sold"],
                "description": "Only pets with this status",
            },
            "X_Request_ID": {"type": "string", "format": "uuid"},
        },
        "additionalProperties": False,
    }
    assert action.request.query == {"limit": "limit", "status": "status"}
    assert action.request.headers == {"X-Request-ID": "X_Request_ID"}


def test_a_path_parameter_of_the_path_item_is_renamed_into_an_input_name(
    petstore: ConnectorDefinition,
) -> None:
    action = petstore.action("get_pet_by_id")
    assert action is not None

    assert action.input_schema["properties"]["pet_id"] == {
        "type": "integer",
        "format": "int64",
        "minimum": 1,
        "description": "The pet's ID",
    }
    assert action.input_schema["required"] == ["pet_id"]


def test_a_json_object_body_is_flattened_into_inputs_and_refs_inlined(petstore: ConnectorDefinition) -> None:
    action = petstore.action("create_pet")
    assert action is not None

    properties = action.input_schema["properties"]
    assert list(properties) == ["name", "tag", "category"]
    assert properties["tag"] == {"type": ["string", "null"]}
    assert properties["category"]["properties"]["parent"] == {
        "$comment": "refers back to #/components/schemas/Category"
    }
    assert action.input_schema["required"] == ["name"]
    assert (action.request.body, action.request.body_fields) == (
        "json",
        {"name": "name", "tag": "tag", "category": "category"},
    )


def test_all_of_is_merged_and_read_only_properties_are_not_inputs(petstore: ConnectorDefinition) -> None:
    action = petstore.action("update_pet")
    assert action is not None

    assert list(action.input_schema["properties"]) == ["pet_id", "name", "tag", "category"]
    assert action.input_schema["required"] == ["pet_id", "name"]


def test_a_form_body_by_reference_keeps_its_form_and_30_bounds_are_translated(
    petstore: ConnectorDefinition,
) -> None:
    action = petstore.action("place_order")
    assert action is not None

    assert action.request.body == "form"
    assert action.input_schema["properties"]["quantity"] == {"type": "integer", "exclusiveMinimum": 0}
    assert action.input_schema["required"] == ["petId", "quantity"]


def test_the_top_level_security_requirement_is_the_auth(petstore: ConnectorDefinition) -> None:
    assert petstore.auth == ApiKeyAuth(location="header", name="api_key")


def test_the_imported_definition_survives_a_round_trip_through_yaml(petstore: ConnectorDefinition) -> None:
    assert load_definition(dump_definition(petstore)) == petstore


# -- a 3.1 JSON document -----------------------------------------------------------------------------------


def test_a_relative_server_url_becomes_a_host_field(tasks: ConnectorDefinition) -> None:
    assert (tasks.key, tasks.description) == ("acme-tasks-api", "Lists and tasks of Acme Tasks.")
    assert tasks.base_url == "{host}/v2"
    assert [(field.key, field.label, field.kind, field.default) for field in tasks.fields] == [
        ("host", "Host", "url", "")
    ]


def test_an_authorization_code_flow_is_preferred_and_its_relative_urls_follow_the_host(
    tasks: ConnectorDefinition,
) -> None:
    assert isinstance(tasks.auth, AuthorizationCodeAuth)
    provider = tasks.auth.provider
    assert (provider.authorize_url, provider.token_url) == ("{host}/oauth/authorize", "{host}/oauth/token")
    assert [(scope.name, scope.description) for scope in provider.scopes] == [
        ("tasks.read", "Read your tasks"),
        ("tasks.write", "Change your tasks"),
    ]


def test_json_schema_2020_types_are_kept(tasks: ConnectorDefinition) -> None:
    action = tasks.action("list_tasks")
    assert action is not None

    assert action.input_schema["properties"]["done"] == {"type": ["boolean", "null"]}
    assert action.input_schema["properties"]["page"] == {"type": "integer", "exclusiveMinimum": 0}


def test_a_body_property_named_like_a_parameter_keeps_the_body_whole(tasks: ConnectorDefinition) -> None:
    action = tasks.action("create_task")
    assert action is not None

    assert action.input_schema["required"] == ["listId", "body"]
    assert action.input_schema["properties"]["body"]["required"] == ["title"]
    assert (action.request.body, action.request.body_from) == ("json", "body")


def test_a_one_of_body_is_one_input(tasks: ConnectorDefinition) -> None:
    action = tasks.action("search_tasks")
    assert action is not None

    assert list(action.input_schema["properties"]) == ["body"]
    assert "oneOf" in action.input_schema["properties"]["body"]
    assert "required" not in action.input_schema


@pytest.fixture
def tasks_app() -> Iterator[LocalServer]:
    def handle(request: Recorded) -> Reply:
        if request.method == "POST":
            return json_reply(201, {"id": 9, **request.json()})
        return json_reply(200, {"tasks": [{"id": 1, "title": "Write docs", "done": False}]})

    server = LocalServer(handle)
    server.start()
    yield server
    server.stop()


async def test_an_imported_connector_calls_the_app(
    tasks: ConnectorDefinition, tasks_app: LocalServer
) -> None:
    runner = ActionRunner(timeout=2.0, trusted=loopback_apps)
    auth = RequestAuth(values={"host": tasks_app.url()}, headers={"Authorization": "Bearer t"})
    try:
        listed = await runner.run(tasks, "list_tasks", {"listId": "inbox", "done": False}, auth)
        created = await runner.run(tasks, "create_task", {"listId": "inbox", "body": {"title": "Ship"}}, auth)
    finally:
        await runner.aclose()

    assert listed.output == {"tasks": [{"id": 1, "title": "Write docs", "done": False}]}
    assert (tasks_app.requests[0].path, tasks_app.requests[0].query) == (
        "/v2/lists/inbox/tasks",
        {"done": ["false"]},
    )
    assert created.output == {"id": 9, "title": "Ship"}


# -- choices -----------------------------------------------------------------------------------------------


def test_a_key_and_name_can_be_given() -> None:
    definition = definition_from_openapi(minimal(), key="my-mini", name="My Mini")

    assert (definition.key, definition.name) == ("my-mini", "My Mini")


def test_a_bad_key_given_is_refused() -> None:
    with pytest.raises(DefinitionError) as refused:
        definition_from_openapi(minimal(), key="Mini API")

    assert refused.value.path == "key"


def test_a_title_starting_with_a_digit_still_makes_a_key() -> None:
    assert (
        definition_from_openapi(minimal(info={"title": "2048 Games API", "version": "1"})).key
        == "api-2048-games-api"
    )


@pytest.mark.parametrize(
    ("server", "base_url", "default"),
    [
        (
            {"url": "https://{region}.api.example.com/v1", "variables": {"region": {"default": "eu"}}},
            "{host}",
            "https://eu.api.example.com/v1",
        ),
        ({"url": "http://api.example.com/v1"}, "{host}", ""),
        ({"url": "/api"}, "{host}/api", ""),
    ],
)
def test_a_server_url_that_is_not_a_plain_https_url_becomes_a_host_field(
    server: dict[str, Any], base_url: str, default: str
) -> None:
    definition = definition_from_openapi(minimal(servers=[server]))

    assert definition.base_url == base_url
    assert definition.fields[0].key == "host"
    assert definition.fields[0].default == default


def test_operations_without_an_operation_id_are_named_by_method_and_path_without_clashes() -> None:
    ok = {"responses": {"200": {"description": "ok"}}}
    document = minimal(paths={"/a-b": {"get": ok}, "/a_b": {"get": ok}, "/": {"post": ok}})

    definition = definition_from_openapi(document)

    assert [action.name for action in definition.actions] == ["get_a_b", "get_a_b_2", "post"]
    assert [action.title for action in definition.actions] == ["GET /a-b", "GET /a_b", "POST /"]


@pytest.mark.parametrize(
    ("scheme", "auth"),
    [
        ({"type": "apiKey", "in": "header", "name": "X-Key"}, ApiKeyAuth(location="header", name="X-Key")),
        ({"type": "apiKey", "in": "query", "name": "key"}, ApiKeyAuth(location="query", name="key")),
        ({"type": "apiKey", "in": "cookie", "name": "sid"}, NoAuth()),
        ({"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}, BearerAuth()),
        ({"type": "http", "scheme": "Basic"}, BasicAuth()),
        ({"type": "http", "scheme": "digest"}, NoAuth()),
        (
            {
                "type": "openIdConnect",
                "openIdConnectUrl": "https://id.example.com/.well-known/openid-configuration",
            },
            NoAuth(),
        ),
    ],
    ids=["api key header", "api key query", "cookie", "bearer", "basic", "digest", "openid connect"],
)
def test_each_security_scheme_maps_to_its_auth_type(scheme: dict[str, Any], auth: Any) -> None:
    assert definition_from_openapi(with_schemes({"only": scheme})).auth == auth


def test_an_oauth2_authorization_code_flow_maps_with_its_scopes_and_the_required_ones_as_default() -> None:
    flow = {
        "authorizationUrl": "https://id.example.com/authorize",
        "tokenUrl": "https://id.example.com/token",
        "refreshUrl": "https://id.example.com/refresh",
        "scopes": {"read": "Read things", "write": "Change things"},
    }
    document = with_schemes(
        {"oauth": {"type": "oauth2", "flows": {"authorizationCode": flow}}}, security=[{"oauth": ["read"]}]
    )

    auth = definition_from_openapi(document).auth

    assert isinstance(auth, AuthorizationCodeAuth)
    assert auth.provider.authorize_url == "https://id.example.com/authorize"
    assert auth.provider.token_url == "https://id.example.com/token"
    assert [scope.name for scope in auth.provider.scopes] == ["read", "write"]
    assert auth.provider.default_scopes == ("read",)


def test_an_oauth2_client_credentials_flow_maps_to_client_credentials() -> None:
    flow = {"tokenUrl": "https://id.example.com/token", "scopes": {}}
    document = with_schemes({"machine": {"type": "oauth2", "flows": {"clientCredentials": flow}}})

    auth = definition_from_openapi(document).auth

    assert isinstance(auth, ClientCredentialsAuth)
    assert auth.provider.token_url == "https://id.example.com/token"


def test_an_implicit_only_oauth2_scheme_has_no_equivalent() -> None:
    flow = {"authorizationUrl": "https://id.example.com/authorize", "scopes": {}}
    document = with_schemes({"old": {"type": "oauth2", "flows": {"implicit": flow}}})

    assert definition_from_openapi(document).auth == NoAuth()


def test_the_top_level_requirement_wins_over_an_authorization_code_flow() -> None:
    flow = {
        "authorizationUrl": "https://id.example.com/a",
        "tokenUrl": "https://id.example.com/t",
        "scopes": {},
    }
    schemes = {
        "oauth": {"type": "oauth2", "flows": {"authorizationCode": flow}},
        "key": {"type": "apiKey", "in": "header", "name": "X-Key"},
    }

    chosen = definition_from_openapi(with_schemes(schemes, security=[{"key": []}])).auth
    preferred = definition_from_openapi(with_schemes(dict(reversed(schemes.items())))).auth

    assert chosen == ApiKeyAuth(name="X-Key")
    assert isinstance(preferred, AuthorizationCodeAuth)


# -- refusals naming the place -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (
            {"swagger": "2.0", "info": {"title": "Old", "version": "1"}, "paths": {}},
            "this is a Swagger 2.0 document; only OpenAPI 3.0 and 3.1 can be imported. "
            "Convert it to OpenAPI 3 first (the Swagger Editor can) - at `swagger`",
        ),
        (
            {"info": {"title": "What"}},
            "not an OpenAPI 3 document (it needs `openapi: 3.0.x` or `3.1.x`) - at `openapi`",
        ),
        (
            minimal(info={"version": "1"}),
            "the document has no title to name the connector by - at `info.title`",
        ),
        (
            minimal(
                paths={"/pets": {"get": {"parameters": [{"name": "a", "in": "query"}, {"in": "query"}]}}}
            ),
            "a parameter needs a `name` - at `paths./pets.get.parameters[1]`",
        ),
        (
            minimal(paths={"/pets": {"get": {"parameters": [{"name": "a", "in": "body"}]}}}),
            "a parameter's `in` is path, query, header or cookie - at `paths./pets.get.parameters[0]`",
        ),
        (
            minimal(paths={"/pets": {"get": {"parameters": [{"$ref": "#/components/parameters/gone"}]}}}),
            "the reference #/components/parameters/gone names nothing in the document "
            "- at `paths./pets.get.parameters[0]`",
        ),
        (
            minimal(paths={"/pets": {"get": {"parameters": [{"$ref": "common.yaml#/limit"}]}}}),
            "only references inside the document (#/...) can be followed, not common.yaml#/limit "
            "- at `paths./pets.get.parameters[0]`",
        ),
        (
            minimal(
                paths={"/pets": {"get": {"parameters": [{"$ref": "#/components/parameters/a"}]}}},
                components={
                    "parameters": {
                        "a": {"$ref": "#/components/parameters/b"},
                        "b": {"$ref": "#/components/parameters/a"},
                    }
                },
            ),
            "the reference #/components/parameters/a leads back to itself - at `components.parameters.b`",
        ),
        (
            minimal(paths={"/pets": {"post": {"requestBody": {"description": "no content"}}}}),
            "a request body needs `content` - at `paths./pets.post.requestBody`",
        ),
        (
            minimal(paths={"pets": {}}),
            "a path starts with / - at `paths.pets`",
        ),
        (
            minimal(
                paths={
                    "/pets": {
                        "get": {"parameters": [{"name": "a", "in": "query", "schema": {"type": "text"}}]}
                    }
                }
            ),
            "a schema is not valid JSON Schema ('text' is not valid under any of the given schemas) "
            "- at `paths./pets.get`",
        ),
        (
            with_schemes(
                {
                    "o": {
                        "type": "oauth2",
                        "flows": {"clientCredentials": {"tokenUrl": "http://id.example.com/t", "scopes": {}}},
                    }
                }
            ),
            "http://id.example.com/t is not an https URL "
            "- at `components.securitySchemes.o.flows.clientCredentials.tokenUrl`",
        ),
        (
            with_schemes({"key": {"type": "apiKey", "in": "header"}}, security=[{"missing": []}]),
            "the security requirement names no scheme 'missing' - at `security`",
        ),
    ],
    ids=[
        "swagger 2",
        "not openapi",
        "no title",
        "nameless parameter",
        "bad parameter location",
        "dangling reference",
        "remote reference",
        "reference cycle",
        "body without content",
        "relative path",
        "bad schema",
        "plain http token url",
        "unknown security requirement",
    ],
)
def test_a_document_that_cannot_be_imported_is_refused_naming_the_place(
    document: dict[str, Any], message: str
) -> None:
    with pytest.raises(DefinitionError) as refused:
        definition_from_openapi(json.dumps(document))

    assert refused.value.message == message


def test_schemas_that_explode_when_inlined_are_refused() -> None:
    schemas: dict[str, Any] = {"s0": {"type": "string"}}
    for level in range(1, 25):
        ref = {"$ref": f"#/components/schemas/s{level - 1}"}
        schemas[f"s{level}"] = {"type": "object", "properties": {"a": ref, "b": ref}}
    document = minimal(
        paths={
            "/x": {
                "get": {
                    "parameters": [
                        {"name": "q", "in": "query", "schema": {"$ref": "#/components/schemas/s24"}}
                    ]
                }
            }
        },
        components={"schemas": schemas},
    )

    with pytest.raises(DefinitionError) as refused:
        definition_from_openapi(document)

    assert refused.value.message.startswith(
        "the schemas are too large once their references are expanded - at "
    )


def test_a_document_that_is_not_a_mapping_is_refused() -> None:
    with pytest.raises(DefinitionError) as refused:
        definition_from_openapi("- just\n- a list\n")

    assert refused.value.message == "An OpenAPI document is a mapping with an `openapi` field."
