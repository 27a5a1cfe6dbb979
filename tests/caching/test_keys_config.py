"""Keys carry their guild and escape user text; patterns never need a scan; policies and settings."""

from __future__ import annotations

import pytest

from tux.database.caching.config import CacheConfig, CachePolicy
from tux.database.caching.keys import EPOCH_TAG, Targets, parse_pattern, tags_of
from tux.database.caching.manager import CacheLevel, CacheManager
from tux.database.caching.types import MISS
from tux.database.exceptions import ValidationError
from tux.database.settings import DatabaseSettings


def test_key_names_carry_kind_and_guild() -> None:
    region = CacheManager().region("snippets")
    assert region.key(42, "hello").name == "snippets:42:hello"
    assert region.key(None, 7).name == "snippets:-:7"
    assert region.key(42).guild_id == 42


def test_keys_of_two_guilds_never_collide_even_with_forged_parts() -> None:
    region = CacheManager().region("snippets")
    forged = region.key(1, "2:x")
    assert forged.name != region.key(2, "x").name
    assert forged.name == "snippets:1:2%3Ax"
    assert tags_of(forged.name) == (EPOCH_TAG, "snippets", "snippets:1")
    assert region.key(1, "*").name == "snippets:1:%2A"


def test_long_parts_are_hashed_and_keys_stay_short() -> None:
    region = CacheManager().region("snippets")
    key = region.key(1, "x" * 1000)
    assert key.name.startswith("snippets:1:#")
    assert len(key.name) < 100
    assert region.key(1, "x" * 1000) == key
    assert region.key(1, "x" * 1001) != key
    many = region.key(1, *("y" * 60 for _ in range(20)))
    assert len(many.name) <= 400
    assert many.name.startswith("snippets:1:#")


@pytest.mark.parametrize("guild", [0, -1, True, "1", 1.0, 2**63])
def test_bad_guild_ids_are_refused(guild: object) -> None:
    region = CacheManager().region("snippets")
    with pytest.raises(ValidationError):
        region.key(guild, "x")  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        region.key(guild)  # type: ignore[arg-type]


def test_bad_kinds_are_refused() -> None:
    with pytest.raises(ValidationError):
        CacheManager().region("Bad-Kind")


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("*", Targets(tags=("*",))),
        ("cases:*", Targets(tags=("cases",))),
        ("cases:12:*", Targets(tags=("cases:12",))),
        ("cases:12:7", Targets(names=("cases:12:7",))),
        ("guild_config:12", Targets(names=("guild_config:12",))),
        ("afk:-:*", Targets(tags=("afk:-",))),
    ],
)
def test_supported_patterns(pattern: str, expected: Targets) -> None:
    assert parse_pattern(pattern) == expected


@pytest.mark.parametrize("pattern", ["cases:1*", "cases:*:7", "*:12:*", "cases", "cases:x:*", "cases:12:a*b"])
def test_patterns_that_would_need_a_scan_are_refused(pattern: str) -> None:
    with pytest.raises(ValidationError):
        parse_pattern(pattern)


def test_default_policies_follow_the_plan() -> None:
    config = CacheConfig()
    memory_redis = frozenset({CacheLevel.MEMORY, CacheLevel.REDIS})
    assert config.policy("guild_config").ttl == 3600
    assert config.policy("guild_config").levels == memory_redis
    assert config.policy("user_levels").ttl == 300
    assert config.policy("user_levels").levels == frozenset({CacheLevel.MEMORY})
    assert config.policy("cases").ttl == config.policy("snippets").ttl == 1800
    assert config.policy("cases").levels == config.policy("snippets").levels == memory_redis
    for kind in ("member_status", "afk", "starboard", "levels_leaderboard"):
        assert config.policy(kind).negative_ttl >= 0
        assert config.policy(kind).invalidated_by


def test_leaderboard_uses_the_database_level_only_without_redis() -> None:
    policy = CacheConfig().policy("levels_leaderboard")
    assert policy.effective_levels(redis=True, database=True) == (CacheLevel.MEMORY, CacheLevel.REDIS)
    assert policy.effective_levels(redis=False, database=True) == (CacheLevel.MEMORY, CacheLevel.DATABASE)
    assert policy.effective_levels(redis=False, database=False) == (CacheLevel.MEMORY,)


def test_overrides_from_settings() -> None:
    settings = DatabaseSettings(cache_enabled=False)
    config = CacheConfig.from_settings(settings, {"cases": {"ttl": 60, "levels": ["memory"]}}, lease_ttl=2.0)
    assert config.enabled is False
    assert config.lease_ttl == 2.0
    assert config.policy("cases").ttl == 60
    assert config.policy("cases").levels == frozenset({CacheLevel.MEMORY})
    with pytest.raises(ValidationError):
        config.with_policy("cases", tll=5)
    with pytest.raises(ValidationError):
        config.with_policy("cases", levels=["disk"])
    with pytest.raises(ValidationError):
        CachePolicy(ttl=0, negative_ttl=0, levels=frozenset())


def test_jitter_shortens_ttls_within_bounds() -> None:
    policy = CacheConfig().policy("guild_config")
    ttls = {policy.entry_ttl(found=True) for _ in range(200)}
    assert len(ttls) > 1
    assert all(3600 * 0.9 <= ttl <= 3600 for ttl in ttls)
    assert policy.entry_ttl(found=False) <= 300


async def test_disabled_cache_calls_the_loader_every_time() -> None:
    cache = CacheManager(CacheConfig(enabled=False), redis_url="redis://127.0.0.1:1/0")
    await cache.start()
    region = cache.region("guild_config")
    calls = 0

    async def loader() -> str:
        nonlocal calls
        calls += 1
        return "v"

    key = region.key(1)
    assert [await cache.get_or_load(key, loader) for _ in range(3)] == ["v"] * 3
    assert calls == 3
    await cache.set(key, "x")
    assert await cache.get(key) is MISS
    stats = cache.stats()
    assert stats.enabled is False
    assert stats.memory_entries == 0
    await cache.close()
