"""Faults injected while the simulated bot runs, and the transient errors the layer promises.

Each run replays the simulation's workload (every service, both background loops) on a private
PostgreSQL database; at the end the simulation's invariants, checked from the database against the
workload's ledger, hold: no case, XP award, snippet use, tempban or reminder was lost or duplicated.
"""

from __future__ import annotations

import pytest

from tests.caching.conftest import PrivateRedis
from tests.reliability.conftest import (
    SMALL_MESSAGES,
    failed_operations,
    simulate_with_faults,
    small_run,
    terminate_backends,
)
from tux.database.cli.simulate.runner import SimulationResult

pytestmark = pytest.mark.parametrize("backend", ["postgresql"])


def _assert_invariants(result: SimulationResult) -> None:
    assert [(check.name, check.detail) for check in result.invariants if not check.ok] == []
    assert sum(shard.completed for shard in result.shards) == SMALL_MESSAGES


async def test_redis_killed_and_restarted_mid_run_loses_nothing(
    empty_database_url: str, private_redis: PrivateRedis
) -> None:
    config = small_run(empty_database_url, private_redis.url)

    async def kill() -> None:
        private_redis.stop()

    async def restart() -> None:
        private_redis.start()

    result = await simulate_with_faults(config, {0.3: kill, 0.6: restart})
    assert failed_operations(result) == {}
    _assert_invariants(result)


async def test_postgres_backends_terminated_mid_run_lose_nothing(empty_database_url: str) -> None:
    config = small_run(empty_database_url)
    terminated: list[int] = []

    async def terminate() -> None:
        terminated.append(await terminate_backends(empty_database_url))

    result = await simulate_with_faults(config, {0.25: terminate, 0.5: terminate, 0.75: terminate})
    assert all(count > 0 for count in terminated), terminated
    # Retried: reads, and transactions whose connection was lost before their commit was sent. What
    # may remain is a write in flight on a killed connection, whose outcome is unknown: it raises the
    # transient ConnectionLostError, at most one per terminated backend, and the invariants tell
    # whether it committed behind the caller's back.
    failures = failed_operations(result)
    assert {error for errors in failures.values() for error in errors} <= {"ConnectionLostError"}
    assert sum(sum(errors.values()) for errors in failures.values()) <= sum(terminated)
    _assert_invariants(result)
