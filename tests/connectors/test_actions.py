"""The action runner: inputs checked, the request built safely, credentials placed, answers and failures
turned into results and messages a person can act on. Against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import base64
import json
import socket
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from switchboard.connectors.action_answers import ActionFailed
from switchboard.connectors.action_requests import RequestAuth
from switchboard.connectors.actions import ActionRunner
from switchboard.connectors.definitions import ConnectorDefinition, load_definition
from switchboard.connectors.registry import load_builtins
from switchboard.platform.core.errors import InvalidInput, NotFound
from tests.support.connector_fixtures import loopback_apps
from tests.support.fake_github import LocalServer, Recorded, Reply, json_reply


def echo(request: Recorded) -> Reply:
    """Answers with what it received, so tests see the request as the app saw it."""
    return json_reply(
        200,
        {
            "method": request.method,
            "path": request.path,
            "query": request.query,
            "body": request.body.decode(),
            "content_type": request.headers.get("content-type"),
        },
    )


@pytest.fixture
def app() -> Iterator[LocalServer]:
    server = LocalServer(echo)
    server.start()
    yield server
    server.stop()


@pytest.fixture
async def runner() -> AsyncIterator[ActionRunner]:
    runner = ActionRunner(timeout=2.0, trusted=loopback_apps)
    yield runner
    await runner.aclose()


def connector(**changes: Any) -> ConnectorDefinition:
    """A small app with a Host field and actions covering each kind of mapping."""
    raw: dict[str, Any] = {
        "key": "shop",
        "name": "Shop",
        "base_url": "{host}/api",
        "headers": {"Accept": "application/json", "X-Client": "switchboard"},
        "fields": [
            {"key": "host", "label": "Host", "kind": "url"},
            {"key": "tenant", "label": "Tenant", "required": False, "default": "main"},
        ],
        "auth": {"type": "bearer"},
        "actions": [
            {
                "name": "get_item",
                "title": "Get an item",
                "path": "/items/{item_id}",
                "input_schema": {
                    "type": "object",
                    "properties": {
                        "item_id": {"type": "string"},
                        "tags": {"type": "array", "items": {"type": "string"}},
                        "fresh": {"type": "boolean"},
                        "limit": {"type": "integer", "maximum": 100},
                        "trace": {"type": "string"},
                    },
                    "required": ["item_id"],
                    "additionalProperties": False,
                },
                "request": {
                    "query": {"tag": "tags", "fresh": "fresh", "limit": "limit"},
                    "headers": {"X-Trace": "trace"},
                },
            },
            {
                "name": "create_item",
                "title": "Create an item",
                "method": "POST",
                "path": "/items",
                "input_schema": {
                    "type": "object",
                    "properties": {"title": {"type": "string"}, "price": {"type": "number"}},
                    "required": ["title"],
                },
                "request": {"body": "json", "body_fields": {"name": "title", "price": "price"}},
            },
            {
                "name": "sign_up",
                "title": "Sign up",
                "method": "POST",
                "path": "/signups",
                "input_schema": {"type": "object", "properties": {"email": {"type": "string"}}},
                "request": {"body": "form"},
            },
            {
                "name": "tenant_info",
                "title": "Tenant",
                "path": "/tenants/{tenant_name}",
                "input_schema": {"type": "object", "properties": {"tenant_name": {"type": "string"}}},
            },
            {
                "name": "report",
                "title": "Report",
                "path": "/report",
                "output": {"select": "data.items", "pick": ["id", "owner.name"]},
            },
        ],
    }
    raw.update(changes)
    return load_definition(raw)


def at(app: LocalServer, token: str = "secret-token-123", **values: str) -> RequestAuth:  # noqa: S107
    return RequestAuth(values={"host": app.url(), **values}, headers={"Authorization": f"Bearer {token}"})


# -- inputs ----------------------------------------------------------------------------------------------


async def test_an_unknown_action_is_not_found(app: LocalServer, runner: ActionRunner) -> None:
    with pytest.raises(NotFound) as missing:
        await runner.run(connector(), "delete_everything", {}, at(app))

    assert missing.value.message == "Shop has no action 'delete_everything'."


@pytest.mark.parametrize(
    ("inputs", "message", "field"),
    [
        ({}, "item_id: 'item_id' is a required property", "inputs.item_id"),
        ({"item_id": 7}, "item_id: 7 is not of type 'string'", "inputs.item_id"),
        ({"item_id": "a", "limit": 500}, "limit: 500 is greater than the maximum of 100", "inputs.limit"),
        ({"item_id": "a", "tags": ["x", 1]}, "tags.1: 1 is not of type 'string'", "inputs.tags.1"),
        (
            {"item_id": "a", "colour": "red"},
            "Additional properties are not allowed ('colour' was unexpected)",
            "inputs",
        ),
    ],
)
async def test_inputs_that_break_the_schema_are_refused_naming_the_input(
    inputs: dict[str, Any], message: str, field: str, app: LocalServer, runner: ActionRunner
) -> None:
    with pytest.raises(InvalidInput) as refused:
        await runner.run(connector(), "get_item", inputs, at(app))

    assert (refused.value.message, refused.value.field) == (message, field)
    assert app.requests == []


# -- building the request --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("item_id", "sent_path"),
    [
        ("../admin", "/api/items/..%2Fadmin"),
        ("a/b?c=d#e", "/api/items/a%2Fb%3Fc%3Dd%23e"),
        ("100%", "/api/items/100%25"),
        ("ünï cödé", "/api/items/%C3%BCn%C3%AF%20c%C3%B6d%C3%A9"),
    ],
)
async def test_path_inputs_are_percent_encoded_so_they_stay_one_segment(
    item_id: str, sent_path: str, app: LocalServer, runner: ActionRunner
) -> None:
    result = await runner.run(connector(), "get_item", {"item_id": item_id}, at(app))

    assert result.output["path"] == sent_path
    assert app.requests[0].path == sent_path


@pytest.mark.parametrize("item_id", ["..", ".", ""])
async def test_a_path_input_that_would_change_the_path_is_refused(
    item_id: str, app: LocalServer, runner: ActionRunner
) -> None:
    with pytest.raises(InvalidInput) as refused:
        await runner.run(connector(), "get_item", {"item_id": item_id}, at(app))

    assert refused.value.message == f"item_id: {item_id!r} cannot be part of the path."
    assert app.requests == []


async def test_query_parameters_repeat_lists_and_spell_booleans_as_json(
    app: LocalServer, runner: ActionRunner
) -> None:
    inputs = {"item_id": "7", "tags": ["red", "big"], "fresh": True, "limit": 5}

    await runner.run(connector(), "get_item", inputs, at(app))

    assert app.requests[0].query == {"tag": ["red", "big"], "fresh": ["true"], "limit": ["5"]}


async def test_definition_headers_mapped_headers_and_credentials_are_all_sent(
    app: LocalServer, runner: ActionRunner
) -> None:
    await runner.run(connector(), "get_item", {"item_id": "7", "trace": "abc"}, at(app))

    headers = app.requests[0].headers
    assert headers["x-client"] == "switchboard"
    assert headers["x-trace"] == "abc"
    assert headers["accept"] == "application/json"
    assert headers["authorization"] == "Bearer secret-token-123"


async def test_the_connections_credentials_win_over_a_header_of_the_same_name(
    app: LocalServer, runner: ActionRunner
) -> None:
    definition = connector(headers={"authorization": "Bearer from-the-definition"})

    await runner.run(definition, "get_item", {"item_id": "7"}, at(app))

    assert app.requests[0].headers["authorization"] == "Bearer secret-token-123"


async def test_a_header_input_cannot_add_a_line(app: LocalServer, runner: ActionRunner) -> None:
    with pytest.raises(InvalidInput) as refused:
        await runner.run(connector(), "get_item", {"item_id": "7", "trace": "x\r\nX-Admin: yes"}, at(app))

    assert refused.value.message == "inputs.trace: a header value cannot contain line breaks."
    assert app.requests == []


async def test_a_json_body_holds_the_mapped_fields_given(app: LocalServer, runner: ActionRunner) -> None:
    result = await runner.run(connector(), "create_item", {"title": "Lamp"}, at(app))

    assert result.output["method"] == "POST"
    assert result.output["content_type"] == "application/json"
    assert json.loads(result.output["body"]) == {"name": "Lamp"}


async def test_a_form_body_without_a_mapping_takes_the_inputs(app: LocalServer, runner: ActionRunner) -> None:
    result = await runner.run(connector(), "sign_up", {"email": "a+b@example.com"}, at(app))

    assert result.output["content_type"] == "application/x-www-form-urlencoded"
    assert result.output["body"] == "email=a%2Bb%40example.com"


async def test_text_field_values_in_the_base_url_are_encoded_and_defaults_apply(
    app: LocalServer, runner: ActionRunner
) -> None:
    definition = connector(base_url="{host}/t/{tenant}")

    encoded = await runner.run(definition, "tenant_info", {"tenant_name": "x"}, at(app, tenant="a/../b"))
    default = await runner.run(definition, "tenant_info", {"tenant_name": "x"}, at(app))

    assert encoded.output["path"] == "/t/a%2F..%2Fb/tenants/x"
    assert default.output["path"] == "/t/main/tenants/x"


async def test_a_connection_without_its_host_is_refused_naming_the_field(runner: ActionRunner) -> None:
    with pytest.raises(InvalidInput) as refused:
        await runner.run(connector(), "get_item", {"item_id": "7"}, RequestAuth())

    assert refused.value.message == "The connection has no Host; enter it in the connection."
    assert refused.value.field == "fields.host"


async def test_a_host_that_is_not_https_is_refused(runner: ActionRunner) -> None:
    with pytest.raises(InvalidInput) as refused:
        await runner.run(
            connector(), "get_item", {"item_id": "7"}, RequestAuth(values={"host": "http://10.0.0.8"})
        )

    assert (
        refused.value.message
        == "Shop's address http://10.0.0.8/api is not an https URL; check the connection."
    )


async def test_an_api_key_goes_in_the_header_the_connection_names(
    app: LocalServer, runner: ActionRunner
) -> None:
    auth = RequestAuth(values={"host": app.url()}, headers={"X-API-Key": "key-123"})

    await runner.run(
        connector(auth={"type": "api_key", "name": "X-API-Key"}), "get_item", {"item_id": "7"}, auth
    )

    assert app.requests[0].headers["x-api-key"] == "key-123"
    assert "authorization" not in app.requests[0].headers


async def test_an_api_key_in_the_query_replaces_an_input_of_the_same_name(
    app: LocalServer, runner: ActionRunner
) -> None:
    definition = connector(auth={"type": "api_key", "location": "query", "name": "limit"})
    auth = RequestAuth(values={"host": app.url()}, query={"limit": "key-123"})

    await runner.run(definition, "get_item", {"item_id": "7", "limit": 3, "fresh": False}, auth)

    assert app.requests[0].query == {"fresh": ["false"], "limit": ["key-123"]}


async def test_basic_credentials_are_sent_as_given(app: LocalServer, runner: ActionRunner) -> None:
    pair = base64.b64encode(b"ann:pa:ss").decode()
    auth = RequestAuth(values={"host": app.url()}, headers={"Authorization": f"Basic {pair}"})

    await runner.run(connector(auth={"type": "basic"}), "get_item", {"item_id": "7"}, auth)

    assert app.requests[0].headers["authorization"] == f"Basic {pair}"


async def test_cookies_an_app_sets_are_not_sent_on_later_calls(
    app: LocalServer, runner: ActionRunner
) -> None:
    app.handler = lambda request: Reply(200, b"", (("Set-Cookie", "session=alice; Path=/"),))

    await runner.run(connector(), "get_item", {"item_id": "7"}, at(app, token="alice-token"))
    await runner.run(connector(), "get_item", {"item_id": "7"}, at(app, token="bob-token"))

    assert "cookie" not in app.requests[1].headers


# -- answers ---------------------------------------------------------------------------------------------


async def test_select_and_dotted_pick_shape_the_output(app: LocalServer, runner: ActionRunner) -> None:
    items = [{"id": 1, "owner": {"name": "Ann", "email": "ann@example.com"}, "secret": "x"}, {"id": 2}]
    app.handler = lambda request: json_reply(200, {"data": {"items": items, "total": 2}})

    result = await runner.run(connector(), "report", {}, at(app))

    assert result.output == [{"id": 1, "owner": {"name": "Ann"}}, {"id": 2}]
    assert result.status == 200
    assert result.duration_ms >= 0


async def test_an_answer_without_the_selected_part_is_a_failure(
    app: LocalServer, runner: ActionRunner
) -> None:
    app.handler = lambda request: json_reply(200, {"items": []})

    with pytest.raises(ActionFailed) as failed:
        await runner.run(connector(), "report", {}, at(app))

    assert failed.value.message == "Shop's answer has no 'data.items'; check the connector's output."


@pytest.mark.parametrize(
    ("reply", "output"),
    [
        (Reply(200, b"plain words", (("Content-Type", "text/plain; charset=utf-8"),)), "plain words"),
        (Reply(200, "caf\xe9".encode("latin-1"), (("Content-Type", "text/csv; charset=latin-1"),)), "café"),
        (Reply(200, b"\x89PNG\r\n", (("Content-Type", "image/png"),)), "(6 bytes of image/png)"),
        (Reply(204), None),
    ],
)
async def test_an_answer_that_is_not_json_is_given_as_text(
    reply: Reply, output: Any, app: LocalServer, runner: ActionRunner
) -> None:
    app.handler = lambda request: reply

    result = await runner.run(connector(), "get_item", {"item_id": "7"}, at(app))

    assert result.output == output


async def test_long_text_is_truncated(app: LocalServer, runner: ActionRunner) -> None:
    app.handler = lambda request: Reply(200, b"x" * 25_000, (("Content-Type", "text/plain"),))

    result = await runner.run(connector(), "get_item", {"item_id": "7"}, at(app))

    assert result.output == "x" * 20_000 + "\n… (truncated: 5000 more characters)"


async def test_malformed_json_is_a_failure(app: LocalServer, runner: ActionRunner) -> None:
    app.handler = lambda request: Reply(200, b"{not json", (("Content-Type", "application/json"),))

    with pytest.raises(ActionFailed) as failed:
        await runner.run(connector(), "get_item", {"item_id": "7"}, at(app))

    assert failed.value.message == "Shop answered 200 with malformed JSON."


async def test_json_nested_past_the_limit_is_malformed_json(app: LocalServer, runner: ActionRunner) -> None:
    # Parsing, templates and encoding again all recurse once per level: 64 is far more than APIs use.
    deep = b"[" * 5000 + b"]" * 5000
    app.handler = lambda request: Reply(200, deep, (("Content-Type", "application/json"),))

    with pytest.raises(ActionFailed) as failed:
        await runner.run(connector(), "get_item", {"item_id": "7"}, at(app))

    assert failed.value.message == "Shop answered 200 with malformed JSON."


@pytest.mark.parametrize("chunked", [False, True])
async def test_an_answer_larger_than_the_limit_is_refused(app: LocalServer, chunked: bool) -> None:
    app.handler = lambda request: Reply(200, b"[" + b"1," * 3000 + b"1]", chunked=chunked)
    runner = ActionRunner(max_response_bytes=4096, trusted=loopback_apps)
    try:
        with pytest.raises(ActionFailed) as failed:
            await runner.run(connector(), "get_item", {"item_id": "7"}, at(app))
    finally:
        await runner.aclose()

    assert (
        failed.value.message
        == "Shop's answer is larger than 4096 bytes; ask for less (for example a smaller page)."
    )


# -- failures --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reply", "message", "retryable", "auth_problem"),
    [
        (
            json_reply(401, {"error": "invalid_token", "error_description": "The access token expired"}),
            "Shop answered 401: invalid_token (The access token expired). The credentials were refused: "
            "reconnect the account or check the connection.",
            False,
            True,
        ),
        (
            json_reply(
                403,
                {
                    "error": "insufficient_scope",
                    "error_description": "This token was not granted shop:write.",
                },
                ("WWW-Authenticate", 'Bearer error="insufficient_scope", scope="shop:write"'),
            ),
            "Shop answered 403: insufficient_scope (needs shop:write).",
            False,
            False,
        ),
        (
            Reply(404, b"No such item\nat /items/7", (("Content-Type", "text/plain"),)),
            "Shop answered 404: No such item.",
            False,
            False,
        ),
        (
            Reply(401, b"", (("WWW-Authenticate", 'Bearer error="invalid_token"'),)),
            "Shop answered 401: invalid_token. The credentials were refused: reconnect the account or check "
            "the connection.",
            False,
            True,
        ),
        (
            json_reply(
                422, {"type": "about:blank", "title": "Unprocessable", "detail": "price must be positive"}
            ),
            "Shop answered 422: price must be positive.",
            False,
            False,
        ),
        (
            json_reply(400, {"error": {"message": "Bad filter", "code": 400}}),
            "Shop answered 400: Bad filter.",
            False,
            False,
        ),
        (
            Reply(500, b"<html>oops</html>", (("Content-Type", "text/html"),)),
            "Shop answered 500; try again later.",
            True,
            False,
        ),
        (
            json_reply(429, {"message": "Slow down"}, ("Retry-After", "30")),
            "Shop answered 429: Slow down; try again in 30 s.",
            True,
            False,
        ),
    ],
)
async def test_an_app_refusal_is_reported_in_the_apps_own_words(
    reply: Reply, message: str, retryable: bool, auth_problem: bool, app: LocalServer, runner: ActionRunner
) -> None:
    app.handler = lambda request: reply

    with pytest.raises(ActionFailed) as failed:
        await runner.run(connector(), "get_item", {"item_id": "7"}, at(app))

    assert failed.value.message == message
    assert (failed.value.retryable, failed.value.auth_problem) == (retryable, auth_problem)
    assert failed.value.http_status == reply.status
    assert failed.value.status == 502


@pytest.mark.parametrize(
    ("challenge", "required"),
    [
        ('Bearer error="insufficient_scope", scope="shop:write shop:admin"', ("shop:write", "shop:admin")),
        ('Bearer error="insufficient_scope"', ()),  # no scope named: nothing to ask for
        ('Bearer error="invalid_token", scope="shop:write"', ()),  # not a scope refusal
    ],
)
async def test_a_403_carries_the_scopes_its_challenge_asks_for(
    challenge: str, required: tuple[str, ...], app: LocalServer, runner: ActionRunner
) -> None:
    app.handler = lambda request: Reply(403, b"", (("WWW-Authenticate", challenge),))

    with pytest.raises(ActionFailed) as failed:
        await runner.run(connector(), "get_item", {"item_id": "7"}, at(app))

    assert failed.value.required_scopes == required
    assert failed.value.http_status == 403
    assert not failed.value.retryable


async def test_an_app_repeating_the_token_does_not_put_it_in_the_message(
    app: LocalServer, runner: ActionRunner
) -> None:
    app.handler = lambda request: json_reply(
        403, {"message": f"token {request.headers['authorization']} lacks scope"}
    )

    with pytest.raises(ActionFailed) as failed:
        await runner.run(connector(), "get_item", {"item_id": "7"}, at(app))

    assert failed.value.message == "Shop answered 403: token [redacted] lacks scope."


async def test_a_redirect_is_not_followed_and_says_where_it_pointed(
    app: LocalServer, runner: ActionRunner
) -> None:
    elsewhere = LocalServer(echo)
    elsewhere.start()
    try:
        location = elsewhere.url("/collect?sig=abc123")
        app.handler = lambda request: Reply(302, b"", (("Location", location),))
        with pytest.raises(ActionFailed) as failed:
            await runner.run(connector(), "get_item", {"item_id": "7"}, at(app))
    finally:
        elsewhere.stop()

    assert failed.value.message == (
        f"Shop answered 302 and pointed to {elsewhere.url('/collect')}; redirects are not followed, so check "
        "the connection's address."
    )
    assert elsewhere.requests == []


async def test_an_app_that_cannot_be_reached_is_retryable(runner: ActionRunner) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    auth = RequestAuth(values={"host": f"http://127.0.0.1:{port}"}, headers={"Authorization": "Bearer t"})

    with pytest.raises(ActionFailed) as failed:
        await runner.run(connector(), "create_item", {"title": "Lamp"}, auth)

    assert failed.value.message == f"Shop cannot be reached at 127.0.0.1:{port} (ConnectError)."
    assert failed.value.retryable is True


async def test_a_post_that_timed_out_is_not_retryable(app: LocalServer) -> None:
    app.handler = lambda request: Reply(201, b"{}", delay=1.0)
    runner = ActionRunner(timeout=0.2, trusted=loopback_apps)
    try:
        with pytest.raises(ActionFailed) as failed:
            await runner.run(connector(), "create_item", {"title": "Lamp"}, at(app))
    finally:
        await runner.aclose()

    assert failed.value.message == "Shop did not answer within 0.2 s."
    assert failed.value.retryable is False


# -- the generic HTTP connector --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def http() -> ConnectorDefinition:
    return load_builtins()["http"]


async def test_the_http_connector_sends_the_request_the_step_describes(
    app: LocalServer, runner: ActionRunner, http: ConnectorDefinition
) -> None:
    inputs = {
        "method": "PATCH",
        "url": "/orders/42?lang=en",
        "headers": {"X-Request-Id": "r-1"},
        "query": {"expand": ["lines", "customer"], "dry_run": True},
        "body": {"status": "shipped"},
    }
    auth = RequestAuth(values={"base_url": app.url("/v2")}, headers={"Authorization": "Bearer t"})

    result = await runner.run(http, "request", inputs, auth)

    request = app.requests[0]
    assert (request.method, request.path) == ("PATCH", "/v2/orders/42")
    assert request.query == {"lang": ["en"], "expand": ["lines", "customer"], "dry_run": ["true"]}
    assert request.headers["x-request-id"] == "r-1"
    assert request.headers["authorization"] == "Bearer t"
    assert request.json() == {"status": "shipped"}
    assert result.output["method"] == "PATCH"


async def test_an_api_key_in_the_query_replaces_a_parameter_of_that_name_in_the_url(
    app: LocalServer, runner: ActionRunner, http: ConnectorDefinition
) -> None:
    auth = RequestAuth(values={"base_url": app.url()}, query={"key": "key-123"})

    await runner.run(http, "request", {"url": "/search?key=other&q=lamp"}, auth)

    assert app.requests[0].query == {"q": ["lamp"], "key": ["key-123"]}


async def test_the_http_connector_sends_a_text_body_as_it_is(
    app: LocalServer, runner: ActionRunner, http: ConnectorDefinition
) -> None:
    inputs = {
        "method": "POST",
        "url": app.url("/xml"),
        "headers": {"Content-Type": "application/xml"},
        "body": "<a/>",
    }

    await runner.run(http, "request", inputs, RequestAuth())

    assert app.requests[0].body == b"<a/>"
    assert app.requests[0].headers["content-type"] == "application/xml"


async def test_the_http_connector_takes_an_absolute_url_when_the_connection_adds_no_credentials(
    app: LocalServer, runner: ActionRunner, http: ConnectorDefinition
) -> None:
    result = await runner.run(http, "request", {"url": app.url("/status")}, RequestAuth())

    assert result.output["method"] == "GET"
    assert app.requests[0].path == "/status"


@pytest.mark.parametrize(
    ("inputs", "auth", "message"),
    [
        (
            {"url": "https://elsewhere.example.com/x"},
            RequestAuth(
                values={"base_url": "https://api.example.com"}, headers={"Authorization": "Bearer t"}
            ),
            "url: https://elsewhere.example.com/x is not at the connection's address https://api.example.com.",
        ),
        (
            {"url": "https://elsewhere.example.com/x"},
            RequestAuth(headers={"Authorization": "Bearer t"}),
            "url: this connection sends credentials, so give a path; its base URL is added.",
        ),
        (
            {"url": "http://169.254.169.254/latest/meta-data"},
            RequestAuth(),
            "url: http://169.254.169.254/latest/meta-data is not an https URL.",
        ),
        (
            {"url": "/orders"},
            RequestAuth(),
            "url: give an absolute https URL, or set a base URL on the connection.",
        ),
        (
            {"url": "/tenant-a/../tenant-b/orders"},
            RequestAuth(values={"base_url": "https://api.example.com/tenant-a"}),
            "url: a path cannot climb out of the base URL with . or ..",
        ),
        (
            {"url": "%2E%2E/admin"},
            RequestAuth(values={"base_url": "https://api.example.com/tenant-a"}),
            "url: a path cannot climb out of the base URL with . or ..",
        ),
        (
            {"url": "https://a.example.com", "body": {"x": 1}},
            RequestAuth(),
            "body: a GET request has no body.",
        ),
        (
            {"url": "https://a.example.com", "headers": {"Host": "b"}},
            RequestAuth(),
            "inputs.headers.Host: the header 'Host' cannot be set.",
        ),
    ],
)
async def test_the_http_connector_refuses_requests_that_would_leave_the_connections_address(
    inputs: dict[str, Any], auth: RequestAuth, message: str, runner: ActionRunner, http: ConnectorDefinition
) -> None:
    with pytest.raises(InvalidInput) as refused:
        await runner.run(http, "request", inputs, auth)

    assert refused.value.message == message
