"""The official MCP conformance suite's authorization-server scenarios, against a running Switchboard.

The suite reads the metadata, then plays a public client (our metadata advertises ``none``) with a
pre-registered static client: it prints the authorization URL, a person (Chromium here) signs in on
Switchboard's page and allows the client, and the suite exchanges the code and checks the answer.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.conformance.suite import CHECK_IDS, SuiteRun, describe, statuses
from tests.e2e.conftest import STEP_TIMEOUT_MS
from tests.e2e.live_server import LiveServer, switchboard_command
from tests.e2e.steps import ALICE, DEMO_PASSWORD
from tests.support.oauth_server import TEST_PATH
from tests.support.postgres import free_port

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("conformance_suite")]

CLIENT_NAME = "MCP conformance suite"
# The suite waits 5 minutes for the callback; a run that takes this long has failed.
RUN_TIMEOUT = 120.0


def create_public_client(server: LiveServer, redirect_uri: str) -> str:
    """A static public client, created as an operator would (`switchboard clients create`)."""
    result = subprocess.run(
        [
            *switchboard_command(), "clients", "create", "--name", CLIENT_NAME,
            "--redirect-uri", redirect_uri, "--grant", "authorization_code", "--public", "--json",
        ],
        env=server.env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    created = json.loads(result.stdout)
    assert created["token_endpoint_auth_method"] == "none"
    assert created["client_secret"] is None
    client_id: str = created["client_id"]
    return client_id


def sign_in_and_allow(page: Page, authorization_url: str, callback: str) -> None:
    """What the person does with the URL the suite printed: sign in, read the consent page, allow."""
    page.goto(authorization_url)
    page.get_by_label("Email").fill(ALICE)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Allow {CLIENT_NAME} to use Switchboard as you?"
    )
    page.get_by_role("button", name="Allow").click()
    page.wait_for_url(f"{callback}?**")
    expect(page.locator("body")).to_contain_text("OK")


def test_switchboard_passes_the_authorization_server_scenarios(
    live_server: LiveServer, browser: Browser, tmp_path: Path
) -> None:
    port = free_port()
    callback = f"http://127.0.0.1:{port}/callback"
    client_id = create_public_client(live_server, callback)
    context = browser.new_context()
    context.set_default_timeout(STEP_TIMEOUT_MS)
    try:
        with SuiteRun(
            issuer=live_server.url,
            client_id=client_id,
            resource=live_server.url + TEST_PATH,
            callback_port=port,
            output_dir=tmp_path,
        ) as run:
            sign_in_and_allow(context.new_page(), run.authorization_url(), callback)
            exit_code = run.wait(timeout=RUN_TIMEOUT)
    finally:
        context.close()
    checks = run.checks()
    report = f"conformance checks:\n{describe(checks)}\nsuite output:\n{run.transcript()}"
    assert statuses(checks) == dict.fromkeys(CHECK_IDS, "SUCCESS"), report
    assert exit_code == 0, report


def test_a_wrong_issuer_fails_the_metadata_check(live_server: LiveServer, tmp_path: Path) -> None:
    """The issuer is compared byte for byte: the suite, told a URL with a trailing slash, must fail.

    This also proves the harness reads failures from the suite rather than trusting the exit code.
    """
    with SuiteRun(
        issuer=live_server.url + "/",
        client_id="not-needed",
        resource=live_server.url + TEST_PATH,
        callback_port=free_port(),
        output_dir=tmp_path,
    ) as run:
        exit_code = run.wait(timeout=RUN_TIMEOUT)
    checks = {check["id"]: check for check in run.checks()}
    report = f"{describe(list(checks.values()))}\n{run.transcript()}"
    assert exit_code == 1, report
    assert checks["authorization-server-metadata"]["status"] == "FAILURE", report
    assert "issuer" in checks["authorization-server-metadata"]["errorMessage"].lower(), report
