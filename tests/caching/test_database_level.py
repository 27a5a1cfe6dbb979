"""The DATABASE level on SQLite and PostgreSQL: fills, stale fills, groups, expiry, units of work."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import msgspec
import pytest
from sqlalchemy import event, select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.caching.conftest import CacheFactory
from tests.caching.test_manager import Gate
from tux.database.caching.config import CacheConfig
from tux.database.caching.database_level import note_unstamped
from tux.database.caching.manager import CacheLevel, CacheManager
from tux.database.caching.types import MISS
from tux.database.core.session import SessionProvider, UnitOfWork
from tux.database.models.cache_entry import CacheEntry

Engine = tuple[AsyncEngine, SessionProvider]
DATABASE_ONLY = CacheConfig().with_policy("levels_leaderboard", levels=["database"])


class Row(msgspec.Struct, frozen=True):
    user_id: int
    xp: float


async def caches(
    make_cache: CacheFactory, cache_engine: Engine, config: CacheConfig, count: int
) -> list[CacheManager]:
    engine, sessions = cache_engine
    return [await make_cache(config, redis_url=None, engine=engine, sessions=sessions) for _ in range(count)]


async def test_leaderboard_uses_memory_and_database_without_redis(
    make_cache: CacheFactory, cache_engine: Engine
) -> None:
    first, second = await caches(make_cache, cache_engine, CacheConfig(), 2)
    board = (Row(1, 10.0), Row(2, 5.0))
    region = first.region("levels_leaderboard", tuple[Row, ...])
    assert region.levels == (CacheLevel.MEMORY, CacheLevel.DATABASE)
    assert await first.get_or_load(region.key(1, "top"), Gate(board)) == board
    loader = Gate(())
    got = await second.get_or_load(second.region("levels_leaderboard", tuple[Row, ...]).key(1, "top"), loader)
    assert got == board
    assert type(got) is tuple
    assert type(got[0]) is Row
    assert loader.calls == 0
    assert second.stats().per_type["levels_leaderboard"].hits["database"] == 1


async def test_a_stale_fill_is_refused_by_the_table(make_cache: CacheFactory, cache_engine: Engine) -> None:
    reader, writer, observer = await caches(make_cache, cache_engine, DATABASE_ONLY, 3)
    key = reader.region("levels_leaderboard").key(1, "top")
    loader = Gate("old", hold=True)
    pending = asyncio.create_task(reader.get_or_load(key, loader))
    await loader.entered.wait()
    loader.value = "new"
    await writer.invalidate("levels_leaderboard:1:top")
    loader.release.set()
    assert await pending == "old"
    assert reader.stats().refused_stale_fills == 1
    key_seen = observer.region("levels_leaderboard").key(1, "top")
    assert await observer.get(key_seen) is MISS
    assert await observer.get_or_load(key_seen, loader) == "new"
    assert await writer.get(writer.region("levels_leaderboard").key(1, "top")) == "new"


async def test_group_invalidation_and_flush(make_cache: CacheFactory, cache_engine: Engine) -> None:
    writer, reader = await caches(make_cache, cache_engine, DATABASE_ONLY, 2)
    region = writer.region("levels_leaderboard")
    for guild in (1, 2):
        await writer.get_or_load(region.key(guild, "top"), Gate(f"board {guild}"))
    await writer.invalidate("levels_leaderboard:1:*")
    other = reader.region("levels_leaderboard")
    assert await reader.get(other.key(1, "top")) is MISS
    assert await reader.get(other.key(2, "top")) == "board 2"
    await writer.invalidate("*")
    assert await reader.get(other.key(2, "top")) is MISS


async def test_expired_entries_are_not_served(make_cache: CacheFactory, cache_engine: Engine) -> None:
    [cache] = await caches(make_cache, cache_engine, DATABASE_ONLY, 1)
    key = cache.region("levels_leaderboard").key(1, "top")
    await cache.get_or_load(key, Gate("board"))
    assert await cache.get(key) == "board"
    table = CacheEntry.__table__
    async with cache_engine[0].begin() as connection:
        past = datetime.now(UTC) - timedelta(seconds=1)
        await connection.execute(update(table).where(table.c.key.like("c1:e:%")).values(expires_at=past))
    assert await cache.get(key) is MISS


async def test_not_found_is_cached_in_the_table(make_cache: CacheFactory, cache_engine: Engine) -> None:
    first, second = await caches(make_cache, cache_engine, DATABASE_ONLY, 2)
    await first.get_or_load(first.region("levels_leaderboard").key(1, "top"), Gate(None))
    loader = Gate("exists")
    assert await second.get_or_load(second.region("levels_leaderboard").key(1, "top"), loader) is None
    assert loader.calls == 0
    assert second.stats().negative_hits == 1


async def test_inside_a_unit_of_work_the_level_never_writes_and_invalidations_wait(
    make_cache: CacheFactory, cache_engine: Engine
) -> None:
    engine, sessions = cache_engine
    cache, observer = await caches(make_cache, cache_engine, DATABASE_ONLY, 2)
    key = cache.region("levels_leaderboard").key(1, "top")
    await cache.get_or_load(key, Gate("committed board"))
    async with sessions.factory() as session, session.begin():
        await session.execute(text("CREATE TABLE work_in_progress (id INTEGER)"))  # takes SQLite's write lock
        token = sessions.bind(UnitOfWork(session, owner=asyncio.current_task()))
        try:
            other = cache.region("levels_leaderboard").key(2, "top")
            assert await asyncio.wait_for(cache.get_or_load(other, Gate("uncommitted")), 2) == "uncommitted"
            await asyncio.wait_for(cache.set(other, "also uncommitted"), 2)
            await asyncio.wait_for(cache.invalidate(key), 2)
            assert await cache.get(key, [CacheLevel.MEMORY]) is MISS, "memory is invalidated at once"
        finally:
            sessions.unbind(token)
    await cache.drain()
    seen = observer.region("levels_leaderboard")
    assert await observer.get(seen.key(2, "top")) is MISS, "nothing was written from inside the unit of work"
    assert await observer.get(seen.key(1, "top")) is MISS, "the deferred invalidation ran after it"
    async with engine.connect() as connection:
        keys = (await connection.execute(select(CacheEntry.__table__.c.key))).scalars().all()
    assert all(k.startswith("c1:") for k in keys)


async def rename_table(engine: AsyncEngine, old: str, new: str) -> None:
    async with engine.begin() as connection:
        await connection.execute(text(f"ALTER TABLE {old} RENAME TO {new}"))


async def started_before_its_table(make_cache: CacheFactory, cache_engine: Engine) -> CacheManager:
    """A cache on the DATABASE level whose start found no ``cache_entry`` table (created afterwards)."""
    engine, sessions = cache_engine
    await rename_table(engine, "cache_entry", "cache_entry_later")
    cache = await make_cache(DATABASE_ONLY, redis_url=None, engine=engine, sessions=sessions)
    await rename_table(engine, "cache_entry_later", "cache_entry")
    return cache


async def test_a_failed_invalidation_leaves_nothing_stale(
    make_cache: CacheFactory, cache_engine: Engine
) -> None:
    [cache] = await caches(make_cache, cache_engine, DATABASE_ONLY, 1)
    engine, _ = cache_engine
    key = cache.region("levels_leaderboard").key(1, "top")
    assert await cache.get_or_load(key, Gate("old")) == "old"
    await rename_table(engine, "cache_entry", "cache_entry_away")
    await cache.invalidate("levels_leaderboard:1:*")  # the stamp rotation fails: the entry stays valid
    await rename_table(engine, "cache_entry_away", "cache_entry")
    assert cache.stats().invalidations_failed == 1
    loader = Gate("new")
    assert await cache.get_or_load(key, loader) == "new", "the table is not trusted after a lost invalidation"
    assert loader.calls == 1
    assert await cache.get_or_load(key, Gate("unused")) == "new", "trusted again once the epoch rotated"


async def test_a_cache_started_before_its_table_exists_uses_it_afterwards(
    make_cache: CacheFactory, cache_engine: Engine
) -> None:
    cache = await started_before_its_table(make_cache, cache_engine)
    assert cache.stats().level_errors.get("database", 0) == 0, "a missing table at start is no error"
    key = cache.region("levels_leaderboard").key(1, "top")
    assert await cache.get_or_load(key, Gate("value")) == "value"
    assert await cache.get_or_load(key, Gate("unused")) == "value"
    assert cache.stats().per_type["levels_leaderboard"].hits["database"] == 1


async def test_with_redis_no_policy_uses_the_table(make_cache: CacheFactory, cache_engine: Engine) -> None:
    engine, sessions = cache_engine
    cache = await make_cache(CacheConfig(), engine=engine, sessions=sessions)
    region = cache.region("levels_leaderboard")
    assert region.levels == (CacheLevel.MEMORY, CacheLevel.REDIS)
    await cache.get_or_load(region.key(1, "top"), Gate("value"))
    await cache.invalidate("*")
    async with engine.connect() as connection:
        assert (await connection.execute(select(CacheEntry.key))).all() == [], "the table was never written"


async def test_concurrent_first_uses_share_one_epoch_drop(
    make_cache: CacheFactory, cache_engine: Engine
) -> None:
    engine, _ = cache_engine
    [earlier] = await caches(make_cache, cache_engine, DATABASE_ONLY, 1)
    region = earlier.region("levels_leaderboard")
    await earlier.get_or_load(region.key(1, "top", 1), Gate("from an earlier process"))
    cache = await started_before_its_table(make_cache, cache_engine)
    with Statements(engine, "DELETE") as drops:
        keys = [cache.region("levels_leaderboard").key(1, "top", size) for size in range(1, 21)]
        values = await asyncio.gather(*(cache.get_or_load(key, Gate(f"v{i}")) for i, key in enumerate(keys)))
        again = await asyncio.gather(*(cache.get_or_load(key, Gate("unused")) for key in keys))
    assert len([params for params in drops.seen if "c1:t:*" in params]) == 1, "one drop for twenty first uses"
    assert values[0] == "v0", "the earlier process's entry is not trusted"
    assert again == values == [f"v{i}" for i in range(20)], "no fill was voided by another drop"


async def test_an_invalidation_under_which_nothing_was_filled_writes_nothing(
    make_cache: CacheFactory, cache_engine: Engine
) -> None:
    engine, _ = cache_engine
    [cache] = await caches(make_cache, cache_engine, DATABASE_ONLY, 1)
    with Statements(engine, "INSERT", "UPDATE", "DELETE") as writes:
        await cache.invalidate("levels_leaderboard:1:*")
    assert writes.seen == []
    key = cache.region("levels_leaderboard").key(1, "top")
    await cache.get_or_load(key, Gate("old"))
    with Statements(engine, "INSERT", "UPDATE", "DELETE") as writes:
        await cache.invalidate("levels_leaderboard:1:*")
        await cache.invalidate("levels_leaderboard:1:*")
    assert len(writes.seen) == 1, "the second invalidation found no live stamp"
    assert await cache.get_or_load(key, Gate("new")) == "new"


async def statements_to_invalidate(cache: CacheManager, engine: AsyncEngine) -> int:
    """Invalidate guild 1's leaderboards; return how many statements that sent to the table."""
    with Statements(engine, "SELECT", "DELETE") as sent:
        await cache.invalidate("levels_leaderboard:1:*")
    return len(sent.seen)


@pytest.mark.parametrize("backend", ["sqlite"])  # notes are taken under SQLite's write lock only
async def test_a_commit_that_saw_no_stamp_needs_no_read_to_invalidate(
    backend: str, make_cache: CacheFactory, cache_engine: Engine
) -> None:
    engine, sessions = cache_engine
    [cache] = await caches(make_cache, cache_engine, DATABASE_ONLY, 1)
    note_unstamped(sessions, ["levels_leaderboard:1"])
    assert await statements_to_invalidate(cache, engine) == 0, "the write's note stood for the read"
    assert await statements_to_invalidate(cache, engine) == 1, "a lone write's note serves one invalidation"
    note_unstamped(sessions, ["levels_leaderboard:1"])
    async with sessions.write_turn():  # a later write of this process needs its own invalidation
        pass
    assert await statements_to_invalidate(cache, engine) == 1
    note_unstamped(sessions, ["levels_leaderboard:2"])
    assert await statements_to_invalidate(cache, engine) == 1, "another tag's stamp is read"


@pytest.mark.parametrize("backend", ["sqlite"])  # notes are taken under SQLite's write lock only
async def test_a_units_note_serves_its_commit_callbacks_only(
    backend: str, make_cache: CacheFactory, cache_engine: Engine
) -> None:
    engine, sessions = cache_engine
    [cache] = await caches(make_cache, cache_engine, DATABASE_ONLY, 1)
    unit = UnitOfWork(owner=asyncio.current_task())

    async def note() -> None:
        note_unstamped(sessions, ["levels_leaderboard:1"])

    sent: list[int] = []

    async def invalidate() -> None:
        sent.append(await statements_to_invalidate(cache, engine))

    unit.commit_callbacks += [note, invalidate, invalidate]
    await unit.run_commit_callbacks()
    assert sent == [0, 0], "the note serves every invalidation of the commit"
    assert await statements_to_invalidate(cache, engine) == 1, "the note is gone with the callbacks"


class Statements:
    """Records the parameters of the statements of the given kinds an engine sends."""

    def __init__(self, engine: AsyncEngine, *kinds: str) -> None:
        self._engine = engine.sync_engine
        self._kinds = kinds
        self.seen: list[str] = []

    def _record(self, _conn: object, _cursor: object, statement: str, parameters: object, *_: object) -> None:
        if statement.lstrip().upper().startswith(self._kinds):
            self.seen.append(repr(parameters))

    def __enter__(self) -> Statements:
        event.listen(self._engine, "before_cursor_execute", self._record)
        return self

    def __exit__(self, *_: object) -> None:
        event.remove(self._engine, "before_cursor_execute", self._record)
