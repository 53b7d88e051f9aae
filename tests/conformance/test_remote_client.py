"""The official MCP conformance suite's client auth scenarios, with Switchboard's remote MCP client as the
client under test (``remote_client.py``): every auth scenario the 2025-11-25 revision requires, each
passing every check (the suite's own requirement set: conformance 0.2.0-alpha.12, requirements/2025-11-25).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conformance.suite import CLI, NODE, ROOT, describe

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("conformance_suite")]

ADAPTER = ROOT / "tests" / "conformance" / "remote_client.py"
SCENARIOS = (
    "auth/metadata-default",
    "auth/metadata-var1",
    "auth/metadata-var2",
    "auth/metadata-var3",
    "auth/basic-cimd",
    "auth/scope-from-www-authenticate",
    "auth/scope-from-scopes-supported",
    "auth/scope-omitted-when-undefined",
    "auth/scope-step-up",
    "auth/scope-retry-limit",
    "auth/token-endpoint-auth-basic",
    "auth/token-endpoint-auth-post",
    "auth/token-endpoint-auth-none",
    "auth/pre-registration",
)
RUN_TIMEOUT = 60.0


def run_client_scenario(scenario: str, output: Path) -> tuple[int, list[dict[str, object]], str]:
    command = f"{sys.executable} {ADAPTER}"
    result = subprocess.run(
        [str(NODE), str(CLI), "client", "--command", command, "--scenario", scenario,
         "--spec-version", "2025-11-25", "-o", str(output)],
        capture_output=True, text=True, timeout=RUN_TIMEOUT, check=False,
        env={"NO_COLOR": "1", "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    checks: list[dict[str, object]] = []
    for path in sorted(output.rglob("checks.json")):  # <output>/auth/<scenario>-<time>/checks.json
        checks.extend(json.loads(path.read_text()))
    return result.returncode, checks, result.stdout + result.stderr


def test_the_required_auth_scenarios_are_those_of_the_installed_suite() -> None:
    """The list above is the suite's own: a suite that requires more makes this fail, not pass quietly."""
    requirements = ROOT / "node_modules/@modelcontextprotocol/conformance/requirements/2025-11-25.yaml"
    required = yaml.safe_load(requirements.read_text())["client"]
    assert sorted(name for name in required if name.startswith("auth/")) == sorted(SCENARIOS)


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_switchboard_passes_the_client_auth_scenario(scenario: str, tmp_path: Path) -> None:
    code, checks, transcript = run_client_scenario(scenario, tmp_path)
    assert checks, f"{scenario} recorded no checks:\n{transcript[-3000:]}"
    failed = [check for check in checks if check["status"] not in ("SUCCESS", "INFO")]
    assert not failed, f"{scenario}:\n{describe(checks)}\n{transcript[-3000:]}"
    assert code == 0, transcript[-3000:]


def test_the_adapter_explains_its_usage_without_a_url() -> None:
    result = subprocess.run(
        [sys.executable, str(ADAPTER)], capture_output=True, text=True, check=False, timeout=30
    )
    assert result.returncode == 2
    assert "remote_client.py <server-url>" in result.stderr
