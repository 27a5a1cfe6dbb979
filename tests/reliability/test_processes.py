"""Four bot processes replaying the simulation on one PostgreSQL + Redis, and a checker process.

While the four shards run, this process changes one guild's prefix again and again, each change
committed through its own ``Database`` (which invalidates the shared cache), and notes when each
commit returned. The checker process reads that prefix through its own memory cache the whole time.
Afterwards every read is compared with the commits: no read returned a value older than a commit
that returned more than ``COHERENCE_BOUND`` before it. The simulation's invariants hold at the end.
"""

from __future__ import annotations

import asyncio
import time
from bisect import bisect_left
from dataclasses import replace
from typing import Any

import pytest

from tests.caching.conftest import SPAWN, next_event
from tests.conftest import REDIS_URL, STEADY_CACHE
from tests.reliability import checker
from tests.reliability.conftest import failed_operations, small_run
from tux.database import Database
from tux.database.cli.simulate.runner import simulate

GUILD = 910_000_000_000_000_001
PROCESSES = 4
MIN_CHANGES = 20
CHANGE_INTERVAL = 0.05
COHERENCE_BOUND = 1.0
"""Seconds: the invalidation's pub/sub message reaches the checker well within it (about 1-5 ms on an
idle machine); the bound allows for a machine loaded by other test runs."""


@pytest.mark.parametrize("backend", ["postgresql"])
async def test_four_processes_and_a_checker_that_never_reads_stale_past_the_bound(
    database_url: str, redis_namespace: str
) -> None:
    config = replace(small_run(database_url, REDIS_URL), processes=PROCESSES, redis_namespace=redis_namespace)
    async with Database(
        database_url, REDIS_URL, redis_namespace=redis_namespace, cache_options=STEADY_CACHE
    ) as db:
        await db.guild_setup.onboard(GUILD)
        events: Any = SPAWN.Queue()
        stop = SPAWN.Event()
        reader = SPAWN.Process(
            target=checker.read_prefixes,
            args=(database_url, redis_namespace, GUILD, stop, events),
            daemon=True,
        )
        reader.start()
        try:
            assert next_event(events) == ("ready",)
            commits: list[tuple[float, str]] = []
            finished = asyncio.Event()

            async def change_prefixes() -> None:
                turn = 0
                while not finished.is_set() or turn < MIN_CHANGES:
                    prefix = f"p{turn}"
                    await db.guild_configs.upsert_config(GUILD, {"prefix": prefix})
                    commits.append((time.monotonic(), prefix))
                    turn += 1
                    await asyncio.sleep(CHANGE_INTERVAL)  # pacing of a moderator's commands, not a wait

            writer = asyncio.create_task(change_prefixes())
            try:
                result = await simulate(config, lambda _done: None)
            finally:
                finished.set()
                await writer
            stop.set()
            kind, reads = next_event(events)
        finally:
            stop.set()
            reader.join(timeout=30)
            if reader.is_alive():
                reader.kill()
    assert kind == "reads"
    assert failed_operations(result) == {}
    assert [(check.name, check.detail) for check in result.invariants if not check.ok] == []
    assert len(result.shards) == PROCESSES
    assert len(commits) >= MIN_CHANGES
    stale = _stale_reads(commits, reads)
    assert stale == [], f"{len(stale)} reads older than a commit {COHERENCE_BOUND} s before: {stale[:5]}"
    assert reads[-1][1] == commits[-1][1]


def _stale_reads(
    commits: list[tuple[float, str]], reads: list[tuple[float, str | None]]
) -> list[tuple[float, str | None, str]]:
    """Return the reads that returned an older value than one committed ``COHERENCE_BOUND`` before."""
    order = {prefix: turn for turn, (_, prefix) in enumerate(commits)}
    times = [committed for committed, _ in commits]
    stale = []
    for at, prefix in reads:
        settled = bisect_left(times, at - COHERENCE_BOUND) - 1  # the last commit settled by then
        seen = order.get(prefix or "", -1)  # the onboarding's default prefix comes before every commit
        if settled >= 0 and seen < settled:
            stale.append((at, prefix, commits[settled][1]))
    return stale
