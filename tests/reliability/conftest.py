"""Fixtures of the reliability tests: private servers to break, and simulation runs against them.

Faults are injected into servers of the test's own (a private redis-server on a free port, a private
PostgreSQL database whose backends the test terminates), never into the shared ones.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable

import asyncpg

from tests import pg
from tests.caching.conftest import private_redis
from tux.database.cli.simulate.config import SimulationConfig
from tux.database.cli.simulate.runner import SimulationResult, simulate

__all__ = ["private_redis"]
"""The cache tests' private redis-server fixture, shared with these tests."""

LONG = os.environ.get("TUX_TEST_LONG") == "1"
"""Run the long versions (full soak, every suite behind PgBouncer); CI runs the short ones."""

SMALL_MESSAGES = 600


def small_run(database_url: str, redis_url: str | None = None) -> SimulationConfig:
    """A simulation that takes a few seconds here and still runs every command and both loops."""
    return SimulationConfig(
        database_url=database_url,
        redis_url=redis_url,
        guilds=6,
        members=40,
        messages=SMALL_MESSAGES,
        workers=4,
        redis_namespace="tuxfault",
    )


async def terminate_backends(database_url: str) -> int:
    """Terminate every PostgreSQL backend connected to ``database_url``'s database; return how many."""
    name = database_url.rsplit("/", 1)[1]
    admin = await asyncpg.connect(pg.PG_ADMIN_DSN)
    try:
        terminated = await admin.fetchval(
            "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = $1 AND pid <> pg_backend_pid()",
            name,
        )
    finally:
        await admin.close()
    return int(terminated)


Fault = Callable[[], Awaitable[None]]


async def simulate_with_faults(config: SimulationConfig, faults: dict[float, Fault]) -> SimulationResult:
    """Run ``config`` in this process; run each fault once the share of events done reaches its key.

    The faults run in a task of their own while the simulation's workers go on, so they hit statements
    and transactions in flight.
    """
    total = config.messages
    reached = {share: asyncio.Event() for share in faults}

    def progress(done: int) -> None:
        for share, event in reached.items():
            if done >= share * total:
                event.set()

    async def inject() -> None:
        for share in sorted(faults):
            await reached[share].wait()
            await faults[share]()

    injector = asyncio.create_task(inject())
    try:
        result = await simulate(config, progress)
    finally:
        if not injector.done():
            injector.cancel()
            await asyncio.wait([injector])
    assert not injector.cancelled(), "the run ended before every fault was injected"
    injector.result()
    return result


def failed_operations(result: SimulationResult) -> dict[str, dict[str, int]]:
    """Return the operations that raised, with their error counts, over every process."""
    failed: dict[str, dict[str, int]] = {}
    for shard in result.shards:
        for name, samples in shard.operations.items():
            if samples.errors:
                failed.setdefault(name, {}).update(samples.errors)
    return failed
