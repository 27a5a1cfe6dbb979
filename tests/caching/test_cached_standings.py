"""Leaderboard pages and ranks behind the cache: served without SQL until an XP change in the guild.

Production (PostgreSQL + Redis) keeps them in memory and Redis; the embedded default and any deployment
without Redis keep them in memory and the ``cache_entry`` table.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import inspect

from tests.caching.cached_db_tools import QueryCounter
from tests.caching.test_manager import Gate
from tests.conftest import STEADY_CACHE
from tux.database import Database
from tux.database.models import Levels, utcnow

GUILD = 121_212_121_212_121_212
OTHER_GUILD = 343_434_343_434_343_434
MEMBERS = [700_000_000_000_000_000 + n for n in range(5)]
CHANNEL = 565_656_565_656_565_656
TABLE_ONLY = {"levels_leaderboard": {"levels": ["database"]}, "levels_rank": {"levels": ["database"]}}


async def seed(db: Database, guild_id: int = GUILD) -> None:
    for index, member in enumerate(MEMBERS):
        await db.levels.set_xp(guild_id=guild_id, member_id=member, xp=100.0 * (index + 1), level=index)


def members(page: list[Levels]) -> list[int]:
    return [row.member_id for row in page]


async def test_a_first_page_is_served_without_sql_until_xp_changes(cached_db: Database) -> None:
    await seed(cached_db)
    first = await cached_db.levels.leaderboard(GUILD, limit=3)
    with QueryCounter(cached_db) as queries:
        again = await cached_db.levels.leaderboard(GUILD, limit=3)
    assert queries.count == 0
    assert members(again) == members(first) == MEMBERS[:1:-1]
    assert all(type(row) is Levels and inspect(row).detached for row in again)
    again[0].xp = 0.0
    fresh = await cached_db.levels.leaderboard(GUILD, limit=3)
    assert fresh[0].xp == 500.0, "a caller's change stays its own"
    await cached_db.levels.add_xp(guild_id=GUILD, member_id=MEMBERS[0], amount=1000.0)
    assert members(await cached_db.levels.leaderboard(GUILD, limit=3))[0] == MEMBERS[0]


async def test_ranks_follow_xp_and_blacklisting(cached_db: Database) -> None:
    await seed(cached_db)
    assert await cached_db.levels.rank(guild_id=GUILD, member_id=MEMBERS[0]) == 5
    with QueryCounter(cached_db) as queries:
        assert await cached_db.levels.rank(guild_id=GUILD, member_id=MEMBERS[0]) == 5
    assert queries.count == 0
    await cached_db.levels.set_blacklisted(guild_id=GUILD, member_id=MEMBERS[4], blacklisted=True)
    assert await cached_db.levels.rank(guild_id=GUILD, member_id=MEMBERS[0]) == 4
    assert await cached_db.levels.rank(guild_id=GUILD, member_id=MEMBERS[4]) is None
    assert MEMBERS[4] not in members(await cached_db.levels.leaderboard(GUILD))


async def test_other_guilds_keep_their_cached_standings(cached_db: Database) -> None:
    await seed(cached_db)
    await seed(cached_db, OTHER_GUILD)
    await cached_db.levels.leaderboard(OTHER_GUILD)
    await cached_db.levels.add_xp(guild_id=GUILD, member_id=MEMBERS[0], amount=1000.0)
    with QueryCounter(cached_db) as queries:
        assert members(await cached_db.levels.leaderboard(OTHER_GUILD)) == MEMBERS[::-1]
    assert queries.count == 0


async def test_later_pages_and_other_limits_are_their_own(cached_db: Database) -> None:
    await seed(cached_db)
    top = await cached_db.levels.leaderboard(GUILD, limit=2)
    assert members(await cached_db.levels.leaderboard(GUILD, limit=4)) == MEMBERS[:0:-1]
    after = (top[-1].xp, top[-1].member_id)
    for _ in range(2):
        with QueryCounter(cached_db) as queries:
            assert members(await cached_db.levels.leaderboard(GUILD, limit=2, after=after)) == MEMBERS[2:0:-1]
        assert queries.count == 1, "a later page is read from the levels table every time"


async def test_without_redis_processes_share_standings_through_the_table(database_url: str) -> None:
    options = {"cache_options": STEADY_CACHE, "cache_policies": TABLE_ONLY}
    async with Database(database_url, **options) as writer, Database(database_url, **options) as reader:
        await seed(writer)
        await writer.levels.leaderboard(GUILD)
        with QueryCounter(reader) as queries:
            assert members(await reader.levels.leaderboard(GUILD)) == MEMBERS[::-1]
        assert reader.cache.stats().per_type["levels_leaderboard"].hits["database"] == 1
        assert not any("FROM levels" in statement for statement in queries.statements)
        await writer.levels.add_xp(guild_id=GUILD, member_id=MEMBERS[0], amount=1000.0)
        assert members(await reader.levels.leaderboard(GUILD))[0] == MEMBERS[0]


async def test_a_chat_award_invalidates_standings_another_process_keeps_in_the_table(
    database_url: str,
) -> None:
    options = {"cache_options": STEADY_CACHE, "cache_policies": TABLE_ONLY}
    async with Database(database_url, **options) as reader, Database(database_url, **options) as writer:
        await seed(reader)
        await reader.levels_config.upsert({"guild_id": GUILD, "base_xp": 1000.0})
        assert members(await reader.levels.leaderboard(GUILD, limit=1)) == [MEMBERS[4]]
        key = reader.cache.region("levels_leaderboard").key(GUILD, "held")
        held = Gate("read before the award", hold=True)
        filling = asyncio.create_task(reader.cache.get_or_load(key, held))
        await held.entered.wait()  # its stamps exist and it has read the standings
        awarded = await writer.levels_service.process_message(GUILD, MEMBERS[0], CHANNEL, [], now=utcnow())
        assert awarded.xp_awarded == 1000.0
        held.release.set()
        assert await filling == "read before the award"
        assert reader.cache.stats().refused_stale_fills == 1, "the fill begun before the award is refused"
        assert members(await reader.levels.leaderboard(GUILD, limit=1)) == [MEMBERS[0]]
        with QueryCounter(writer) as queries:
            await writer.levels_service.process_message(GUILD, MEMBERS[1], CHANNEL, [], now=utcnow())
        assert any("cache_entry" in statement for statement in queries.statements), "stamps live: read"


async def test_chat_xp_reorders_the_cached_standings(cached_db: Database) -> None:
    await seed(cached_db)
    await cached_db.levels_config.upsert({"guild_id": GUILD, "base_xp": 100.0})
    assert await cached_db.levels.rank(guild_id=GUILD, member_id=MEMBERS[0]) == 5
    assert members(await cached_db.levels.leaderboard(GUILD, limit=1)) == [MEMBERS[4]]
    moment = utcnow() + timedelta(days=1)
    for _ in range(6):  # each message past the cooldown earns 100 XP
        await cached_db.levels_service.process_message(GUILD, MEMBERS[0], CHANNEL, [], now=moment)
        moment += timedelta(hours=1)
    total = (await cached_db.levels.find_by_id((MEMBERS[0], GUILD))).xp  # type: ignore[union-attr]
    assert total > 500.0
    assert await cached_db.levels.rank(guild_id=GUILD, member_id=MEMBERS[0]) == 1
    assert members(await cached_db.levels.leaderboard(GUILD, limit=1)) == [MEMBERS[0]]


async def test_inside_a_transaction_standings_read_its_own_writes(cached_db: Database) -> None:
    await seed(cached_db)
    assert members(await cached_db.levels.leaderboard(GUILD, limit=1)) == [MEMBERS[4]]
    async with cached_db.transaction():
        await cached_db.levels.add_xp(guild_id=GUILD, member_id=MEMBERS[0], amount=1000.0)
        assert members(await cached_db.levels.leaderboard(GUILD, limit=1)) == [MEMBERS[0]]
        assert await cached_db.levels.rank(guild_id=GUILD, member_id=MEMBERS[0]) == 1
    assert members(await cached_db.levels.leaderboard(GUILD, limit=1)) == [MEMBERS[0]]
