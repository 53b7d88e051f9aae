"""How to add an MCP server to a client: ready-made set-up for Claude, Cursor, VS Code, the MCP Inspector
(its page and its command line) and mcp-remote, shown with Copy buttons on the server's overview and on
a person's My servers."""

from __future__ import annotations

import json
from typing import Any

import msgspec

from switchboard.platform.mcp.models import AccessMethod, McpServer

_TOKEN_PLACEHOLDER = "<API token>"  # noqa: S105 (a placeholder in configuration snippets)


class Snippet(msgspec.Struct, frozen=True, kw_only=True):
    """How to add the server to one MCP client: where it goes, and what to paste."""

    id: str
    client: str
    where: str
    text: str
    rows: int


def client_snippets(server: McpServer, url: str) -> list[Snippet]:
    """Ready-made configuration for Claude, Cursor, VS Code, the MCP Inspector and mcp-remote.

    Identity servers need nothing but the URL (the client finds the sign-in from the server's 401);
    Token servers need the API token in an Authorization header.
    """
    token = server.access_method is AccessMethod.TOKEN
    headers = {"Authorization": f"Bearer {_TOKEN_PLACEHOLDER}"} if token else {}

    def config(entry: dict[str, Any], key: str) -> str:
        return json.dumps(
            {key: {server.slug: {**entry, **({"headers": headers} if headers else {})}}}, indent=2
        )

    claude_code = f"claude mcp add --transport http {server.slug} {url}"
    if token:
        claude_code += f' --header "Authorization: Bearer {_TOKEN_PLACEHOLDER}"'
    claude_where = (
        "Claude Code: run this command. Claude (claude.ai, Claude Desktop): Settings → Connectors → "
        "Add custom connector, and paste the server URL; Claude signs you in when you first use it."
    )
    inspector = "npx @modelcontextprotocol/inspector"
    inspector_where = (
        'Run this command; in the page it opens choose Transport Type "Streamable HTTP", paste the server '
        "URL and press Connect"
        + (
            " after entering the API token under Authentication"
            f' (header "Authorization", value "Bearer {_TOKEN_PLACEHOLDER}").'
            if token
            else ". The Inspector opens the Switchboard sign-in when the server asks for it."
        )
    )
    header = f"Authorization: Bearer {_TOKEN_PLACEHOLDER}"
    inspector_cli = f"npx @modelcontextprotocol/inspector --cli {url} --transport http --method tools/list"
    if token:
        inspector_cli += f' --header "{header}"'
    inspector_cli_where = "Run this command to list the server's tools from a terminal" + (
        "."
        if token
        else (
            '. The command line does not sign in: add --header "Authorization: Bearer <access token>" '
            "with a token an MCP client got for you, or use the Inspector's page above."
        )
    )
    remote_args = ["mcp-remote", url, *(["--header", header] if token else [])]
    remote = json.dumps({"mcpServers": {server.slug: {"command": "npx", "args": remote_args}}}, indent=2)
    remote_where = (
        "For a client that only starts local (stdio) servers, such as Claude Desktop's "
        "claude_desktop_config.json: mcp-remote connects it to this URL"
        + ("." if token else " and opens the Switchboard sign-in in your browser.")
    )
    snippets = [
        (claude_code, "claude", "Claude", claude_where),
        (
            config({"url": url}, "mcpServers"),
            "cursor",
            "Cursor",
            "Add to ~/.cursor/mcp.json (every project) or .cursor/mcp.json (one project).",
        ),
        (
            config({"type": "http", "url": url}, "servers"),
            "vscode",
            "VS Code",
            "Add to .vscode/mcp.json in your workspace (or run “MCP: Add Server…” and choose HTTP).",
        ),
        (inspector, "inspector", "MCP Inspector", inspector_where),
        (inspector_cli, "inspector-cli", "MCP Inspector CLI", inspector_cli_where),
        (remote, "mcp-remote", "mcp-remote", remote_where),
    ]
    return [
        Snippet(id=f"snippet-{key}", client=client, where=where, text=text, rows=text.count("\n") + 1)
        for text, key, client, where in snippets
    ]
