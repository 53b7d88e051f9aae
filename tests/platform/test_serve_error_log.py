"""``switchboard serve`` writes every unhandled error to its standard error: one line naming the request
and its request id, then the traceback. Nothing secret of the request gets there, nor a connect link's
token from any other line.

The server runs as a real process; the errors come from its database losing tables while it serves.
"""

from __future__ import annotations

import os
import secrets
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import TEST_SECRET
from tests.identity.support import PASSWORD
from tests.platform.conftest import Cli, clean_environment
from tests.support.postgres import free_port
from tests.support.web import csrf_from

pytestmark = pytest.mark.slow

SWITCHBOARD = Path(sys.executable).parent / "switchboard"
EMAIL = "ada@example.com"
COOKIE_SECRET = "sb_session-cookie-secret-value"


def _serving(port: int, server: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if server.poll() is not None or time.monotonic() > deadline:
            raise AssertionError("the server did not start")
        time.sleep(0.1)


def _signed_in(base: str) -> httpx.Client:
    browser = httpx.Client(base_url=base, timeout=10)
    token = csrf_from(browser.get("/login").text)
    answer = browser.post("/login", data={"_csrf_token": token, "email": EMAIL, "password": PASSWORD})
    assert answer.status_code == 303, answer.text
    return browser


def test_serve_writes_each_unhandled_error_with_its_traceback_and_request_id_to_stderr(
    cli: Cli, db_url: str, tmp_path: Path
) -> None:
    assert cli("users", "create", EMAIL, "--password", PASSWORD).exit_code == 0
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    environment = {k: v for k, v in os.environ.items() if k not in clean_environment()}
    server = subprocess.Popen(
        [str(SWITCHBOARD), "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=environment
        | {
            "SWITCHBOARD_SECRET_KEY": TEST_SECRET,
            "SWITCHBOARD_DATABASE_URL": db_url,
            "SWITCHBOARD_DATA_DIR": str(tmp_path),
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    link_token = secrets.token_urlsafe(32)
    bearer = "sbk_" + secrets.token_urlsafe(32)
    try:
        _serving(port, server)
        browser = _signed_in(base)
        session_cookie = browser.cookies["sb_session"]
        with sqlite3.connect(db_url.removeprefix("sqlite:///")) as database:
            for table in ("connectors_connect_link", "identity_api_token", "identity_sign_in_throttle"):
                database.execute(f"DROP TABLE {table}")

        link = browser.get(f"/connect/{link_token}")
        forged = browser.post(f"/connect/{link_token}", data={"_csrf_token": "forged"})
        api = httpx.get(
            f"{base}/api/v1/users",
            headers={"Authorization": f"Bearer {bearer}", "Cookie": f"other={COOKIE_SECRET}"},
            timeout=10,
        )
        with httpx.Client(base_url=base, timeout=10) as stranger:
            token = csrf_from(stranger.get("/login").text)
            login = stranger.post("/login", data={"_csrf_token": token, "email": EMAIL, "password": PASSWORD})
        browser.close()
    finally:
        server.terminate()
        _, stderr = server.communicate(timeout=20)

    assert [link.status_code, forged.status_code, api.status_code, login.status_code] == [500, 403, 500, 500]
    assert stderr.count("Traceback (most recent call last):") == 3, stderr
    lines = stderr.splitlines()
    for answer, request in [(link, "GET /connect/…"), (api, "GET /api/v1/users"), (login, "POST /login")]:
        request_id = answer.headers["x-request-id"]
        [line] = [line for line in lines if request_id in line]
        assert line.endswith(
            f"ERROR switchboard.errors: unhandled error on {request} (request id {request_id})"
        )
        assert lines[lines.index(line) + 1] == "Traceback (most recent call last):"
    assert api.json()["request_id"] == api.headers["x-request-id"]
    # Every line is cleared of connect-link tokens, whichever part of Switchboard wrote it.
    assert any("POST /connect/…" in line for line in lines)
    for secret in (link_token, bearer, PASSWORD, session_cookie, COOKIE_SECRET):
        assert secret not in stderr
