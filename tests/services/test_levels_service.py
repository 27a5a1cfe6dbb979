"""LevelsService on both backends: the level formula, per-message XP rules, cooldown races, query cost."""

from __future__ import annotations

import asyncio
import math
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.repositories import assert_rejected_before_sql, captured_sql, row_counts
from tux.database.core.client import DatabaseClient
from tux.database.exceptions import ValidationError
from tux.database.repositories.guild import GuildRepository
from tux.database.repositories.levels import LevelsRepository
from tux.database.repositories.levels_activity import LevelsActivityRepository
from tux.database.repositories.levels_config import LevelsConfigRepository
from tux.database.services.levels import LevelsService, MessageXpResult
from tux.database.services.levels_formula import level_for_xp, xp_needed
from tux.database.transactions.patterns import TransactionManager

GUILD = 111_111_111_111_111_111
MEMBER = 333_333_333_333_333_331
OTHER = 333_333_333_333_333_332
CHANNEL = 666_666_666_666_666_661
QUIET_CHANNEL = 666_666_666_666_666_662
ROLE_A = 555_555_555_555_555_551
ROLE_B = 555_555_555_555_555_552
ROLE_PLAIN = 555_555_555_555_555_553
NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def later(seconds: float) -> datetime:
    return NOW + timedelta(seconds=seconds)


# --- the formula -----------------------------------------------------------------------------------

levels_st = st.integers(min_value=0, max_value=10**6)


@given(levels_st)
def test_level_of_a_threshold_is_that_level(level: int) -> None:
    assert level_for_xp(xp_needed(level)) == level
    assert level_for_xp(float(xp_needed(level))) == level


@given(st.integers(min_value=1, max_value=10**6))
def test_just_below_a_threshold_is_the_level_before(level: int) -> None:
    threshold = xp_needed(level)
    assert level_for_xp(threshold - 1) == level - 1
    assert level_for_xp(math.nextafter(float(threshold), 0.0)) == level - 1


@given(st.floats(min_value=0, max_value=1e12), st.floats(min_value=0, max_value=1e12))
def test_level_is_monotonic_in_xp(a: float, b: float) -> None:
    low, high = sorted((a, b))
    assert level_for_xp(low) <= level_for_xp(high)


@given(st.floats(min_value=0, max_value=1e12))
def test_level_brackets_the_xp(xp: float) -> None:
    level = level_for_xp(xp)
    assert xp_needed(level) <= xp < xp_needed(level + 1)


@given(levels_st)
def test_xp_needed_is_tux_formula(level: int) -> None:
    assert xp_needed(level) == pytest.approx(500 * (level / 5) ** 2, rel=1e-12)


def test_known_values() -> None:
    assert [xp_needed(level) for level in range(6)] == [0, 20, 80, 180, 320, 500]
    assert (
        level_for_xp(0),
        level_for_xp(19.99),
        level_for_xp(20),
        level_for_xp(499.5),
        level_for_xp(500),
    ) == (
        0,
        0,
        1,
        4,
        5,
    )


@pytest.mark.parametrize("bad", [-1, -0.5, math.nan, math.inf, True, "5", None])
def test_formula_rejects_bad_input(bad: object) -> None:
    with pytest.raises(ValidationError):
        level_for_xp(bad)  # type: ignore[arg-type]
    if not isinstance(bad, float):
        with pytest.raises(ValidationError):
            xp_needed(bad)  # type: ignore[arg-type]


# --- fixtures --------------------------------------------------------------------------------------


@pytest.fixture
def levels(client: DatabaseClient) -> LevelsRepository:
    return LevelsRepository(client.sessions)


@pytest.fixture
def config(client: DatabaseClient) -> LevelsConfigRepository:
    return LevelsConfigRepository(client.sessions)


@pytest.fixture
def service(
    transactions: TransactionManager, levels: LevelsRepository, config: LevelsConfigRepository
) -> LevelsService:
    return LevelsService(
        transactions,
        levels=levels,
        levels_config=config,
        activity=LevelsActivityRepository(levels.sessions),
    )


async def message(
    service: LevelsService,
    at: datetime = NOW,
    *,
    member: int = MEMBER,
    channel: int = CHANNEL,
    roles: tuple[int, ...] = (),
) -> MessageXpResult:
    return await service.process_message(GUILD, member, channel, list(roles), now=at)


async def stored(levels: LevelsRepository, member: int = MEMBER) -> tuple[float, int]:
    row = await levels.find_by_id((member, GUILD))
    assert row is not None
    return row.xp, row.level


async def configure(config: LevelsConfigRepository, **values: object) -> None:
    await GuildRepository(config.sessions).ensure(GUILD)
    await config.create({"guild_id": GUILD, **values})


# --- process_message -------------------------------------------------------------------------------


async def test_first_message_creates_guild_and_member(
    client: DatabaseClient, service: LevelsService, levels: LevelsRepository
) -> None:
    result = await message(service)
    assert result == MessageXpResult(xp_awarded=1.0, total_xp=1.0, level=0, previous_level=0)
    assert not result.level_up
    assert await stored(levels) == (1.0, 0)
    row = await levels.find_by_id((MEMBER, GUILD))
    assert row is not None
    assert row.last_message == NOW
    assert (await row_counts(client))["guild"] == 1


async def test_cooldown_awards_once_per_window(service: LevelsService, levels: LevelsRepository) -> None:
    assert (await message(service)).xp_awarded == 1.0
    inside = await message(service, later(59.999))
    assert inside == MessageXpResult(xp_awarded=0.0, total_xp=1.0, level=0, previous_level=0)
    assert (await message(service, later(60))).xp_awarded == 1.0
    assert (await message(service, later(61))).xp_awarded == 0.0
    assert (await message(service, later(120))).total_xp == 3.0
    assert await stored(levels) == (3.0, 0)


async def test_cooldown_is_per_member(service: LevelsService, levels: LevelsRepository) -> None:
    await message(service)
    assert (await message(service, later(1), member=OTHER)).xp_awarded == 1.0
    assert await stored(levels, OTHER) == (1.0, 0)


async def test_configured_cooldown_and_base_xp(
    service: LevelsService, config: LevelsConfigRepository
) -> None:
    await configure(config, xp_cooldown_seconds=10, base_xp=7.5)
    assert (await message(service)).total_xp == 7.5
    assert (await message(service, later(9))).xp_awarded == 0.0
    assert (await message(service, later(10))).total_xp == 15.0


@pytest.mark.parametrize("existing_member", [False, True])
async def test_concurrent_messages_in_one_cooldown_award_once(
    service: LevelsService, levels: LevelsRepository, existing_member: bool
) -> None:
    if existing_member:
        await message(service, NOW - timedelta(hours=1))
    results = await asyncio.gather(*(message(service, NOW + timedelta(milliseconds=i)) for i in range(20)))
    awarded = [r for r in results if r.xp_awarded > 0]
    expected_total = 2.0 if existing_member else 1.0
    assert len(awarded) == 1
    assert awarded[0].total_xp == expected_total
    assert await stored(levels) == (expected_total, 0)


async def test_blacklisted_member_earns_nothing(service: LevelsService, levels: LevelsRepository) -> None:
    await message(service)
    await levels.set_blacklisted(guild_id=GUILD, member_id=MEMBER, blacklisted=True)
    result = await message(service, later(3600))
    assert result == MessageXpResult(xp_awarded=0.0, total_xp=1.0, level=0, previous_level=0)
    assert await stored(levels) == (1.0, 0)
    row = await levels.find_by_id((MEMBER, GUILD))
    assert row is not None
    assert row.last_message == NOW


async def test_blacklisted_channel_earns_nothing(
    client: DatabaseClient, service: LevelsService, config: LevelsConfigRepository
) -> None:
    await config.set_channel_blacklisted(GUILD, QUIET_CHANNEL, True)
    before = await row_counts(client)
    result = await message(service, channel=QUIET_CHANNEL)
    assert result == MessageXpResult(xp_awarded=0.0, total_xp=0.0, level=0, previous_level=0)
    assert await row_counts(client) == before
    assert (await message(service, channel=CHANNEL)).xp_awarded == 1.0


async def test_disabled_levelling_earns_nothing(
    client: DatabaseClient, service: LevelsService, config: LevelsConfigRepository
) -> None:
    await configure(config, enabled=False)
    before = await row_counts(client)
    assert (await message(service)).xp_awarded == 0.0
    assert await row_counts(client) == before


async def test_highest_role_multiplier_applies(
    service: LevelsService, config: LevelsConfigRepository, levels: LevelsRepository
) -> None:
    await config.set_role_multiplier(GUILD, ROLE_A, 1.5)
    await config.set_role_multiplier(GUILD, ROLE_B, 2.0)
    assert (await message(service, roles=(ROLE_PLAIN,))).xp_awarded == 1.0
    assert (await message(service, later(60), roles=(ROLE_A, ROLE_PLAIN))).xp_awarded == 1.5
    assert (await message(service, later(120), roles=(ROLE_A, ROLE_B, ROLE_PLAIN))).xp_awarded == 2.0
    assert await stored(levels) == (4.5, 0)


async def test_a_lower_multiplier_applies_when_it_is_the_only_one(
    service: LevelsService, config: LevelsConfigRepository
) -> None:
    await config.set_role_multiplier(GUILD, ROLE_A, 0.5)
    assert (await message(service, roles=(ROLE_A, ROLE_PLAIN))).xp_awarded == 0.5


async def test_level_up_returns_reward_roles(
    service: LevelsService, config: LevelsConfigRepository, levels: LevelsRepository
) -> None:
    await configure(config, base_xp=float(xp_needed(5)), xp_cooldown_seconds=0)
    for level, role in ((1, ROLE_A), (5, ROLE_B), (5, ROLE_A), (8, ROLE_PLAIN)):
        await config.set_role_reward(GUILD, level, role)
    first = await message(service)
    assert first == MessageXpResult(
        xp_awarded=500.0, total_xp=500.0, level=5, previous_level=0, role_rewards_to_apply=(ROLE_A, ROLE_B)
    )
    assert first.level_up
    assert await stored(levels) == (500.0, 5)
    second = await message(service, later(1))
    assert (second.total_xp, second.level, second.previous_level) == (1000.0, 7, 5)
    assert second.role_rewards_to_apply == (ROLE_A, ROLE_B)
    third = await message(service, later(2))
    assert (third.level, third.level_up, third.role_rewards_to_apply) == (
        8,
        True,
        (ROLE_A, ROLE_B, ROLE_PLAIN),
    )
    assert await stored(levels) == (1500.0, 8)


async def test_no_level_up_no_rewards(service: LevelsService, config: LevelsConfigRepository) -> None:
    await configure(config, base_xp=5.0, xp_cooldown_seconds=0)
    await config.set_role_reward(GUILD, 1, ROLE_A)
    result = await message(service)
    assert (result.level, result.level_up, result.role_rewards_to_apply) == (0, False, ())


async def test_a_stale_stored_level_is_corrected_on_the_next_award(
    service: LevelsService, levels: LevelsRepository
) -> None:
    await levels.add_xp(guild_id=GUILD, member_id=MEMBER, amount=float(xp_needed(3)))
    result = await message(service)
    assert (result.previous_level, result.level, result.level_up) == (0, 3, True)
    assert await stored(levels) == (181.0, 3)


async def test_process_message_validates_before_sql(client: DatabaseClient, service: LevelsService) -> None:
    process = service.process_message
    await assert_rejected_before_sql(
        client.engine,
        {
            "naive now": lambda: process(GUILD, MEMBER, CHANNEL, [], now=datetime(2024, 1, 1)),
            "negative member": lambda: process(GUILD, -1, CHANNEL, []),
            "zero channel": lambda: process(GUILD, MEMBER, 0, []),
            "text role": lambda: process(GUILD, MEMBER, CHANNEL, [ROLE_A, "x"]),  # type: ignore[list-item]
            "roles as text": lambda: process(GUILD, MEMBER, CHANNEL, "roles"),  # type: ignore[arg-type]
            "bool guild": lambda: process(True, MEMBER, CHANNEL, []),
        },
    )


# --- query cost ------------------------------------------------------------------------------------


async def statements_of(
    client: DatabaseClient, service: LevelsService, at: datetime
) -> tuple[MessageXpResult, int]:
    with captured_sql(client.engine) as seen:
        result = await message(service, at, roles=(ROLE_A, ROLE_PLAIN))
    return result, len(seen)


async def test_statements_per_message(
    backend: str, client: DatabaseClient, service: LevelsService, config: LevelsConfigRepository
) -> None:
    """PostgreSQL: 1 statement inside the cooldown, 2 for an award, 4 for a level-up.

    SQLite also sends its ``BEGIN IMMEDIATE`` (the award's transaction) and ``BEGIN DEFERRED`` (the
    reward read after a level-up) through the cursor; the decision read is one prepared statement on
    the direct path, without a transaction.
    """
    await configure(config, base_xp=float(xp_needed(1)), xp_cooldown_seconds=60)
    await config.set_role_multiplier(GUILD, ROLE_A, 1.0)
    await config.set_role_reward(GUILD, 1, ROLE_B)
    await message(service, NOW - timedelta(hours=1), member=OTHER)  # warm the pool up
    begins = 1 if backend == "sqlite" else 0

    level_up, level_up_cost = await statements_of(client, service, NOW)
    gated, gated_cost = await statements_of(client, service, later(30))
    awarded, awarded_cost = await statements_of(client, service, later(60))

    assert (level_up.level_up, gated.xp_awarded, awarded.xp_awarded, awarded.level_up) == (
        True,
        0.0,
        20.0,
        False,
    )
    assert gated_cost == 1
    assert awarded_cost == 2 + begins
    assert level_up_cost == 4 + 2 * begins


# --- set/reset XP, leaderboard, rank ---------------------------------------------------------------


async def test_set_and_reset_xp_keep_the_level_consistent(
    service: LevelsService, levels: LevelsRepository
) -> None:
    row = await service.set_xp(GUILD, MEMBER, 2000)
    assert (row.xp, row.level) == (2000.0, 10)
    assert (await service.set_xp(GUILD, MEMBER, 1999.5)).level == 9
    assert await stored(levels) == (1999.5, 9)
    reset = await service.reset_xp(GUILD, MEMBER)
    assert (reset.xp, reset.level) == (0.0, 0)
    assert await stored(levels) == (0.0, 0)


@pytest.mark.parametrize("bad", [-1, math.nan, math.inf, "10", None, True])
async def test_set_xp_rejects_bad_values(client: DatabaseClient, service: LevelsService, bad: object) -> None:
    before = await row_counts(client)
    with pytest.raises(ValidationError):
        await service.set_xp(GUILD, MEMBER, bad)  # type: ignore[arg-type]
    assert await row_counts(client) == before


async def test_leaderboard_and_rank(service: LevelsService, levels: LevelsRepository) -> None:
    await service.set_xp(GUILD, MEMBER, 50)
    await service.set_xp(GUILD, OTHER, 80)
    assert [row.member_id for row in await service.leaderboard(GUILD)] == [OTHER, MEMBER]
    assert [row.member_id for row in await service.leaderboard(GUILD, limit=1, after=(80.0, OTHER))] == [
        MEMBER
    ]
    assert (await service.rank(GUILD, OTHER), await service.rank(GUILD, MEMBER)) == (1, 2)
    await levels.set_blacklisted(guild_id=GUILD, member_id=OTHER, blacklisted=True)
    assert await service.rank(GUILD, MEMBER) == 1
    assert await service.rank(GUILD, OTHER) is None
