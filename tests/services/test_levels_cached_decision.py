"""The per-message XP decision behind the cache: statements per message, and what invalidates it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tux.database import Database
from tux.database.services.levels import MessageXpResult

GUILD = 111_111_111_111_111_111
MEMBER = 333_333_333_333_333_331
CHANNEL = 666_666_666_666_666_661
ROLE = 555_555_555_555_555_551
NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def later(seconds: float) -> datetime:
    return NOW + timedelta(seconds=seconds)


async def message(
    db: Database, at: datetime, *, channel: int = CHANNEL, roles: tuple[int, ...] = ()
) -> tuple[MessageXpResult, list[str]]:
    """Process one message; return its result and the data statements it sent (the cache table's too)."""
    with db.client.statements.recording() as seen:
        result = await db.levels_service.process_message(GUILD, MEMBER, channel, list(roles), now=at)
    return result, [record.sql for record in seen]


async def set_up(db: Database) -> None:
    await db.guild_setup.onboard(GUILD)
    await db.levels_config.create({"guild_id": GUILD, "base_xp": 1.0, "xp_cooldown_seconds": 60})


async def test_inside_the_cooldown_costs_nothing_and_an_award_one_statement(cached_db: Database) -> None:
    await set_up(cached_db)
    first, _ = await message(cached_db, NOW)
    assert first.xp_awarded == 1.0
    await message(cached_db, later(1))  # the award dropped the member's state: read again, once
    quiet, quiet_statements = await message(cached_db, later(2))
    assert quiet.xp_awarded == 0.0
    assert quiet.total_xp == 1.0
    assert quiet_statements == []
    awarded, award_statements = await message(cached_db, later(61))
    assert awarded.xp_awarded == 1.0
    assert awarded.total_xp == 2.0
    [upsert] = award_statements
    assert upsert.lstrip().upper().startswith("INSERT INTO LEVELS")
    inside, inside_statements = await message(cached_db, later(62))
    assert (inside.xp_awarded, inside.total_xp, len(inside_statements)) == (0.0, 2.0, 1)


async def test_a_level_up_adds_the_level_write(cached_db: Database) -> None:
    await set_up(cached_db)
    await cached_db.levels_config.update(GUILD, {"base_xp": 1000.0})
    await cached_db.levels_config.set_role_reward(GUILD, 1, ROLE)
    await message(cached_db, NOW - timedelta(seconds=120))  # its award levels up and drops the state
    await message(cached_db, NOW - timedelta(seconds=119))  # inside the cooldown: reads the state
    result, statements = await message(cached_db, NOW)
    assert result.level_up
    assert result.role_rewards_to_apply == (ROLE,)  # the guild's rewards come from the cache
    assert [sql.lstrip().split()[0].upper() for sql in statements] == ["INSERT", "UPDATE"]


async def test_config_changes_and_blacklisting_reach_the_next_message(cached_db: Database) -> None:
    await set_up(cached_db)
    await message(cached_db, NOW)
    await message(cached_db, later(1))
    await cached_db.levels_config.set_channel_blacklisted(GUILD, CHANNEL, True)
    blocked, statements = await message(cached_db, later(61))
    assert blocked.xp_awarded == 0.0
    assert len(statements) == 1  # the state read again after the change
    await cached_db.levels_config.set_role_multiplier(GUILD, ROLE, 3.0)
    boosted, _ = await message(cached_db, later(62), channel=CHANNEL + 1, roles=(ROLE,))
    assert boosted.xp_awarded == 3.0
    await cached_db.levels.set_blacklisted(guild_id=GUILD, member_id=MEMBER, blacklisted=True)
    refused, _ = await message(cached_db, later(200), channel=CHANNEL + 1)
    assert refused.xp_awarded == 0.0
