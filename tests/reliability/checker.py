"""The checker process of the several-processes test: reads one guild's prefix through its own cache.

It runs in a spawned interpreter with its own :class:`Database` (memory level + the shared Redis, in
the test's namespace), reads ``get_prefix`` as fast as it can, and sends back every read with the
system-wide monotonic time it returned at.
"""

from __future__ import annotations

import asyncio
import time
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Event
from typing import Any

from tests.conftest import REDIS_URL, STEADY_CACHE
from tux.database import Database

READ_INTERVAL = 0.001


def read_prefixes(url: str, namespace: str, guild_id: int, stop: Event, events: Queue[Any]) -> None:
    """Report ``("ready",)``, then read until ``stop`` is set and report ``("reads", [(time, prefix)])``."""
    asyncio.run(_read_prefixes(url, namespace, guild_id, stop, events))


async def _read_prefixes(url: str, namespace: str, guild_id: int, stop: Event, events: Queue[Any]) -> None:
    reads: list[tuple[float, str | None]] = []
    async with Database(url, REDIS_URL, redis_namespace=namespace, cache_options=STEADY_CACHE) as db:
        await db.guild_configs.get_prefix(guild_id)
        events.put(("ready",))
        while not stop.is_set():
            prefix = await db.guild_configs.get_prefix(guild_id)
            reads.append((time.monotonic(), prefix))
            await asyncio.sleep(READ_INTERVAL)  # a bot reads between other work; the bus listener runs
    events.put(("reads", reads))
