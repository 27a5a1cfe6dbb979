"""``LevelsRepository`` on both backends: atomic XP, upserts, leaderboard pages and ranks."""

from __future__ import annotations

import asyncio
import math

import pytest

from tux.database.core.client import DatabaseClient
from tux.database.exceptions import CheckViolationError, ValidationError
from tux.database.models import Guild
from tux.database.repositories.base import SQLAlchemyRepository
from tux.database.repositories.levels import LevelsRepository
from tux.database.transactions.patterns import TransactionManager

GUILD = 900_000_000_000_000_001
OTHER_GUILD = 900_000_000_000_000_002
MEMBER = 800_000_000_000_000_001


class Guilds(SQLAlchemyRepository[Guild]):
    model = Guild


@pytest.fixture
def levels(client: DatabaseClient) -> LevelsRepository:
    return LevelsRepository(client.sessions)


@pytest.fixture
def guilds(client: DatabaseClient) -> Guilds:
    return Guilds(client.sessions)


async def test_add_xp_creates_member_and_guild_then_accumulates(
    levels: LevelsRepository, guilds: Guilds
) -> None:
    assert await guilds.find_by_id(GUILD) is None
    assert await levels.add_xp(guild_id=GUILD, member_id=MEMBER, amount=10) == 10.0
    assert await levels.add_xp(guild_id=GUILD, member_id=MEMBER, amount=2.5) == 12.5
    assert await levels.add_xp(guild_id=GUILD, member_id=MEMBER, amount=0) == 12.5
    row = await levels.find_by_id((MEMBER, GUILD))
    assert row is not None
    assert (row.xp, row.level, row.blacklisted) == (12.5, 0, False)
    assert await guilds.find_by_id(GUILD) is not None


BAD_AMOUNTS: tuple[object, ...] = (-1, -0.001, math.nan, math.inf, -math.inf, True, "5", None, 10**400)


async def test_add_xp_rejects_bad_amounts_without_writing(levels: LevelsRepository, guilds: Guilds) -> None:
    for amount in BAD_AMOUNTS:
        with pytest.raises(ValidationError):
            await levels.add_xp(guild_id=GUILD, member_id=MEMBER, amount=amount)  # type: ignore[arg-type]
    assert await levels.count() == 0
    assert await guilds.count() == 0


async def test_add_xp_rejects_bad_ids_before_sql(levels: LevelsRepository) -> None:
    with pytest.raises(ValidationError):
        await levels.add_xp(guild_id="1", member_id=MEMBER, amount=1)  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        await levels.add_xp(guild_id=GUILD, member_id=2**63, amount=1)
    assert await levels.count() == 0


async def test_add_xp_with_non_positive_id_is_a_check_violation_and_writes_nothing(
    levels: LevelsRepository, guilds: Guilds
) -> None:
    with pytest.raises(CheckViolationError):
        await levels.add_xp(guild_id=GUILD, member_id=-5, amount=1)
    assert await levels.count() == 0
    assert await guilds.count() == 0


async def test_add_xp_rolls_back_with_the_transaction(
    levels: LevelsRepository, transactions: TransactionManager
) -> None:
    class AbortError(Exception):
        pass

    totals: list[float] = []

    async def add_then_abort() -> None:
        async with transactions.transaction():
            totals.append(await levels.add_xp(guild_id=GUILD, member_id=MEMBER, amount=5))
            raise AbortError

    with pytest.raises(AbortError):
        await add_then_abort()
    assert totals == [5.0]
    assert await levels.find_by_id((MEMBER, GUILD)) is None


async def test_set_xp_upserts_xp_and_level(levels: LevelsRepository) -> None:
    created = await levels.set_xp(guild_id=GUILD, member_id=MEMBER, xp=150.0, level=3)
    assert (created.xp, created.level) == (150.0, 3)
    await levels.set_blacklisted(guild_id=GUILD, member_id=MEMBER, blacklisted=True)
    updated = await levels.set_xp(guild_id=GUILD, member_id=MEMBER, xp=0, level=0)
    assert (updated.xp, updated.level, updated.blacklisted) == (0.0, 0, True)
    assert await levels.count() == 1


async def test_set_xp_rejects_bad_values(levels: LevelsRepository) -> None:
    for xp, level in ((-1.0, 1), (math.nan, 1), (math.inf, 1), (1.0, -1), (1.0, 1.5), (1.0, True)):
        with pytest.raises(ValidationError):
            await levels.set_xp(guild_id=GUILD, member_id=MEMBER, xp=xp, level=level)  # type: ignore[arg-type]
    assert await levels.count() == 0


async def test_set_blacklisted_creates_and_toggles(levels: LevelsRepository) -> None:
    row = await levels.set_blacklisted(guild_id=GUILD, member_id=MEMBER, blacklisted=True)
    assert (row.blacklisted, row.xp) == (True, 0.0)
    await levels.add_xp(guild_id=GUILD, member_id=MEMBER, amount=7)
    row = await levels.set_blacklisted(guild_id=GUILD, member_id=MEMBER, blacklisted=False)
    assert (row.blacklisted, row.xp) == (False, 7.0)
    with pytest.raises(ValidationError):
        await levels.set_blacklisted(guild_id=GUILD, member_id=MEMBER, blacklisted=1)  # type: ignore[arg-type]


async def _seed(levels: LevelsRepository) -> None:
    """Members 1..6 of GUILD: 3 and 5 tie at 50 XP, 6 is blacklisted with the most XP."""
    for member, xp in ((1, 10.0), (2, 70.0), (3, 50.0), (4, 30.0), (5, 50.0), (6, 999.0)):
        await levels.add_xp(guild_id=GUILD, member_id=member, amount=xp)
    await levels.set_blacklisted(guild_id=GUILD, member_id=6, blacklisted=True)
    await levels.add_xp(guild_id=OTHER_GUILD, member_id=7, amount=500.0)


async def test_leaderboard_orders_by_xp_then_member_and_skips_blacklisted(levels: LevelsRepository) -> None:
    await _seed(levels)
    board = await levels.leaderboard(GUILD, limit=10)
    assert [(row.member_id, row.xp) for row in board] == [
        (2, 70.0),
        (3, 50.0),
        (5, 50.0),
        (4, 30.0),
        (1, 10.0),
    ]
    assert [row.member_id for row in await levels.leaderboard(GUILD, limit=2)] == [2, 3]
    assert await levels.leaderboard(GUILD, limit=0) == []
    assert await levels.leaderboard(123) == []


async def test_leaderboard_keyset_pages_cover_every_member_once(levels: LevelsRepository) -> None:
    await _seed(levels)
    seen: list[int] = []
    after: tuple[float, int] | None = None
    while page := await levels.leaderboard(GUILD, limit=2, after=after):
        seen.extend(row.member_id for row in page)
        after = (page[-1].xp, page[-1].member_id)
    assert seen == [2, 3, 5, 4, 1]
    # A page starting inside a tie continues with the tied member that has the larger id.
    assert [row.member_id for row in await levels.leaderboard(GUILD, after=(50.0, 3))] == [5, 4, 1]


async def test_leaderboard_rejects_bad_cursor_and_limit(levels: LevelsRepository) -> None:
    for after in ((1.0,), (math.nan, 1), ("x", 1), (1.0, "1"), [1.0, 1]):
        with pytest.raises(ValidationError):
            await levels.leaderboard(GUILD, after=after)  # type: ignore[arg-type]
    for limit in (-1, 1.5, True):
        with pytest.raises(ValidationError):
            await levels.leaderboard(GUILD, limit=limit)  # type: ignore[arg-type]


async def test_rank_matches_leaderboard_positions(levels: LevelsRepository) -> None:
    await _seed(levels)
    ranks = {member: await levels.rank(guild_id=GUILD, member_id=member) for member in range(1, 7)}
    assert ranks == {2: 1, 3: 2, 5: 3, 4: 4, 1: 5, 6: None}
    assert await levels.rank(guild_id=GUILD, member_id=99) is None
    assert await levels.rank(guild_id=OTHER_GUILD, member_id=7) == 1


async def test_concurrent_add_xp_loses_nothing(backend: str, levels: LevelsRepository) -> None:
    """1,000 (PostgreSQL) or 200 (SQLite) concurrent upserts, racing on the guild row and the member row."""
    calls = 1000 if backend == "postgresql" else 200
    amounts = [float(i % 7 + 1) for i in range(calls)]
    members = (MEMBER, MEMBER + 1)
    results = await asyncio.gather(
        *(
            levels.add_xp(guild_id=GUILD, member_id=members[i % 2], amount=amount)
            for i, amount in enumerate(amounts)
        )
    )
    expected = {
        member: sum(amounts[i] for i in range(calls) if i % 2 == index)
        for index, member in enumerate(members)
    }
    for member, total in expected.items():
        row = await levels.find_by_id((member, GUILD))
        assert row is not None
        assert row.xp == total
    # Within a member every call saw a distinct running total (all amounts are > 0), the last the exact sum.
    for index, member in enumerate(members):
        seen = [result for i, result in enumerate(results) if i % 2 == index]
        assert len(set(seen)) == len(seen)
        assert max(seen) == expected[member]
    assert await levels.count() == 2


async def test_reads_inside_a_transaction_see_the_atomic_writes(
    levels: LevelsRepository, transactions: TransactionManager
) -> None:
    """The unit of work's identity map must not hand back a row as it was before an SQL-side write."""
    await levels.add_xp(guild_id=GUILD, member_id=MEMBER, amount=5)
    async with transactions.transaction():
        before = await levels.find_by_id((MEMBER, GUILD))
        assert before is not None
        assert before.xp == 5.0
        assert await levels.add_xp(guild_id=GUILD, member_id=MEMBER, amount=5) == 10.0
        after = await levels.find_by_id((MEMBER, GUILD))
        assert after is not None
        assert after.xp == 10.0
        updated = await levels.update((MEMBER, GUILD), {"level": 7})
        assert updated is not None
        assert updated.level == 7
        board = await levels.leaderboard(GUILD)
        assert [(row.xp, row.level) for row in board] == [(10.0, 7)]
