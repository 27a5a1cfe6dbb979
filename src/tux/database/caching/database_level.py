"""The DATABASE level: the ``cache_entry`` table, for expensive values when no Redis is configured.

It follows the Redis level's scheme (see :mod:`tux.database.caching.redis_level`) with rows instead of
keys: ``c1:e:fp:KEY`` entries carry the stamps of ``c1:g:KEY`` (the key's guard) and ``c1:t:TAG`` (its
groups), and a read returns an entry only when its stamps equal the current ones, all in one ``SELECT``.
A fill begins by reading the stamps, creating the missing ones with new random values (so concurrent
fills under a new group agree on its stamp), and stores only if they are unchanged. An invalidation
deletes the live stamps, which refuses every fill begun before it; when none lives, no fill has begun
under them since the last invalidation, and the invalidation writes nothing. Stamps expire after the
longest TTL plus a margin, longer than any fill may take (older fills are refused by their ticket).

With ``flush_on_start`` (the default), nothing in the table is trusted until this process has dropped
the epoch stamp (at start, or on the level's first use when the table was not there yet at start): a
process that died between a commit and its invalidation leaves entries nobody invalidated. A write
that should have made entries stale and failed makes the level untrusted again until the epoch is
dropped, so a lost invalidation never leaves a stale entry behind. Concurrent callers share one drop.

On SQLite an invalidation may skip even that read. A write that ran under SQLite's write lock and saw,
in the same statement, that no stamp of a tag lived (the XP award looks for the guild's standings
stamps) notes so with :func:`note_unstamped` once it committed; the invalidation of that commit, next in
the same task, then leaves those stamps alone. No entry under the tag was current when the write ran,
and no fill could create the stamp until the commit released the lock: a fill begins by creating its
stamps, so any fill that creates one afterwards reads the committed data. The note serves only the
level of the same database, only the invalidations of that commit (the one that follows a write made
outside a unit of work; those run by the unit's commit callbacks), and only while this process was
granted no SQLite write turn since it was taken (a later commit needs its own invalidation).

The level never joins the caller's unit of work: it runs its own short transactions on the engine, in
this process's SQLite write turn (``SessionProvider.write_turn``) like every other writer.
While the calling task has a unit of work open it does not write (on SQLite a write would wait for the
write lock that very unit of work holds), except invalidations, which cannot be skipped and are run by
a background task instead, which takes the lock once the unit of work has ended.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
from loguru import logger
from sqlalchemy import LargeBinary, Table, bindparam, delete, select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from tux.database.caching.config import CacheConfig
from tux.database.caching.keys import EPOCH_TAG, Targets
from tux.database.caching.region import CacheKey
from tux.database.caching.serialization import SCHEMA_VERSION, new_stamp, tag_stamp, unframe
from tux.database.caching.stats import CacheStats
from tux.database.caching.types import MISS, CacheLevel, Miss, NotFound, StoreResult
from tux.database.core.engine import READ_ONLY_OPTION
from tux.database.core.session import SessionProvider, UnitOfWork, committed_unit
from tux.database.exceptions import DatabaseError, TransactionError
from tux.database.models.base import UTCDateTime

FAILURES: tuple[type[BaseException], ...] = (SQLAlchemyError, DatabaseError, OSError, TimeoutError)

_FLUSH = Targets(tags=(EPOCH_TAG,))
Spawn = Callable[[Coroutine[Any, Any, object]], None]


@dataclass(frozen=True, slots=True)
class _Unstamped:
    """Stamps no entry can be current under, as of the last commit of the task (see the module)."""

    sessions: SessionProvider
    turn: int
    stamps: frozenset[str]
    unit: UnitOfWork | None
    """The unit of work whose commit callbacks took the note (``None``: a write outside one)."""


_unstamped: ContextVar[_Unstamped | None] = ContextVar("tux_unstamped_after_commit", default=None)


def note_unstamped(sessions: SessionProvider, tags: Sequence[str]) -> None:
    """Record, right after a commit, that a write under SQLite's write lock saw no stamp of ``tags``.

    Call it from an ``on_commit`` callback registered by the write, so it runs only once the write
    committed and before the invalidation of that commit. On PostgreSQL it does nothing: a statement
    there does not keep other writers from creating a stamp before its commit.
    """
    if not sessions.is_sqlite:
        return
    stamps = frozenset(map(tag_stamp, tags))
    _unstamped.set(_Unstamped(sessions, sessions.write_turns, stamps, committed_unit()))


@dataclass(frozen=True, slots=True)
class DatabaseFill:
    """The guard and group stamps a fill began under (``None``: the row did not exist)."""

    stamps: tuple[bytes | None, ...]

    found: object = MISS
    """Never a value: the table's fill begins with a plain read of the stamps."""
    contended: bool = False
    """Never: the table has no leases (processes without Redis do not share loads)."""


class DatabaseLevel:
    """Stamped access to the ``cache_entry`` table through the engine.

    Parameters
    ----------
    engine
        The database's engine; the level opens its own connections.
    sessions
        Tells whether the calling task has a unit of work open.
    config
        Stamp lifetimes and the purge interval.
    stats
        Where failures are counted.
    spawn
        Runs a coroutine as a background task (for invalidations inside a unit of work).
    """

    level = CacheLevel.DATABASE

    def __init__(
        self,
        engine: AsyncEngine,
        sessions: SessionProvider | None,
        *,
        config: CacheConfig,
        stats: CacheStats,
        spawn: Spawn,
    ) -> None:
        from tux.database.models.cache_entry import CacheEntry  # noqa: PLC0415 - models import late

        table = CacheEntry.__table__
        assert isinstance(table, Table)  # narrows the declarative table for mypy
        self._table = table
        self._upsert_rows = text(
            f"INSERT INTO {table.name} (key, value, expires_at) VALUES (:key, :value, :expires_at) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at"
        ).bindparams(bindparam("value", type_=LargeBinary()), bindparam("expires_at", type_=UTCDateTime()))
        """One statement for both backends, compiled once (SQLAlchemy's dialect ``insert()`` is compiled
        again on every call); several rows go as one executemany."""
        self._insert_missing_rows = text(
            f"INSERT INTO {table.name} (key, value, expires_at) VALUES (:key, :value, :expires_at) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at "
            f"WHERE {table.name}.expires_at <= :now"
        ).bindparams(
            bindparam("value", type_=LargeBinary()),
            bindparam("expires_at", type_=UTCDateTime()),
            bindparam("now", type_=UTCDateTime()),
        )
        self._engine = engine
        self._read_engine = engine.execution_options(**{READ_ONLY_OPTION: True})
        self._sessions = sessions
        self._config = config
        self._stats = stats
        self._spawn = spawn
        self._prefix = f"c{SCHEMA_VERSION}:"
        self._next_purge = datetime.now(UTC)
        self._stamp_ttl = timedelta(seconds=max(config.tag_ttl, config.fill_max_age + config.guard_margin))
        self._trusted = not config.flush_on_start
        self._failures = 0
        """Writes that failed so far: dropping the epoch grants trust only if none failed meanwhile."""
        self._flushing = asyncio.Lock()

    async def read(self, key: CacheKey[Any]) -> object | NotFound | Miss:
        """Return the value of ``key`` if the table holds a current entry for it, else ``MISS``."""
        if not self._trusted and not await self._trust():
            return MISS
        entry_key, stamp_keys = self._entry_key(key), self._stamp_keys(key)
        try:
            async with self._read_engine.connect() as connection:
                rows = await self._live(connection, [entry_key, *stamp_keys])
        except FAILURES as error:
            self._failed("read", error)
            return MISS
        entry, stamps = rows.get(entry_key), [rows.get(name) for name in stamp_keys]
        if entry is None or None in stamps:
            return MISS
        body = unframe(entry, b"".join(s for s in stamps if s is not None))
        if body is None:
            return MISS
        try:
            return key.region.codec.decode(body)
        except (msgspec.DecodeError, msgspec.ValidationError, ValueError) as error:
            self._failed(f"decode of {key.name}", error)
            return MISS

    async def begin(self, key: CacheKey[Any], *, lease: bool = False) -> DatabaseFill | None:
        """Read the stamps a fill of ``key`` begins under; ``None`` inside a unit of work or on failure."""
        if self._in_unit_of_work() or (not self._trusted and not await self._trust()):
            return None
        stamp_keys = self._stamp_keys(key)
        try:
            async with self._read_engine.connect() as connection:
                rows = await self._live(connection, stamp_keys)
            missing = [name for name in stamp_keys if name not in rows]
            if missing:  # the first fill under a stamp: concurrent fills must agree on it
                async with self._writing() as connection:
                    await self._add_missing_stamps(connection, missing)
                    rows = await self._live(connection, stamp_keys)
        except FAILURES as error:
            self._failed("begin fill", error)
            return None
        return DatabaseFill(tuple(rows.get(name) for name in stamp_keys))

    async def store(self, key: CacheKey[Any], fill: DatabaseFill, body: bytes, ttl: float) -> StoreResult:
        """Store ``body`` if the stamps are still those of ``fill`` (missing ones are created now)."""
        if self._in_unit_of_work():
            return StoreResult.SKIPPED
        stamp_keys = self._stamp_keys(key)
        try:
            async with self._writing() as connection:
                rows = await self._live(connection, stamp_keys)
                if tuple(rows.get(name) for name in stamp_keys) != fill.stamps:
                    return StoreResult.REFUSED
                stamps = await self._create_missing(connection, stamp_keys, fill.stamps)
                await self._write_entry(connection, key, stamps + body, ttl)
                await self._purge_if_due(connection)
        except FAILURES as error:
            self._failed("store", error)
            return StoreResult.SKIPPED
        return StoreResult.STORED

    async def release(self, key: CacheKey[Any], fill: DatabaseFill) -> None:
        """Nothing to give up: the table has no leases."""

    async def put(self, key: CacheKey[Any], body: bytes, ttl: float) -> bool:
        """Store ``body`` unconditionally under a rotated guard (fills begun earlier are refused)."""
        if self._in_unit_of_work():
            return False
        guard, *tag_keys = self._stamp_keys(key)
        try:
            async with self._writing() as connection:
                rows = await self._live(connection, tag_keys)
                guard_stamp = new_stamp()
                await self._write_stamps(connection, {guard: guard_stamp})
                current = tuple(rows.get(name) for name in tag_keys)
                tags = await self._create_missing(connection, tag_keys, current)
                await self._write_entry(connection, key, guard_stamp + tags + body, ttl)
        except FAILURES as error:
            self._distrust()  # the entry it replaces is still valid
            self._failed("put", error)
            return False
        return True

    async def invalidate(self, targets: Targets, entries: Sequence[tuple[str, str]]) -> bool:
        """Rotate the guards and group stamps of ``targets`` and delete this release's entries.

        Inside a unit of work this is handed to a background task and reported as done.
        """
        unstamped = self._noted_unstamped()
        if self._in_unit_of_work():
            self._spawn(self._invalidate(targets, entries, unstamped=unstamped))
            return True
        return await self._invalidate(targets, entries, unstamped=unstamped)

    async def _invalidate(
        self,
        targets: Targets,
        entries: Sequence[tuple[str, str]],
        *,
        quiet: bool = False,
        unstamped: frozenset[str] = frozenset(),
    ) -> bool:
        """Delete the live stamps of ``targets`` (and this release's entries under them).

        A stamp nobody holds needs no write: every fill creates its stamps when it begins, so a missing
        stamp means no fill under it has begun since the last invalidation (and an entry can only be
        current while all its stamps live). Most invalidations therefore cost one read, and none when
        the commit they follow saw no stamp of theirs (``unstamped``, see the module).
        """
        stamps = [stamp for stamp in map(tag_stamp, targets.tags) if stamp not in unstamped]
        stamps += [self._prefix + f"g:{name}" for name in targets.names]
        if not stamps:
            return True
        try:
            async with self._read_engine.connect() as connection:
                live = list(await self._live(connection, stamps))
            if live:
                doomed = [f"{self._prefix}e:{fp}:{name}" for name, fp in entries]
                async with self._writing() as connection:
                    await connection.execute(delete(self._table).where(self._table.c.key.in_(live + doomed)))
        except FAILURES as error:
            self._distrust()
            if quiet:
                cause = getattr(error, "orig", None) or error  # the driver's message, without the SQL
                logger.debug("database cache level not ready yet ({}); trying again on first use", cause)
            else:
                self._failed("invalidate", error)
            return False
        return True

    async def prepare(self) -> None:
        """Drop the epoch now if it is due, so first reads need not; a failure is retried on first use."""
        if not self._trusted:
            await self._trust(quiet=True)

    async def _trust(self, *, quiet: bool = False) -> bool:
        """Drop the epoch stamp unless a unit of work is open; return whether the table is trusted now.

        Dropping the epoch makes every older entry stale. Concurrent callers share one drop, and a
        write of this level that fails while it runs withholds the trust it would give.
        """
        if self._in_unit_of_work():
            return False
        async with self._flushing:
            if not self._trusted:
                failures = self._failures
                dropped = await self._invalidate(_FLUSH, (), quiet=quiet)
                self._trusted = dropped and self._failures == failures
        return self._trusted

    def _entry_key(self, key: CacheKey[Any]) -> str:
        return f"{self._prefix}e:{key.region.fingerprint}:{key.name}"

    def _stamp_keys(self, key: CacheKey[Any]) -> list[str]:
        return [f"{self._prefix}g:{key.name}", *map(tag_stamp, key.tags)]

    async def _live(self, connection: AsyncConnection, keys: Sequence[str]) -> dict[str, bytes]:
        table = self._table
        query = select(table.c.key, table.c.value).where(
            table.c.key.in_(keys), table.c.expires_at > datetime.now(UTC)
        )
        return {row.key: bytes(row.value) for row in await connection.execute(query)}

    async def _create_missing(
        self, connection: AsyncConnection, keys: Sequence[str], current: tuple[bytes | None, ...]
    ) -> bytes:
        created = {name: new_stamp() for name, stamp in zip(keys, current, strict=True) if stamp is None}
        if created:
            await self._write_stamps(connection, created)
        return b"".join(
            stamp if stamp is not None else created[name] for name, stamp in zip(keys, current, strict=True)
        )

    async def _add_missing_stamps(self, connection: AsyncConnection, names: Sequence[str]) -> None:
        """Create the stamps ``names`` where no live one exists (another fill's stays as it is)."""
        now = datetime.now(UTC)
        expires = now + self._stamp_ttl
        await connection.execute(
            self._insert_missing_rows,
            [{"key": name, "value": new_stamp(), "expires_at": expires, "now": now} for name in names],
        )

    async def _write_stamps(self, connection: AsyncConnection, stamps: dict[str, bytes]) -> None:
        expires = datetime.now(UTC) + self._stamp_ttl
        await self._upsert(
            connection, [{"key": k, "value": v, "expires_at": expires} for k, v in stamps.items()]
        )

    async def _write_entry(
        self, connection: AsyncConnection, key: CacheKey[Any], value: bytes, ttl: float
    ) -> None:
        expires = datetime.now(UTC) + timedelta(seconds=ttl)
        await self._upsert(connection, [{"key": self._entry_key(key), "value": value, "expires_at": expires}])

    async def _upsert(self, connection: AsyncConnection, rows: list[dict[str, Any]]) -> None:
        await connection.execute(self._upsert_rows, rows)

    async def _purge_if_due(self, connection: AsyncConnection) -> None:
        now = datetime.now(UTC)
        if now < self._next_purge:
            return
        self._next_purge = now + timedelta(seconds=self._config.database_purge_interval)
        await connection.execute(delete(self._table).where(self._table.c.expires_at <= now))

    def _noted_unstamped(self) -> frozenset[str]:
        """Take the task's :func:`note_unstamped` note; its stamps if it still holds for this level."""
        note = _unstamped.get()
        if note is None:
            return frozenset()
        scope = committed_unit()
        if note.unit is None or note.unit is not scope:
            _unstamped.set(None)  # a lone write's note serves one invalidation; a unit's, its callbacks
        fresh = note.sessions is self._sessions and note.turn == note.sessions.write_turns
        return note.stamps if fresh and note.unit is scope else frozenset()

    def _in_unit_of_work(self) -> bool:
        if self._sessions is None:
            return False
        try:
            return self._sessions.current() is not None
        except TransactionError:
            return True

    def _distrust(self) -> None:
        """A write that should have made entries stale failed: trust nothing until the epoch is dropped."""
        self._failures += 1
        self._trusted = False

    @asynccontextmanager
    async def _writing(self) -> AsyncIterator[AsyncConnection]:
        """A write transaction on the engine, taken in this process's SQLite write turn."""
        if self._sessions is None:
            async with self._engine.begin() as connection:
                yield connection
            return
        async with self._sessions.write_turn(), self._engine.begin() as connection:
            yield connection

    def _failed(self, operation: str, error: BaseException) -> None:
        self._stats.count_error(CacheLevel.DATABASE)
        logger.warning("database cache level: {} failed: {}: {}", operation, type(error).__name__, error)
