"""Code run in a second OS process (multiprocessing "spawn") by the cache process tests.

Each worker opens its own ``Database`` on the test's PostgreSQL database and Redis namespace and talks
to the test through a queue.
"""

from __future__ import annotations

import asyncio
import time
from multiprocessing.queues import Queue
from typing import Any

import redis.asyncio as aioredis

from tests.caching.cached_db_tools import QueryCounter
from tests.caching.conftest import wait_until
from tests.conftest import REDIS_URL, STEADY_CACHE
from tux.database import Database
from tux.database.repositories.cached import CachedRepository

DEADLINE = 20.0


def memory_hits(db: Database) -> int:
    """Memory-level hits of the guild config so far."""
    return db.cache.stats().per_type["guild_config"].hits["memory"]


def watch_prefix(url: str, namespace: str, guild: int, events: Queue[Any]) -> None:
    """Cache the guild's prefix, report it, then report when a changed prefix is served."""
    asyncio.run(_watch_prefix(url, namespace, guild, events))


async def _watch_prefix(url: str, namespace: str, guild: int, events: Queue[Any]) -> None:
    async with Database(url, REDIS_URL, redis_namespace=namespace, cache_options=STEADY_CACHE) as db:
        first = await db.guild_configs.get_prefix(guild)
        hits = memory_hits(db)
        await db.guild_configs.get_prefix(guild)
        events.put(("ready", first, memory_hits(db) - hits))
        deadline = time.monotonic() + DEADLINE
        while time.monotonic() < deadline:
            value = await db.guild_configs.get_prefix(guild)
            if value != first:
                seen = time.monotonic()
                hits = memory_hits(db)
                again = await db.guild_configs.get_prefix(guild)
                events.put(("seen", value, seen, again, memory_hits(db) - hits))
                return
            await asyncio.sleep(0.001)  # the bot's next message; lets the bus task run


def stampede(url: str, namespace: str, guild: int, events: Queue[Any]) -> None:
    """Start 100 concurrent misses of the guild config; the database read waits to be released."""
    asyncio.run(_stampede(url, namespace, guild, events))


async def _stampede(url: str, namespace: str, guild: int, events: Queue[Any]) -> None:
    raw = aioredis.Redis.from_url(REDIS_URL, socket_timeout=None)
    # No epoch bump on start: the second process starts while the first is loading, and a bump would
    # (rightly) refuse the first one's fill, which began before it.
    options = {**STEADY_CACHE, "flush_on_start": False}
    async with Database(url, REDIS_URL, redis_namespace=namespace, cache_options=options) as db:
        inner = db.guild_configs
        assert isinstance(inner, CachedRepository)
        read = inner.wrapped.find_by_id

        async def held(identity: int) -> Any:
            await raw.incr(f"{namespace}:loads")
            await raw.blpop([f"{namespace}:go"], timeout=DEADLINE)
            return await read(identity)

        inner.wrapped.find_by_id = held
        with QueryCounter(db) as queries:
            tasks = [asyncio.create_task(db.guild_configs.find_by_id(guild)) for _ in range(100)]
            await wait_until(lambda: db.cache.stats().misses["redis"] > 0, within=DEADLINE)
            events.put(("missed",))
            configs = await asyncio.gather(*tasks)
        prefixes = sorted({config.prefix for config in configs if config is not None})
        events.put(("done", prefixes, queries.count))
    await raw.aclose()
