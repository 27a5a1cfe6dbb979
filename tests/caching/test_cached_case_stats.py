"""A guild's case counts behind the cache: served without SQL until a case of that guild changes."""

from __future__ import annotations

from tests.caching.cached_db_tools import QueryCounter
from tux.database import Database
from tux.database.models import CaseType

GUILD = 787_878_787_878_787_878
OTHER_GUILD = 898_989_898_989_898_989
MEMBER = 909_090_909_090_909_090
MODERATOR = 919_191_919_191_919_191


async def test_case_counts_are_served_without_sql_until_a_case_changes(cached_db: Database) -> None:
    await cached_db.moderation.warn_user(GUILD, MEMBER, "spam", MODERATOR)
    assert (await cached_db.cases.count_by_type(GUILD))[CaseType.WARN] == 1
    with QueryCounter(cached_db) as queries:
        counts = await cached_db.cases.count_by_type(GUILD)
    assert queries.count == 0
    assert counts[CaseType.WARN] == 1
    assert counts[CaseType.BAN] == 0
    counts[CaseType.WARN] = 99
    assert (await cached_db.cases.count_by_type(GUILD))[CaseType.WARN] == 1, "a caller's change stays its own"
    await cached_db.moderation.ban_user(GUILD, MEMBER, "raid", MODERATOR)
    assert (await cached_db.cases.count_by_type(GUILD))[CaseType.BAN] == 1


async def test_another_guilds_cases_leave_the_counts_cached(cached_db: Database) -> None:
    await cached_db.moderation.warn_user(GUILD, MEMBER, "spam", MODERATOR)
    await cached_db.cases.count_by_type(GUILD)
    await cached_db.moderation.warn_user(OTHER_GUILD, MEMBER, "spam", MODERATOR)
    with QueryCounter(cached_db) as queries:
        assert (await cached_db.cases.count_by_type(GUILD))[CaseType.WARN] == 1
    assert queries.count == 0
    assert (await cached_db.cases.count_by_type(OTHER_GUILD))[CaseType.WARN] == 1


async def test_inside_a_transaction_counts_include_its_own_cases(cached_db: Database) -> None:
    await cached_db.moderation.warn_user(GUILD, MEMBER, "spam", MODERATOR)
    await cached_db.cases.count_by_type(GUILD)
    async with cached_db.transaction():
        await cached_db.moderation.warn_user(GUILD, MEMBER, "again", MODERATOR)
        assert (await cached_db.cases.count_by_type(GUILD))[CaseType.WARN] == 2
    assert (await cached_db.cases.count_by_type(GUILD))[CaseType.WARN] == 2
