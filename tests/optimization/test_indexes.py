from __future__ import annotations

import pytest
from sqlalchemy import text

from tux.database import Database
from tux.database.optimization.indexes import IndexOptimizer
from tux.database.optimization.query import unobserved

ROWS = 20_000
GUILDS = 1_000


async def _plant(db: Database, backend: str) -> None:
    """A table large enough for the planner to care, with no index on the column it is queried by."""
    if backend == "postgresql":
        fill = (
            "INSERT INTO planted_events (id, guild_id, kind, payload) "
            f"SELECT g, g % {GUILDS}, 'k' || (g % 7), repeat('x', 40) FROM generate_series(1, {ROWS}) AS g"
        )
    else:
        fill = (
            f"WITH RECURSIVE n(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM n WHERE g < {ROWS}) "
            "INSERT INTO planted_events (id, guild_id, kind, payload) "
            f"SELECT g, g % {GUILDS}, 'k' || (g % 7), printf('%.40c', 'x') FROM n"
        )
    with unobserved():
        async with db.client.engine.begin() as connection:
            await connection.execute(
                text(
                    "CREATE TABLE planted_events (id INTEGER PRIMARY KEY, guild_id BIGINT NOT NULL, "
                    "kind VARCHAR(20) NOT NULL, payload TEXT NOT NULL)"
                )
            )
            await connection.execute(text(fill))
            await connection.execute(text("ANALYZE planted_events"))


async def _query_by_guild(db: Database, times: int = 10) -> None:
    async with db.client.engine.connect() as connection:
        for guild_id in range(times):
            sql = text("SELECT id, payload FROM planted_events WHERE guild_id = :guild_id")
            await connection.execute(sql, {"guild_id": guild_id})


async def test_planted_missing_index_recommended_until_it_exists(db: Database, backend: str) -> None:
    await _plant(db, backend)
    await _query_by_guild(db)
    [advice] = [a for a in await db.index_optimizer.analyze() if a.table == "planted_events"]
    assert advice.columns == ("guild_id",)
    assert advice.validated
    assert advice.calls == 10
    recommendations = db.index_optimizer.get_index_recommendations()
    [statement] = recommendations["planted_events"]
    if backend == "postgresql":
        assert advice.method == "hypopg"
        assert statement.startswith(
            "CREATE INDEX CONCURRENTLY ix_planted_events_guild_id ON planted_events (guild_id) -- planner"
        )
        assert advice.cost_after < advice.cost_before / 2
    else:
        assert advice.method == "sqlite-plan"
        assert statement.startswith("CREATE INDEX ix_planted_events_guild_id ON planted_events (guild_id) --")
        assert advice.plan_before.startswith("SCAN planted_events")
        assert "SEARCH planted_events USING INDEX" in advice.plan_after
    assert "ix_planted_events_guild_id" not in {ix.name for ix in await db.index_optimizer.existing_indexes()}

    await db.index_optimizer.create_index(advice)
    assert "ix_planted_events_guild_id" in {ix.name for ix in await db.index_optimizer.existing_indexes()}
    await _query_by_guild(db)
    await db.index_optimizer.analyze()
    assert "planted_events" not in db.index_optimizer.get_index_recommendations()


async def test_indexed_lookups_get_no_advice(db: Database) -> None:
    for guild_id in range(1, 8):
        await db.guilds.ensure(guild_id)
        await db.guilds.find_by_id(guild_id)
        await db.cases.find_by_guild_and_number(guild_id, 1)
    assert await db.index_optimizer.analyze() == []


async def test_analyze_query_patterns_is_checked_by_the_planner(db: Database, backend: str) -> None:
    await _plant(db, backend)
    db.query_optimizer.reset()
    optimizer = db.index_optimizer
    optimizer.analyze_query_patterns("planted_events", ["guild_id = ?", "id"])
    optimizer.analyze_query_patterns("no_such_table", ["x"])
    optimizer.analyze_query_patterns('planted_events"; DROP TABLE guild; --', ["guild_id"])
    await optimizer.analyze()
    statements = optimizer.get_index_recommendations()
    assert list(statements) == ["planted_events"]
    assert "(guild_id)" in statements["planted_events"][0]
    assert await db.guilds.count() == 0  # the hostile name reached no statement unquoted


async def test_without_a_database_the_plan_rule_is_labelled_unvalidated() -> None:
    optimizer = IndexOptimizer()
    for _ in range(11):
        optimizer.analyze_query_patterns("cases", ["case_reason"])
    optimizer.analyze_query_patterns("cases", ["case_user_id"])
    [advice] = await optimizer.analyze()
    assert (advice.columns, advice.validated) == (("case_reason",), False)
    assert "UNVALIDATED" in optimizer.get_index_recommendations()["cases"][0]


@pytest.mark.postgres_only
@pytest.mark.parametrize("backend", ["postgresql"])
async def test_without_hypopg_the_heuristic_is_labelled(db: Database) -> None:
    await _plant(db, "postgresql")
    await _query_by_guild(db)
    optimizer = IndexOptimizer(db.client, db.query_optimizer, use_hypopg=False)
    [advice] = await optimizer.analyze()
    assert (advice.table, advice.columns, advice.validated, advice.method) == (
        "planted_events",
        ("guild_id",),
        False,
        "heuristic",
    )
    assert "UNVALIDATED heuristic" in optimizer.get_index_recommendations()["planted_events"][0]


async def test_duplicate_and_unused_indexes(db: Database, backend: str) -> None:
    await _plant(db, backend)
    with unobserved():
        async with db.client.engine.begin() as connection:
            await connection.execute(text("CREATE INDEX ix_planted_a ON planted_events (guild_id)"))
            await connection.execute(text("CREATE INDEX ix_planted_b ON planted_events (guild_id, kind)"))
    pairs = {(a.name, b.name) for a, b in await db.index_optimizer.duplicate_indexes()}
    assert ("ix_planted_a", "ix_planted_b") in pairs
    assert not any(a.startswith("pk_") or a == "rowid" for a, _ in pairs)
    unused = {index.name for index in await db.index_optimizer.unused_indexes()}
    if backend == "postgresql":
        assert {"ix_planted_a", "ix_planted_b"} <= unused
        assert not any(name.startswith(("pk_", "uq_")) for name in unused)
    else:
        assert unused == set()


async def test_second_column_only_when_it_halves_the_cost_again(db: Database, backend: str) -> None:
    await _plant(db, backend)
    async with db.client.engine.connect() as connection:
        for guild_id in range(6):
            sql = text("SELECT id FROM planted_events WHERE guild_id = :guild_id AND kind = :kind")
            await connection.execute(sql, {"guild_id": guild_id, "kind": f"k{guild_id % 7}"})
    [advice] = await db.index_optimizer.analyze()
    assert advice.columns == ("guild_id", "kind")
    assert "(guild_id, kind)" in db.index_optimizer.get_index_recommendations()["planted_events"][0]


@pytest.mark.postgres_only
@pytest.mark.parametrize("backend", ["postgresql"])
async def test_a_second_column_that_filters_nothing_is_left_out(db: Database) -> None:
    await _plant(db, "postgresql")
    async with db.client.engine.connect() as connection:
        for guild_id in range(6):
            sql = text("SELECT id FROM planted_events WHERE guild_id = :guild_id AND payload = :payload")
            await connection.execute(sql, {"guild_id": guild_id, "payload": "x" * 40})
    [advice] = await db.index_optimizer.analyze()
    assert advice.columns == ("guild_id",)
