"""Bulk insert of 10,000 ``levels`` rows: ``db.batch.batch_create`` against the raw driver, in one run.

The contenders are those of ``tux-db bench``'s bulk rows (:mod:`tux.database.cli.bench_bulk`, which
says what each one runs): asyncpg's COPY or the ``sqlite3`` module's ``executemany`` in one
transaction, ``db.batch``, the plan's loop (an ORM session and a commit per row, the baseline of the
100x goal) and ``db.levels.create`` per row. This script prints them as rows per second, with
``db.batch``'s ratio to the raw driver (goal >= 0.5) and to each loop.

Run: ``.venv/bin/python -m benchmarks.bench_batch [--rows N] [--rounds R] [--loop-rows M]``.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from pathlib import Path

import asyncpg

from benchmarks._pg import temporary_database
from tux.database import Database
from tux.database.cli.bench_bulk import (
    BATCH,
    CREATE_LOOP,
    LOOP,
    BulkSizes,
    postgresql_writes,
    sqlite_writes,
)
from tux.database.cli.timing import Timing

GUILD = 123_456_789_012_345_678


def report(title: str, raw: str, timings: dict[str, Timing]) -> None:
    """Print each contender's median rows per second and ratio to ``raw``, then db.batch over each loop."""
    rates = {name: 1_000_000 / timing.median_us for name, timing in timings.items()}
    print(f"\n{title}")
    print(f"{'contender':<52}{'rows/s':>12}{'x raw':>10}")
    for name, value in rates.items():
        print(f"{name:<52}{value:>12,.0f}{value / rates[raw]:>10.3f}")
    for loop in (LOOP, CREATE_LOOP):
        print(f"db.batch / {loop}: {rates[BATCH] / rates[loop]:.0f}x")


async def postgresql(sizes: BulkSizes) -> None:
    async with temporary_database() as (url, dsn), Database(url, cache_enabled=False) as db:
        await db.migrate()
        await db.guild_setup.onboard(GUILD)
        connection = await asyncpg.connect(dsn)
        try:
            raw, timings = await postgresql_writes(db, connection, GUILD, sizes)
        finally:
            await connection.close()
    report(f"PostgreSQL, {sizes.rows:,} rows ({sizes.loop_rows:,} for the loops)", raw, timings)


async def sqlite_file(sizes: BulkSizes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.sqlite3"
        async with Database(f"sqlite+aiosqlite:///{path}", cache_enabled=False) as db:
            await db.migrate()
            await db.guild_setup.onboard(GUILD)
            raw, timings = await sqlite_writes(db, str(path), GUILD, sizes)
    report(f"SQLite file, {sizes.rows:,} rows ({sizes.loop_rows:,} for the loops)", raw, timings)


async def main(sizes: BulkSizes) -> None:
    await postgresql(sizes)
    await sqlite_file(sizes)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--loop-rows", type=int, default=300)
    arguments = parser.parse_args()
    asyncio.run(main(BulkSizes(arguments.rows, arguments.loop_rows, arguments.rounds)))
