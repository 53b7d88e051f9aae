"""The built wheel holds the whole product: every module imports in a fresh virtualenv, and the CLI runs.

The wheel is built from a copy of the working tree, so the repository's own ``build/`` folder (which
setuptools would otherwise reuse, stale files included) is neither read nor written.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
ROOT_FOLDERS = ("platform", "identity", "connectors", "recipes", "ui")
NOT_SOURCE = shutil.ignore_patterns(
    ".git", ".venv", "node_modules", "build", "dist", "var", "*.egg-info", "__pycache__", "*_cache", "tests",
    "test-results",
)  # fmt: skip

# Run inside the fresh virtualenv: import every module file of the installed package, report as JSON.
IMPORT_EVERYTHING = """
import importlib, json, pathlib, sys, sysconfig
site = pathlib.Path(sysconfig.get_paths()["purelib"])
package = site / "switchboard"
names = sorted(
    ".".join(path.relative_to(site).with_suffix("").parts).removesuffix(".__init__")
    for path in package.rglob("*.py")
)
failed, outside = {}, []
for name in names:
    try:
        module = importlib.import_module(name)
    except Exception as exc:
        failed[name] = f"{type(exc).__name__}: {exc}"
        continue
    if not pathlib.Path(module.__file__).resolve().is_relative_to(site.resolve()):
        outside.append(name)
import platform
print(json.dumps({"modules": names, "failed": failed, "outside": outside, "platform": platform.__file__}))
"""


def run(*command: str | Path, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    environment = {
        k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME"}
    }
    result = subprocess.run(
        [str(part) for part in command],
        cwd=cwd,
        env=environment | {"PIP_DISABLE_PIP_VERSION_CHECK": "1"},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert result.returncode == 0, f"{command[:3]} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("wheel")
    source = work / "source"
    shutil.copytree(REPO, source, ignore=NOT_SOURCE)
    run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", work / "dist", source, cwd=work)
    [built] = (work / "dist").glob("switchboard-*.whl")
    return built


@pytest.fixture(scope="module")
def wheel_files(wheel: Path) -> set[str]:
    with zipfile.ZipFile(wheel) as archive:
        return set(archive.namelist())


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtualenv with the wheel installed (its dependencies from the package index)."""
    where = tmp_path_factory.mktemp("venv")
    # Without a pip of its own: this interpreter's pip installs into it (the same as it would do there).
    run(sys.executable, "-m", "venv", "--without-pip", where / "venv", cwd=where)
    python = where / "venv" / "bin" / "python"
    install = (sys.executable, "-m", "pip", "--python", python, "install", "--quiet", "--no-compile", wheel)
    run(*install, cwd=where, timeout=300)
    return where / "venv"


def test_the_wheel_holds_the_templates_and_static_files(wheel_files: set[str]) -> None:
    assert "switchboard/ui/templates/base.html" in wheel_files
    assert "switchboard/ui/static/app.css" in wheel_files
    templates = {p.relative_to(REPO).as_posix() for p in (REPO / "ui" / "templates").rglob("*.html")}
    assert {f"switchboard/{path}" for path in templates} <= wheel_files


def test_the_wheel_holds_every_python_module_of_the_root_folders(wheel_files: set[str]) -> None:
    sources = {
        f"switchboard/{path.relative_to(REPO).as_posix()}"
        for folder in ROOT_FOLDERS
        for path in (REPO / folder).rglob("*.py")
        if "__pycache__" not in path.parts
    }
    assert sources
    assert sources - wheel_files == set()


def test_the_wheel_has_no_init_file_for_switchboard_or_a_root_folder(wheel_files: set[str]) -> None:
    forbidden = {"switchboard/__init__.py", *(f"switchboard/{folder}/__init__.py" for folder in ROOT_FOLDERS)}
    assert forbidden & wheel_files == set()
    assert not [name for name in wheel_files if name.startswith(("platform/", "identity/", "ui/"))]


def test_the_wheel_declares_the_switchboard_command(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        [entry_points] = [name for name in archive.namelist() if name.endswith(".dist-info/entry_points.txt")]
        text = archive.read(entry_points).decode()
    assert "switchboard = switchboard.platform.cli:main" in text.splitlines()


def test_every_module_imports_from_the_installed_wheel(venv: Path, tmp_path: Path) -> None:
    result = run(venv / "bin" / "python", "-c", IMPORT_EVERYTHING, cwd=tmp_path)
    report = json.loads(result.stdout)
    assert report["failed"] == {}
    assert report["outside"] == []
    modules = set(report["modules"])
    assert {
        "switchboard.platform.app",
        "switchboard.platform.cli",
        "switchboard.platform.core.settings",
        "switchboard.identity.tables",
    } <= modules
    assert any(name.startswith("switchboard.identity.piccolo_migrations.identity_") for name in modules)
    assert Path(report["platform"]).parent.name.startswith("python3")  # the stdlib's, not ours


def test_the_installed_command_shows_its_help(venv: Path, tmp_path: Path) -> None:
    result = run(venv / "bin" / "switchboard", "--help", cwd=tmp_path, timeout=60)
    assert result.stdout.startswith("Usage: switchboard [OPTIONS] COMMAND [ARGS]...")
    for command in ("serve", "db", "demo", "users", "groups"):
        assert f"  {command} " in result.stdout


def test_the_installed_app_finds_its_templates_and_serves_the_sign_in_page(
    venv: Path, tmp_path: Path
) -> None:
    code = """
import asyncio, httpx
from switchboard.platform.app import create_app
from switchboard.platform.core.settings import Settings

async def main():
    settings = Settings(secret_key="k" * 40, database_url="sqlite:///unused.db", data_dir=".")
    transport = httpx.ASGITransport(app=create_app(settings))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        page, css = await client.get("/login"), await client.get("/static/app.css")
    print(page.status_code, css.status_code, "Sign in" in page.text)

asyncio.run(main())
"""
    result = run(venv / "bin" / "python", "-c", code, cwd=tmp_path, timeout=60)
    assert result.stdout.split() == ["200", "200", "True"]
