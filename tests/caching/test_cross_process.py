"""Two OS processes sharing Redis: coherence of the memory levels and one load per key (lease)."""

from __future__ import annotations

import time
from typing import Any

import redis.asyncio as aioredis

from tests.caching import processes
from tests.caching.conftest import REDIS_URL, SPAWN, STEADY, next_event
from tux.database.caching.manager import CacheManager


async def test_the_other_process_serves_the_new_value_within_100_ms(
    namespace: str, raw_redis: aioredis.Redis, spawn: Any
) -> None:
    await raw_redis.set(f"{namespace}:truth", "prefix $")
    cache = CacheManager(STEADY, redis_url=REDIS_URL, namespace=namespace)
    await cache.start()
    try:
        events = SPAWN.Queue()
        spawn(processes.watch_for_update, namespace, events)
        assert next_event(events) == ("ready", "prefix $", "prefix $")
        await raw_redis.set(f"{namespace}:truth", "prefix !")  # the committed update
        published = time.monotonic()
        await cache.invalidate(cache.region("guild_config").key(1))
        kind, value, seen, from_memory = next_event(events)
        assert (kind, value, from_memory) == ("seen", "prefix !", "prefix !")
        assert seen - published < 0.1, (
            f"served the new value {(seen - published) * 1000:.1f} ms after the publish"
        )
    finally:
        await cache.close()


async def test_a_stampede_across_processes_loads_once(
    namespace: str, raw_redis: aioredis.Redis, spawn: Any
) -> None:
    events_a, events_b = SPAWN.Queue(), SPAWN.Queue()
    spawn(processes.stampede, namespace, events_a)
    assert next_event(events_a) == ("missed",)
    deadline = time.monotonic() + 30
    while int(await raw_redis.get(f"{namespace}:loads") or 0) == 0:
        assert time.monotonic() < deadline, "the first process never started loading"
        await raw_redis.ping()
    spawn(processes.stampede, namespace, events_b)
    assert next_event(events_b) == ("missed",), "the second process missed while the first was loading"
    await raw_redis.rpush(f"{namespace}:go", "1")
    done_a, done_b = next_event(events_a), next_event(events_b)
    assert done_a[:2] == done_b[:2] == ("done", ["case 1"])
    assert done_a[2] + done_b[2] == 1
    assert int(await raw_redis.get(f"{namespace}:loads")) == 1
