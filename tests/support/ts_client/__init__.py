"""The official MCP TypeScript SDK client (``run.mjs``, on the tests' Node 22) as a subprocess.

The script prints ``{"authorize": URL}`` when its ``OAuthClientProvider`` sends the person to sign in, and
waits for the URL the browser was redirected to on its stdin; its last line is ``{"result": …}``,
``{"denied": …}`` or ``{"failed": …}``.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from tests.support.processes import LineProcess

ROOT = Path(__file__).resolve().parents[3]
NODE = ROOT / "node_modules" / ".bin" / "node"
SDK = ROOT / "node_modules" / "@modelcontextprotocol" / "sdk" / "package.json"
SCRIPT = Path(__file__).with_name("run.mjs")
NODE_MAJOR = "v22."
WAIT = 20.0


def missing_sdk() -> str | None:
    """Why the TypeScript SDK client cannot run here, or None."""
    if not NODE.exists() or not SDK.exists():
        return f"{NODE} or {SDK.parent} is not installed (`make install` runs npm install)"
    result = subprocess.run([str(NODE), "--version"], capture_output=True, text=True, check=False)
    if not result.stdout.startswith(NODE_MAJOR):
        return f"{NODE} is {result.stdout.strip() or result.stderr.strip()}, the client needs Node 22"
    return None


def sdk_version() -> str:
    version: str = json.loads(SDK.read_text())["version"]
    return version


class ClientFailed(AssertionError):
    pass


class TypeScriptClient(LineProcess):
    """One run of the client; a context manager that always ends it."""

    def __init__(self, server_url: str, redirect_uri: str, client_name: str) -> None:
        super().__init__(
            [str(NODE), str(SCRIPT), server_url, redirect_uri, client_name], stdin=True, cwd=ROOT
        )

    def next_message(self, timeout: float = WAIT) -> dict[str, Any]:
        """The script's next JSON line (anything else it prints, such as SDK warnings, is skipped)."""
        while True:
            try:
                line = self.next_line(timeout)
            except TimeoutError:
                raise ClientFailed(
                    f"the client said nothing within {timeout:.0f} s:\n{self.transcript()}"
                ) from None
            if line is None:
                raise ClientFailed(f"the client ended early:\n{self.transcript()}")
            if line.startswith("{"):
                message: dict[str, Any] = json.loads(line)
                if "failed" in message:
                    raise ClientFailed(f"the client failed:\n{self.transcript()}")
                return message

    def authorization_url(self) -> str:
        message = self.next_message()
        assert "authorize" in message, message
        url: str = message["authorize"]
        return url

    def redirected_to(self, location: str) -> None:
        """Hand the client the URL the person's browser was sent back to."""
        self.send_line(location)
