"""GuildConfigRepository on both backends: prefix, moderation settings and the atomic upsert."""

from __future__ import annotations

import asyncio
from dataclasses import asdict
from functools import partial
from typing import Any

import pytest

from tests.repositories import NOW, Call, assert_rejected_before_sql, captured_sql, queries, row_counts
from tux.database.core.client import DatabaseClient
from tux.database.exceptions import CheckViolationError, UnknownFieldError, ValidationError
from tux.database.models import OnboardingStage
from tux.database.repositories.guild import GuildRepository
from tux.database.repositories.guild_config import GuildConfigRepository
from tux.database.repositories.records import ModerationSettings
from tux.database.settings import DatabaseSettings
from tux.database.transactions.patterns import TransactionManager

GUILD = 123_456_789_012_345_678
CHANNELS = {
    "mod_log_id": 1,
    "audit_log_id": 2,
    "join_log_id": 3,
    "private_log_id": 4,
    "report_log_id": 5,
    "dev_log_id": 6,
    "jail_channel_id": 7,
    "jail_role_id": 2**63 - 1,
}


@pytest.fixture
def configs(client: DatabaseClient) -> GuildConfigRepository:
    return GuildConfigRepository(client.sessions)


async def test_get_prefix(client: DatabaseClient, configs: GuildConfigRepository) -> None:
    assert await configs.get_prefix(GUILD) is None
    await configs.upsert_config(GUILD, {})
    assert await configs.get_prefix(GUILD) == "$"
    await configs.upsert_config(GUILD, {"prefix": "!!"})
    with captured_sql(client.engine) as seen:
        assert await configs.get_prefix(GUILD) == "!!"
    [statement] = queries(seen)
    selected = statement.upper().split("FROM")[0]
    assert "PREFIX" in selected
    assert "MOD_LOG_ID" not in selected
    assert "ONBOARDING" not in selected


async def test_get_moderation_settings(client: DatabaseClient, configs: GuildConfigRepository) -> None:
    assert await configs.get_moderation_settings(GUILD) is None
    await configs.upsert_config(GUILD, {"prefix": "?"})
    empty = await configs.get_moderation_settings(GUILD)
    assert empty == ModerationSettings(GUILD, None, None, None, None, None, None, None, None)
    await configs.upsert_config(GUILD, CHANNELS)
    with captured_sql(client.engine) as seen:
        settings = await configs.get_moderation_settings(GUILD)
    assert len(queries(seen)) == 1
    assert settings is not None
    assert asdict(settings) == {"guild_id": GUILD, **CHANNELS}


async def test_upsert_creates_guild_and_config(
    configs: GuildConfigRepository, client: DatabaseClient
) -> None:
    config = await configs.upsert_config(GUILD, {"prefix": "t!", "onboarding_stage": "INITIALIZED"})
    assert (config.id, config.prefix, config.onboarding_stage) == (GUILD, "t!", OnboardingStage.INITIALIZED)
    guild = await GuildRepository(client.sessions).find_by_id(GUILD)
    assert guild is not None
    assert guild.case_count == 0


async def test_upsert_touches_only_given_fields(configs: GuildConfigRepository) -> None:
    await configs.upsert_config(GUILD, {"prefix": "t!", "mod_log_id": 11})
    updated = await configs.upsert_config(GUILD, {"jail_role_id": 12, "onboarding_completed_at": NOW})
    assert (updated.prefix, updated.mod_log_id, updated.jail_role_id, updated.onboarding_completed_at) == (
        "t!",
        11,
        12,
        NOW,
    )
    cleared = await configs.upsert_config(GUILD, {"mod_log_id": None})
    assert (cleared.prefix, cleared.mod_log_id, cleared.jail_role_id) == ("t!", None, 12)
    unchanged = await configs.upsert_config(GUILD, {})
    assert (unchanged.prefix, unchanged.jail_role_id) == ("t!", 12)
    assert await configs.count() == 1


async def test_upsert_refreshes_a_config_loaded_in_the_same_transaction(
    configs: GuildConfigRepository, transactions: TransactionManager
) -> None:
    await configs.upsert_config(GUILD, {"prefix": "a"})
    async with transactions.transaction():
        loaded = await configs.find_by_id(GUILD)
        assert loaded is not None
        await configs.upsert_config(GUILD, {"prefix": "b"})
        assert loaded.prefix == "b"


async def test_upsert_is_one_transaction(client: DatabaseClient, configs: GuildConfigRepository) -> None:
    with pytest.raises(CheckViolationError) as caught:
        await configs.upsert_config(GUILD, {"prefix": ""})  # passes validation, fails length(prefix) >= 1
    assert caught.value.constraint == "ck_guild_config_prefix_length"
    counts = await row_counts(client)
    assert (counts["guild"], counts["guild_config"]) == (0, 0)  # the guild insert was rolled back too


async def test_upsert_joins_the_callers_transaction(
    client: DatabaseClient, configs: GuildConfigRepository, transactions: TransactionManager
) -> None:
    async def upsert_then_fail() -> None:
        async with transactions.transaction():
            await configs.upsert_config(GUILD, {"prefix": "x"})
            assert await configs.get_prefix(GUILD) == "x"
            raise RuntimeError("abort")

    with pytest.raises(RuntimeError):
        await upsert_then_fail()
    assert (await row_counts(client))["guild"] == 0


async def test_upsert_validates_before_sql(client: DatabaseClient, configs: GuildConfigRepository) -> None:
    bad: dict[str, dict[str, Any]] = {
        "prefix too long": {"prefix": "x" * 11},
        "NUL in prefix": {"prefix": "a\x00"},
        "prefix not text": {"prefix": 5},
        "channel as str": {"mod_log_id": "123"},
        "channel as bool": {"mod_log_id": True},
        "channel 2**64": {"mod_log_id": 2**64},
        "unknown stage": {"onboarding_stage": "DONE"},
        "naive datetime": {"onboarding_completed_at": NOW.replace(tzinfo=None)},
        "id in data": {"id": GUILD},
        "prefix None": {"prefix": None},
    }
    calls: dict[str, Call] = {
        label: partial(configs.upsert_config, GUILD, data) for label, data in bad.items()
    }
    calls["guild id 2**64"] = lambda: configs.upsert_config(2**64, {})
    calls["data not a mapping"] = lambda: configs.upsert_config(GUILD, [("prefix", "x")])  # type: ignore[arg-type]
    calls["get_prefix str"] = lambda: configs.get_prefix("1")  # type: ignore[arg-type]
    calls["settings bool"] = lambda: configs.get_moderation_settings(True)
    await assert_rejected_before_sql(client.engine, calls)
    await assert_rejected_before_sql(
        client.engine,
        {"unknown field": lambda: configs.upsert_config(GUILD, {"mod_log": 1})},
        UnknownFieldError,
    )
    assert (await row_counts(client))["guild"] == 0


async def test_unknown_field_is_a_validation_error(configs: GuildConfigRepository) -> None:
    with pytest.raises(ValidationError, match="no field 'colour'"):
        await configs.upsert_config(GUILD, {"colour": "red"})


@pytest.mark.parametrize("backend", ["postgresql"])
async def test_concurrent_upserts_of_one_guild(backend: str, database_url: str) -> None:
    """50 first-time writes of the same guild race: one guild row, one config row, no error."""
    client = DatabaseClient(DatabaseSettings(database_url=database_url, pool_size=50, max_overflow=0))
    await client.connect()
    try:
        configs = GuildConfigRepository(client.sessions)
        prefixes = [f"p{i}" for i in range(50)]
        results = await asyncio.gather(*(configs.upsert_config(GUILD, {"prefix": p}) for p in prefixes))
        assert {config.id for config in results} == {GUILD}
        counts = await row_counts(client)
        assert (counts["guild"], counts["guild_config"]) == (1, 1)
        assert await configs.get_prefix(GUILD) in prefixes
    finally:
        await client.close()
