"""The PostgreSQL connection pool: what a connection carries, and does not carry, back into the pool."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest
from piccolo.engine.postgres import PostgresEngine

from switchboard.platform.core.database import Database
from tests.platform.conftest import running_cluster
from tests.support.postgres import PostgresCluster


@pytest.fixture
async def one_connection_pool(postgres_cluster: PostgresCluster | None) -> AsyncIterator[asyncpg.Pool]:
    """The product's pool on PostgreSQL with room for one connection: every user gets the same one."""
    database = Database(running_cluster(postgres_cluster).url(), pool_size=1)
    await database.connect()
    assert isinstance(database.engine, PostgresEngine)
    assert database.engine.pool is not None
    try:
        yield database.engine.pool
    finally:
        await database.close()


async def test_a_connection_goes_back_to_the_pool_without_a_reset_query(
    one_connection_pool: asyncpg.Pool,
) -> None:
    # A session setting survives the return to the pool: no RESET ALL (nor the rest of asyncpg's default
    # reset query) was sent, so each borrowed connection costs only the statements run on it.
    async with one_connection_pool.acquire() as connection:
        backend = await connection.fetchval("SELECT pg_backend_pid()")
        await connection.execute("SELECT set_config('application_name', 'left-by-the-last-user', false)")
    async with one_connection_pool.acquire() as connection:
        assert await connection.fetchval("SELECT pg_backend_pid()") == backend
        assert await connection.fetchval("SHOW application_name") == "left-by-the-last-user"


async def test_a_transaction_left_open_by_a_cancelled_task_is_rolled_back_before_the_connection_is_reused(
    one_connection_pool: asyncpg.Pool,
) -> None:
    began = asyncio.Event()

    async def abandon_a_transaction() -> None:
        async with one_connection_pool.acquire() as connection:
            await connection.execute("BEGIN")
            await connection.execute("CREATE TABLE left_half_done (id int)")
            began.set()
            await connection.execute("SELECT pg_sleep(30)")

    task = asyncio.create_task(abandon_a_transaction())
    await asyncio.wait_for(began.wait(), timeout=10)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    async with one_connection_pool.acquire() as connection:
        assert not connection.is_in_transaction()
        assert await connection.fetchval("SELECT txid_current_if_assigned()") is None
        assert await connection.fetchval("SELECT to_regclass('left_half_done')") is None
