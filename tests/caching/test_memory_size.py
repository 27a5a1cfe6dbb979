"""Size of the memory level: compact rows, accounting against tracemalloc, places reused, bytes per type."""

from __future__ import annotations

import gc
import tracemalloc
from typing import TYPE_CHECKING, Any

import msgspec
from sqlalchemy.ext.asyncio import async_sessionmaker

from tux.database.caching.keys import key_name
from tux.database.caching.manager import CacheManager
from tux.database.caching.memory import MemoryLevel
from tux.database.caching.snapshot import Frozen, approximate_size
from tux.database.core.session import SessionProvider
from tux.database.models import GuildConfig
from tux.database.models.detached import detached_instance
from tux.database.models.enums import OnboardingStage
from tux.database.repositories.cached_guild import guild_reader
from tux.database.repositories.cached_rows import RowCodec

if TYPE_CHECKING:
    from tux.database import Database

FIRST_GUILD = 1_300_000_000_000_000_000
CODEC = RowCodec(GuildConfig)


def onboarded_row(guild_id: int) -> Any:
    """The cached row of a guild config as onboarding creates it (the id, everything else default)."""
    values: dict[str, Any] = dict.fromkeys(CODEC.row_type.__struct_fields__)
    values.update(id=guild_id, prefix="$", onboarding_stage=OnboardingStage.NOT_STARTED)
    return CODEC.freeze(detached_instance(GuildConfig, values))


def fill(level: MemoryLevel, count: int) -> None:
    for guild_id in range(FIRST_GUILD, FIRST_GUILD + count):
        level.put(key_name("guild_config", guild_id, ()), Frozen(onboarded_row(guild_id)), 3600)


def test_a_cached_guild_config_row_costs_at_most_400_bytes() -> None:
    level = MemoryLevel(max_entries=10_000, max_bytes=1 << 30)
    fill(level, 1000)
    assert level.bytes / len(level) <= 400
    row = onboarded_row(FIRST_GUILD)
    assert not gc.is_tracked(row), "a row of scalars needs no garbage-collector header"
    as_dict = msgspec.structs.asdict(row)
    assert approximate_size(row) <= approximate_size(msgspec.structs.astuple(row)), "no bigger than a tuple"
    assert approximate_size(row) * 2 < approximate_size(as_dict), "column names shared, not kept per row"


def test_the_accounting_matches_tracemalloc_on_a_large_fill() -> None:
    level = MemoryLevel(max_entries=100_000, max_bytes=1 << 30)
    fill(level, 200)  # the arrays and the dict exist before measuring
    gc.collect()
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        accounted_before = level.bytes
        for guild_id in range(FIRST_GUILD + 200, FIRST_GUILD + 50_200):
            level.put(key_name("guild_config", guild_id, ()), Frozen(onboarded_row(guild_id)), 3600)
        gc.collect()
        after, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    traced = after - before
    accounted = level.bytes - accounted_before
    print(f"accounted {accounted / 50_000:.0f} B/row, traced {traced / 50_000:.0f} B/row")
    assert 0.85 <= accounted / traced <= 1.25, (accounted, traced)


def test_places_of_dropped_entries_are_reclaimed() -> None:
    level = MemoryLevel(max_entries=100, max_bytes=1 << 30)
    for round_ in range(5):
        for index in range(50):
            level.put(f"snippets:1:{round_}:{index}", Frozen(index), 60)
        level.delete_tags(["snippets:1"])
        assert len(level) == 0
        assert level.bytes == 0
    assert len(level._ring) <= 100, "places of dropped entries are reclaimed"


def test_a_key_without_parts_is_dropped_with_its_guild_group() -> None:
    level = MemoryLevel(max_entries=100, max_bytes=1 << 30)
    level.put("guild_config:1", Frozen("a"), 60)
    level.put("guild_config:2", Frozen("b"), 60)
    level.put("cases:1:7", Frozen("c"), 60)
    level.delete_tags(["guild_config:1"])
    assert sorted(level._entries) == ["cases:1:7", "guild_config:2"]
    level.delete_tags(["guild_config"])
    assert sorted(level._entries) == ["cases:1:7"]
    assert level.figures().per_type == {"cases": (1, level.bytes)}


def test_bytes_per_type_add_up_and_return_to_zero() -> None:
    level = MemoryLevel(max_entries=3, max_bytes=1 << 30)
    level.put("afk:1:1", Frozen("x" * 100), 60)
    level.put("cases:1:1", Frozen((1, 2)), 60)
    level.put("cases:1:2", Frozen((3, 4)), 60)
    level.put("cases:1:3", Frozen((5, 6)), 60)  # evicts the oldest, afk:1:1
    figures = level.figures()
    assert figures.per_type.keys() == {"cases"}
    assert figures.per_type["cases"] == (3, figures.bytes)
    level.delete_names(["cases:1:1", "cases:1:2", "cases:1:3"])
    assert level.figures().per_type == {}
    assert level.bytes == 0


def test_cache_stats_report_memory_bytes_per_type() -> None:
    cache = CacheManager()
    region = cache.region("guild_config", CODEC.value_type)
    other = cache.region("afk")
    cache.memory.put(region.key(FIRST_GUILD).name, Frozen(onboarded_row(FIRST_GUILD)), 60)
    cache.memory.put(other.key(FIRST_GUILD, 5).name, Frozen("away"), 60)
    stats = cache.stats()
    guild = stats.per_type["guild_config"]
    assert guild.memory_entries == 1
    assert 0 < guild.memory_bytes <= 400
    assert guild.memory_bytes + stats.per_type["afk"].memory_bytes == stats.memory_bytes
    assert stats.to_dict()["per_type"]["afk"]["memory_entries"] == 1


def test_an_evicted_entry_gives_its_place_to_the_new_one() -> None:
    level = MemoryLevel(max_entries=100, max_bytes=1 << 30)
    for index in range(1000):
        level.put(f"cases:1:{index}", Frozen(index), 60)
    assert len(level) == 100
    assert len(level._ring) == 100, "churn at the bound does not grow the ring"
    assert level.evictions == 900
    assert level.figures().per_type == {"cases": (100, level.bytes)}


async def test_the_guild_reader_hands_out_copies_of_mutable_values() -> None:
    cache = CacheManager()
    region = cache.region("settings")
    stored = {"prefix": "$"}
    cache.memory.put(region.key(FIRST_GUILD).name, Frozen(stored), 60)
    cache.memory.put(region.key(FIRST_GUILD + 1).name, Frozen(("shared",)), 60)
    fallbacks: list[int] = []

    async def fallback(_owner: object, guild_id: int) -> object:
        fallbacks.append(guild_id)
        return cache.peek(region.key(guild_id))

    sessions = SessionProvider(async_sessionmaker(), sqlite=True)
    read = guild_reader(cache.memory, region, lambda value: value, sessions=sessions, fallback=fallback)
    first = await read(None, FIRST_GUILD)
    assert first == stored
    first["prefix"] = "!"
    assert await read(None, FIRST_GUILD) == {"prefix": "$"}, "each reader got its own copy"
    assert fallbacks == [FIRST_GUILD, FIRST_GUILD], "a mutable value is never handed out by the fast path"
    assert await read(None, FIRST_GUILD + 1) == ("shared",)
    assert fallbacks == [FIRST_GUILD, FIRST_GUILD]


async def test_a_guild_config_read_through_the_repository_is_kept_within_400_bytes(
    cached_db: Database,
) -> None:
    await cached_db.guild_setup.onboard(FIRST_GUILD)
    config = await cached_db.guild_configs.find_by_id(FIRST_GUILD)
    assert config is not None
    assert await cached_db.guild_configs.find_by_id(FIRST_GUILD) is not config, "a hit rebuilds the instance"
    guild = cached_db.cache.stats().per_type["guild_config"]
    assert guild.memory_entries == 1
    assert 0 < guild.memory_bytes <= 400
