"""``switchboard serve`` says it serves only once it does: on a port that something else holds it gives
one line naming host and port and exits 1; otherwise its first line comes when the port answers.

The server runs as a real process (next to a socket the test holds open, for a port in use).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import TEST_SECRET
from tests.platform.conftest import clean_environment
from tests.support.postgres import free_port

pytestmark = pytest.mark.slow

SWITCHBOARD = Path(sys.executable).parent / "switchboard"


def _environment(db_url: str, data_dir: Path) -> dict[str, str]:
    environment = {k: v for k, v in os.environ.items() if k not in clean_environment()}
    return environment | {
        "SWITCHBOARD_SECRET_KEY": TEST_SECRET,
        "SWITCHBOARD_DATABASE_URL": db_url,
        "SWITCHBOARD_DATA_DIR": str(data_dir),
    }


def test_serve_on_a_port_in_use_says_so_and_exits_1_without_claiming_to_serve(
    db_url: str, tmp_path: Path
) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        result = subprocess.run(
            [str(SWITCHBOARD), "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=_environment(db_url, tmp_path),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert result.returncode == 1
    assert result.stderr == (
        f"error: Port {port} on 127.0.0.1 is in use: stop what uses it or choose another with --port.\n"
    )
    assert result.stdout == ""


def test_serve_says_it_is_serving_only_once_the_port_answers(db_url: str, tmp_path: Path) -> None:
    port = free_port()
    server = subprocess.Popen(
        [str(SWITCHBOARD), "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=_environment(db_url, tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        first = server.stdout.readline()
        # No retry: the line is a promise that the port answers now.
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as answer:
            assert answer.status == 200
    finally:
        server.terminate()
        _, stderr = server.communicate(timeout=20)
    assert (
        first == f"Switchboard is serving on http://127.0.0.1:{port} (public URL http://127.0.0.1:{port})\n"
    )
    assert "Traceback" not in stderr
