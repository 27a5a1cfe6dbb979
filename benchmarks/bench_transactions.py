"""What a unit of work costs: a tiny transaction through ``TransactionManager``, monitored and not,
against the same transaction on the raw asyncpg driver, in one run on PostgreSQL.

The tiny transaction is one primary-key read of a guild. Variants take turns in every round so load on
the machine hits them alike; medians of per-call time are reported.

Run: ``.venv/bin/python -m benchmarks.bench_transactions [--calls N] [--rounds R]``.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager, nullcontext

import asyncpg

from benchmarks._pg import temporary_database
from tux.database import Database
from tux.database.transactions.monitoring import TransactionMonitor
from tux.database.transactions.patterns import TransactionManager

GUILD = 123_456_789_012_345_678
Variant = Callable[[], Awaitable[None]]


class _Unmonitored(TransactionMonitor):
    """A monitor that records nothing: the baseline for the monitor's own cost."""

    def track(self, operation_name: str) -> AbstractAsyncContextManager[None]:
        return nullcontext()


async def _per_call_us(variant: Variant, calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        await variant()
    return (time.perf_counter() - start) / calls * 1e6


async def run(calls: int, rounds: int) -> None:
    async with temporary_database() as (url, dsn), Database(url, cache_enabled=False) as db:
        await db.migrate()
        await db.guild_setup.onboard(GUILD)
        monitored = db.transactions
        bare = TransactionManager(db.client.sessions, _Unmonitored())
        raw = await asyncpg.connect(dsn)
        statement = await raw.prepare("SELECT id, guild_joined_at, case_count FROM guild WHERE id = $1")

        async def raw_tx() -> None:
            async with raw.transaction():
                await statement.fetchrow(GUILD)

        def through(manager: TransactionManager) -> Variant:
            async def variant() -> None:
                async with manager.transaction("tiny"):
                    await db.guilds.find_by_id(GUILD)

            return variant

        variants: dict[str, Variant] = {
            "raw asyncpg transaction": raw_tx,
            "TransactionManager, no monitor": through(bare),
            "TransactionManager + TransactionMonitor": through(monitored),
        }
        samples: dict[str, list[float]] = {label: [] for label in variants}
        for round_number in range(rounds + 1):
            for label, variant in variants.items():
                value = await _per_call_us(variant, calls)
                if round_number:
                    samples[label].append(value)
        await raw.close()
    medians = {label: statistics.median(values) for label, values in samples.items()}
    raw_median = medians["raw asyncpg transaction"]
    print(f"{'variant':<42}{'median µs':>12}{'x raw':>8}")
    for label, value in medians.items():
        print(f"{label:<42}{value:>12.1f}{value / raw_median:>8.2f}")
    overhead = medians["TransactionManager + TransactionMonitor"] - medians["TransactionManager, no monitor"]
    share = overhead / medians["TransactionManager, no monitor"] * 100
    print(f"TransactionMonitor overhead per transaction: {overhead:.1f} µs ({share:.1f}% of the transaction)")


def main() -> None:
    parser = argparse.ArgumentParser(description="tiny transaction cost")
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    asyncio.run(run(args.calls, args.rounds))


if __name__ == "__main__":
    main()
