"""The manager on its memory level: single flight, negative caching, no stale fill, failures, stats."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.caching.conftest import CacheFactory, wait_until
from tux.database.caching.config import CacheConfig
from tux.database.caching.manager import CacheLevel, CacheManager
from tux.database.caching.types import MISS


class Gate:
    """A loader that returns the current 'database' value, optionally held until released."""

    def __init__(self, value: Any = "v1", *, hold: bool = False) -> None:
        self.value = value
        self.calls = 0
        self.entered = asyncio.Event()
        self.release = asyncio.Event()
        if not hold:
            self.release.set()

    async def __call__(self) -> Any:
        self.calls += 1
        read = self.value
        self.entered.set()
        await self.release.wait()
        return read


@pytest.fixture
async def cache(make_cache: CacheFactory) -> CacheManager:
    return await make_cache(CacheConfig(), redis_url=None)


async def test_hit_after_load(cache: CacheManager) -> None:
    region = cache.region("guild_config")
    loader = Gate(("$", 5))
    key = region.key(1)
    assert await cache.get_or_load(key, loader) == ("$", 5)
    assert await cache.get_or_load(key, loader) == ("$", 5)
    assert loader.calls == 1
    assert await cache.get(key) == ("$", 5)
    stats = cache.stats().per_type["guild_config"]
    assert stats.hits["memory"] == 2
    assert stats.loads == 1


async def test_hundred_concurrent_misses_run_the_loader_once(cache: CacheManager) -> None:
    region = cache.region("guild_config")
    loader = Gate({"prefix": "$"}, hold=True)
    key = region.key(1)
    tasks = [asyncio.create_task(cache.get_or_load(key, loader)) for _ in range(100)]
    await loader.entered.wait()
    loader.release.set()
    results = await asyncio.gather(*tasks)
    assert loader.calls == 1
    assert all(result == {"prefix": "$"} for result in results)
    assert len({id(result) for result in results}) == 100, "every caller got its own mutable copy"
    stats = cache.stats().per_type["guild_config"]
    assert stats.misses["memory"] == 100
    assert stats.loads == 1


async def test_not_found_is_cached_and_counted_as_a_hit(cache: CacheManager) -> None:
    region = cache.region("afk")
    loader = Gate(None)
    key = region.key(1, 2)
    assert await cache.get_or_load(key, loader) is None
    assert await cache.get_or_load(key, loader) is None
    assert await cache.get(key) is None
    assert loader.calls == 1
    stats = cache.stats()
    assert stats.negative_hits == 2
    assert stats.per_type["afk"].hits["memory"] == 2
    assert await cache.get(region.key(1, 3)) is MISS


async def test_not_found_is_not_cached_with_a_zero_negative_ttl(make_cache: CacheFactory) -> None:
    cache = await make_cache(CacheConfig().with_policy("afk", negative_ttl=0), redis_url=None)
    loader = Gate(None)
    key = cache.region("afk").key(1, 2)
    await cache.get_or_load(key, loader)
    await cache.get_or_load(key, loader)
    assert loader.calls == 2


async def test_invalidation_during_a_load_refuses_the_stale_fill(cache: CacheManager) -> None:
    region = cache.region("guild_config")
    key = region.key(1)
    loader = Gate("old", hold=True)
    reader = asyncio.create_task(cache.get_or_load(key, loader))
    await loader.entered.wait()
    loader.value = "new"
    await cache.invalidate(key)
    loader.release.set()
    assert await reader == "old", "the reader still returns what it read"
    assert await cache.get(key) is MISS, "but it was not cached"
    assert cache.stats().refused_stale_fills == 1
    assert await cache.get_or_load(key, loader) == "new"


async def test_group_invalidation_during_a_load_refuses_the_fill(cache: CacheManager) -> None:
    region = cache.region("cases")
    key = region.key(1, 42)
    loader = Gate("old", hold=True)
    reader = asyncio.create_task(cache.get_or_load(key, loader))
    await loader.entered.wait()
    await cache.invalidate("cases:1:*")
    loader.release.set()
    await reader
    assert await cache.get(key) is MISS
    other = region.key(2, 42)
    reader = asyncio.create_task(cache.get_or_load(other, Gate("kept")))
    await reader
    await cache.invalidate("cases:1:*")
    assert await cache.get(other) == "kept", "another guild's group is untouched"


async def test_set_refuses_fills_that_began_before_it(cache: CacheManager) -> None:
    key = cache.region("guild_config").key(1)
    loader = Gate("old", hold=True)
    reader = asyncio.create_task(cache.get_or_load(key, loader))
    await loader.entered.wait()
    await cache.set(key, "written")
    loader.release.set()
    await reader
    assert await cache.get(key) == "written"


async def test_a_failing_loader_fails_every_waiter_and_caches_nothing(cache: CacheManager) -> None:
    key = cache.region("guild_config").key(1)
    release = asyncio.Event()

    async def broken() -> str:
        await release.wait()
        raise RuntimeError("database down")

    tasks = [asyncio.create_task(cache.get_or_load(key, broken)) for _ in range(5)]
    await wait_until(lambda: cache.stats().misses["memory"] == 5)
    release.set()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert all(isinstance(result, RuntimeError) for result in results)
    assert await cache.get(key) is MISS
    assert await cache.get_or_load(key, Gate("ok")) == "ok"


async def test_a_cancelled_leader_hands_over_to_a_waiter(cache: CacheManager) -> None:
    key = cache.region("guild_config").key(1)
    first = Gate("first", hold=True)
    leader = asyncio.create_task(cache.get_or_load(key, first))
    await first.entered.wait()
    second = Gate("second")
    follower = asyncio.create_task(cache.get_or_load(key, second))
    await wait_until(lambda: cache.stats().misses["memory"] == 2)
    leader.cancel()
    assert await follower == "second"
    assert second.calls == 1
    with pytest.raises(asyncio.CancelledError):
        await leader


async def test_get_fills_nothing_it_does_not_have(cache: CacheManager) -> None:
    key = cache.region("guild_config").key(1)
    assert await cache.get(key) is MISS
    assert await cache.get(key, [CacheLevel.MEMORY]) is MISS
    await cache.set(key, "v", levels=[CacheLevel.MEMORY])
    assert await cache.get("guild_config:1") == "v"
    assert await cache.get(key, [CacheLevel.REDIS]) is MISS


async def test_regions_keep_their_type() -> None:
    cache = CacheManager()
    untyped = cache.region("cases")
    assert cache.region("cases", int) is untyped
    assert untyped.value_type is int
    assert cache.region("cases") is cache.region("cases", int)
    with pytest.raises(Exception, match="already registered"):
        cache.region("cases", str)


async def test_stats_report_everything(cache: CacheManager) -> None:
    region = cache.region("guild_config")
    await cache.get_or_load(region.key(1), Gate("a"))
    await cache.get_or_load(region.key(1), Gate("a"))
    await cache.invalidate(region.key(1))
    stats = cache.stats()
    assert stats.hits["memory"] == 1
    assert stats.misses["memory"] == 1
    assert stats.hit_rate == 0.5
    assert stats.invalidations_sent == 1
    assert stats.memory_entries == 0
    assert stats.to_dict()["per_type"]["guild_config"]["loads"] == 1


async def test_a_read_begun_after_an_invalidation_does_not_join_an_older_load(cache: CacheManager) -> None:
    key = cache.region("guild_config").key(1)
    old = Gate("old", hold=True)
    earlier = asyncio.create_task(cache.get_or_load(key, old))
    await old.entered.wait()
    await cache.invalidate(key)
    async with asyncio.timeout(5):  # joining the held load would wait for it forever
        assert await cache.get_or_load(key, Gate("new")) == "new"
    old.release.set()
    assert await earlier == "old", "the earlier read still gets what it loaded"
    assert await cache.get_or_load(key, Gate("unused")) == "new", "and its fill was refused"
