"""A remote MCP session's handling of sessions, answers and failures, against a scripted streamable HTTP
server (faults a real server would not produce on demand: a lost session, a 401 after refresh, a hang).

The ordinary exchange with real servers is covered by the conformance suite's client scenarios and the
end-to-end tests.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from switchboard.connectors.remote.errors import RemoteError
from switchboard.connectors.remote.metadata import Challenge
from switchboard.connectors.remote.network import Network, NetworkPolicy
from switchboard.connectors.remote.session import RemoteSession
from switchboard.connectors.remote.session_pool import SessionPool
from tests.support.document_server import DocumentServer, Request, write

LOCAL = NetworkPolicy(allow_private=True)
TOOLS = {"tools": [{"name": "search", "inputSchema": {"type": "object"}}]}


class ScriptedServer:
    """Answers JSON-RPC by method; ``faults`` maps a method to the (status, headers, body) to answer once."""

    def __init__(self) -> None:
        self.sessions = 0
        self.live: set[str] = set()  # the sessions the server knows
        self.seen: list[tuple[str, str, str]] = []  # method, session id, authorization
        self.faults: dict[str, list[tuple[int, list[tuple[str, str]], Any]]] = {}  # body: bytes or f(message)
        self.sse = False
        self.delay = 0.0

    async def __call__(self, request: Request, writer: Any) -> None:
        message = json.loads(request.body) if request.body else {}
        method = "DELETE" if request.method == "DELETE" else message.get("method", "(response)")
        self.seen.append(
            (method, request.headers.get("mcp-session-id", ""), request.headers.get("authorization", ""))
        )
        if self.faults.get(method):
            status, headers, body = self.faults[method].pop(0)
            await write(writer, status, body(message) if callable(body) else body, headers)
            return
        if method == "initialize":
            self.sessions += 1
            self.live.add(f"session-{self.sessions}")
            result = {
                "protocolVersion": "2025-06-18",
                "capabilities": {"tools": {}},
                "serverInfo": {"name": "scripted", "version": "1"},
            }
            await self._answer(
                writer, message["id"], result, (("Mcp-Session-Id", f"session-{self.sessions}"),)
            )
            return
        if request.headers.get("mcp-session-id") not in self.live:
            await write(writer, 404, b"")
            return
        if "id" not in message or method in ("(response)", "DELETE"):
            await write(writer, 202, b"")
            return
        await asyncio.sleep(self.delay)
        if method == "tools/list":
            await self._answer(writer, message["id"], TOOLS)
        elif method == "tools/call":
            await self._answer(writer, message["id"], {"content": [{"type": "text", "text": "found"}]})
        else:
            body = {
                "jsonrpc": "2.0",
                "id": message["id"],
                "error": {"code": -32601, "message": "no such method"},
            }
            await write(writer, 200, json.dumps(body).encode(), [("Content-Type", "application/json")])

    async def _answer(
        self, writer: Any, request_id: int, result: dict[str, Any], headers: tuple[tuple[str, str], ...] = ()
    ) -> None:
        answer = {"jsonrpc": "2.0", "id": request_id, "result": result}
        if self.sse:
            ping = {"jsonrpc": "2.0", "id": "srv-1", "method": "ping"}
            progress = {"jsonrpc": "2.0", "method": "notifications/progress", "params": {"progress": 1}}
            body = "".join(
                f"event: message\ndata: {json.dumps(m)}\n\n" for m in (ping, progress, answer)
            ).encode()
            await write(writer, 200, body, [("Content-Type", "text/event-stream"), *headers])
        else:
            await write(
                writer, 200, json.dumps(answer).encode(), [("Content-Type", "application/json"), *headers]
            )


class Tokens:
    """Credentials that hand out numbered tokens and count what they were asked."""

    def __init__(self, *, renewals: int = 1) -> None:
        self.current = "token-1"
        self.unauthorized_calls = 0
        self.renewals = renewals

    async def token(self) -> str | None:
        return self.current

    async def unauthorized(self, challenge: Challenge | None) -> str | None:
        self.unauthorized_calls += 1
        if self.unauthorized_calls > self.renewals:
            return None
        self.current = f"token-{self.unauthorized_calls + 1}"
        return self.current

    async def insufficient_scope(self, challenge: Challenge) -> str | None:
        return None


@pytest.fixture
async def scripted() -> AsyncIterator[tuple[ScriptedServer, str]]:
    script = ScriptedServer()
    server = DocumentServer({"/mcp": script})
    await server.start()
    yield script, server.url("/mcp")
    await server.stop()


async def session_for(url: str, credentials: Any, **options: Any) -> tuple[RemoteSession, Any]:
    http = Network().client(LOCAL)
    return RemoteSession(http, url, credentials, name="Files", **options), http


async def test_a_session_based_server_gets_its_session_id_and_protocol_version_back(
    scripted: tuple[ScriptedServer, str],
) -> None:
    script, url = scripted
    session, http = await session_for(url, Tokens())
    async with http:
        tools = await session.list_tools()

    assert [tool.name for tool in tools] == ["search"]
    assert script.seen == [
        ("initialize", "", "Bearer token-1"),
        ("notifications/initialized", "session-1", "Bearer token-1"),
        ("tools/list", "session-1", "Bearer token-1"),
    ]
    assert session.server_info["name"] == "scripted"


async def test_a_lost_session_is_initialized_again_and_the_request_repeated(
    scripted: tuple[ScriptedServer, str],
) -> None:
    script, url = scripted
    session, http = await session_for(url, Tokens())
    async with http:
        await session.list_tools()
        script.live = set()  # the server forgot session-1

        result = await session.call_tool("search", {"q": "x"})

    assert result.content[0].text == "found"  # type: ignore[union-attr]
    assert [(method, sid) for method, sid, _ in script.seen[3:]] == [
        ("tools/call", "session-1"),
        ("initialize", ""),
        ("notifications/initialized", "session-2"),
        ("tools/call", "session-2"),
    ]


async def test_answers_in_an_event_stream_are_read_and_the_server_s_ping_is_answered(
    scripted: tuple[ScriptedServer, str],
) -> None:
    script, url = scripted
    script.sse = True
    session, http = await session_for(url, Tokens())
    async with http:
        tools = await session.list_tools()

    assert [tool.name for tool in tools] == ["search"]
    assert ("(response)", "session-1", "Bearer token-1") in script.seen  # the reply to the server's ping


async def test_a_401_gets_one_new_token_and_the_request_is_repeated_with_it(
    scripted: tuple[ScriptedServer, str],
) -> None:
    script, url = scripted
    challenge = [("WWW-Authenticate", 'Bearer error="invalid_token"')]
    script.faults["tools/list"] = [(401, challenge, b"")]
    tokens = Tokens()
    session, http = await session_for(url, tokens)
    async with http:
        await session.list_tools()

    assert tokens.unauthorized_calls == 1
    assert [auth for method, _, auth in script.seen if method == "tools/list"] == [
        "Bearer token-1",
        "Bearer token-2",
    ]


async def test_a_second_401_is_not_retried_and_says_to_reconnect(
    scripted: tuple[ScriptedServer, str],
) -> None:
    script, url = scripted
    challenge = [("WWW-Authenticate", 'Bearer error="invalid_token"')]
    script.faults["tools/list"] = [(401, challenge, b""), (401, challenge, b"")]
    tokens = Tokens(renewals=5)
    session, http = await session_for(url, tokens)
    async with http:
        with pytest.raises(RemoteError) as caught:
            await session.list_tools()

    assert caught.value.message == "Files did not accept Switchboard's credentials; reconnect."
    assert caught.value.problem == "unauthorized"
    assert tokens.unauthorized_calls == 1


async def test_remote_errors_become_messages_a_person_can_act_on(
    scripted: tuple[ScriptedServer, str],
) -> None:
    script, url = scripted

    def malformed(message: dict[str, Any]) -> bytes:
        return json.dumps(
            {"jsonrpc": "2.0", "id": message["id"], "result": {"content": "not a list"}}
        ).encode()

    script.faults["tools/call"] = [
        (503, [], b"down"),
        (429, [], b""),
        (400, [], b"unknown  tool\n"),
        (200, [("Content-Type", "application/json")], malformed),
    ]
    session, http = await session_for(url, Tokens())
    async with http:
        messages = []
        for _ in range(4):
            with pytest.raises(RemoteError) as caught:
                await session.call_tool("search", {})
            messages.append(caught.value.message)
        with pytest.raises(RemoteError) as rpc:
            await session.request("resources/list", {})

    assert messages == [
        "Files failed (HTTP 503); try again later.",
        "Files is limiting requests; try again later.",
        "Files refused tools/call (HTTP 400: unknown tool).",
        "Files sent a malformed CallToolResult.",
    ]
    assert rpc.value.message == "Files answered resources/list with an error (-32601: no such method)."


async def test_a_server_that_does_not_answer_in_time_is_given_up(
    scripted: tuple[ScriptedServer, str],
) -> None:
    script, url = scripted
    session, http = await session_for(url, Tokens(), timeout=0.5)
    async with http:
        await session.list_tools()
        script.delay = 2.0
        with pytest.raises(RemoteError) as caught:
            await session.list_tools()

    assert caught.value.message == "Files did not answer tools/list within 0.5 s; try again later."
    assert caught.value.problem == "timeout"


async def test_a_server_on_a_private_address_is_refused_under_the_default_policy(
    scripted: tuple[ScriptedServer, str],
) -> None:
    script, url = scripted
    async with Network().client(NetworkPolicy()) as http:
        session = RemoteSession(http, url.replace("http://", "https://"), Tokens(), name="Files")
        with pytest.raises(RemoteError) as caught:
            await session.list_tools()

    assert "127.0.0.1 is a loopback address, which is not allowed" in caught.value.message
    assert script.seen == []


# --- sessions kept between calls ---------------------------------------------------------------------


async def pooled_call(pool: SessionPool, url: str, credentials: Any) -> str:
    async with pool.session(LOCAL, url, credentials, name="Files") as session:
        result = await session.call_tool("search", {"q": "x"})
    return result.content[0].text  # type: ignore[union-attr]


async def test_calls_with_the_same_credentials_share_one_session_and_another_token_gets_its_own(
    scripted: tuple[ScriptedServer, str],
) -> None:
    script, url = scripted
    pool = SessionPool(Network())
    alice, bob = Tokens(), Tokens()
    bob.current = "token-bob"

    answers = [await pooled_call(pool, url, credentials) for credentials in (alice, alice, bob, alice)]
    await pool.aclose()

    assert answers == ["found"] * 4
    assert script.seen == [
        ("initialize", "", "Bearer token-1"),
        ("notifications/initialized", "session-1", "Bearer token-1"),
        ("tools/call", "session-1", "Bearer token-1"),
        ("tools/call", "session-1", "Bearer token-1"),
        ("initialize", "", "Bearer token-bob"),
        ("notifications/initialized", "session-2", "Bearer token-bob"),
        ("tools/call", "session-2", "Bearer token-bob"),
        ("tools/call", "session-1", "Bearer token-1"),
        ("DELETE", "session-1", "Bearer token-1"),
        ("DELETE", "session-2", "Bearer token-bob"),
    ]


async def test_a_kept_session_the_server_forgot_is_initialized_again(
    scripted: tuple[ScriptedServer, str],
) -> None:
    script, url = scripted
    pool = SessionPool(Network())
    await pooled_call(pool, url, Tokens())
    script.live = set()  # the server forgot session-1 between the calls

    assert await pooled_call(pool, url, Tokens()) == "found"
    assert [(method, sid) for method, sid, _ in script.seen[3:]] == [
        ("tools/call", "session-1"),
        ("initialize", ""),
        ("notifications/initialized", "session-2"),
        ("tools/call", "session-2"),
    ]


async def test_a_session_that_failed_is_ended_and_the_next_call_starts_another(
    scripted: tuple[ScriptedServer, str],
) -> None:
    script, url = scripted
    pool = SessionPool(Network())
    await pooled_call(pool, url, Tokens())
    script.faults["tools/call"] = [(500, [], b"")]

    with pytest.raises(RemoteError):
        await pooled_call(pool, url, Tokens())
    assert await pooled_call(pool, url, Tokens()) == "found"

    assert [(method, sid) for method, sid, _ in script.seen[2:]] == [
        ("tools/call", "session-1"),
        ("tools/call", "session-1"),
        ("DELETE", "session-1"),
        ("initialize", ""),
        ("notifications/initialized", "session-2"),
        ("tools/call", "session-2"),
    ]


async def test_an_idle_session_is_ended_when_the_pool_is_next_used(
    scripted: tuple[ScriptedServer, str],
) -> None:
    script, url = scripted
    pool = SessionPool(Network(), idle_seconds=0.0)
    alice, bob = Tokens(), Tokens()
    bob.current = "token-bob"

    await pooled_call(pool, url, alice)
    await pooled_call(pool, url, bob)
    ended_by_housekeeping = await pool.end_idle()

    assert [(method, sid, token) for method, sid, token in script.seen if method == "DELETE"] == [
        ("DELETE", "session-1", "Bearer token-1"),
        ("DELETE", "session-2", "Bearer token-bob"),
    ]
    assert ended_by_housekeeping == 1
    assert await pool.end_idle() == 0
