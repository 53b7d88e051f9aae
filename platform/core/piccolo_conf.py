"""Piccolo's configuration module.

Piccolo finds its engine and apps through a module named by ``PICCOLO_CONF``. The engine is not
built here from the environment: ``Database.connect`` assigns ``DB`` once settings are known.
The apps are named as strings so that this lowest layer imports none of them.
"""

from __future__ import annotations

from typing import Any

from piccolo.conf.apps import AppRegistry
from piccolo.engine.base import Engine

DB: Engine[Any] | None = None

APP_REGISTRY = AppRegistry(
    apps=[
        "switchboard.identity.piccolo_app",
        "switchboard.connectors.piccolo_app",
        "switchboard.recipes.piccolo_app",
        "switchboard.platform.mcp.piccolo_app",
        "switchboard.platform.demo_tasks.piccolo_app",
    ]
)
