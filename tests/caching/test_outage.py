"""Redis stopped, frozen, absent or blackholed: every call still succeeds, nothing stale comes back."""

from __future__ import annotations

import asyncio
import time

import redis.asyncio as aioredis

from tests.caching.conftest import FAST, CacheFactory, PrivateRedis, fast_config, free_port, wait_until
from tests.caching.test_manager import Gate
from tux.database.caching.manager import CacheManager
from tux.database.caching.types import MISS


async def exercise(cache: CacheManager, truth: Gate, rounds: int = 20) -> list[object]:
    """Reads, writes and invalidations against a cache whose Redis is broken; none may raise."""
    region = cache.region("guild_config")
    results = []
    for guild in range(1, rounds + 1):
        key = region.key(guild)
        results.append(await cache.get_or_load(key, truth))
        await cache.set(key, f"set {guild}")
        await cache.invalidate(key)
        await cache.invalidate("guild_config:*")
        results.append(await cache.get(key))
    return results


async def test_nothing_listening_costs_little_and_never_raises(make_cache: CacheFactory) -> None:
    cache = await make_cache(FAST, redis_url=f"redis://127.0.0.1:{free_port()}/0", ready_within=0.2)
    truth = Gate("from the database")
    started = time.perf_counter()
    results = await exercise(cache, truth)
    elapsed = time.perf_counter() - started
    assert results[0::2] == ["from the database"] * 20
    assert truth.calls == 20
    assert elapsed < 0.5, f"100 operations took {elapsed:.3f} s against a dead port"
    stats = cache.stats()
    assert not stats.redis_available
    assert not stats.bus_connected
    assert stats.invalidations_failed == 40


async def test_a_blackholed_redis_costs_a_few_operations_then_nothing(
    make_cache: CacheFactory, blackhole: str
) -> None:
    cache = await make_cache(FAST, redis_url=blackhole, ready_within=0.2)
    truth = Gate("from the database")
    started = time.perf_counter()
    results = await exercise(cache, truth)
    elapsed = time.perf_counter() - started
    assert results[0::2] == ["from the database"] * 20
    assert elapsed < 0.5, f"100 operations took {elapsed:.3f} s against a blackhole"
    steady = time.perf_counter()
    await exercise(cache, truth)
    per_operation = (time.perf_counter() - steady) / 100
    assert per_operation < 0.002, f"{per_operation * 1000:.2f} ms per operation with the circuit open"


async def test_a_stopped_redis_falls_back_and_recovers(
    make_cache: CacheFactory, private_redis: PrivateRedis
) -> None:
    cache = await make_cache(FAST, redis_url=private_redis.url)
    key = cache.region("guild_config").key(1)
    truth = Gate("v1")
    assert await cache.get_or_load(key, truth) == "v1"
    private_redis.stop()
    await wait_until(lambda: not cache.bus_connected)
    assert not cache.memory_active, "memory is bypassed while the bus is down"
    truth.value = "v2"
    await cache.invalidate(key)
    assert await cache.get_or_load(key, truth) == "v2"
    assert await cache.get_or_load(key, truth) == "v2"
    assert truth.calls == 3, "nothing is cached while the bus is down"
    private_redis.start()
    await wait_until(lambda: cache.bus_connected and cache.redis_available)
    assert cache.memory_active
    assert await cache.get_or_load(key, truth) == "v2"
    assert await cache.get_or_load(key, truth) == "v2"
    assert cache.stats().bus_disconnects == 1


async def test_entries_from_before_a_freeze_are_never_served(
    make_cache: CacheFactory, private_redis: PrivateRedis
) -> None:
    """Redis keeps its data across the outage (SIGSTOP) and the writer's invalidation never reaches it
    (the writer cannot reach Redis at all), so the stale entry really is there when Redis is back."""
    reader = await make_cache(FAST, redis_url=private_redis.url)
    writer = await make_cache(FAST, redis_url=f"redis://127.0.0.1:{free_port()}/0", ready_within=0.2)
    key = reader.region("guild_config").key(1)
    truth = Gate("v1")
    assert await reader.get_or_load(key, truth) == "v1"

    private_redis.freeze()
    await wait_until(lambda: not reader.bus_connected)
    truth.value = "v2"
    await writer.invalidate(writer.region("guild_config").key(1))
    assert writer.stats().invalidations_failed == 1
    assert await reader.get_or_load(key, truth) == "v2"

    private_redis.thaw()
    await wait_until(lambda: reader.bus_connected and reader.redis_available)
    raw = aioredis.Redis.from_url(private_redis.url)
    try:
        assert [k async for k in raw.scan_iter(match="*:c1:e:*")], "the pre-outage entry is still in Redis"
    finally:
        await raw.aclose()
    latecomer = await make_cache(fast_config(flush_on_start=False), redis_url=private_redis.url)
    assert await latecomer.get(latecomer.region("guild_config").key(1)) is MISS
    assert await reader.get_or_load(key, truth) == "v2"
    assert await reader.get(key) == "v2"


async def test_a_fill_that_spans_an_outage_is_refused(
    make_cache: CacheFactory, private_redis: PrivateRedis
) -> None:
    cache = await make_cache(FAST, redis_url=private_redis.url)
    key = cache.region("cases").key(1, 1)
    truth = Gate("read before the outage", hold=True)
    pending = asyncio.create_task(cache.get_or_load(key, truth))
    await truth.entered.wait()
    private_redis.freeze()
    await wait_until(lambda: not cache.bus_connected)
    private_redis.thaw()
    await wait_until(lambda: cache.bus_connected and cache.redis_available)
    truth.release.set()
    assert await pending == "read before the outage"
    assert await cache.get(key) is MISS
    assert cache.stats().refused_stale_fills == 1
