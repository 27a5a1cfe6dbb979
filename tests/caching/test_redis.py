"""The Redis level against a real server: fills, types, versions, stale fills, groups, bus, leases."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import replace
from typing import Any

import msgspec
import pytest
import redis.asyncio as aioredis

from tests.caching.conftest import STEADY, CacheFactory, wait_until
from tests.caching.test_manager import Gate
from tux.database.caching.manager import CacheLevel, CacheManager
from tux.database.caching.types import MISS


class GuildConfig(msgspec.Struct, frozen=True):
    guild_id: int
    prefix: str
    log_channel_id: int | None


class GuildConfigV2(msgspec.Struct, frozen=True):
    guild_id: int
    prefix: str
    log_channel_id: int | None
    jail_role_id: int | None = None


REDIS_ONLY = STEADY.with_policy("cases", levels=["redis"])


async def test_a_fill_is_shared_through_redis_with_its_type(make_cache: CacheFactory) -> None:
    first, second = await make_cache(), await make_cache()
    value = GuildConfig(1, "$", None)
    key = first.region("guild_config", GuildConfig).key(1)
    assert await first.get_or_load(key, Gate(value)) == value
    other = second.region("guild_config", GuildConfig).key(1)
    loader = Gate(GuildConfig(1, "WRONG", None))
    got = await second.get_or_load(other, loader)
    assert got == value
    assert type(got) is GuildConfig
    assert loader.calls == 0
    assert second.stats().per_type["guild_config"].hits["redis"] == 1
    assert await second.get(other, [CacheLevel.MEMORY]) == value, "the Redis hit filled memory"


async def test_tuples_come_back_as_tuples(make_cache: CacheFactory) -> None:
    first, second = await make_cache(), await make_cache()
    await first.get_or_load(first.region("cases", tuple[int, str]).key(1, 7), Gate((7, "ban")))
    got = await second.get_or_load(second.region("cases", tuple[int, str]).key(1, 7), Gate((0, "")))
    assert got == (7, "ban")
    assert type(got) is tuple


async def test_keys_carry_namespace_and_versions(
    make_cache: CacheFactory, raw_redis: aioredis.Redis, namespace: str
) -> None:
    cache = await make_cache()
    await cache.get_or_load(cache.region("guild_config", GuildConfig).key(1), Gate(GuildConfig(1, "$", None)))
    keys = sorted([k.decode() async for k in raw_redis.scan_iter(match=f"{namespace}:*")])
    entries = [k for k in keys if ":e:" in k]
    assert len(entries) == 1
    assert entries[0].startswith(f"{namespace}:c1:e:")
    assert entries[0].endswith(":guild_config:1")
    assert all(k.startswith(f"{namespace}:c1:") for k in keys)


async def test_a_changed_value_type_never_reads_old_entries(make_cache: CacheFactory) -> None:
    old, new = await make_cache(), await make_cache()
    await old.get_or_load(old.region("guild_config", GuildConfig).key(1), Gate(GuildConfig(1, "$", None)))
    loader = Gate(GuildConfigV2(1, "$", None, 5))
    got = await new.get_or_load(new.region("guild_config", GuildConfigV2).key(1), loader)
    assert loader.calls == 1
    assert got == GuildConfigV2(1, "$", None, 5)


async def test_an_invalidation_reaches_entries_of_another_release(make_cache: CacheFactory) -> None:
    old, new = await make_cache(), await make_cache()
    old_key = old.region("guild_config", GuildConfig).key(1)
    await old.get_or_load(old_key, Gate(GuildConfig(1, "$", None)))
    await new.invalidate(new.region("guild_config", GuildConfigV2).key(1))
    await wait_until(lambda: old.stats().bus_messages_received >= 1)
    fresh = await make_cache(replace(STEADY, flush_on_start=False))
    assert await fresh.get(fresh.region("guild_config", GuildConfig).key(1)) is MISS


async def test_namespaces_are_isolated(make_cache: CacheFactory, namespace: str) -> None:
    first = await make_cache()
    other = await make_cache(namespace=f"{namespace}-other")
    await first.get_or_load(first.region("cases").key(1, 1), Gate("mine"))
    loader = Gate("theirs")
    assert await other.get_or_load(other.region("cases").key(1, 1), loader) == "theirs"
    assert loader.calls == 1


async def test_guilds_never_see_each_others_values(make_cache: CacheFactory) -> None:
    first, second = await make_cache(), await make_cache()
    await first.get_or_load(first.region("cases").key(1, 1), Gate("guild one"))
    await first.get_or_load(first.region("cases").key(2, 1), Gate("guild two"))
    assert await second.get(second.region("cases").key(1, 1)) == "guild one"
    assert await second.get(second.region("cases").key(2, 1)) == "guild two"


async def test_a_stale_fill_is_refused_by_redis(make_cache: CacheFactory) -> None:
    reader, writer, observer = (
        await make_cache(REDIS_ONLY),
        await make_cache(REDIS_ONLY),
        await make_cache(REDIS_ONLY),
    )
    key = reader.region("cases").key(1, 9)
    loader = Gate("old", hold=True)
    pending = asyncio.create_task(reader.get_or_load(key, loader))
    await loader.entered.wait()
    loader.value = "new"
    await writer.invalidate(writer.region("cases").key(1, 9))
    loader.release.set()
    assert await pending == "old"
    assert reader.stats().refused_stale_fills == 1
    assert await observer.get(observer.region("cases").key(1, 9)) is MISS
    assert await observer.get_or_load(observer.region("cases").key(1, 9), loader) == "new"


async def test_a_stale_fill_is_refused_in_memory_and_redis(make_cache: CacheFactory) -> None:
    reader, writer = await make_cache(), await make_cache()
    key = reader.region("cases").key(1, 9)
    loader = Gate("old", hold=True)
    pending = asyncio.create_task(reader.get_or_load(key, loader))
    await loader.entered.wait()
    loader.value = "new"
    await writer.invalidate("cases:1:9")
    loader.release.set()
    await pending
    assert await reader.get(key) is MISS
    assert await reader.get_or_load(key, loader) == "new"


async def test_a_group_invalidation_is_one_step_without_scans(
    make_cache: CacheFactory, raw_redis: aioredis.Redis, namespace: str
) -> None:
    writer, reader = await make_cache(), await make_cache(REDIS_ONLY)
    region = writer.region("cases")
    for guild, number in ((1, 1), (1, 2), (2, 1)):
        await writer.get_or_load(region.key(guild, number), Gate(f"{guild}/{number}"))
    entries_before = [k async for k in raw_redis.scan_iter(match=f"{namespace}:c1:e:*")]
    await writer.invalidate("cases:1:*")
    entries_after = [k async for k in raw_redis.scan_iter(match=f"{namespace}:c1:e:*")]
    assert len(entries_before) == len(entries_after) == 3, "entries were not scanned for and deleted"
    read = reader.region("cases")
    assert await reader.get(read.key(1, 1)) is MISS
    assert await reader.get(read.key(1, 2)) is MISS
    assert await reader.get(read.key(2, 1)) == "2/1"
    await writer.invalidate("*")
    assert await reader.get(read.key(2, 1)) is MISS


async def test_the_bus_drops_other_processes_memory(make_cache: CacheFactory) -> None:
    first, second = await make_cache(), await make_cache()
    key_one, key_two = first.region("guild_config").key(1), second.region("guild_config").key(1)
    await first.get_or_load(key_one, Gate("v1"))
    assert await second.get_or_load(key_two, Gate("x")) == "v1"
    assert await second.get(key_two, [CacheLevel.MEMORY]) == "v1"
    await first.invalidate(key_one)
    await wait_until(lambda: second.stats().memory_entries == 0)
    assert await second.get_or_load(key_two, Gate("v2")) == "v2"


async def test_set_is_seen_by_other_processes(make_cache: CacheFactory) -> None:
    first, second = await make_cache(), await make_cache()
    key = second.region("guild_config").key(1)
    await second.get_or_load(key, Gate("v1"))
    await first.set(first.region("guild_config").key(1), "v2")
    await wait_until(lambda: second.stats().memory_entries == 0)
    assert await second.get(key) == "v2"


async def test_not_found_is_cached_in_redis(make_cache: CacheFactory) -> None:
    first, second = await make_cache(), await make_cache()
    await first.get_or_load(first.region("afk").key(1, 5), Gate(None))
    loader = Gate("exists?")
    assert await second.get_or_load(second.region("afk").key(1, 5), loader) is None
    assert loader.calls == 0
    stats = second.stats()
    assert stats.negative_hits == 1
    assert stats.per_type["afk"].hits["redis"] == 1


async def test_a_create_invalidates_the_cached_not_found(make_cache: CacheFactory) -> None:
    first, second = await make_cache(), await make_cache()
    await first.get_or_load(first.region("afk").key(1, 5), Gate(None))
    await second.invalidate("afk:1:*")
    await wait_until(lambda: first.stats().memory_entries == 0)
    assert await first.get_or_load(first.region("afk").key(1, 5), Gate("afk now")) == "afk now"


async def test_a_lease_makes_other_processes_wait_instead_of_loading(make_cache: CacheFactory) -> None:
    holder, waiter = await make_cache(), await make_cache()
    loader = Gate("value", hold=True)
    leading = asyncio.create_task(holder.get_or_load(holder.region("cases").key(1, 1), loader))
    await loader.entered.wait()
    other = Gate("second load")
    waiting = [
        asyncio.create_task(waiter.get_or_load(waiter.region("cases").key(1, 1), other)) for _ in range(100)
    ]
    await wait_until(lambda: waiter.stats().misses["redis"] >= 1)
    loader.release.set()
    assert await leading == "value"
    assert set(await asyncio.gather(*waiting)) == {"value"}
    assert loader.calls == 1
    assert other.calls == 0


async def test_a_failed_load_releases_the_lease(make_cache: CacheFactory) -> None:
    holder, waiter = await make_cache(), await make_cache()
    release = asyncio.Event()

    async def broken() -> Any:
        await release.wait()
        raise RuntimeError("boom")

    leading = asyncio.create_task(holder.get_or_load(holder.region("cases").key(1, 1), broken))
    await wait_until(lambda: holder.stats().misses["redis"] >= 1)
    other = Gate("loaded by the waiter")
    waiting = asyncio.create_task(waiter.get_or_load(waiter.region("cases").key(1, 1), other))
    await wait_until(lambda: waiter.stats().misses["redis"] >= 1)
    release.set()
    with pytest.raises(RuntimeError):
        await leading
    assert await waiting == "loaded by the waiter"


async def test_a_corrupt_entry_is_a_miss(
    make_cache: CacheFactory, raw_redis: aioredis.Redis, namespace: str
) -> None:
    cache = await make_cache(REDIS_ONLY)
    key = cache.region("cases", int).key(1, 1)
    await cache.get_or_load(key, Gate(5))
    [entry] = [k async for k in raw_redis.scan_iter(match=f"{namespace}:c1:e:*")]
    stamps = (await raw_redis.get(entry))[:32]
    await raw_redis.set(entry, stamps + b"\x01garbage")
    assert await cache.get(key) is MISS
    assert cache.stats().level_errors["redis"] == 1


async def test_start_bumps_the_epoch(make_cache: CacheFactory) -> None:
    first = await make_cache()
    await first.get_or_load(first.region("cases").key(1, 1), Gate("before restart"))
    restarted = await make_cache()
    assert await restarted.get(restarted.region("cases").key(1, 1)) is MISS
    await wait_until(lambda: first.stats().memory_entries == 0)


async def test_configured_without_redis_the_bus_is_absent(make_cache: CacheFactory) -> None:
    cache: CacheManager = await make_cache(STEADY, redis_url=None)
    assert not cache.bus_connected
    assert cache.memory_active


async def test_a_value_redis_cannot_encode_stays_in_memory(make_cache: CacheFactory) -> None:
    cache = await make_cache()
    key = cache.region("guild_config").key(1)
    marker = object()
    await cache.set(key, marker)
    assert await cache.get(key, [CacheLevel.MEMORY]) is not None
    assert await cache.get(key, [CacheLevel.REDIS]) is MISS


async def test_callers_sharing_a_load_without_memory_get_their_own_copies(make_cache: CacheFactory) -> None:
    cache = await make_cache(REDIS_ONLY)
    key = cache.region("cases").key(1, 7)
    loader = Gate({"ids": [1, 2]}, hold=True)
    callers = [asyncio.create_task(cache.get_or_load(key, loader)) for _ in range(20)]
    await loader.entered.wait()  # the others joined the leader's flight in their first step
    loader.release.set()
    values = await asyncio.gather(*callers)
    assert loader.calls == 1
    assert cache.stats().per_type["cases"].misses["redis"] == 1, "only the leader read Redis"
    assert all(value == {"ids": [1, 2]} for value in values)
    values[0]["ids"].append(3)
    assert all(value == {"ids": [1, 2]} for value in values[1:]), "a caller's change reached another"
    assert len({id(value) for value in values}) == 20


class _Unshareable:
    """A mutable value that cannot be copied (it holds a lock)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()


async def test_a_value_that_cannot_be_copied_fails_only_the_waiters(make_cache: CacheFactory) -> None:
    cache = await make_cache(REDIS_ONLY)
    key = cache.region("cases").key(1, 8)
    loader = Gate(_Unshareable(), hold=True)
    leader = asyncio.create_task(cache.get_or_load(key, loader))
    follower = asyncio.create_task(cache.get_or_load(key, Gate("unused")))
    await loader.entered.wait()
    loader.release.set()
    assert isinstance(await leader, _Unshareable)
    with pytest.raises(TypeError):
        await follower


async def test_a_set_during_a_load_is_what_later_reads_get(make_cache: CacheFactory) -> None:
    cache = await make_cache(REDIS_ONLY)
    key = cache.region("cases").key(1, 9)
    old = Gate("old", hold=True)
    earlier = asyncio.create_task(cache.get_or_load(key, old))
    await old.entered.wait()
    await cache.set(key, "set")
    async with asyncio.timeout(5):  # joining the held load would wait for it forever
        assert await cache.get_or_load(key, Gate("unused")) == "set"
    old.release.set()
    assert await earlier == "old"
