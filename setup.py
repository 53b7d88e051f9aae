"""Maps the repository's root folders into the ``switchboard`` import package.

``platform/`` is installed as ``switchboard.platform``, ``identity/`` as ``switchboard.identity``
and so on. The root folders have no ``__init__.py`` (they are namespace portions), so every
subpackage, including folders holding only templates or static files, is listed here by name.
"""

from pathlib import Path

from setuptools import find_namespace_packages, setup

HERE = Path(__file__).parent
# An area that has no code yet is left out rather than installed empty.
ROOT_FOLDERS = tuple(
    folder
    for folder in ("platform", "identity", "connectors", "recipes", "ui")
    if any((HERE / folder).rglob("*.py"))
)


def _packages() -> list[str]:
    found = find_namespace_packages(include=[f"{root}.*" for root in ROOT_FOLDERS], exclude=["*__pycache__*"])
    return [f"switchboard.{name}" for name in (*ROOT_FOLDERS, *found)]


setup(
    packages=_packages(),
    package_dir={f"switchboard.{root}": root for root in ROOT_FOLDERS},
)
