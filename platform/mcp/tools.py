"""A server's tools as MCP sees them, and tool calls run as the caller.

A tool is a published recipe attached to the server, or a remote MCP server's tool offered directly
through one of its connections. A recipe tool's input schema comes from the published version's trigger;
versions never change once published, so their definitions are kept in memory by (recipe, version) and
a tool list reads the database once per request. A remote tool's title, description and input schema are
its connector action's (the remote server's own, as last listed); it is called with the caller's
credentials for that connection, and is audited like a recipe tool. (The endpoint counts every request
against the server's rate limit before a call gets here: ``rate_limits.py``.)

When a run stops because the caller's own connection is missing, a client that declared URL-mode
elicitation gets ``-32042`` with the connect link; any other client gets a tool error whose text holds
the link and says what to do (DESIGN.md §5 flow 3).
"""

from __future__ import annotations

import json
import time
from collections import OrderedDict
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import mcp_types as types

from mcp.shared.exceptions import MCPError, UrlElicitationRequiredError
from switchboard.connectors.connections.credentials import Caller
from switchboard.connectors.connections.errors import ConnectionRequired
from switchboard.connectors.definitions import ConnectorDefinition
from switchboard.connectors.deps import ConnectorServices
from switchboard.platform.core.errors import DomainError, NotFound
from switchboard.platform.mcp.access import McpCaller, ServerLookup, offered_scopes
from switchboard.platform.mcp.audit import ToolCall, ToolCallLog
from switchboard.platform.mcp.client_names import ClientNames
from switchboard.platform.mcp.models import McpServer, RemoteTool, ServerTool
from switchboard.recipes.deps import RecipeServices
from switchboard.recipes.model import RecipeDefinition
from switchboard.recipes.outcomes import Outcome, RunCaller, RunReport

_KEPT_DEFINITIONS = 2048


class ToolRunner:
    def __init__(
        self,
        *,
        servers: ServerLookup,
        recipes: RecipeServices,
        calls: ToolCallLog,
        connectors: ConnectorServices | None = None,
        names: ClientNames | None = None,
    ) -> None:
        self._servers = servers
        self._recipes = recipes
        self._calls = calls
        self._connectors = connectors
        self._names = names or ClientNames()
        self._definitions: OrderedDict[tuple[UUID, int], RecipeDefinition] = OrderedDict()

    async def published(self, server: McpServer) -> list[ServerTool]:
        tools = await self._servers.serving_tools(server.id)
        return [tool for tool in tools if tool.published_version is not None]

    async def remote(self, server: McpServer) -> list[RemoteTool]:
        if self._connectors is None:
            return []
        return await self._servers.serving_remote_tools(server.id)

    async def find(self, server: McpServer, name: str) -> ServerTool | RemoteTool | None:
        found = next((tool for tool in await self.published(server) if tool.tool_name == name), None)
        return found or next((tool for tool in await self.remote(server) if tool.tool_name == name), None)

    async def scopes(self, server: McpServer) -> list[str]:
        """What the server's protected resource metadata offers: every tool, or each tool's own scope."""
        return list(offered_scopes([*await self.published(server), *await self.remote(server)]))

    async def listed(self, caller: McpCaller) -> list[types.Tool]:
        """The tools ``caller`` may call, with their schemas and hints."""
        tools = []
        for tool in await self.published(caller.server):
            if not caller.may_call(tool.scope):
                continue
            definition = await self._definition(tool)
            trigger = definition.trigger
            tools.append(
                types.Tool(
                    name=tool.tool_name,
                    title=trigger.title or None,
                    description=trigger.description or None,
                    input_schema=trigger.input_schema(),
                    output_schema=trigger.output_schema,
                    annotations=types.ToolAnnotations(
                        read_only_hint=tool.read_only, destructive_hint=tool.destructive
                    ),
                )
            )
        definitions: dict[str, ConnectorDefinition | None] = {}  # each remote server's, read once
        for remote in await self.remote(caller.server):
            if not caller.may_call(remote.scope):
                continue
            if remote.connector not in definitions:
                definitions[remote.connector] = await self._definition_of(remote.connector)
            connector = definitions[remote.connector]
            action = connector.action(remote.action) if connector is not None else None
            if action is None:  # the remote server no longer lists it
                continue
            tools.append(
                types.Tool(
                    name=remote.tool_name,
                    title=action.title or None,
                    description=action.description or None,
                    input_schema=action.input_schema,
                    annotations=types.ToolAnnotations(
                        read_only_hint=remote.read_only, destructive_hint=remote.destructive
                    ),
                )
            )
        return sorted(tools, key=lambda tool: tool.name)

    async def call(
        self,
        caller: McpCaller,
        name: str,
        arguments: dict[str, Any],
        *,
        url_elicitation: bool,
        tool: ServerTool | RemoteTool | None = None,
    ) -> types.CallToolResult:
        """Run tool ``name`` as ``caller``; ``tool`` is its entry when the caller looked it up already."""
        if tool is None:
            tool = await self.find(caller.server, name)
        if tool is None or not caller.may_call(tool.scope):
            raise MCPError(types.INVALID_PARAMS, f"Unknown tool: {name}")
        if isinstance(tool, RemoteTool):
            return await self._call_remote(caller, tool, arguments, url_elicitation=url_elicitation)
        run_caller = RunCaller(
            user_id=caller.end_user_id, email=caller.email, name=caller.name, groups=caller.groups
        )
        definition = await self._definition(tool)
        assert tool.published_version is not None
        # The run's row and the call's audit row, committed together before the answer goes.
        async with self._calls.writer.held():
            report = await self._recipes.engine.run(
                recipe_id=tool.recipe_id,
                version=tool.published_version,
                definition=definition,
                inputs=arguments,
                caller=run_caller,
                kind="tool",
            )
            await self._record(caller, name, report.outcome.value, report.message, report)
        if report.outcome is Outcome.CONNECTION_REQUIRED and report.connect_url:
            return _connect_first(
                name, report.message, report.connect_url, str(report.id), url_elicitation=url_elicitation
            )
        return _result(report)

    async def _definition_of(self, key: str) -> ConnectorDefinition | None:
        assert self._connectors is not None
        try:
            return await self._connectors.registry.get(key)
        except NotFound:
            return None

    async def _call_remote(
        self, caller: McpCaller, tool: RemoteTool, arguments: dict[str, Any], *, url_elicitation: bool
    ) -> types.CallToolResult:
        """A remote tool through its connection, with the caller's own credentials for it."""
        assert self._connectors is not None
        connectors = self._connectors
        started = datetime.now(UTC)
        clock = time.monotonic()

        async def done(outcome: str, message: str) -> None:
            duration = round((time.monotonic() - clock) * 1000)
            await self._record(caller, tool.tool_name, outcome, message, at=started, duration_ms=duration)

        try:
            definition = await connectors.registry.get(tool.connector)
            call = await connectors.calls.open(
                definition, tool.connection_id, Caller(caller.end_user_id, caller.email)
            )
            result = await call.run(tool.action, arguments)
        except ConnectionRequired as required:
            await done("connection_required", required.message)
            return _connect_first(
                tool.tool_name,
                required.message,
                required.connect_url,
                str(uuid4()),
                url_elicitation=url_elicitation,
            )
        except DomainError as failure:  # refused credentials, a remote error, bad arguments
            await done("failed", failure.message)
            return _error(failure.message)
        await done("succeeded", "")
        output = result.output
        text = output if isinstance(output, str) else json.dumps(output, ensure_ascii=False)
        return types.CallToolResult(
            content=[types.TextContent(text=text)],
            structured_content=output if isinstance(output, dict) else None,
        )

    async def rate_limited(self, caller: McpCaller, name: str, message: str) -> None:
        """A ``tools/call`` the server's rate limit refused before it reached the tool."""
        await self._record(caller, name[:64], "rate_limited", message)

    async def _record(
        self,
        caller: McpCaller,
        tool: str,
        outcome: str,
        message: str,
        report: RunReport | None = None,
        *,
        at: datetime | None = None,
        duration_ms: int = 0,
    ) -> None:
        await self._calls.record(
            ToolCall(
                id=uuid4(),
                at=report.started_at if report is not None else (at or datetime.now(UTC)),
                server_slug=caller.server.slug,
                tool=tool,
                user_email=caller.email,
                client_id=caller.client_id,
                outcome=outcome,
                duration_ms=report.duration_ms if report is not None else duration_ms,
                run_id=report.id if report is not None else None,
                message=message,
                client_name=await self._names.name_of(caller.server, caller.client_id),
                scope=" ".join(caller.scopes),
                ip_address=caller.ip_address,
                user_agent=caller.user_agent,
            )
        )

    async def _definition(self, tool: ServerTool) -> RecipeDefinition:
        assert tool.published_version is not None
        key = (tool.recipe_id, tool.published_version)
        definition = self._definitions.get(key)
        if definition is None:
            version = await self._recipes.recipes.version(tool.recipe_id, tool.published_version)
            definition = version.definition
            self._definitions[key] = definition
            if len(self._definitions) > _KEPT_DEFINITIONS:
                self._definitions.popitem(last=False)
        return definition


def _connect_first(
    tool: str, message: str, url: str, elicitation_id: str, *, url_elicitation: bool
) -> types.CallToolResult:
    """The caller must connect their own account at ``url`` first: ``-32042`` for a client that declared
    URL-mode elicitation, else a tool error whose text holds the link."""
    if url_elicitation:
        params = types.ElicitRequestURLParams(message=message, url=url, elicitation_id=elicitation_id)
        raise UrlElicitationRequiredError([params], message)
    if url not in message:
        message += f" Open this link to connect: {url}, then call {tool} again."
    return _error(message)


def _error(text: str) -> types.CallToolResult:
    return types.CallToolResult(content=[types.TextContent(text=text)], is_error=True)


def _result(report: RunReport) -> types.CallToolResult:
    result = report.result
    if result is None:
        return _error(report.message or "The tool gave no result.")
    if not report.succeeded:
        return _error(result.text or report.message)
    return types.CallToolResult(
        content=[types.TextContent(text=result.text)],
        # MCP structured content is a JSON object; other shapes reach the client as text only.
        structured_content=result.structured if isinstance(result.structured, dict) else None,
        is_error=result.is_error,
    )
