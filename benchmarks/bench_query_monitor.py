"""Cost of the query monitor (``db.query_optimizer``) on a primary-key read, same run, medians.

Run ``python -m benchmarks.bench_query_monitor [--rounds R] [--calls N]``. Two ``Database`` objects on
one database, cache off, one with the monitor on (the default) and one with it off
(``query_monitor_enabled=False``), read the same guild row with ``db.guilds.find_by_id`` taking turns
call by call, so drift in the machine's load hits both alike. Each round gives the median of each and
their ratio; the median ratio over rounds is the figure (goal: <= 1.05). Printed for PostgreSQL (a
temporary database, ``TUX_BENCH_PG_ADMIN_DSN``) and SQLite (a temporary file), followed by the
monitor's own cost per statement (its listener called directly, no database).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from benchmarks._pg import temporary_database
from benchmarks._timing import taking_turns
from tux.database import Database
from tux.database.core.observe import StatementRecord
from tux.database.optimization.query import QueryOptimizer

GUILD = 123_456_789


async def compare(url: str, rounds: int, calls: int) -> None:
    async with (
        Database(url, cache_enabled=False) as monitored,
        Database(url, cache_enabled=False, query_monitor_enabled=False) as plain,
    ):
        await monitored.migrate()
        await monitored.guilds.ensure(GUILD)
        assert monitored.query_optimizer.attached
        assert not plain.query_optimizer.attached
        ratios = []
        on_medians, off_medians = [], []
        contenders = {
            "on": lambda: monitored.guilds.find_by_id(GUILD),
            "off": lambda: plain.guilds.find_by_id(GUILD),
        }
        for turn in range(rounds + 1):  # the first round warms up and is dropped
            order = list(contenders) if turn % 2 else list(reversed(contenders))  # who goes first alternates
            timings = await taking_turns({name: contenders[name] for name in order}, calls)
            on, off = statistics.median(timings["on"]), statistics.median(timings["off"])
            on_medians.append(on)
            off_medians.append(off)
            ratios.append(on / off)
        ratios, on_medians, off_medians = ratios[1:], on_medians[1:], off_medians[1:]
        shapes = len(monitored.query_optimizer.stats())
        print(
            f"  find_by_id, monitor off: {statistics.median(off_medians):8.1f} us   "
            f"on: {statistics.median(on_medians):8.1f} us   "
            f"ratio on/off median {statistics.median(ratios):.3f} "
            f"(rounds: {', '.join(f'{r:.3f}' for r in ratios)})   goal <= 1.05"
        )
        print(f"  shapes tracked: {shapes}; N+1 findings: {len(monitored.query_optimizer.n_plus_one)}")


def listener_cost(calls: int) -> float:
    """Nanoseconds per statement of the monitor's listener alone (shape lookup, stats, N+1 check).

    Two shapes alternate, so every statement also ends the previous N+1 run and starts a new one.
    """
    optimizer = QueryOptimizer()
    records = [
        StatementRecord(f"SELECT {table}.id FROM {table} WHERE {table}.id = $1::BIGINT", (GUILD,), 0.0004, 1)
        for table in ("guild", "guild_config")
    ]
    observe = optimizer._observe
    best = float("inf")
    for _ in range(5):
        started = time.perf_counter_ns()
        for _ in range(calls // 2):
            observe(records[0])
            observe(records[1])
        best = min(best, (time.perf_counter_ns() - started) / (calls // 2 * 2))
    return best


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--calls", type=int, default=400, help="calls per contender per round")
    args = parser.parse_args()
    print(f"{args.rounds} rounds x {args.calls} calls per contender, taking turns; microseconds")
    print("PostgreSQL (asyncpg):")
    async with temporary_database() as (url, _dsn):
        await compare(url, args.rounds, args.calls)
    print("SQLite (aiosqlite):")
    with tempfile.TemporaryDirectory() as folder:
        await compare(f"sqlite+aiosqlite:///{Path(folder) / 'bench.sqlite3'}", args.rounds, args.calls)
    print(f"listener alone: {listener_cost(20_000):.0f} ns per statement (best of 5)")


if __name__ == "__main__":
    asyncio.run(main())
