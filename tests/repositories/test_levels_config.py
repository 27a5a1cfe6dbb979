"""``LevelsConfigRepository`` on both backends: role rewards, multipliers and the channel blacklist."""

from __future__ import annotations

import asyncio
import math

import pytest

from tux.database.core.client import DatabaseClient
from tux.database.exceptions import CheckViolationError, ValidationError
from tux.database.models import Guild
from tux.database.repositories.base import SQLAlchemyRepository
from tux.database.repositories.levels_config import LevelsConfigRepository

GUILD = 300_000_000_000_000_001
OTHER_GUILD = 300_000_000_000_000_002
ROLE = 200_000_000_000_000_001
CHANNEL = 100_000_000_000_000_001


class Guilds(SQLAlchemyRepository[Guild]):
    model = Guild


@pytest.fixture
def config(client: DatabaseClient) -> LevelsConfigRepository:
    return LevelsConfigRepository(client.sessions)


@pytest.fixture
def guilds(client: DatabaseClient) -> Guilds:
    return Guilds(client.sessions)


async def test_role_rewards_are_upserted_and_listed_by_level(
    config: LevelsConfigRepository, guilds: Guilds
) -> None:
    assert await config.role_rewards(GUILD) == []
    reward = await config.set_role_reward(GUILD, 10, ROLE)
    assert (reward.guild_id, reward.level, reward.role_id) == (GUILD, 10, ROLE)
    assert await guilds.find_by_id(GUILD) is not None
    again = await config.set_role_reward(GUILD, 10, ROLE)  # setting it twice is not an error
    assert (again.level, again.role_id) == (10, ROLE)
    await config.set_role_reward(GUILD, 5, ROLE + 1)
    await config.set_role_reward(GUILD, 10, ROLE + 2)
    await config.set_role_reward(OTHER_GUILD, 1, ROLE)
    rewards = [(r.level, r.role_id) for r in await config.role_rewards(GUILD)]
    assert rewards == [(5, ROLE + 1), (10, ROLE), (10, ROLE + 2)]


async def test_role_reward_rejects_bad_input(config: LevelsConfigRepository, guilds: Guilds) -> None:
    for level, role in ((0, ROLE), (-3, ROLE), (1.5, ROLE), (True, ROLE), (1, "role"), (1, 2**64)):
        with pytest.raises(ValidationError):
            await config.set_role_reward(GUILD, level, role)  # type: ignore[arg-type]
    with pytest.raises(CheckViolationError):
        await config.set_role_reward(GUILD, 1, -1)  # ids are > 0 by CHECK; nothing is half-written
    assert await config.role_rewards(GUILD) == []
    assert await guilds.count() == 0


async def test_role_multipliers_upsert(config: LevelsConfigRepository) -> None:
    assert await config.role_multipliers(GUILD) == {}
    await config.set_role_multiplier(GUILD, ROLE, 1.5)
    await config.set_role_multiplier(GUILD, ROLE + 1, 2)
    await config.set_role_multiplier(GUILD, ROLE, 3.25)
    await config.set_role_multiplier(OTHER_GUILD, ROLE, 9.0)
    assert await config.role_multipliers(GUILD) == {ROLE: 3.25, ROLE + 1: 2.0}


async def test_role_multiplier_must_be_a_finite_positive_number(config: LevelsConfigRepository) -> None:
    for multiplier in (0, 0.0, -1.0, math.nan, math.inf, "2", None, False):
        with pytest.raises(ValidationError):
            await config.set_role_multiplier(GUILD, ROLE, multiplier)  # type: ignore[arg-type]
    assert await config.role_multipliers(GUILD) == {}


async def test_channel_blacklist_add_and_remove_are_idempotent(config: LevelsConfigRepository) -> None:
    assert await config.blacklisted_channels(GUILD) == set()
    await config.set_channel_blacklisted(GUILD, CHANNEL, True)
    await config.set_channel_blacklisted(GUILD, CHANNEL, True)
    await config.set_channel_blacklisted(GUILD, CHANNEL + 1, True)
    await config.set_channel_blacklisted(OTHER_GUILD, CHANNEL, True)
    assert await config.blacklisted_channels(GUILD) == {CHANNEL, CHANNEL + 1}
    await config.set_channel_blacklisted(GUILD, CHANNEL, False)
    await config.set_channel_blacklisted(GUILD, CHANNEL, False)
    await config.set_channel_blacklisted(GUILD, 999, False)  # removing an absent channel is a no-op
    assert await config.blacklisted_channels(GUILD) == {CHANNEL + 1}
    assert await config.blacklisted_channels(OTHER_GUILD) == {CHANNEL}
    with pytest.raises(ValidationError):
        await config.set_channel_blacklisted(GUILD, CHANNEL, "yes")  # type: ignore[arg-type]


async def test_concurrent_first_writes_of_a_guild_do_not_collide(config: LevelsConfigRepository) -> None:
    """Every writer ensures the guild row itself; racing first writers never hit a duplicate key."""
    await asyncio.gather(
        *(config.set_channel_blacklisted(GUILD, CHANNEL + i, True) for i in range(20)),
        *(config.set_role_multiplier(GUILD, ROLE + i, 1.0 + i) for i in range(20)),
        *(config.set_role_reward(GUILD, 1 + i % 3, ROLE) for i in range(20)),
    )
    assert len(await config.blacklisted_channels(GUILD)) == 20
    assert len(await config.role_multipliers(GUILD)) == 20
    assert len(await config.role_rewards(GUILD)) == 3


async def test_levels_config_row_uses_the_generic_methods(config: LevelsConfigRepository) -> None:
    await config.set_channel_blacklisted(GUILD, CHANNEL, True)  # creates the guild row
    created = await config.upsert({"guild_id": GUILD, "xp_cooldown_seconds": 30})
    assert (created.enabled, created.xp_cooldown_seconds, created.base_xp) == (True, 30, 1.0)
    updated = await config.upsert({"guild_id": GUILD, "enabled": False})
    assert (updated.enabled, updated.xp_cooldown_seconds) == (False, 30)
    found = await config.find_by_id(GUILD)
    assert found is not None
    assert found.enabled is False
    with pytest.raises(CheckViolationError):
        await config.update(GUILD, {"base_xp": 0.0})
