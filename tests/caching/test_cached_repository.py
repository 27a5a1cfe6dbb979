"""``CachedRepository`` through ``Database``: what a lookup returns, which calls it caches, and how.

Every test runs on both deployments: SQLite with the in-process cache (the embedded default) and
PostgreSQL with memory and Redis (production).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, cast

import pytest
from sqlalchemy import inspect

from tests.caching.cached_db_tools import QueryCounter
from tests.conftest import REDIS_URL, STEADY_CACHE
from tux.database import Database
from tux.database.caching import CacheConfig, CacheManager
from tux.database.caching import memory as memory_module
from tux.database.exceptions import ConfigurationError, ConnectionLostError, ValidationError
from tux.database.models import Case, GuildConfig
from tux.database.repositories import cached_guild as cached_guild_module
from tux.database.repositories.cached import CachedRepository, CacheWrapper
from tux.database.repositories.guild_config import GuildConfigRepository
from tux.database.repositories.interfaces import IGuildConfigRepository

GUILD = 111_111_111_111_111_111
OTHER_GUILD = 222_222_222_222_222_222
MEMBER = 333_333_333_333_333_333
MODERATOR = 444_444_444_444_444_444


def state_of(config: GuildConfig) -> dict[str, Any]:
    return {attribute.key: attribute.value for attribute in inspect(config).attrs}


async def test_a_lookup_returns_the_same_model_from_cache_and_database(cached_db: Database) -> None:
    await cached_db.guild_configs.upsert_config(GUILD, {"prefix": "!", "mod_log_id": 5})
    with QueryCounter(cached_db) as queries:
        loaded = await cached_db.guild_configs.find_by_id(GUILD)
        cached = await cached_db.guild_configs.find_by_id(GUILD)
    async with cached_db.transaction():
        direct = await cached_db.guild_configs.find_by_id(GUILD)
    assert queries.count == 1
    assert loaded is not None
    assert cached is not None
    assert direct is not None
    for config in (loaded, cached, direct):
        assert type(config) is GuildConfig
        assert inspect(config).detached
        assert inspect(config).identity == (GUILD,)
        assert state_of(config) == state_of(direct)
    assert cached is not loaded


async def test_changing_what_the_cache_returned_changes_nothing_cached(cached_db: Database) -> None:
    await cached_db.guild_configs.upsert_config(GUILD, {"prefix": "!"})
    case = await cached_db.moderation.jail_user(GUILD, MEMBER, "spam", MODERATOR, role_ids=[7, 8])
    first = await cached_db.guild_configs.find_by_id(GUILD)
    assert first is not None
    first.prefix = "changed"
    jailed = await cached_db.cases.find_by_guild_and_number(GUILD, case.case_number)
    assert jailed is not None
    jailed.case_user_roles.append(9)
    again = await cached_db.cases.find_by_guild_and_number(GUILD, case.case_number)
    assert again is not None
    assert type(again) is Case
    assert again.case_user_roles == [7, 8]
    assert (await cached_db.guild_configs.find_by_id(GUILD)).prefix == "!"  # type: ignore[union-attr]


async def test_values_derived_from_the_config_share_its_entry(cached_db: Database) -> None:
    await cached_db.guild_configs.upsert_config(GUILD, {"prefix": "?", "jail_role_id": 9})
    with QueryCounter(cached_db) as queries:
        assert await cached_db.guild_configs.get_prefix(GUILD) == "?"
        settings = await cached_db.guild_configs.get_moderation_settings(GUILD)
        config = await cached_db.guild_configs.find_by_id(GUILD)
    assert queries.count == 1
    assert settings is not None
    assert settings.jail_role_id == 9
    assert settings.guild_id == GUILD
    assert config is not None
    assert config.prefix == "?"


async def test_not_found_is_cached_until_the_create_that_makes_it_exist(cached_db: Database) -> None:
    with QueryCounter(cached_db) as queries:
        assert await cached_db.guild_configs.get_prefix(GUILD) is None
        assert await cached_db.guild_configs.get_prefix(GUILD) is None
        assert queries.count == 1
        await cached_db.guild_configs.upsert_config(GUILD, {"prefix": "%"})
        assert await cached_db.guild_configs.get_prefix(GUILD) == "%"
    stats = cached_db.cache.stats().per_type["guild_config"]
    assert stats.negative_hits == 1


async def test_keys_carry_the_guild_id(cached_db: Database) -> None:
    await cached_db.moderation.ban_user(GUILD, MEMBER, "spam", MODERATOR)
    await cached_db.snippet_service.create(GUILD, "rules", "first guild", MODERATOR)
    await cached_db.snippet_service.create(OTHER_GUILD, "rules", "second guild", MODERATOR)
    await cached_db.levels.add_xp(guild_id=GUILD, member_id=MEMBER, amount=5)
    for _ in range(2):  # the second round is served from the cache
        assert await cached_db.moderation.is_banned(GUILD, MEMBER)
        assert not await cached_db.moderation.is_banned(OTHER_GUILD, MEMBER)
        first = await cached_db.snippets.find_by_name(GUILD, "rules")
        second = await cached_db.snippets.find_by_name(OTHER_GUILD, "rules")
        assert first is not None
        assert first.snippet_content == "first guild"
        assert second is not None
        assert second.snippet_content == "second guild"
        assert await cached_db.levels.find_by_id((MEMBER, OTHER_GUILD)) is None
        assert (await cached_db.levels.find_by_id((MEMBER, GUILD))).xp == 5  # type: ignore[union-attr]


async def test_calls_that_are_not_plain_ids_go_to_the_repository(cached_db: Database) -> None:
    with QueryCounter(cached_db) as queries:
        for _ in range(2):
            with pytest.raises(ValidationError):
                await cached_db.guild_configs.find_by_id("not an id")
            with pytest.raises(ValidationError):
                await cached_db.member_status.get_status(GUILD, 2**64)
    assert queries.count == 0
    assert cached_db.cache.stats().loads == 0


async def test_plain_attributes_are_forwarded_and_coroutines_are_not(cached_db: Database) -> None:
    repository = cast(Any, cached_db.levels)
    assert isinstance(repository, CachedRepository)
    assert repository.model.__name__ == "Levels"
    assert repository.primary_key == ("member_id", "guild_id")
    with pytest.raises(AttributeError, match="_upsert_member"):
        _ = repository._upsert_member


async def test_a_repository_method_missing_from_its_table_is_refused(tmp_path: Path) -> None:
    class Extended(GuildConfigRepository):
        async def reset_everything(self) -> None:
            """A write the cache table does not know."""

    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'x.sqlite3'}")
    wrapper = CacheWrapper(CacheManager(CacheConfig()), db.client.sessions)
    with pytest.raises(ConfigurationError, match="reset_everything"):
        wrapper(IGuildConfigRepository, Extended(db.client.sessions))


async def test_a_write_whose_outcome_is_unknown_still_invalidates(
    cached_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    await cached_db.guild_configs.upsert_config(GUILD, {"prefix": "old"})
    assert await cached_db.guild_configs.get_prefix(GUILD) == "old"
    inner = cast(CachedRepository, cached_db.guild_configs).wrapped
    write = inner.upsert_config

    async def committed_then_lost(guild_id: int, data: dict[str, object]) -> object:
        await write(guild_id, data)
        raise ConnectionLostError("connection lost after COMMIT was sent")

    monkeypatch.setattr(inner, "upsert_config", committed_then_lost)
    with pytest.raises(ConnectionLostError):
        await cached_db.guild_configs.upsert_config(GUILD, {"prefix": "new"})
    assert await cached_db.guild_configs.get_prefix(GUILD) == "new"


async def test_a_refused_write_invalidates_nothing(cached_db: Database) -> None:
    await cached_db.guild_configs.upsert_config(GUILD, {"prefix": "old"})
    sent = cached_db.cache.stats().invalidations_sent
    with pytest.raises(ValidationError):
        await cached_db.guild_configs.upsert_config(GUILD, {"no_such_column": 1})
    with pytest.raises(TypeError):
        await cached_db.guild_configs.upsert_config(GUILD)  # type: ignore[call-arg]
    assert cached_db.cache.stats().invalidations_sent == sent


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_cache_enabled_false_turns_every_level_off(database_url: str) -> None:
    async with Database(database_url, cache_enabled=False) as db:
        assert not isinstance(db.guild_configs, CachedRepository)
        await db.guild_configs.upsert_config(GUILD, {"prefix": "!"})
        with QueryCounter(db) as queries:
            await db.guild_configs.get_prefix(GUILD)
            await db.guild_configs.get_prefix(GUILD)
        assert queries.count == 2
        assert not db.cache.stats().enabled


@pytest.mark.parametrize("backend", ["postgresql"])
async def test_a_redis_hit_rebuilds_the_same_model(database_url: str, redis_namespace: str) -> None:
    options: dict[str, Any] = {"redis_namespace": redis_namespace, "cache_options": STEADY_CACHE}
    redis_only = {"guild_config": {"levels": ["redis"]}}
    async with (
        Database(database_url, REDIS_URL, **options) as writer,
        Database(database_url, REDIS_URL, cache_policies=redis_only, **options) as reader,
    ):
        await writer.guild_configs.upsert_config(GUILD, {"prefix": "r"})
        assert (await writer.guild_configs.find_by_id(GUILD)) is not None
        with QueryCounter(reader) as queries:
            config = await reader.guild_configs.find_by_id(GUILD)
        assert queries.count == 0
        assert type(config) is GuildConfig
        assert config.prefix == "r"
        assert inspect(config).identity == (GUILD,)
        assert reader.cache.stats().per_type["guild_config"].hits["redis"] == 1


@pytest.mark.parametrize("backend", ["postgresql"])
async def test_stats_show_levels_types_refusals_invalidations_and_evictions(
    database_url: str, redis_namespace: str
) -> None:
    options = {**STEADY_CACHE, "memory_max_entries": 3}
    async with Database(
        database_url, REDIS_URL, redis_namespace=redis_namespace, cache_options=options
    ) as db:
        for guild in range(1, 6):
            await db.guild_configs.get_prefix(guild)
        await db.guild_configs.get_prefix(5)
        await db.member_status.get_status(GUILD, MEMBER)
        await db.guild_configs.upsert_config(5, {"prefix": "!"})
        stats = db.cache.stats()
    config = stats.per_type["guild_config"]
    assert config.hits["memory"] == 1
    assert config.misses["memory"] == 5
    assert config.misses["redis"] == 5
    assert config.negative_hits == 1
    assert config.hit_rate == pytest.approx(1 / 6)
    assert stats.per_type["member_status"].misses["memory"] == 1
    assert stats.evictions >= 3
    assert 0 < stats.memory_entries <= 3
    assert stats.memory_bytes > 0
    assert stats.invalidations_sent == 1
    assert stats.invalidations_failed == 0
    assert stats.refused_stale_fills == 0
    assert stats.redis_available
    assert stats.bus_connected


@pytest.mark.parametrize(
    "setting",
    [{"cache_options": {"no_such_option": 1}}, {"cache_policies": {"guild_config": {"no_such_field": 1}}}],
)
def test_bad_cache_settings_are_configuration_errors(tmp_path: Path, setting: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError, match="invalid cache setting"):
        Database(f"sqlite+aiosqlite:///{tmp_path / 'x.sqlite3'}", **setting)


def test_cache_tuning_comes_from_settings(tmp_path: Path) -> None:
    db = Database(
        f"sqlite+aiosqlite:///{tmp_path / 'x.sqlite3'}",
        cache_options={"memory_max_entries": 7},
        cache_policies={"guild_config": {"ttl": 60}},
    )
    assert db.cache.config.memory_max_entries == 7
    assert db.cache.config.policy("guild_config").ttl == 60


async def test_keyword_and_positional_lookups_share_one_entry(cached_db: Database) -> None:
    await cached_db.guild_configs.upsert_config(GUILD, {"prefix": "&"})
    with QueryCounter(cached_db) as queries:
        positional = await cached_db.guild_configs.find_by_id(GUILD)
        by_keyword = await cached_db.guild_configs.find_by_id(id=GUILD)
        prefix = await cached_db.guild_configs.get_prefix(guild_id=GUILD)
    assert queries.count == 1
    assert positional is not None
    assert by_keyword is not None
    assert state_of(positional) == state_of(by_keyword)
    assert prefix == "&"


@pytest.mark.parametrize("bad", [True, 2**63, "1", 1.0, None])
async def test_guild_row_lookups_refuse_bad_ids_before_sql(cached_db: Database, bad: Any) -> None:
    with QueryCounter(cached_db) as queries:
        with pytest.raises(ValidationError):
            await cached_db.guild_configs.find_by_id(bad)
        with pytest.raises(ValidationError):
            await cached_db.guild_configs.get_prefix(bad)
    assert queries.count == 0
    assert cached_db.cache.stats().memory_entries == 0


async def test_guild_row_hits_are_counted_and_expired_entries_reloaded(
    cached_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    await cached_db.guild_configs.upsert_config(GUILD, {"prefix": "!"})
    assert await cached_db.guild_configs.find_by_id(GUILD) is not None
    assert await cached_db.guild_configs.find_by_id(OTHER_GUILD) is None
    before = cached_db.cache.stats().per_type["guild_config"]
    with QueryCounter(cached_db) as queries:
        assert await cached_db.guild_configs.get_prefix(GUILD) == "!"
        assert await cached_db.guild_configs.find_by_id(OTHER_GUILD) is None
    after = cached_db.cache.stats().per_type["guild_config"]
    assert queries.count == 0
    assert after.hits["memory"] == before.hits["memory"] + 2
    assert after.negative_hits == before.negative_hits + 1
    later = time.monotonic() + 10 * 3600
    for clock_user in (memory_module, cached_guild_module):  # the level, and the guild rows' fast path
        monkeypatch.setattr(clock_user, "_monotonic", lambda: later)
    expired = cached_db.cache.stats().expirations
    assert await cached_db.guild_configs.get_prefix(GUILD) == "!"
    assert cached_db.cache.stats().expirations == expired + 1, "the expired entry was not served"
