"""The cache's guarantees at the repository level, each forced deterministically through ``Database``.

Interleavings are forced with events (:class:`~tests.caching.cached_db_tools.HeldReads`), not sleeps;
queries are counted on the engine. Outage tests run a private redis-server on a free port.
"""

from __future__ import annotations

import asyncio
import contextvars
import itertools
import shutil
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from loguru import logger

from tests import pg
from tests.caching.cached_db_tools import HeldReads, QueryCounter
from tests.caching.conftest import PrivateRedis, free_port, wait_until
from tests.caching.write_path_list import WRITE_PATHS
from tests.caching.write_paths import WritePath
from tests.conftest import BACKENDS, REDIS_URL, STEADY_CACHE, delete_namespace
from tux.database import Database

GUILD = 123_456_789_012_345_678
MEMBER = 223_456_789_012_345_678
MODERATOR = 323_456_789_012_345_678
OUTAGE_CACHE = {
    "redis_socket_timeout": 0.05,
    "redis_connect_timeout": 0.05,
    "probe_interval": 0.02,
    "probe_max_interval": 0.1,
    "bus_ping_interval": 0.05,
    "bus_ping_timeout": 0.2,
}
"""Short timeouts and probes: outages are noticed and recovered from quickly."""


class RollbackError(Exception):
    """Raised to roll a transaction back."""


async def prime(db: Database, prefix: str = "old") -> None:
    """Give the guild a config with ``prefix`` and cache it."""
    await db.guild_configs.upsert_config(GUILD, {"prefix": prefix})
    assert await db.guild_configs.get_prefix(GUILD) == prefix


async def test_invalidation_happens_after_the_commit(cached_db: Database) -> None:
    await prime(cached_db)
    sent = cached_db.cache.stats().invalidations_sent
    read_meanwhile: list[str | None] = []

    async def other_reader() -> None:
        read_meanwhile.append(await cached_db.guild_configs.get_prefix(GUILD))

    async with cached_db.transaction():
        await cached_db.guild_configs.upsert_config(GUILD, {"prefix": "new"})
        await asyncio.create_task(other_reader(), context=contextvars.Context())  # outside the transaction
        assert cached_db.cache.stats().invalidations_sent == sent
    assert read_meanwhile == ["old"]
    assert cached_db.cache.stats().invalidations_sent == sent + 1
    assert await cached_db.guild_configs.get_prefix(GUILD) == "new"


async def test_a_rolled_back_write_leaves_the_cache_as_it_was(cached_db: Database) -> None:
    await prime(cached_db)
    sent = cached_db.cache.stats().invalidations_sent
    with pytest.raises(RollbackError):
        async with cached_db.transaction():
            await cached_db.guild_configs.upsert_config(GUILD, {"prefix": "new"})
            raise RollbackError
    async with cached_db.transaction():
        await cached_db.guild_configs.upsert_config(GUILD, {"mod_log_id": 7})
        with pytest.raises(RollbackError):
            async with cached_db.transaction():  # a savepoint: its invalidation goes with it
                await cached_db.member_status.set_status(GUILD, MEMBER, {"is_banned": True})
                raise RollbackError
    assert cached_db.cache.stats().invalidations_sent == sent + 1
    with QueryCounter(cached_db) as queries:
        assert await cached_db.member_status.get_status(GUILD, MEMBER) is None
        assert await cached_db.guild_configs.get_prefix(GUILD) == "old"
        assert await cached_db.guild_configs.get_prefix(GUILD) == "old"
    assert queries.count == 2  # the status, and the config once: its entry was dropped by the commit


async def test_a_transaction_reads_its_own_writes(cached_db: Database) -> None:
    await prime(cached_db)
    async with cached_db.transaction():
        await cached_db.guild_configs.upsert_config(GUILD, {"prefix": "mine"})
        assert await cached_db.guild_configs.get_prefix(GUILD) == "mine"
        await cached_db.moderation.ban_user(GUILD, MEMBER, "spam", MODERATOR)
        assert await cached_db.moderation.is_banned(GUILD, MEMBER)
    assert await cached_db.guild_configs.get_prefix(GUILD) == "mine"


async def test_a_slow_reader_cannot_store_a_row_older_than_a_commit(cached_db: Database) -> None:
    await cached_db.guild_configs.upsert_config(GUILD, {"prefix": "old"})
    with HeldReads(cached_db.guild_configs, "find_by_id") as held:
        reader = asyncio.create_task(cached_db.guild_configs.get_prefix(GUILD))
        await held.read.wait()  # the reader missed and read the old row
        await cached_db.guild_configs.upsert_config(GUILD, {"prefix": "new"})  # commit, invalidate
        held.release.set()
        assert await reader == "old"  # it returns what it read, but may not cache it
    assert cached_db.cache.stats().refused_stale_fills == 1
    assert await cached_db.guild_configs.get_prefix(GUILD) == "new"


async def test_a_hundred_concurrent_misses_run_one_query(cached_db: Database) -> None:
    await cached_db.guild_configs.upsert_config(GUILD, {"prefix": "!"})
    with QueryCounter(cached_db) as queries, HeldReads(cached_db.guild_configs, "find_by_id") as held:
        readers = [asyncio.create_task(cached_db.guild_configs.find_by_id(GUILD)) for _ in range(100)]
        await held.read.wait()
        await wait_until(lambda: cached_db.cache.stats().misses["memory"] == 100)
        held.release.set()
        configs = await asyncio.gather(*readers)
    assert {config.prefix for config in configs if config is not None} == {"!"}
    assert len({id(config) for config in configs}) == 100, "every caller gets its own instance"
    assert held.calls == 1
    assert queries.count == 1


async def workload(db: Database, guild: int) -> list[object]:
    """Reads and writes of every cached type; returns what the reads saw."""
    seen: list[object] = [await db.guild_configs.get_prefix(guild)]
    await db.guild_setup.onboard(guild, prefix="!")
    seen.append(await db.guild_configs.get_prefix(guild))
    await db.moderation.ban_user(guild, MEMBER, "spam", MODERATOR)
    seen.append(await db.moderation.is_banned(guild, MEMBER))
    await db.afk_service.set_afk(guild, MEMBER, "nick", "lunch")
    seen.append((await db.afk_service.get_afk(guild, MEMBER)) is not None)
    await db.snippet_service.create(guild, "tip", "text", MEMBER)
    seen.append((await db.snippet_service.get(guild, "tip")).uses)  # type: ignore[union-attr]
    seen.append((await db.levels_service.process_message(guild, MEMBER, 5, [])).total_xp)
    seen.append((await db.levels.find_by_id((MEMBER, guild))).xp)  # type: ignore[union-attr]
    return seen


async def settle(*dbs: Database) -> None:
    """Wait until each cache heard a message from every other sent after their recoveries.

    A recovery announces a flush on the bus; the bus keeps the order of messages, so once a later
    marker arrived, the flush did too (or came before the subscription, which flushed as well).
    """
    for sender in dbs:
        for receiver in dbs:
            if receiver is not sender:
                await marker_heard(sender, receiver)


async def marker_heard(sender: Database, receiver: Database) -> None:
    heard = receiver.cache.stats().bus_messages_received
    await sender.cache.invalidate("starboard:1:*")
    await wait_until(lambda: receiver.cache.stats().bus_messages_received > heard)


EXPECTED = [None, "!", True, True, 1, 1.0, 1.0]


@pytest.mark.parametrize("backend", ["postgresql"])
async def test_everything_works_against_a_port_where_nothing_listens(database_url: str) -> None:
    dead = f"redis://127.0.0.1:{free_port()}/0"
    async with Database(database_url, dead, cache_options=OUTAGE_CACHE, cache_ready_timeout=0.2) as db:
        assert await workload(db, GUILD) == EXPECTED
        assert not db.cache.stats().redis_available
        assert db.cache.stats().invalidations_failed > 0


@pytest.mark.parametrize("backend", ["postgresql"])
async def test_redis_stopped_then_back_serves_nothing_from_before(
    database_url: str, private_redis: PrivateRedis
) -> None:
    options: dict[str, Any] = {"cache_options": OUTAGE_CACHE}
    async with (
        Database(database_url, private_redis.url, **options) as a,
        Database(database_url, private_redis.url, **options) as b,
    ):
        await prime(a)
        assert await b.guild_configs.get_prefix(GUILD) == "old"  # cached in b's memory and in Redis
        private_redis.freeze()  # the port stays open, the entries stay, nothing answers
        await wait_until(lambda: not a.cache.bus_connected and not b.cache.bus_connected)
        assert not a.cache.memory_active, "memory is flushed and bypassed while the bus is down"
        await a.guild_configs.upsert_config(GUILD, {"prefix": "new"})  # its invalidation cannot reach Redis
        with QueryCounter(b) as queries:
            assert await b.guild_configs.get_prefix(GUILD) == "new"
            assert await b.guild_configs.get_prefix(GUILD) == "new"
        assert queries.count == 2
        assert await workload(b, GUILD + 1) == EXPECTED
        private_redis.thaw()
        await wait_until(lambda: all(db.cache.bus_connected and db.cache.redis_available for db in (a, b)))
        await settle(a, b)
        assert await b.guild_configs.get_prefix(GUILD) == "new"
        assert await a.guild_configs.get_prefix(GUILD) == "new"
        with QueryCounter(b) as queries:
            assert await b.guild_configs.get_prefix(GUILD) == "new"
        assert queries.count == 0, "cached again once the bus is back"
        private_redis.stop()
        await wait_until(lambda: not b.cache.bus_connected)
        assert await workload(b, GUILD + 2) == EXPECTED
        assert b.cache.stats().bus_disconnects == 2


@pytest_asyncio.fixture(scope="module", loop_scope="module", params=BACKENDS)
async def shared_db(
    request: pytest.FixtureRequest,
    migrated_templates: dict[str, str],
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Database]:
    """One cached ``Database`` per backend for the write-path cases (each case has its own guild)."""
    namespace = f"tuxtest-{uuid.uuid4().hex[:12]}"
    if request.param == "sqlite":
        target = tmp_path_factory.mktemp("write_paths") / "db.sqlite3"
        shutil.copyfile(migrated_templates["sqlite"], target)
        async with Database(f"sqlite+aiosqlite:///{target}") as db:
            yield db
        return
    name = pg.database_name("write_paths")
    await pg.create_database(name, template=migrated_templates["postgresql"])
    try:
        async with Database(
            pg.async_url(name), REDIS_URL, redis_namespace=namespace, cache_options=STEADY_CACHE
        ) as db:
            yield db
    finally:
        await pg.drop_database(name)
        await delete_namespace(REDIS_URL, namespace)


_guilds = itertools.count(900_000_000_000_000_001)


@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize("path", WRITE_PATHS, ids=lambda path: path.name)
async def test_every_write_path_invalidates_what_it_changes(shared_db: Database, path: WritePath) -> None:
    db, guild = shared_db, next(_guilds)
    errors: list[object] = []
    sink = logger.add(errors.append, level="ERROR")  # a failing cache table would flush and hide
    if path.prepare is not None:
        await path.prepare(db, guild)
    before = await path.read(db, guild)
    with QueryCounter(db) as queries:
        assert await path.read(db, guild) == before
    assert queries.count == 0, "the read is served from the cache"
    await path.write(db, guild)
    async with db.transaction():  # inside a unit of work the read goes to the database
        stored = await path.read(db, guild)
    assert stored != before, "the write changes what the read returns"
    assert await path.read(db, guild) == stored
    logger.remove(sink)
    assert errors == []
