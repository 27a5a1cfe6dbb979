"""The memory budget covers the key memos and the allocator's headroom; the memos stay within their share."""

from __future__ import annotations

from tests.caching.test_memory_size import FIRST_GUILD, onboarded_row
from tux.database.caching.budget import KEY_MEMO_ENTRY_BYTES, MemoryBudget
from tux.database.caching.config import CacheConfig
from tux.database.caching.keys import key_name
from tux.database.caching.manager import CacheManager
from tux.database.caching.snapshot import Frozen

MIB = 1 << 20


def test_the_default_budget_leaves_the_level_21_mib() -> None:
    budget = MemoryBudget.of(CacheConfig().memory_max_bytes)
    assert budget.key_memo.capacity == 17_476
    assert budget.key_memo.reserved <= 4 * MIB
    assert budget.level_bytes == 21 * MIB + (4 * MIB - budget.key_memo.reserved) * 3 // 4


def test_the_level_fills_to_its_share_of_the_budget_only() -> None:
    cache = CacheManager(CacheConfig(memory_max_entries=1_000_000, memory_max_bytes=2 * MIB))
    level_bytes = MemoryBudget.of(2 * MIB).level_bytes
    for guild_id in range(FIRST_GUILD, FIRST_GUILD + 10_000):
        cache.memory.put(key_name("guild_config", guild_id, ()), Frozen(onboarded_row(guild_id)), 60.0)
    assert cache.memory.evictions > 0
    assert level_bytes - 1024 < cache.memory.bytes <= level_bytes


def test_key_memos_of_all_regions_stay_within_their_share_and_keep_the_newest() -> None:
    capacity = 100
    cache = CacheManager(CacheConfig(memory_max_bytes=capacity * KEY_MEMO_ENTRY_BYTES * 8))
    regions = [cache.region("guild_config"), cache.region("afk")]
    for guild_id in range(1, 2_001):
        region = regions[guild_id % 2]
        key = region.key(guild_id)
        assert key.name == key_name(region.kind, guild_id, ())
        assert region.key(guild_id) is key, "a key just built is memoized"
        assert sum(len(region.guild_keys) for region in regions) <= capacity + len(regions)
    assert all(region.guild_keys for region in regions), "neither region is starved"
