"""Whatever a client posts to the authorization server's endpoints, the answer is an RFC 6749 §5.2 error
(RFC 7591 §3.2.2 for registration) in JSON, never a page or a server error: deeply nested JSON, a body
too large, bytes that are no text."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from switchboard.identity.oauth.server import AuthorizationServer

JSON = {"content-type": "application/json"}
FORM = {"content-type": "application/x-www-form-urlencoded"}
TOO_DEEP = "The client metadata is nested more than 16 levels deep."


def _nested(shape: str, levels: int) -> bytes:
    if shape == "arrays":
        return b"[" * levels + b"1" + b"]" * levels
    return b'{"a": ' * levels + b"1" + b"}" * levels


def _metadata(contacts: bytes) -> bytes:
    return b'{"redirect_uris": ["http://127.0.0.1:8765/callback"], "contacts": ' + contacts + b"}"


def _answer(response: httpx.Response) -> tuple[int, str, dict[str, str]]:
    return response.status_code, response.headers["content-type"], response.json()


def _error(code: str, description: str) -> dict[str, str]:
    return {"error": code, "error_description": description}


@pytest.mark.parametrize("shape", ["arrays", "objects"])
@pytest.mark.parametrize("levels", [100, 1_000, 2_000])
async def test_client_metadata_nested_too_deep_is_invalid_client_metadata(
    client: httpx.AsyncClient, oauth_server: AuthorizationServer, shape: str, levels: int
) -> None:
    response = await client.post("/oauth/register", content=_metadata(_nested(shape, levels)), headers=JSON)

    assert _answer(response) == (400, "application/json", _error("invalid_client_metadata", TOO_DEEP))
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["access-control-allow-origin"] == "*"
    assert await oauth_server.clients.list_all() == []


async def test_client_metadata_nested_up_to_the_limit_is_read(
    client: httpx.AsyncClient, oauth_server: AuthorizationServer
) -> None:
    deepest = 16 - 1  # the metadata object is the first level

    read = await client.post("/oauth/register", content=_metadata(_nested("arrays", deepest)), headers=JSON)
    refused = await client.post(
        "/oauth/register", content=_metadata(_nested("arrays", deepest + 1)), headers=JSON
    )

    assert read.status_code == 201, read.text
    assert _answer(refused) == (400, "application/json", _error("invalid_client_metadata", TOO_DEEP))
    assert len(await oauth_server.clients.list_all()) == 1


async def test_brackets_that_never_close_are_invalid_client_metadata(client: httpx.AsyncClient) -> None:
    response = await client.post("/oauth/register", content=b"[" * 16_000, headers=JSON)

    assert _answer(response) == (400, "application/json", _error("invalid_client_metadata", TOO_DEEP))


async def test_client_metadata_over_a_megabyte_is_invalid_client_metadata(client: httpx.AsyncClient) -> None:
    huge = _metadata(b'["' + b"x" * 2 * 1024 * 1024 + b'"]')

    response = await client.post("/oauth/register", content=huge, headers=JSON)

    too_large = "The client metadata is larger than 16 KiB."
    assert _answer(response) == (400, "application/json", _error("invalid_client_metadata", too_large))
    assert response.headers["access-control-allow-origin"] == "*"


@pytest.mark.parametrize("endpoint", ["/oauth/token", "/oauth/revoke", "/oauth/introspect"])
async def test_a_form_over_a_megabyte_is_invalid_request(client: httpx.AsyncClient, endpoint: str) -> None:
    huge = b"grant_type=authorization_code&code=" + b"x" * 2 * 1024 * 1024

    response = await client.post(endpoint, content=huge, headers=FORM)

    assert _answer(response) == (
        400,
        "application/json",
        _error("invalid_request", "The request is too large."),
    )
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["access-control-allow-origin"] == "*"


async def test_a_form_sent_in_pieces_is_refused_once_past_its_limit_and_not_read_further(
    client: httpx.AsyncClient,
) -> None:
    sent = 0

    async def pieces() -> AsyncIterator[bytes]:  # no Content-Length: the size shows only as it is read
        nonlocal sent
        yield b"grant_type=authorization_code&code="
        for _ in range(64):  # 4 MiB
            sent += 1
            yield b"x" * 64 * 1024

    response = await client.post("/oauth/token", content=pieces(), headers=FORM)

    assert _answer(response) == (
        400,
        "application/json",
        _error("invalid_request", "The request is too large."),
    )
    assert sent == 1  # the first 64 KiB piece passes the form's 64 KiB limit


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(_metadata(b'["\xff\xfe"]'), id="invalid UTF-8"),
        pytest.param(_metadata(b"[1e999999]"), id="a number out of range"),
        pytest.param(_metadata(b"[" + b"1" * 5_000 + b"]"), id="a huge integer"),
        pytest.param(b'{"redirect_uris": ', id="cut short"),
    ],
)
async def test_client_metadata_that_is_not_json_is_invalid_client_metadata(
    client: httpx.AsyncClient, body: bytes
) -> None:
    response = await client.post("/oauth/register", content=body, headers=JSON)

    not_json = "The request body is not valid JSON."
    assert _answer(response) == (400, "application/json", _error("invalid_client_metadata", not_json))
