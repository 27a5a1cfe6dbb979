"""``BatchOperationManager``: bulk create, update, upsert and delete for any repository, in one transaction.

``db.batch.batch_create(db.levels, rows)`` checks every row like a single ``create`` before sending
anything, then writes them in one unit of work (the caller's, when one is open): ``COPY`` on
PostgreSQL above :attr:`copy_threshold` rows, ``executemany`` otherwise, SQLite's own ``executemany``
there. The batch is all-or-nothing unless ``savepoint_per_chunk=True``, which puts each chunk in a
SAVEPOINT, keeps going past a failed chunk and reports it in :attr:`BatchResult.failed_chunks`.

A repository the registry hands out wrapped in the cache (:class:`CachedRepository`) is accepted: the
changes its cache table states for each row are gathered per guild and invalidated once, after the
commit, through the same :class:`~tux.database.repositories.cached.Invalidator` single writes use.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from loguru import logger
from sqlalchemy.ext.asyncio import AsyncSession

from tux.database.caching.keys import EPOCH_TAG, Targets
from tux.database.caching.manager import CacheManager
from tux.database.core.client import DatabaseClient
from tux.database.core.errors import translate_error
from tux.database.exceptions import ConfigurationError, DatabaseError, ValidationError
from tux.database.operations import writers
from tux.database.operations.columns import DriverRows, Group, check_groups, driver_rows, rows_in_order
from tux.database.operations.metrics import BatchStats
from tux.database.operations.rows import (
    BatchValidationError,
    Row,
    Target,
    checked_identity,
    checked_rows,
    layouts,
    merged_by_key,
    resolve,
)
from tux.database.repositories.cached import Invalidator
from tux.database.repositories.cached_specs import FAILED, Change
from tux.database.repositories.validation import field_spec
from tux.database.transactions.patterns import TransactionManager

__all__ = ["BatchOperationManager", "BatchResult", "BatchValidationError", "ChunkFailure", "Progress"]

T = TypeVar("T")
Progress = Callable[[int, int], object]
"""Called as ``progress(done, total)`` after each chunk is written (before the commit)."""
ChunkWriter = Callable[[AsyncSession, list[Any]], Awaitable[tuple[int, list[Any]]]]


@dataclass(frozen=True, slots=True)
class ChunkFailure:
    """A chunk that failed under ``savepoint_per_chunk``: items ``start`` to ``stop - 1``, rolled back."""

    index: int
    start: int
    stop: int
    error: DatabaseError


@dataclass(frozen=True, slots=True)
class _Job:
    """One batch call: what it writes, how, and what it changes in the cache."""

    operation: str
    target: Target
    work: list[Any]
    changes: Targets
    write: ChunkWriter
    guilds: Sequence[int]


class BatchResult(list[T]):
    """The rows written, as model instances when ``returning=True`` (the plan's list), and the totals.

    Attributes
    ----------
    written
        Rows inserted or deleted; for upserts, and updates without ``returning``, the rows sent (an
        update of a missing id or an upsert that keeps the stored row changes nothing); for updates
        with ``returning``, the rows read back.
    failed_chunks
        Chunks rolled back to their savepoint (only with ``savepoint_per_chunk=True``).
    """

    written: int
    failed_chunks: tuple[ChunkFailure, ...]

    def __init__(self, rows: Iterable[T], written: int, failed_chunks: Iterable[ChunkFailure] = ()) -> None:
        super().__init__(rows)
        self.written = written
        self.failed_chunks = tuple(failed_chunks)


class BatchOperationManager:
    """Bulk writes through any repository of one ``Database``.

    Parameters
    ----------
    db_client
        The database's client (its sessions, dialect and statement hub).
    cache
        The cache behind the registry's cached repositories; needed to batch through one of them.
    transactions
        The transaction manager to open units of work with (default: a new one on the client).
    copy_threshold
        Rows from which PostgreSQL inserts use ``COPY`` (below it, ``executemany``).
    chunk_size
        Rows per chunk: the unit of progress reports and of ``savepoint_per_chunk``.
    """

    def __init__(
        self,
        db_client: DatabaseClient,
        *,
        cache: CacheManager | None = None,
        transactions: TransactionManager | None = None,
        copy_threshold: int | None = None,
        chunk_size: int | None = None,
    ) -> None:
        settings = db_client.settings
        self.db_client = db_client
        self._sessions = db_client.sessions
        self._sqlite = db_client.sessions.is_sqlite
        self._transactions = transactions if transactions is not None else TransactionManager(self._sessions)
        self._invalidator = Invalidator(cache) if cache is not None and cache.enabled else None
        self.stats = BatchStats()
        """Calls, failures, rows and durations per operation and table (``BatchCollector`` exports them)."""
        self.copy_threshold = copy_threshold if copy_threshold is not None else settings.batch_copy_threshold
        self.batch_size = chunk_size if chunk_size is not None else settings.batch_chunk_size
        """Rows per chunk (the plan's name)."""
        if self.copy_threshold < 1 or self.batch_size < 1:
            raise ConfigurationError("copy_threshold and chunk_size must be at least 1")

    async def batch_create(
        self,
        repository: Any,
        items: Iterable[Mapping[str, object]],
        *,
        returning: bool = True,
        savepoint_per_chunk: bool = False,
        progress: Progress | None = None,
    ) -> BatchResult[Any]:
        """Insert ``items`` through ``repository``'s table.

        Parameters
        ----------
        returning
            Return the created rows as model instances (generated keys and defaults filled in), as the
            plan's ``batch_create`` did; ``False`` skips building them and lets PostgreSQL use ``COPY``.
        savepoint_per_chunk
            Keep going past a failing chunk (reported in :attr:`BatchResult.failed_chunks`).
        progress
            Called with ``(done, total)`` after each chunk.

        Raises
        ------
        BatchValidationError
            If a row is invalid; its index is :attr:`BatchValidationError.index`; nothing is written.
        """
        target = self._target(repository)
        groups = check_groups(target.model, items)
        count = sum(len(group.positions) for group in groups)
        rows = rows_in_order(groups, count) if returning or target.cache_table is not None else []
        changes = self._changes(target, "create", ((FAILED, row) for row in rows))
        guilds = self._guilds_of(target, groups)
        prepared = (
            None if returning else driver_rows(target.table, groups, count, self.db_client.engine.dialect)
        )
        if prepared is None:  # instances wanted, or rows leave out a column only the database fills
            job = _Job(
                "batch_create",
                target,
                rows or rows_in_order(groups, count),
                changes,
                self._orm_insert(target, returning=returning),
                guilds,
            )
        else:
            job = _Job(
                "batch_create",
                target,
                prepared.records,
                changes,
                self._driver_insert(target, prepared.columns),
                guilds,
            )
        return await self._run(job, savepoint_per_chunk, progress)

    async def batch_upsert(
        self,
        repository: Any,
        items: Iterable[Mapping[str, object]],
        *,
        conflict_fields: Sequence[str] | None = None,
        update_fields: Sequence[str] | None = None,
        accumulate: Sequence[str] = (),
        returning: bool = False,
        savepoint_per_chunk: bool = False,
        progress: Progress | None = None,
    ) -> BatchResult[Any]:
        """Insert ``items`` or update the rows they collide with: ``INSERT ... ON CONFLICT DO UPDATE``.

        Rows with the same conflict key are merged first, later fields winning (one statement cannot
        update a row twice). ``accumulate`` fields add up instead, in the merge and against the stored
        row (``xp = levels.xp + excluded.xp``): an XP migration run twice adds twice.

        Parameters
        ----------
        conflict_fields
            The unique key; defaults to the primary key.
        update_fields
            Fields overwritten on conflict; default: every given field outside the key. Empty: keep
            the stored row (insert if missing).
        accumulate
            Numeric fields added to the stored value on conflict.
        """
        target = self._target(repository)
        keys = tuple(conflict_fields or target.primary_key)
        for name in (*keys, *(update_fields or ()), *accumulate):
            field_spec(target.model, name)
        groups = check_groups(target.model, items)
        checked = rows_in_order(groups, sum(len(group.positions) for group in groups))
        rows, merged = merged_by_key(checked, keys, accumulate)
        if merged:
            logger.debug("batch_upsert on {}: {} duplicate key(s) merged", target.name, merged)
        changes = self._changes(target, "upsert", ((FAILED, row) for row in rows))
        guilds = self._guilds_of(target, rows)

        async def write(session: AsyncSession, chunk: list[Row]) -> tuple[int, list[Any]]:
            written, found = 0, []
            for layout in layouts(target, chunk):
                found += await writers.upsert_rows(
                    session,
                    self._sessions,
                    target,
                    layout,
                    keys=keys,
                    update_fields=update_fields,
                    accumulate=accumulate,
                    returning=returning,
                )
                written += len(layout.rows)
            return written, found

        job = _Job("batch_upsert", target, rows, changes, write, guilds)
        return await self._run(job, savepoint_per_chunk, progress)

    async def batch_update(
        self,
        repository: Any,
        updates: Iterable[tuple[Any, Mapping[str, object]]],
        *,
        returning: bool = True,
        savepoint_per_chunk: bool = False,
        progress: Progress | None = None,
    ) -> BatchResult[Any]:
        """Apply ``(id, data)`` updates; return the updated rows (ids that do not exist are skipped).

        Updates that set the same fields go as one ``executemany``; with ``returning`` the rows are
        read back once per chunk (by key: one array parameter on PostgreSQL).
        """
        target = self._target(repository)
        pairs = list(updates)
        ids = [checked_identity(target, index, pair[0]) for index, pair in enumerate(pairs)]
        data = checked_rows(target, (pair[1] for pair in pairs), partial=True)
        changes = self._changes(
            target, "update", ((FAILED, pair[0], row) for pair, row in zip(pairs, data, strict=True))
        )
        work = list(zip(ids, data, strict=True))

        async def write(
            session: AsyncSession, chunk: list[tuple[tuple[object, ...], Row]]
        ) -> tuple[int, list[Any]]:
            by_fields: dict[tuple[str, ...], list[dict[str, object]]] = {}
            for identity, row in chunk:
                if row:
                    parameters = {
                        f"k_{name}": value for name, value in zip(target.primary_key, identity, strict=True)
                    }
                    parameters |= {f"v_{name}": value for name, value in row.items()}
                    by_fields.setdefault(tuple(row), []).append(parameters)
            for fields, parameter_sets in by_fields.items():
                await writers.update_rows(session, target, fields, parameter_sets)
            if not returning:
                return len(chunk), []
            found = await self._select(session, target, [identity for identity, _ in chunk])
            return len(found), found

        job = _Job("batch_update", target, work, changes, write, ())
        return await self._run(job, savepoint_per_chunk, progress)

    async def batch_delete(
        self,
        repository: Any,
        ids: Iterable[Any],
        *,
        savepoint_per_chunk: bool = False,
        progress: Progress | None = None,
    ) -> BatchResult[Any]:
        """Delete the rows keyed by ``ids`` (tuples in key order for composite keys).

        One statement per chunk on PostgreSQL, the ids as one array parameter per key column; ``IN``
        lists sized to SQLite's parameter limit there. :attr:`BatchResult.written` says how many went.
        """
        target = self._target(repository)
        given = list(ids)
        identities = [checked_identity(target, index, identity) for index, identity in enumerate(given)]
        changes = self._changes(target, "delete", ((FAILED, identity) for identity in given))

        async def write(session: AsyncSession, chunk: list[tuple[object, ...]]) -> tuple[int, list[Any]]:
            written = 0
            for where in writers.identity_match(target, chunk, sqlite=self._sqlite):
                written += await writers.delete_matching(session, target, where)
            return written, []

        job = _Job("batch_delete", target, identities, changes, write, ())
        return await self._run(job, savepoint_per_chunk, progress)

    def _orm_insert(self, target: Target, *, returning: bool) -> ChunkWriter:
        """SQLAlchemy's bulk insert (``executemany``, or ``INSERT ... RETURNING`` in bulk)."""

        async def insert(session: AsyncSession, chunk: list[Row]) -> tuple[int, list[Any]]:
            created = await writers.insert_rows(session, target, chunk, returning=returning)
            return len(chunk), created

        return insert

    def _driver_insert(self, target: Target, columns: tuple[str, ...]) -> ChunkWriter:
        """The driver's own bulk path: ``COPY`` from the threshold on PostgreSQL, else ``executemany``."""
        statements = self.db_client.statements

        async def send(session: AsyncSession, chunk: list[tuple[object, ...]]) -> tuple[int, list[Any]]:
            rows = DriverRows(columns, chunk)
            if not self._sqlite and len(chunk) >= self.copy_threshold:
                return await writers.copy_rows(session, statements, target.table, rows), []
            return await writers.executemany_rows(
                session, statements, target.table, rows, sqlite=self._sqlite
            ), []

        return send

    async def _select(
        self, session: AsyncSession, target: Target, identities: list[tuple[object, ...]]
    ) -> list[Any]:
        found: list[Any] = []
        for where in writers.identity_match(target, identities, sqlite=self._sqlite):
            found += await writers.select_matching(session, target, where)
        return found

    def _target(self, repository: Any) -> Target:
        target = resolve(repository, self._sessions)
        if target.cache_table is not None and self._invalidator is None:
            raise ConfigurationError(
                f"{type(repository).__name__} is cached: batch through it with db.batch, or build "
                "BatchOperationManager(db.client, cache=db.cache) so its writes invalidate"
            )
        return target

    def _changes(self, target: Target, method: str, calls: Iterable[tuple[Any, ...]]) -> Targets:
        """Return what the cache table says the writes change, widened to one invalidation per guild."""
        if target.cache_table is None or self._invalidator is None:
            return Targets()
        changes_of = target.cache_table.writes.get(method)
        if changes_of is None:
            return Targets(tags=(EPOCH_TAG,))
        per_guild: dict[Change, None] = {}
        for call in calls:
            for change in changes_of(*call):
                per_guild[Change(change.event, change.guild_id)] = None
        return self._invalidator.targets(per_guild)

    def _guilds_of(self, target: Target, rows: Sequence[Row] | Sequence[Group]) -> list[int]:
        """Guild ids the rows hang off (the table references ``guild``), to insert the missing ones first."""
        column = target.table.c.get("guild_id")
        if column is None or not any(key.column.table.name == "guild" for key in column.foreign_keys):
            return []
        found: set[object] = set()
        for row in rows:
            if isinstance(row, Group):
                found.update(row.column("guild_id") if "guild_id" in row.given else ())
            else:
                found.add(row.get("guild_id"))
        return sorted(guild for guild in found if isinstance(guild, int))

    async def _run(self, job: _Job, savepoint_per_chunk: bool, progress: Progress | None) -> BatchResult[Any]:
        started = time.perf_counter()
        written, failed = 0, True
        try:
            async with self._transactions.transaction(job.operation) as unit:
                session = unit.session
                await writers.ensure_guilds(session, self._sessions, job.guilds)
                result = await self._chunks(session, job.work, job.write, savepoint_per_chunk, progress)
                await self._invalidate(job.changes)
            written, failed = result.written, False
        except ValidationError:
            raise
        except BaseException:
            await self._invalidate(job.changes)  # it may have committed (a lost COMMIT); stale is worse
            raise
        finally:
            elapsed = time.perf_counter() - started
            self.stats.record(job.operation, job.target.name, written, elapsed, failed=failed)
        logger.debug(
            "{} on {}: {} of {} row(s) in {:.1f} ms",
            job.operation,
            job.target.name,
            written,
            len(job.work),
            elapsed * 1000,
        )
        return result

    async def _invalidate(self, changes: Targets) -> None:
        if changes and self._invalidator is not None:
            await self._invalidator.after_commit(self._sessions, changes)

    async def _chunks(
        self,
        session: AsyncSession,
        work: list[Any],
        write: ChunkWriter,
        savepoint_per_chunk: bool,
        progress: Progress | None,
    ) -> BatchResult[Any]:
        rows: list[Any] = []
        failures: list[ChunkFailure] = []
        written = 0
        size = self.batch_size
        for index, start in enumerate(range(0, len(work), size)):
            chunk = work[start : start + size]
            if not savepoint_per_chunk:
                count, found = await write(session, chunk)
                written += count
                rows += found
            else:
                try:
                    async with session.begin_nested():
                        count, found = await write(session, chunk)
                except Exception as error:
                    translated = translate_error(error)
                    if translated is None:
                        raise
                    failures.append(ChunkFailure(index, start, start + len(chunk), translated))
                    logger.warning(
                        "batch chunk {} (items {}-{}) rolled back: {}",
                        index,
                        start,
                        start + len(chunk) - 1,
                        translated,
                    )
                else:
                    written += count
                    rows += found
            if progress is not None:
                progress(start + len(chunk), len(work))
        return BatchResult(rows, written, failures)
