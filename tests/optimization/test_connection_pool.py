"""``db.pool_optimizer``: the pool's figures match what was done to it, and advice follows the figures."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import exc as sa_exc
from sqlalchemy import func, literal_column, select, text

from tux.database import Database
from tux.database.core.engine import READ_ONLY_OPTION
from tux.database.core.statements import Statement
from tux.database.optimization.connection import ConnectionPoolOptimizer

RECURSIVE_COUNT = (
    "(WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1000000)"
    " SELECT count(*) FROM c)"
)
"""A scalar subquery SQLite takes a while over (it has no sleep function)."""


@pytest.fixture
async def small_pool(database_url: str) -> AsyncIterator[Database]:
    """A database whose pool holds two connections, no overflow, and gives up waiting after 0.3 s."""
    async with Database(
        database_url, cache_enabled=False, pool_size=2, max_overflow=0, pool_timeout=0.3, pool_long_hold_s=0.2
    ) as db:
        yield db


def optimizer_of(db: Database) -> ConnectionPoolOptimizer:
    assert db.pool_optimizer is not None
    return db.pool_optimizer


async def exhaust_then_wait(
    db: Database, pool: ConnectionPoolOptimizer, held: list[asyncio.Event], release: asyncio.Event
) -> None:
    """With both connections held idle: check the live figures, time out once, then wait for a release."""
    await asyncio.gather(*(ready.wait() for ready in held))
    usage = await pool.monitor_connection_usage()
    assert (usage["pool_size"], usage["active_connections"], usage["peak_usage"]) == (2, 2, 2)
    assert usage["utilization_rate"] == 1.0

    with pytest.raises(sa_exc.TimeoutError):
        async with db.client.engine.connect():
            pass
    after_timeout = pool.figures()
    assert after_timeout.timeouts == 1
    assert after_timeout.waits == 1
    assert after_timeout.wait_max >= 0.3  # it waited the whole pool_timeout
    assert after_timeout.waits_with_idle_holders == 1
    assert after_timeout.idle_holders_seen == 2

    async def wait_then_query() -> int:
        async with db.client.engine.connect() as connection:
            return int((await connection.execute(text("SELECT 7"))).scalar_one())

    waiting = asyncio.Event()
    pool.on_wait = lambda _count: waiting.set()
    waiter = asyncio.create_task(wait_then_query())
    await waiting.wait()
    assert pool.figures().waiting == 1
    release.set()
    assert await waiter == 7


async def test_figures_under_forced_exhaustion_match_what_happened(small_pool: Database) -> None:
    db = small_pool
    pool = optimizer_of(db)
    pool.reset()
    release = asyncio.Event()
    held = [asyncio.Event(), asyncio.Event()]

    async def hold_idle(ready: asyncio.Event) -> None:
        async with db.client.engine.connect() as connection:
            await connection.execution_options(**{READ_ONLY_OPTION: True})  # SQLite: two readers at once
            await connection.execute(text("SELECT 1"))
            ready.set()
            await release.wait()

    holders = [asyncio.create_task(hold_idle(ready)) for ready in held]
    try:
        await exhaust_then_wait(db, pool, held, release)
    finally:
        release.set()
        await asyncio.gather(*holders)

    figures = pool.figures()
    assert figures.checkouts == 3  # the timed-out attempt never got one
    assert figures.waits == 2
    assert figures.timeouts == 1
    assert figures.peak == 2
    assert figures.checked_out == 0
    assert figures.holds == 3
    assert figures.long_holds == 2  # the two holders, each held through the 0.3 s timeout
    assert figures.hold_max >= 0.3
    assert sum(pool.hold_buckets) == 3
    assert sum(pool.wait_buckets) == 2

    advice = pool.get_pool_recommendations()
    assert any("timed out" in line for line in advice)
    assert any("sat idle" in line for line in advice)
    assert any("held longer" in line for line in advice)
    assert any("SQLite allows one writer" in line for line in advice) == (db.client.backend == "sqlite")


async def test_waits_behind_busy_connections_advise_a_bigger_pool(database_url: str) -> None:
    async with Database(
        database_url, cache_enabled=False, pool_size=2, max_overflow=0, pool_timeout=30
    ) as db:
        await run_busy_connections(db)


async def run_busy_connections(db: Database) -> None:
    """Three slow statements on two connections: the third checkout waits while both run theirs."""
    pool = optimizer_of(db)
    pool.reset()
    slow = "SELECT pg_sleep(0.15)" if db.client.backend == "postgresql" else f"SELECT {RECURSIVE_COUNT}"

    async def busy() -> None:
        async with db.client.engine.connect() as connection:
            await connection.execution_options(**{READ_ONLY_OPTION: True})
            await connection.execute(text(slow))

    await asyncio.gather(*(busy() for _ in range(3)))
    figures = pool.figures()
    assert figures.waits == 1
    assert figures.waits_with_idle_holders == 0
    assert any("every connection running statements" in line for line in pool.get_pool_recommendations())


async def test_a_quiet_pool_gets_no_advice(db: Database) -> None:
    pool = optimizer_of(db)
    await db.guilds.find_by_id(1)
    figures = pool.figures()
    assert figures.checkouts >= 1
    assert figures.waits == figures.timeouts == figures.long_holds == 0
    assert pool.get_pool_recommendations() == []


async def test_monitoring_survives_closing_and_reconnecting(database_url: str) -> None:
    async with Database(
        database_url, cache_enabled=False, pool_size=1, max_overflow=0, pool_timeout=0.2
    ) as db:
        pool = optimizer_of(db)
        await db.client.close()
        await db.client.connect()
        pool.reset()
        async with db.client.engine.connect():
            with pytest.raises(sa_exc.TimeoutError):
                async with db.client.engine.connect():
                    pass
        assert pool.figures().timeouts == 1


async def test_a_setting_turns_the_pool_monitor_off(database_url: str) -> None:
    async with Database(database_url, cache_enabled=False, pool_monitor_enabled=False) as db:
        assert db.pool_optimizer is None


async def test_a_failed_statement_leaves_its_connection_idle_not_running(db: Database) -> None:
    pool = optimizer_of(db)
    async with db.client.engine.connect() as connection:
        await connection.execution_options(**{READ_ONLY_OPTION: True})
        with pytest.raises(sa_exc.DBAPIError):
            await connection.execute(text("SELECT * FROM no_such_table"))
        figures = pool.figures()
        assert figures.checked_out == 1
        assert figures.running == 0
    assert pool.figures().checked_out == 0


@pytest.mark.parametrize("in_unit", [False, True], ids=["pooled", "in_unit"])
async def test_slow_direct_statements_count_as_running_not_idle(database_url: str, in_unit: bool) -> None:
    """Statements of the direct path (no cursor events) keep their connection busy while they run."""
    async with Database(
        database_url, cache_enabled=False, pool_size=2, max_overflow=0, pool_timeout=30
    ) as db:
        pool = optimizer_of(db)
        pool.reset()
        slow = Statement(
            select(func.pg_sleep(0.15))
            if db.client.backend == "postgresql"
            else select(literal_column(RECURSIVE_COUNT))
        )

        async def busy() -> None:
            if in_unit:
                async with db.transaction(read_only=True):
                    await db.client.runner.one(slow, {})
            else:
                await db.client.runner.one(slow, {})

        await asyncio.gather(*(busy() for _ in range(3)))
        figures = pool.figures()
        assert figures.waits == 1
        assert figures.waits_with_idle_holders == 0
        assert figures.running == 0
        assert any("every connection running statements" in line for line in pool.get_pool_recommendations())


async def test_time_at_high_utilization_follows_the_checkouts(database_url: str) -> None:
    """Two of two connections held is high utilization; one of two is not (the threshold is 80%)."""
    async with Database(
        database_url, cache_enabled=False, pool_monitor_enabled=False, pool_size=2, max_overflow=0
    ) as db:
        now = [0.0]
        pool = ConnectionPoolOptimizer(db.client, clock=lambda: now[0])
        async with db.client.engine.connect():
            async with db.client.engine.connect():
                now[0] = 2.0
                assert pool.figures().high_utilization_time == 2.0
                advice = pool.get_pool_recommendations()
                assert any("capacity for 100% of the last 2 s" in line for line in advice)
            now[0] = 5.0
            figures = pool.figures()
            assert figures.checked_out == 1
            assert figures.high_utilization_time == 2.0
        assert not any("capacity" in line for line in pool.get_pool_recommendations())
