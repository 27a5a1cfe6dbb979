"""Two OS processes, each with its own ``Database``, sharing PostgreSQL and Redis.

The memory level of one serves another's committed update within 100 ms (invalidation bus), and 100
concurrent misses of one key in each process cost one database query in all (Redis lease).
"""

from __future__ import annotations

import time
from typing import Any

import pytest
import redis.asyncio as aioredis

from tests.caching import cache_workers
from tests.caching.conftest import SPAWN, next_event
from tests.conftest import REDIS_URL, STEADY_CACHE
from tux.database import Database

GUILD = 777_777_777_777_777_777
pytestmark = pytest.mark.parametrize("backend", ["postgresql"])


async def test_the_other_process_serves_the_committed_prefix_within_100_ms(
    database_url: str, redis_namespace: str, spawn: Any
) -> None:
    async with Database(
        database_url, REDIS_URL, redis_namespace=redis_namespace, cache_options=STEADY_CACHE
    ) as db:
        await db.guild_configs.upsert_config(GUILD, {"prefix": "$"})
        events = SPAWN.Queue()
        spawn(cache_workers.watch_prefix, database_url, redis_namespace, GUILD, events)
        assert next_event(events) == ("ready", "$", 1), "the other process serves the prefix from memory"
        started = time.monotonic()
        await db.guild_configs.upsert_config(GUILD, {"prefix": "!"})  # commit, then invalidate
        kind, value, seen, again, memory_hits = next_event(events)
    assert (kind, value, again, memory_hits) == ("seen", "!", "!", 1)
    assert seen - started < 0.1, f"served the new prefix {(seen - started) * 1000:.1f} ms after the update"


async def test_a_stampede_across_two_processes_queries_once(
    database_url: str, redis_namespace: str, spawn: Any
) -> None:
    async with Database(database_url, cache_enabled=False) as db:
        await db.guild_configs.upsert_config(GUILD, {"prefix": "$"})
    raw = aioredis.Redis.from_url(REDIS_URL)
    try:
        first, second = SPAWN.Queue(), SPAWN.Queue()
        spawn(cache_workers.stampede, database_url, redis_namespace, GUILD, first)
        assert next_event(first) == ("missed",)
        deadline = time.monotonic() + 30
        while int(await raw.get(f"{redis_namespace}:loads") or 0) == 0:
            assert time.monotonic() < deadline, "the first process never started loading"
            await raw.ping()
        spawn(cache_workers.stampede, database_url, redis_namespace, GUILD, second)
        assert next_event(second) == ("missed",), "the second process missed while the first was loading"
        await raw.rpush(f"{redis_namespace}:go", "1")
        done_first, done_second = next_event(first), next_event(second)
        assert int(await raw.get(f"{redis_namespace}:loads") or 0) == 1
    finally:
        await raw.aclose()
    assert done_first[:2] == done_second[:2] == ("done", ["$"])
    assert done_first[2] + done_second[2] == 1, "one query for 200 concurrent misses in two processes"
