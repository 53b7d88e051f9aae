"""The repository's ``platform/`` folder never shadows the standard library's ``platform`` module.

The root folders are namespace portions of ``switchboard`` (no ``__init__.py``), so with the repository
root on ``sys.path`` (``python -m pytest``, ``python -c``) ``import platform`` still finds the stdlib.
"""

from __future__ import annotations

import platform
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
ROOT_FOLDERS = ("platform", "identity", "connectors", "recipes", "ui")
STDLIB = Path(sysconfig.get_paths()["stdlib"]).resolve()


def test_the_test_process_imports_the_stdlib_platform_module() -> None:
    assert str(REPO) in [str(Path(entry).resolve()) for entry in sys.path if entry]
    assert Path(platform.__file__).resolve().parent == STDLIB
    assert platform.python_version() == ".".join(map(str, sys.version_info[:3]))


def test_python_c_from_the_repository_root_imports_the_stdlib_platform_module() -> None:
    # `python -c` puts the current directory first on sys.path, exactly what could shadow the stdlib.
    code = (
        "import platform, sys; print(platform.__file__); print(platform.python_version()); print(sys.path[0])"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True, timeout=60
    )
    module_file, version, first_entry = result.stdout.splitlines()
    assert Path(module_file).resolve().parent == STDLIB
    assert version == platform.python_version()
    assert first_entry == ""  # the current directory, i.e. the repository root


def test_python_m_from_the_repository_root_imports_the_stdlib_platform_module() -> None:
    # `python -m` (as in `python -m pytest`) puts the current directory on sys.path too.
    result = subprocess.run(
        [sys.executable, "-m", "platform"], cwd=REPO, capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == platform.platform()


@pytest.mark.parametrize("folder", ROOT_FOLDERS)
def test_no_root_folder_is_a_regular_package(folder: str) -> None:
    assert not (REPO / folder / "__init__.py").exists()


def test_the_switchboard_package_maps_the_root_folders() -> None:
    import switchboard.platform.core.settings as settings_module

    assert Path(settings_module.__file__ or "").resolve() == REPO / "platform" / "core" / "settings.py"
