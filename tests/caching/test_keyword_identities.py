"""Composite keys by name: ``{"guild_id": g, "member_id": m}`` works on every member-scoped table, cached
or not, and shares the cache entries of the tuple form (whose order differs between tables)."""

from __future__ import annotations

import pytest

from tests.caching.cached_db_tools import QueryCounter
from tux.database import Database
from tux.database.exceptions import ValidationError

GUILD = 123_456_789_012_345_678
MEMBER = 223_456_789_012_345_678
KEY = {"member_id": MEMBER, "guild_id": GUILD}


async def _rows(db: Database) -> None:
    await db.guilds.ensure(GUILD)
    await db.member_status.set_status(GUILD, MEMBER, {"is_jailed": True})
    await db.afk.set_afk({"guild_id": GUILD, "member_id": MEMBER, "nickname": "n", "reason": "lunch"})
    await db.levels.set_xp(guild_id=GUILD, member_id=MEMBER, xp=10.0, level=1)


async def _state(database: Database, status_key: object, member_key: object) -> tuple[object, ...]:
    status = await database.member_status.find_by_id(status_key)
    afk = await database.afk.find_by_id(member_key)
    levels = await database.levels.find_by_id(member_key)
    return (
        None if status is None else status.is_jailed,
        None if afk is None else afk.reason,
        None if levels is None else levels.xp,
    )


async def _round_trip(database: Database) -> None:
    await _rows(database)
    assert await _state(database, KEY, KEY) == (True, "lunch", 10.0)
    await database.member_status.update(KEY, {"is_jailed": False})
    await database.afk.update(KEY, {"reason": "back soon"})
    await database.levels.update(KEY, {"xp": 12.0})
    assert await _state(database, (GUILD, MEMBER), (MEMBER, GUILD)) == (False, "back soon", 12.0)
    assert await database.afk.delete(KEY) is True
    assert await database.afk.find_by_id(KEY) is None


async def test_a_keyword_identity_reads_and_writes_every_member_table(db: Database) -> None:
    await _round_trip(db)


async def test_a_keyword_identity_reads_and_invalidates_cached_tables(cached_db: Database) -> None:
    await _round_trip(cached_db)


async def test_both_forms_share_one_cache_entry(cached_db: Database) -> None:
    await _rows(cached_db)
    await cached_db.afk.find_by_id((MEMBER, GUILD))
    with QueryCounter(cached_db) as queries:
        assert await cached_db.afk.find_by_id(KEY) is not None
    assert queries.count == 0


async def test_a_keyword_identity_with_wrong_fields_is_refused(db: Database) -> None:
    with pytest.raises(ValidationError, match=r"keyed by \(member_id, guild_id\)"):
        await db.afk.find_by_id({"guild_id": GUILD, "user_id": MEMBER})
