"""``tux-db bench``'s bulk insert rows: ``db.batch`` against the raw driver and the plan's per-row loop.

As ``benchmarks/bench_batch.py`` measures it: ``levels`` rows of the bench guild, inserted by

- the raw driver: asyncpg's ``copy_records_to_table`` (COPY) with ready-made tuples on PostgreSQL;
  the stdlib ``sqlite3`` module's ``executemany`` in one ``BEGIN IMMEDIATE`` transaction on SQLite;
- ``db.batch.batch_create(db.levels, items, returning=False)`` (every row validated first; COPY on
  PostgreSQL above its threshold, chunked ``executemany`` on SQLite);
- the plan's loop, as the plan's ``BatchOperationManager`` runs it over Tux's session-per-call
  controllers: a new ORM session per row (``session.add``, ``commit``), the baseline of the 100x goal;
- this layer's own single insert in a loop, ``db.levels.create(item)`` per row (prepared, one round
  trip), so what batching alone gains is visible too.

Both loops run on fewer rows (they do a few thousand rows a second at best). Contenders take turns,
each on an emptied table; figures are microseconds per row (median over the rounds), ratios against
the raw driver. Goals: ``db.batch`` within 2.0x of the raw driver per row (>= 50% of its throughput)
and at least 100x faster than the plan's loop.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any

import asyncpg

from tux.database.cli.timing import Timing, Write, contest_bulk
from tux.database.facade import Database
from tux.database.models import Levels

COLUMNS = ("guild_id", "member_id", "xp", "level", "blacklisted")
LOOP_GOAL = 100.0
"""``db.batch`` must be at least this many times faster per row than the plan's loop."""
BATCH = "db.batch.batch_create (per row)"
LOOP = "plan's loop: ORM session + commit per row"
CREATE_LOOP = "db.levels.create per row"


@dataclass(frozen=True, slots=True)
class BulkSizes:
    """Rows per bulk insert (0: no bulk rows), rows of the per-row loop, and rounds."""

    rows: int = 10_000
    loop_rows: int = 200
    rounds: int = 5


def _items(guild_id: int, count: int) -> list[dict[str, Any]]:
    return [{"guild_id": guild_id, "member_id": m, "xp": float(m % 997)} for m in range(1, count + 1)]


def _tuples(guild_id: int, count: int) -> list[tuple[Any, ...]]:
    return [(guild_id, m, float(m % 997), 0, False) for m in range(1, count + 1)]


def _ours(db: Database, guild_id: int, sizes: BulkSizes) -> dict[str, Write]:
    data, loop_data = _items(guild_id, sizes.rows), _items(guild_id, sizes.loop_rows)

    async def batch() -> int:
        return (await db.batch.batch_create(db.levels, data, returning=False)).written

    sessions = db.client.session_factory

    async def plan_loop() -> int:
        for item in loop_data:
            async with sessions() as session:
                session.add(Levels(**item))
                await session.commit()
        return sizes.loop_rows

    async def create_loop() -> int:
        for item in loop_data:
            await db.levels.create(item)
        return sizes.loop_rows

    return {BATCH: batch, LOOP: plan_loop, CREATE_LOOP: create_loop}


async def postgresql_writes(
    db: Database, connection: asyncpg.Connection, guild_id: int, sizes: BulkSizes
) -> tuple[str, dict[str, Timing]]:
    """Time COPY, ``db.batch`` and the loops on PostgreSQL; return the raw label and the timings."""
    rows = sizes.rows
    records = _tuples(guild_id, rows)

    async def copy() -> int:
        async with connection.transaction():
            await connection.copy_records_to_table("levels", records=records, columns=list(COLUMNS))
        return rows

    async def reset() -> None:
        await connection.execute("DELETE FROM levels WHERE guild_id = $1", guild_id)

    raw = "raw asyncpg COPY, copy_records_to_table (per row)"
    writes = {raw: copy, **_ours(db, guild_id, sizes)}
    timings = await contest_bulk(writes, reset, rounds=sizes.rounds)
    return raw, timings


async def sqlite_writes(
    db: Database, path: str, guild_id: int, sizes: BulkSizes
) -> tuple[str, dict[str, Timing]]:
    """Time ``sqlite3`` executemany, ``db.batch`` and the loops on the SQLite file ``path``."""
    rows = sizes.rows
    records = _tuples(guild_id, rows)
    insert = f"INSERT INTO levels ({', '.join(COLUMNS)}) VALUES ({', '.join('?' for _ in COLUMNS)})"
    connection = sqlite3.connect(path, isolation_level=None, timeout=30)
    try:
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON"):
            connection.execute(f"PRAGMA {pragma}")

        async def executemany() -> int:
            connection.execute("BEGIN IMMEDIATE")
            connection.executemany(insert, records)
            connection.execute("COMMIT")
            return rows

        async def reset() -> None:
            connection.execute("DELETE FROM levels WHERE guild_id = ?", (guild_id,))

        raw = "raw sqlite3 executemany, one transaction (per row)"
        writes = {raw: executemany, **_ours(db, guild_id, sizes)}
        return raw, await contest_bulk(writes, reset, rounds=sizes.rounds)
    finally:
        connection.close()
