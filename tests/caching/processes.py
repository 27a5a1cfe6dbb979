"""Code run in a second OS process (multiprocessing "spawn") by the cross-process tests.

Each function opens its own ``CacheManager`` on the shared Redis, in the test's namespace, and talks to
the test through a queue. The "database" is a Redis key of the namespace, read by the loader.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from multiprocessing.queues import Queue
from typing import Any

import redis.asyncio as aioredis

from tests.caching.conftest import REDIS_URL, STEADY, wait_until
from tux.database.caching.manager import CacheLevel, CacheManager

DEADLINE = 20.0


def watch_for_update(namespace: str, events: Queue[Any]) -> None:
    """Cache the guild config, report it, then report when the memory level serves the update."""
    asyncio.run(_watch_for_update(namespace, events))


async def _watch_for_update(namespace: str, events: Queue[Any]) -> None:
    raw = aioredis.Redis.from_url(REDIS_URL)
    cache = CacheManager(STEADY, redis_url=REDIS_URL, namespace=namespace)
    await cache.start()
    key = cache.region("guild_config").key(1)

    async def load() -> str | None:
        value = await raw.get(f"{namespace}:truth")
        return None if value is None else value.decode()

    first = await cache.get_or_load(key, load)
    events.put(("ready", first, await cache.get(key, [CacheLevel.MEMORY])))
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        value = await cache.get_or_load(key, load)
        if value != first:
            seen = time.monotonic()
            from_memory = await cache.get(key, [CacheLevel.MEMORY])
            events.put(("seen", value, seen, from_memory))
            break
        await asyncio.sleep(0.001)  # a reader's next message; lets the bus task run
    await cache.close()
    await raw.aclose()


def stampede(namespace: str, events: Queue[Any]) -> None:
    """Start 100 concurrent misses on one key; the loader counts itself and waits to be released."""
    asyncio.run(_stampede(namespace, events))


async def _stampede(namespace: str, events: Queue[Any]) -> None:
    raw = aioredis.Redis.from_url(REDIS_URL, socket_timeout=None)
    # No epoch bump on start: the second process starts while the first is loading, and a bump would
    # (rightly) refuse the first one's fill, which began before it.
    cache = CacheManager(replace(STEADY, flush_on_start=False), redis_url=REDIS_URL, namespace=namespace)
    await cache.start()
    key = cache.region("cases").key(1, 1)

    async def load() -> str:
        await raw.incr(f"{namespace}:loads")
        await raw.blpop([f"{namespace}:go"], timeout=DEADLINE)
        return "case 1"

    tasks = [asyncio.create_task(cache.get_or_load(key, load)) for _ in range(100)]
    await wait_until(lambda: cache.stats().misses["redis"] > 0, within=DEADLINE)
    events.put(("missed",))
    results = await asyncio.gather(*tasks)
    events.put(("done", sorted(set(results)), cache.stats().loads))
    await cache.close()
    await raw.aclose()
