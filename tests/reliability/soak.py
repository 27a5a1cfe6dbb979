"""The memory-cache soak, run in a fresh interpreter so its RSS is the cache's and little else.

``python -m tests.reliability.soak OPERATIONS MAX_BYTES`` replays ``OPERATIONS`` cache operations on a
memory-only :class:`CacheManager` bounded to ``MAX_BYTES``: lookups through ``get_or_load`` (a miss
loads a guild-config row as the repositories cache it), writes (``set``) and invalidations, over
four times more guilds than the bound holds, so the level evicts all the time. It prints one JSON
object: RSS before and after, the level's bytes, and the CPU time and RSS after each batch.
"""

from __future__ import annotations

import asyncio
import json
import random
import sys
import time
from pathlib import Path
from typing import Any

from tests.caching.test_memory_size import FIRST_GUILD, onboarded_row
from tux.database.caching.config import CacheConfig
from tux.database.caching.manager import CacheManager

BATCH = 20_000
ROW_BYTES = 400
"""About what a cached onboarded guild config costs in the level (see the README's Memory section)."""


def rss_bytes() -> int:
    """Return this process's resident set size now (not its peak)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


async def soak(operations: int, max_bytes: int) -> dict[str, Any]:
    """Run the operations; return the figures the test checks."""
    cache = CacheManager(CacheConfig(memory_max_entries=10_000_000, memory_max_bytes=max_bytes))
    await cache.start(ready_within=0)
    guilds = 4 * max_bytes // ROW_BYTES
    randomness = random.Random(42)

    async def load_row(guild_id: int) -> Any:
        return onboarded_row(guild_id)

    def pick() -> int:
        """A few busy guilds (Pareto) most of the time, any guild otherwise."""
        if randomness.random() < 0.7:
            return min(int(randomness.paretovariate(0.6)), guilds) - 1
        return randomness.randrange(guilds)

    batches: list[float] = []
    resident: list[int] = []
    before = rss_bytes()
    try:
        for _ in range(operations // BATCH):
            started = time.process_time()
            for _ in range(BATCH):
                guild_id = FIRST_GUILD + pick()
                key = cache.key("guild_config", guild_id)
                draw = randomness.random()
                if draw < 0.85:
                    await cache.get_or_load(key, lambda guild_id=guild_id: load_row(guild_id))
                elif draw < 0.95:
                    await cache.invalidate(key)
                else:
                    await cache.set(key, await load_row(guild_id))
            batches.append((time.process_time() - started) / BATCH)
            resident.append(rss_bytes())
        kinds = cache.stats().per_type.values()
        served, missed = sum(kind.served for kind in kinds), sum(kind.missed for kind in kinds)
        return {
            "operations": len(batches) * BATCH,
            "rss_before": before,
            "rss_after": rss_bytes(),
            "memory_bytes": cache.memory.bytes,
            "memory_entries": len(cache.memory),
            "hit_rate": served / max(1, served + missed),
            "batch_cpu_seconds_per_operation": batches,
            "batch_rss": resident,
        }
    finally:
        await cache.close()


if __name__ == "__main__":
    print(json.dumps(asyncio.run(soak(int(sys.argv[1]), int(sys.argv[2])))))
