"""Running Demo Tasks on its own port, on Switchboard's database (tables prefixed ``demo_tasks_``)."""

from __future__ import annotations

from datetime import timedelta

from litestar import Litestar

from switchboard.platform.core.database import Database
from switchboard.platform.core.migrations import migrate
from switchboard.platform.core.settings import Settings, local_base_url
from switchboard.platform.demo_tasks.accounts import seed_accounts
from switchboard.platform.demo_tasks.app import create_demo_tasks_app


def standalone_app(settings: Settings, *, host: str, port: int) -> Litestar:
    """Demo Tasks at ``http://HOST:PORT``: on start it connects the database, applies pending migrations
    and creates the demo accounts that are missing."""
    database = Database(settings.database_url, pool_size=min(settings.database_pool_size, 5))
    app = create_demo_tasks_app(
        issuer=local_base_url(host, port),
        secret_key=settings.secret_key,
        access_token_lifetime=timedelta(minutes=settings.access_token_lifetime_minutes),
        previous_keys=settings.previous_keys,
    )

    async def start() -> None:
        await database.connect()
        await migrate(database)
        await seed_accounts()

    app.on_startup.append(start)
    app.on_shutdown.append(database.close)
    return app
