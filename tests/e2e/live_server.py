"""A real Switchboard server for browser tests: `switchboard db migrate`, `demo`, `serve` in subprocesses."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import httpx

from tests.support.postgres import free_port

SECRET_KEY = "e2e-secret-key-that-is-long-enough-0123456789"


def switchboard_command() -> list[str]:
    """The installed `switchboard` script next to this interpreter, else the CLI module."""
    script = Path(sys.executable).parent / "switchboard"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from switchboard.platform.cli import main; main()"]


class ServerFailed(Exception):
    pass


class LiveServer:
    """Serves one database on a free local port until ``stop``.

    ``serve`` replaces ``switchboard serve`` by another command taking ``--host`` and ``--port``.
    """

    def __init__(self, database_url: str, data_dir: Path, *, serve: Sequence[str] | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.data_dir = data_dir
        self.log_path = data_dir / "server.log"
        self.env = {key: value for key, value in os.environ.items() if not key.startswith("SWITCHBOARD_")}
        self.env.update(
            SWITCHBOARD_DATABASE_URL=database_url,
            SWITCHBOARD_SECRET_KEY=SECRET_KEY,
            SWITCHBOARD_DATA_DIR=str(data_dir),
            SWITCHBOARD_BASE_URL=self.url,
            SWITCHBOARD_PORT=str(self.port),
        )
        self.serve_command = list(serve or [*switchboard_command(), "serve"])
        self._process: subprocess.Popen[bytes] | None = None

    def _cli(self, *args: str) -> None:
        result = subprocess.run(
            [*switchboard_command(), *args], env=self.env, capture_output=True, text=True, check=False
        )
        if result.returncode != 0:
            raise ServerFailed(f"switchboard {' '.join(args)} failed: {result.stderr.strip()}")

    def start(self, timeout: float = 30.0) -> None:
        self._cli("db", "migrate")
        self._cli("demo")
        with self.log_path.open("wb") as log:
            self._process = subprocess.Popen(
                [*self.serve_command, "--host", "127.0.0.1", "--port", str(self.port)],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise ServerFailed(f"switchboard serve exited early:\n{self.log()}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=1.0).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        self.stop()
        raise ServerFailed(f"switchboard serve was not ready within {timeout:.0f} s:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> None:
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._process = None
