"""Whatever a caller posts to ``/mcp/<slug>``, the answer is a JSON-RPC error, never a server error.

MCP streamable HTTP (Sending Messages to the Server): a body the server cannot accept is answered with
an HTTP error status whose body may be a JSON-RPC error with no id. Nesting is refused past a fixed depth
before anything parses the message, so no parser or tool recurses on what a caller nests.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import msgspec
import pytest
from litestar import Litestar

from switchboard.platform.mcp.audit import ToolCallFilter
from switchboard.platform.mcp.deps import McpServices
from switchboard.platform.mcp.models import AccessMethod, McpServer, ServerCreate, ToolAttach
from switchboard.platform.services import Services
from tests.support.actors import SETUP

MCP_HEADERS = {"accept": "application/json, text/event-stream", "content-type": "application/json"}
MAX_DEPTH = 64
MAX_BODY_BYTES = 1024 * 1024
TOO_DEEP = "Parse error: the message is nested more than 64 levels deep."


@pytest.fixture
async def headers(running: Litestar, app_services: Services, demo: McpServer) -> dict[str, str]:
    """A verified caller of ``/mcp/automation`` (the Token access method), which offers the demo's tools."""
    mcp: McpServices = app_services.mcp
    server = await mcp.servers.create(
        ServerCreate(slug="automation", name="Automation", access_method=AccessMethod.TOKEN), actor=SETUP
    )
    for tool in await mcp.servers.tools(demo.id):
        await mcp.tools.attach(server.id, ToolAttach(recipe_id=tool.recipe_id), actor=SETUP)
    created = await mcp.tokens.create(server.id, "nightly job", actor=SETUP)
    return {**MCP_HEADERS, "authorization": f"Bearer {created.secret}"}


def _call(arguments: bytes) -> bytes:
    """A ``tools/call`` of whoami whose arguments are ``arguments``, spelled as given (3 levels deep around
    them: the message, its params and the arguments object)."""
    return (
        b'{"jsonrpc": "2.0", "id": 7, "method": "tools/call", '
        b'"params": {"name": "whoami", "arguments": {"data": ' + arguments + b"}}}"
    )


def _nested(shape: str, levels: int) -> bytes:
    if shape == "arrays":
        return b"[" * levels + b"1" + b"]" * levels
    return b'{"a": ' * levels + b"1" + b"}" * levels


def _error(response: httpx.Response) -> tuple[int, str, dict[str, Any]]:
    return response.status_code, response.headers["content-type"], response.json()


def _rpc_error(code: int, message: str) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": None, "error": {"code": code, "message": message}}


async def _calls_recorded(app_services: Services) -> int:
    return len(await app_services.mcp.calls.search(ToolCallFilter(server="automation")))


@pytest.mark.parametrize("shape", ["arrays", "objects"])
@pytest.mark.parametrize("levels", [100, 1_000, 100_000])
async def test_arguments_nested_past_the_limit_are_a_parse_error_and_run_nothing(
    client: httpx.AsyncClient, app_services: Services, headers: dict[str, str], shape: str, levels: int
) -> None:
    response = await client.post("/mcp/automation", content=_call(_nested(shape, levels)), headers=headers)

    assert _error(response) == (400, "application/json", _rpc_error(-32700, TOO_DEEP))
    assert await _calls_recorded(app_services) == 0


@pytest.mark.parametrize("shape", ["arrays", "objects"])
async def test_a_message_nested_up_to_the_limit_reaches_the_tool_and_one_level_more_is_refused(
    client: httpx.AsyncClient, app_services: Services, headers: dict[str, str], shape: str
) -> None:
    deepest = MAX_DEPTH - 3  # the message, its params and the arguments object are the other three levels

    served = await client.post("/mcp/automation", content=_call(_nested(shape, deepest)), headers=headers)
    refused = await client.post(
        "/mcp/automation", content=_call(_nested(shape, deepest + 1)), headers=headers
    )

    # whoami takes no arguments: its own input check answers, so the call got through to the tool.
    assert served.status_code == 200, served.text
    assert served.json() == {
        "jsonrpc": "2.0",
        "id": 7,
        "result": {
            "content": [
                {
                    "type": "text",
                    "text": "The input is not valid: "
                    "Additional properties are not allowed ('data' was unexpected)",
                }
            ],
            "isError": True,
        },
    }
    assert _error(refused) == (400, "application/json", _rpc_error(-32700, TOO_DEEP))
    assert await _calls_recorded(app_services) == 1


async def test_brackets_inside_strings_do_not_count_as_nesting(
    client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    text = msgspec.json.encode('\\"[{' * 1_000)

    response = await client.post("/mcp/automation", content=_call(text), headers=headers)

    assert response.status_code == 200, response.text
    assert "result" in response.json()


async def test_a_string_ending_in_a_backslash_does_not_hide_the_nesting_after_it(
    client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    after_a_path = b'"C:\\\\", "more": ' + _nested("arrays", MAX_DEPTH)

    response = await client.post("/mcp/automation", content=_call(after_a_path), headers=headers)

    assert _error(response) == (400, "application/json", _rpc_error(-32700, TOO_DEEP))


async def test_the_protocol_version_a_client_names_does_not_change_the_answer(
    client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    latest = {**headers, "mcp-protocol-version": "2026-07-28"}

    response = await client.post("/mcp/automation", content=_call(_nested("objects", 1_000)), headers=latest)

    assert _error(response) == (400, "application/json", _rpc_error(-32700, TOO_DEEP))


async def test_a_body_over_the_size_limit_is_refused_before_it_is_read_whole(
    client: httpx.AsyncClient, app_services: Services, headers: dict[str, str]
) -> None:
    huge = _call(msgspec.json.encode("x" * (MAX_BODY_BYTES + 1)))

    response = await client.post("/mcp/automation", content=huge, headers=headers)

    message = "Invalid request: the body is larger than 1 MiB."
    assert _error(response) == (413, "application/json", _rpc_error(-32600, message))
    assert await _calls_recorded(app_services) == 0


async def test_a_body_sent_in_pieces_is_refused_once_past_the_size_limit_and_not_read_further(
    client: httpx.AsyncClient, app_services: Services, headers: dict[str, str]
) -> None:
    piece = b" " * 64 * 1024
    sent = 0

    async def pieces() -> AsyncIterator[bytes]:  # no Content-Length: the size shows only as it is read
        nonlocal sent
        for _ in range(64):  # 4 MiB
            sent += 1
            yield piece

    response = await client.post("/mcp/automation", content=pieces(), headers=headers)

    message = "Invalid request: the body is larger than 1 MiB."
    assert _error(response) == (413, "application/json", _rpc_error(-32600, message))
    assert sent == MAX_BODY_BYTES // len(piece) + 1
    assert await _calls_recorded(app_services) == 0


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
async def test_a_body_that_is_not_sent_as_json_is_refused_unread(
    client: httpx.AsyncClient, headers: dict[str, str], content_type: str | None
) -> None:
    sent = {key: value for key, value in headers.items() if key != "content-type"}
    if content_type is not None:
        sent["content-type"] = content_type

    response = await client.post("/mcp/automation", content=_call(b"1"), headers=sent)

    message = "Invalid request: send the message as application/json."
    assert _error(response) == (415, "application/json", _rpc_error(-32600, message))


@pytest.mark.parametrize(
    ("body", "message"),
    [
        pytest.param(_call(b'"\xff\xfe"'), "Parse error: Invalid UTF-8 encoded string", id="invalid UTF-8"),
        pytest.param(
            _call(b"1e999999"),
            "Parse error: Number out of range - at `$[...][...][...]`",
            id="a number out of range",
        ),
        pytest.param(
            _call(b"1" * 5_000),
            "Parse error: Integer value out of range - at `$[...][...][...]`",
            id="a huge integer",
        ),
        pytest.param(
            b'{"jsonrpc": "2.0", "id": 1, "method": ', "Parse error: Input data was truncated", id="cut"
        ),
        pytest.param(
            b"{not json}",
            "Parse error: JSON is malformed: object keys must be strings (byte 1)",
            id="not JSON",
        ),
        pytest.param(b"", "Parse error: Input data was truncated", id="an empty body"),
        pytest.param(
            b"]]]]", "Parse error: JSON is malformed: invalid character (byte 0)", id="closing only"
        ),
        pytest.param(b"[[[[" * 50_000, TOO_DEEP, id="unclosed brackets"),
    ],
)
async def test_a_body_that_is_not_json_is_a_parse_error(
    client: httpx.AsyncClient, app_services: Services, headers: dict[str, str], body: bytes, message: str
) -> None:
    response = await client.post("/mcp/automation", content=body, headers=headers)

    assert _error(response) == (400, "application/json", _rpc_error(-32700, message))
    assert await _calls_recorded(app_services) == 0


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b'[{"jsonrpc": "2.0", "id": 1, "method": "ping"}]', id="a batch"),
        pytest.param(b"[]", id="an empty batch"),
        pytest.param(b'"tools/call"', id="a string"),
        pytest.param(b"null", id="null"),
    ],
)
async def test_a_body_that_is_not_one_message_is_an_invalid_request(
    client: httpx.AsyncClient, headers: dict[str, str], body: bytes
) -> None:
    response = await client.post("/mcp/automation", content=body, headers=headers)

    message = (
        "Invalid request: send one JSON-RPC message, a JSON object, per request (batches are not supported)."
    )
    assert _error(response) == (400, "application/json", _rpc_error(-32600, message))


@pytest.mark.parametrize(
    "params",
    [
        pytest.param([1, 2], id="an array"),
        pytest.param("whoami", id="a string"),
        pytest.param(5, id="a number"),
        pytest.param({"name": ["whoami"]}, id="a name that is no string"),
        pytest.param({"name": "whoami", "arguments": [1]}, id="arguments that are no object"),
    ],
)
async def test_tool_call_params_of_the_wrong_shape_are_a_json_rpc_error_and_run_nothing(
    client: httpx.AsyncClient, app_services: Services, headers: dict[str, str], params: object
) -> None:
    call = {"jsonrpc": "2.0", "id": 9, "method": "tools/call", "params": params}

    response = await client.post("/mcp/automation", json=call, headers=headers)

    assert response.status_code in (200, 400), response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["jsonrpc"] == "2.0"
    assert body["error"]["code"] == -32602
    assert "result" not in body
    assert await _calls_recorded(app_services) == 0


async def test_a_stranger_cannot_make_the_server_read_a_body(
    client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    response = await client.post(
        "/mcp/automation", content=_call(_nested("arrays", 100_000)), headers=MCP_HEADERS
    )

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_token"
