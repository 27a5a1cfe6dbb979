"""Bulk insert of 10,000 ``levels`` rows: ``db.batch.batch_create`` against the raw driver, in one run.

PostgreSQL: ``db.batch`` (``COPY`` inside a unit of work, every row validated first) against asyncpg's
``copy_records_to_table`` with ready-made tuples, and against the plan's loop (one ``create`` per row,
each committed). SQLite: ``db.batch`` against the ``sqlite3`` module's ``executemany`` in one
transaction, and against the same per-row loop. Contenders take turns in every round; medians of
rows per second are compared. The per-row loop is timed on ``--loop-rows`` rows (it does a few hundred
rows a second) and its rate compared.

Run: ``.venv/bin/python -m benchmarks.bench_batch [--rows N] [--rounds R] [--loop-rows M]``.
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import asyncpg

from benchmarks._pg import temporary_database
from tux.database import Database

GUILD = 123_456_789_012_345_678
Contender = Callable[[], Awaitable[int]]


def items(count: int) -> list[dict[str, Any]]:
    return [
        {"guild_id": GUILD, "member_id": member, "xp": float(member % 997)} for member in range(1, count + 1)
    ]


def tuples(count: int) -> list[tuple[Any, ...]]:
    return [(GUILD, member, float(member % 997), 0, False) for member in range(1, count + 1)]


LOOP = "plan's per-row loop (create, commit)"
BATCH = "db.batch.batch_create"
COLUMNS = ["guild_id", "member_id", "xp", "level", "blacklisted"]


async def rates(
    contenders: dict[str, Contender], reset: Callable[[], Awaitable[None]], rounds: int
) -> dict[str, float]:
    """Median rows per second of each contender over ``rounds`` turns (after one warm-up turn)."""
    seen: dict[str, list[float]] = {name: [] for name in contenders}
    for round_number in range(rounds + 1):
        for name, contender in contenders.items():
            await reset()
            started = time.perf_counter()
            rows = await contender()
            elapsed = time.perf_counter() - started
            if round_number:
                seen[name].append(rows / elapsed)
    await reset()
    return {name: statistics.median(values) for name, values in seen.items()}


def report(title: str, medians: dict[str, float], baseline: str) -> None:
    """Print each contender's median rate and its ratio to ``baseline``, then db.batch over the loop."""
    print(f"\n{title}")
    print(f"{'contender':<46}{'rows/s':>12}{'x ' + baseline[:12]:>16}")
    for name, value in medians.items():
        print(f"{name:<46}{value:>12,.0f}{value / medians[baseline]:>16.3f}")
    print(f"{BATCH} / per-row loop: {medians[BATCH] / medians[LOOP]:.0f}x")


def ours(db: Database, rows: int, loop_rows: int) -> dict[str, Contender]:
    """``db.batch`` on ``rows`` rows, and the plan's loop (``create`` per row, each committed)."""
    data, loop_data = items(rows), items(loop_rows)

    async def batch() -> int:
        return (await db.batch.batch_create(db.levels, data, returning=False)).written

    async def per_row() -> int:
        for item in loop_data:
            await db.levels.create(item)
        return loop_rows

    return {BATCH: batch, LOOP: per_row}


async def postgresql(rows: int, rounds: int, loop_rows: int) -> None:
    async with temporary_database() as (url, dsn), Database(url, cache_enabled=False) as db:
        await db.migrate()
        await db.guild_setup.onboard(GUILD)
        raw = await asyncpg.connect(dsn)
        records = tuples(rows)

        async def reset() -> None:
            await raw.execute("DELETE FROM levels")

        async def copy() -> int:
            async with raw.transaction():
                await raw.copy_records_to_table("levels", records=records, columns=COLUMNS)
            return rows

        baseline = "asyncpg copy_records_to_table"
        medians = await rates({baseline: copy, **ours(db, rows, loop_rows)}, reset, rounds)
        await raw.close()
    report(f"PostgreSQL, {rows:,} rows ({loop_rows:,} for the per-row loop)", medians, baseline)


async def sqlite_file(rows: int, rounds: int, loop_rows: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.sqlite3"
        async with Database(f"sqlite+aiosqlite:///{path}", cache_enabled=False) as db:
            await db.migrate()
            await db.guild_setup.onboard(GUILD)
            raw = sqlite3.connect(path, isolation_level=None)
            for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON"):
                raw.execute(f"PRAGMA {pragma}")
            records = tuples(rows)
            sql = f"INSERT INTO levels ({', '.join(COLUMNS)}) VALUES ({', '.join('?' for _ in COLUMNS)})"

            async def reset() -> None:
                raw.execute("DELETE FROM levels")

            async def executemany() -> int:
                raw.execute("BEGIN IMMEDIATE")
                raw.executemany(sql, records)
                raw.execute("COMMIT")
                return rows

            baseline = "sqlite3 executemany"
            medians = await rates({baseline: executemany, **ours(db, rows, loop_rows)}, reset, rounds)
            raw.close()
    report(f"SQLite file, {rows:,} rows ({loop_rows:,} for the per-row loop)", medians, baseline)


async def main(rows: int, rounds: int, loop_rows: int) -> None:
    await postgresql(rows, rounds, loop_rows)
    await sqlite_file(rows, rounds, loop_rows)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--loop-rows", type=int, default=300)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.rows, arguments.rounds, arguments.loop_rows))
