"""Every key the cache writes to Redis, and its bus channel, live under the deployment's namespace.

The workload runs against a private redis-server with keyspace notifications on, so every key touched
(set, deleted, expired) is seen, including short-lived ones, and nothing else shares the server.
"""

from __future__ import annotations

import contextlib
import uuid
from datetime import timedelta

import pytest
import redis.asyncio as aioredis

from tests.caching.conftest import PrivateRedis
from tests.conftest import STEADY_CACHE
from tests.hostile.catalogue import baseline, catalogue
from tests.hostile.harness import GUILD
from tux.database import Database
from tux.database.exceptions import DatabaseError
from tux.database.models import utcnow

SENTINEL = "sentinel-of-this-test"


async def exercise_everything(db: Database) -> None:
    """Onboard a guild and call every public repository and service method twice (fill, then hit)."""
    await db.guild_setup.onboard(GUILD)
    await db.snippet_service.create(GUILD, "rules", "text", 1001)
    await db.moderation.tempban_user(GUILD, 1001, "spam", 1002, utcnow() + timedelta(days=1))
    await db.levels_service.process_message(GUILD, 1001, 2001, [3001])
    for _ in range(2):
        for method in catalogue():
            kwargs = {param.name: baseline(method, param) for param in method.params}
            with contextlib.suppress(DatabaseError):  # business refusals (exists, not found) are fine
                await method.bound(db)(**kwargs)


@pytest.mark.parametrize("backend", ["postgresql"])
async def test_every_key_and_channel_is_namespaced(
    backend: str, database_url: str, private_redis: PrivateRedis
) -> None:
    namespace = f"tuxsec-{uuid.uuid4().hex[:8]}"
    watcher = aioredis.Redis.from_url(private_redis.url)
    await watcher.config_set("notify-keyspace-events", "KEA")
    events = watcher.pubsub()
    await events.psubscribe("__keyspace@0__:*")
    try:
        async with Database(
            database_url, private_redis.url, redis_namespace=namespace, cache_options=STEADY_CACHE
        ) as db:
            await exercise_everything(db)
            channels = {channel.decode() for channel in await watcher.pubsub_channels()}
        await watcher.set(SENTINEL, 1)
        touched: set[str] = set()
        while SENTINEL not in touched:  # notifications arrive in order: the sentinel comes last
            message = await events.get_message(timeout=10)
            assert message is not None, "keyspace notifications stopped before the sentinel"
            if message["type"] == "pmessage":
                touched.add(message["channel"].decode().split(":", 1)[1])
    finally:
        await events.aclose()
        await watcher.aclose()
    touched.discard(SENTINEL)
    assert len(touched) >= 10, f"the workload wrote too few keys to prove anything: {touched}"
    assert {key for key in touched if not key.startswith(f"{namespace}:")} == set()
    assert channels, "the invalidation bus was not subscribed"
    assert {channel for channel in channels if not channel.startswith(f"{namespace}:")} == set()
