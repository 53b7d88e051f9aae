"""Running the official MCP conformance suite's authorization-server scenarios (a Node program).

The suite prints an authorization URL and waits for a person to sign in and consent, then listens on
``http://127.0.0.1:<port>/callback`` and exchanges the code itself. ``SuiteRun`` starts it, hands the URL
to the test (which drives the browser), and collects each check's result from ``checks.json``: the exit
code alone says nothing about checks the suite skipped.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path
from typing import Any

from tests.support.processes import LineProcess

ROOT = Path(__file__).resolve().parents[2]
NODE = ROOT / "node_modules" / ".bin" / "node"
CLI = ROOT / "node_modules" / ".bin" / "conformance"
NODE_MAJOR = "v22."
# The checks of the two authorization-server scenarios (conformance 0.2.0-alpha.12).
CHECK_IDS = (
    "authorization-server-metadata",
    "authorization-server-metadata-cimd",
    "authorization-code-grant",
)


def missing_suite() -> str | None:
    """Why the suite cannot run here, or None when Node 22 and the suite are installed."""
    if not NODE.exists() or not CLI.exists():
        return f"{NODE} or {CLI} is not installed (`make install` runs npm install)"
    result = subprocess.run([str(NODE), "--version"], capture_output=True, text=True, check=False)
    if not result.stdout.startswith(NODE_MAJOR):
        return f"{NODE} is {result.stdout.strip() or result.stderr.strip()}, the suite needs Node 22"
    return None


class SuiteFailed(AssertionError):
    pass


class SuiteRun(LineProcess):
    """One ``conformance authorization`` process; a context manager that always ends it."""

    def __init__(
        self,
        *,
        issuer: str,
        client_id: str,
        resource: str,
        callback_port: int,
        output_dir: Path,
        client_secret: str | None = None,
    ) -> None:
        command = [
            str(NODE), str(CLI), "authorization", "--url", issuer, "--client-id", client_id,
            "--resource", resource, "-p", str(callback_port), "-o", str(output_dir),
            *(["--client-secret", client_secret] if client_secret else []),
        ]  # fmt: skip
        super().__init__(command, env={**os.environ, "NO_COLOR": "1"})
        self.issuer = issuer
        self.callback_port = callback_port
        self.output_dir = output_dir

    def authorization_url(self, timeout: float = 30.0) -> str:
        """The URL the suite asks a person to open, once its callback listener is up."""
        prefix = f"{self.issuer}/oauth/authorize?"
        listening = f"Callback server started: http://127.0.0.1:{self.callback_port}"
        url, ready = None, False
        deadline = time.monotonic() + timeout
        while url is None or not ready:
            try:
                line = self.next_line(max(deadline - time.monotonic(), 0.01))
            except TimeoutError:
                raise SuiteFailed(
                    f"no authorization URL within {timeout:.0f} s:\n{self.transcript()}"
                ) from None
            if line is None:
                raise SuiteFailed(f"the suite ended before asking for authorization:\n{self.transcript()}")
            url = line.strip() if line.strip().startswith(prefix) else url
            ready = ready or line.startswith(listening)
        return url

    def wait(self, timeout: float) -> int:
        """The exit code; the suite is killed when it does not finish in time (it would wait 5 minutes)."""
        try:
            return super().wait(timeout)
        except subprocess.TimeoutExpired:
            self.stop()
            raise SuiteFailed(
                f"the suite did not finish within {timeout:.0f} s:\n{self.transcript()}"
            ) from None

    def checks(self) -> list[dict[str, Any]]:
        """Every check the suite recorded (one checks.json per finished scenario)."""
        found: list[dict[str, Any]] = []
        for path in sorted(self.output_dir.glob("*/checks.json")):
            found.extend(json.loads(path.read_text()))
        return found


def statuses(checks: list[dict[str, Any]]) -> dict[str, str]:
    return {check["id"]: check["status"] for check in checks}


def describe(checks: list[dict[str, Any]]) -> str:
    """One line per check, with the suite's reason for anything that did not succeed."""
    lines = []
    for check in checks:
        line = f"  {check['status']:<8} {check['id']}"
        if check["status"] != "SUCCESS":
            line += f": {check.get('errorMessage') or check.get('description', '')}"
        lines.append(line)
    return "\n".join(lines) or "  (no checks recorded)"
