from __future__ import annotations

import asyncio

import pytest
from loguru import logger
from sqlalchemy import text

from tux.database import Database
from tux.database.optimization.query import (
    NPlusOneError,
    QueryOptimizer,
    StatementBudgetError,
    unobserved,
)

GUILDS = list(range(1001, 1011))


async def _guilds(db: Database) -> None:
    for guild_id in GUILDS:
        await db.guilds.ensure(guild_id)


async def test_monitoring_is_on_by_default_and_a_setting_turns_it_off(database_url: str) -> None:
    async with Database(database_url, cache_enabled=False) as db:
        assert db.query_optimizer.attached
        assert db.client.statements.active
    async with Database(database_url, cache_enabled=False, query_monitor_enabled=False) as db:
        assert not db.query_optimizer.attached
        assert not db.client.statements.active
        await db.guilds.ensure(1)
        assert db.query_optimizer.stats() == []


async def test_one_row_per_shape_with_operation_and_percentiles(db: Database) -> None:
    await _guilds(db)
    db.query_optimizer.reset()
    async with db.transaction("read_guilds"):
        for guild_id in GUILDS[:3]:
            await db.guilds.find_by_id(guild_id)
    await db.guilds.find_by_id(GUILDS[4])
    reads = [s for s in db.query_optimizer.stats() if s.kind == "select" and s.table == "guild"]
    assert len(reads) == 1
    stats = reads[0]
    assert stats.calls == 4
    assert stats.operations == {"read_guilds": 3}
    assert 0 < stats.p50_ms <= stats.p95_ms <= stats.p99_ms <= stats.max_ms
    assert stats.total_ms == pytest.approx(stats.mean_ms * 4)
    assert "?" in stats.query
    assert db.query_optimizer.stats_for(stats.query) == stats


async def test_n_plus_one_loop_detected_and_batched_version_not(db: Database) -> None:
    await _guilds(db)
    optimizer = db.query_optimizer
    optimizer.reset()
    async with db.transaction("load_guilds_batched"):
        found = await db.guilds.find_all(id__in=GUILDS)
    assert len(found) == len(GUILDS)
    assert optimizer.n_plus_one == []

    async with db.transaction("load_guilds_one_by_one"):
        for guild_id in GUILDS:
            await db.guilds.find_by_id(guild_id)
    [finding] = optimizer.n_plus_one
    assert finding.operation == "load_guilds_one_by_one"
    assert finding.kind == "read"
    assert finding.count == len(GUILDS)
    assert "guild" in finding.fingerprint
    advice = [r for r in optimizer.get_optimization_recommendations() if r["source"] == "n+1"]
    assert advice == [finding.as_dict()]


async def test_below_threshold_and_interleaved_tasks_are_not_n_plus_one(db: Database) -> None:
    await _guilds(db)
    db.query_optimizer.reset()
    for guild_id in GUILDS[:4]:
        await db.guilds.find_by_id(guild_id)

    async def one(guild_id: int) -> None:
        async with db.transaction("one_read"):
            await db.guilds.find_by_id(guild_id)
            await db.guilds.find_all(id__in=[guild_id])

    await asyncio.gather(*(one(guild_id) for guild_id in GUILDS))
    assert db.query_optimizer.n_plus_one == []


async def test_repeated_single_row_writes_get_batching_advice(db: Database) -> None:
    db.query_optimizer.reset()
    async with db.transaction("import_guilds"):
        for guild_id in GUILDS:
            await db.guilds.create({"id": guild_id})
    writes = [f for f in db.query_optimizer.n_plus_one if f.kind == "single_row_write"]
    assert len(writes) == 1
    assert "batch_create" in writes[0].advice
    assert (writes[0].operation, writes[0].count) == ("import_guilds", len(GUILDS))


async def test_strict_mode_raises_on_n_plus_one_only(db: Database) -> None:
    await _guilds(db)
    with db.query_optimizer.strict():
        await db.guilds.find_all(id__in=GUILDS)
    with pytest.raises(NPlusOneError) as raised, db.query_optimizer.strict():
        for guild_id in GUILDS:
            await db.guilds.find_by_id(guild_id)
    assert raised.value.findings[0].count == len(GUILDS)


async def test_statement_budget(db: Database) -> None:
    await _guilds(db)
    with db.query_optimizer.assert_max_statements(1) as seen:
        await db.guilds.find_all(id__in=GUILDS)
    assert len(seen) == 1
    with pytest.raises(StatementBudgetError, match="3 statements, at most 2"):  # noqa: SIM117
        with db.query_optimizer.assert_max_statements(2):
            for guild_id in GUILDS[:3]:
                await db.guilds.find_by_id(guild_id)


async def test_slow_query_logged_and_recommended(database_url: str, backend: str) -> None:
    slow_sql = "SELECT pg_sleep(0.03)" if backend == "postgresql" else _sqlite_busy_query()
    async with Database(database_url, cache_enabled=False, slow_query_threshold_ms=1) as db:
        messages: list[str] = []
        sink = logger.add(messages.append, level="WARNING", format="{message}")
        try:
            for _ in range(3):
                async with db.client.engine.connect() as connection:
                    await connection.execute(text(slow_sql))
        finally:
            logger.remove(sink)
        assert any(m.startswith("Slow query:") for m in messages)
        issues = {(r["issue"], r["source"]) for r in db.query_optimizer.get_optimization_recommendations()}
        assert ("High slow query rate", "plan") in issues


def _sqlite_busy_query() -> str:
    return (
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300000) "
        "SELECT count(*) FROM n"
    )


async def test_internal_statements_are_not_counted(db: Database) -> None:
    db.query_optimizer.reset()
    with unobserved():
        async with db.client.engine.connect() as connection:
            await connection.execute(text("SELECT 42"))
    assert db.query_optimizer.stats() == []


async def test_plan_api_rules() -> None:
    optimizer = QueryOptimizer(slow_query_threshold_ms=100)
    for _ in range(9):
        await optimizer.analyze_query_performance("leaderboard", 60.0)
    await optimizer.analyze_query_performance("leaderboard", 150.0)
    for _ in range(100):
        await optimizer.analyze_query_performance("prefix", 25.0)
    await optimizer.analyze_query_performance("fast", 1.0)
    found = {(r["query"], r["issue"]) for r in optimizer.get_optimization_recommendations()}
    assert ("leaderboard", "High average execution time") in found
    assert ("leaderboard", "High slow query rate") not in found  # exactly 10 %, not more
    assert ("prefix", "Slow query (average >= 20 ms over >= 100 calls)") in found
    assert not any(query == "fast" for query, _ in found)
    stats = optimizer.stats_for("leaderboard")
    assert stats is not None
    assert (stats.calls, stats.max_ms, stats.slow_calls) == (10, 150.0, 1)


async def test_reservoir_is_bounded() -> None:
    optimizer = QueryOptimizer(reservoir=50)
    for value in range(1000):
        await optimizer.analyze_query_performance("q", float(value))
    stats = optimizer.stats_for("q")
    assert stats is not None
    assert stats.calls == 1000
    assert stats.max_ms == 999.0
    assert 200 < stats.p50_ms < 800


async def test_pg_stat_statements_totals_are_optional(db: Database, backend: str) -> None:
    if backend == "sqlite":
        assert await db.query_optimizer.database_totals() is None
        return
    # scripts/ensure-services.sh preloads the module; the view exists once the database has the extension
    assert await db.query_optimizer.database_totals() is None


@pytest.mark.postgres_only
@pytest.mark.parametrize("backend", ["postgresql"])
async def test_pg_stat_statements_totals_are_read_when_the_database_has_the_extension(db: Database) -> None:
    with unobserved():
        async with db.client.engine.begin() as connection:
            await connection.execute(text("CREATE EXTENSION IF NOT EXISTS pg_stat_statements"))
    for guild in (11, 12, 13):
        assert await db.guild_configs.find_by_id(guild) is None
    totals = await db.query_optimizer.database_totals(limit=500)
    assert totals is not None, "pg_stat_statements is not preloaded (scripts/ensure-services.sh sets it)"
    reads = [row for row in totals if "guild_config" in row["query"] and row["query"].startswith("SELECT")]
    assert reads, [row["query"] for row in totals]
    assert sum(int(row["calls"]) for row in reads) >= 3


async def test_tracked_transactions_set_and_reset_the_operation() -> None:
    from tux.database.core.observe import current_operation
    from tux.database.transactions.monitoring import TransactionMonitor

    monitor = TransactionMonitor()
    assert current_operation.get() is None
    async with monitor.track("outer"):
        assert current_operation.get() == "outer"
        with pytest.raises(RuntimeError):
            async with monitor.track("inner"):
                assert current_operation.get() == "inner"
                raise RuntimeError
        assert current_operation.get() == "outer"
    assert current_operation.get() is None
