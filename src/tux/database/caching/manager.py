"""``CacheManager``: three cache levels behind one API that is fast on a hit and never stale.

Levels, fastest first: MEMORY (this process), REDIS (shared by the deployment), DATABASE (the
``cache_entry`` table, for expensive values when no Redis is configured). A lookup tries them in order
and a hit in a lower level fills the higher ones. A failing level never raises to the caller: it is
logged, counted and skipped.

Why nothing stale is served:

* **Invalidate after commit, publish after applying.** Callers invalidate from ``after_commit``; an
  invalidation is applied to this process's memory first, then to Redis (and the table), and only then
  published on the bus, so a process that hears of it and reloads reads the new state.
* **No stale fill.** A reader that missed opens a fill ticket (memory) and begins a fill in each shared
  level (stamps, see :mod:`~tux.database.caching.redis_level`) *before* it reads the next level or the
  database. An invalidation voids the tickets and changes the stamps, so the reader's later store is
  refused everywhere (counted as a refused stale fill), while the reader still returns what it read.
* **Single flight.** Concurrent misses of a key in a process share one load; across processes the
  first takes a Redis lease and the others poll Redis with bounded backoff for its value.
* **Coherence and outages.** See :mod:`~tux.database.caching.bus` (memory bypassed while the bus is
  down) and :mod:`~tux.database.caching.redis_level` (epoch bumped before Redis is used after an
  outage).
"""

from __future__ import annotations

import asyncio
import contextvars
import os
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar, cast

import msgspec
from loguru import logger
from sqlalchemy.ext.asyncio import AsyncEngine

from tux.database.caching.budget import MemoryBudget
from tux.database.caching.config import CacheConfig, CachePolicy
from tux.database.caching.keys import (
    EPOCH_TAG,
    NO_GUILD,
    Targets,
    check_kind,
    kind_of,
    parse_pattern,
)
from tux.database.caching.loading import ReadThrough
from tux.database.caching.memory import MemoryLevel
from tux.database.caching.region import CacheKey, CacheRegion, SharedLevel
from tux.database.caching.snapshot import Frozen
from tux.database.caching.stats import CacheStats, CacheStatsSnapshot
from tux.database.caching.tickets import TicketBook
from tux.database.caching.types import MISS, NOT_FOUND, CacheLevel, Miss
from tux.database.core.session import SessionProvider
from tux.database.exceptions import ConfigurationError, ValidationError
from tux.database.settings import DatabaseSettings

if TYPE_CHECKING:
    from tux.database.caching.bus import InvalidationBus
    from tux.database.caching.database_level import DatabaseLevel
    from tux.database.caching.redis_level import RedisLevel

__all__ = ["CacheLevel", "CacheManager"]

V = TypeVar("V")
Loader = Callable[[], Awaitable[V | None]]


class CacheManager:
    """The cache of one ``Database``.

    Parameters
    ----------
    config
        Policies and tuning; ``CacheConfig(enabled=False)`` turns every level off.
    redis_url
        Redis to use for the REDIS level and the invalidation bus; ``None`` for none.
    namespace
        The deployment's Redis key namespace (``settings.redis_namespace``).
    engine, sessions
        The database engine and session provider, for the DATABASE level (made only when a policy
        uses it); ``None`` for none.
    """

    def __init__(
        self,
        config: CacheConfig | None = None,
        *,
        redis_url: str | None = None,
        namespace: str = "tux",
        engine: AsyncEngine | None = None,
        sessions: SessionProvider | None = None,
    ) -> None:
        self.config = config = config if config is not None else CacheConfig()
        self.enabled = config.enabled
        self._stats = CacheStats()
        budget = MemoryBudget.of(config.memory_max_bytes)
        self._key_memo = budget.key_memo
        self._memory = MemoryLevel(config.memory_max_entries, budget.level_bytes)
        self._tickets = TicketBook(config.fill_max_age)
        self._regions: dict[str, CacheRegion[Any]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._origin = os.urandom(16)
        self._redis: RedisLevel | None = None
        self._bus: InvalidationBus | None = None
        self._database: DatabaseLevel | None = None
        if self.enabled and redis_url is not None:
            self._connect_redis(redis_url, namespace)
        if self.enabled and engine is not None and config.uses_database(redis=redis_url is not None):
            from tux.database.caching.database_level import DatabaseLevel  # noqa: PLC0415 - not with Redis

            self._database = DatabaseLevel(
                engine, sessions, config=config, stats=self._stats, spawn=self._spawn
            )
        self._read_through = ReadThrough(self._tickets, self._memory, config)

    @classmethod
    def from_settings(
        cls,
        settings: DatabaseSettings,
        *,
        config: CacheConfig | None = None,
        engine: AsyncEngine | None = None,
        sessions: SessionProvider | None = None,
    ) -> CacheManager:
        """Build the cache from the data layer's settings (Redis URL, namespace, ``cache_enabled``)."""
        config = config if config is not None else CacheConfig.from_settings(settings)
        return cls(
            config,
            redis_url=settings.redis_url_value(),
            namespace=settings.redis_namespace,
            engine=engine,
            sessions=sessions,
        )

    def _connect_redis(self, url: str, namespace: str) -> None:
        from tux.database.caching.bus import InvalidationBus  # noqa: PLC0415
        from tux.database.caching.redis_client import RedisClient  # noqa: PLC0415
        from tux.database.caching.redis_level import RedisLevel  # noqa: PLC0415

        client = RedisClient.from_url(
            url,
            socket_timeout=self.config.redis_socket_timeout,
            connect_timeout=self.config.redis_connect_timeout,
        )
        self._redis = RedisLevel(
            client,
            namespace=namespace,
            config=self.config,
            stats=self._stats,
            flush_message=self._flush_message,
        )
        self._bus = InvalidationBus(
            client,
            self._redis.channel,
            origin=self._origin,
            config=self.config,
            stats=self._stats,
            on_message=self._apply_locally,
            on_down=self._bus_down,
            on_up=self._bus_up,
        )
        self._memory.active = False

    # -- lifecycle -----------------------------------------------------------------------------------

    async def start(self, *, ready_within: float = 2.0) -> None:
        """Start the bus and the epoch bump; wait up to ``ready_within`` s for both.

        A Redis that does not answer is no error: the cache starts without it and resumes it later.
        Neither is a cache table that is not there yet (the database is migrated after ``connect``):
        the DATABASE level then drops its epoch on first use.
        """
        if self._database is not None:
            await self._database.prepare()
        if self._redis is None or self._bus is None:
            return
        self._redis.start(flush=self.config.flush_on_start)
        self._bus.start()
        try:
            async with asyncio.timeout(ready_within):
                await asyncio.gather(self._bus.ready.wait(), self._redis.ready.wait())
        except TimeoutError:
            logger.warning("Redis did not answer within {} s; the cache starts without it", ready_within)

    async def close(self) -> None:
        """Stop background tasks, finish pending level writes and release the Redis connections."""
        if self._bus is not None:
            await self._bus.close()
        await self.drain()
        if self._redis is not None:
            await self._redis.close()
        self._memory.clear()

    async def drain(self) -> None:
        """Wait for the background level writes started so far (deferred invalidations)."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    # -- regions and keys ------------------------------------------------------------------------------

    def region(self, kind: str, value_type: Any = Any) -> CacheRegion[Any]:
        """Return the region of ``kind``, creating it on first use with ``value_type``.

        A region first made untyped (by a string key or an invalidation) takes the first type given.
        Raises :class:`ConfigurationError` when ``kind`` was registered with another type.
        """
        region = self._regions.get(kind)
        if region is None:
            policy = self.config.policy(check_kind(kind))
            levels = self._levels_of(
                policy.effective_levels(redis=self._redis is not None, database=self._database is not None)
            )
            stats = self._stats.region(kind)
            region = CacheRegion(
                kind,
                policy=policy,
                value_type=value_type,
                levels=levels,
                shared=self._shared(levels),
                stats=stats,
                key_memo=self._key_memo,
            )
            self._regions[kind] = region
        elif value_type is not Any and region.value_type is not value_type:
            if region.value_type is not Any:
                raise ConfigurationError(
                    f"cache kind {kind!r} is already registered with {region.value_type!r}"
                )
            region.adopt(value_type)
        return region

    def key(self, kind: str, guild_id: int | None, *parts: str | int) -> CacheKey[Any]:
        """Build a key of ``kind`` (see :meth:`CacheRegion.key`)."""
        return self.region(kind).key(guild_id, *parts)

    # -- lookups -----------------------------------------------------------------------------------------

    async def get_or_load(self, key: CacheKey[V], loader: Loader[V]) -> V | None:
        """Return the cached value of ``key`` or run ``loader`` once and cache its result.

        ``loader`` returns the value, or ``None`` for "no such row", which is cached for the policy's
        negative TTL and served as ``None`` (counted as a hit). Concurrent calls for one key share one
        load. The value returned is the caller's own: mutating it changes nothing in the cache.
        Call it only outside a unit of work: values read inside one may be uncommitted.
        """
        found = self._memory.lookup(key)
        if found is MISS:
            return await self.load(key, loader)
        return cast("V | None", found)

    def adopt_policies(self, policies: Mapping[str, CachePolicy]) -> dict[str, CachePolicy]:
        """Take the default policies a repository declares for kinds the configuration does not set.

        Returns the policies now in force for the kinds that had no region yet (a region keeps the
        policy it was made with). A policy's DATABASE level is used only if the configuration's own
        policies started that level.
        """
        fresh = {kind: policy for kind, policy in policies.items() if kind not in self._regions}
        if not fresh:
            return {}
        self.config = self.config.with_defaults(fresh)
        return {kind: self.config.policy(kind) for kind in fresh}

    @property
    def memory(self) -> MemoryLevel:
        """The memory level, for hot paths built on it (the cached repositories' guild reader)."""
        return self._memory

    @property
    def peek(self) -> Callable[[CacheKey[Any]], object]:
        """The memory level's lookup: ``peek(key)`` is the value, ``None`` (cached "not found") or ``MISS``.

        The first half of :meth:`get_or_load`, without a coroutine: a hit is served and counted there;
        after a ``MISS``, call :meth:`load`, which counts the miss. It is the level's own bound method, so
        a caller that keeps it pays one call per hit.
        """
        return self._memory.lookup

    def load(self, key: CacheKey[V], loader: Loader[V]) -> Awaitable[V | None]:
        """The second half of :meth:`get_or_load`: the shared levels, then ``loader``, after a ``MISS``.

        Returns the read-through's coroutine rather than awaiting it: one frame less to resume on every
        Redis round trip.
        """
        region = key.region
        if region.memory:
            region.stats.memory_misses += 1
        elif not region.levels:
            return loader()
        return cast("Awaitable[V | None]", self._read_through.load(key, region.shared, loader))

    async def get(
        self, key: CacheKey[V] | str, cache_levels: Iterable[CacheLevel] | None = None
    ) -> V | Miss | None:
        """Return the cached value of ``key`` from ``cache_levels`` (default: its policy's).

        ``None`` is a cached "not found"; :data:`MISS` means no level has the key. A hit in a lower
        level fills the higher ones.
        """
        key = self._coerce(key)
        region = key.region
        levels = region.levels if cache_levels is None else _within(region.levels, cache_levels)
        if CacheLevel.MEMORY in levels:
            found = self._memory.lookup(key)
            if found is not MISS:
                return cast("V | None", found)
            region.stats.memory_misses += 1
        found = await self._read_through.read(key, self._shared(levels), memory=CacheLevel.MEMORY in levels)
        if found is MISS:
            region.stats.lookup_misses += 1
            return MISS
        return None if found is NOT_FOUND else cast(V, found)

    async def set(
        self,
        key: CacheKey[V] | str,
        value: V | None,
        ttl: float | None = None,
        levels: Iterable[CacheLevel] | None = None,
    ) -> None:
        """Store ``value`` (``None``: "not found") in ``levels`` (default: the policy's) for ``ttl`` s.

        Fills of the key begun earlier are refused, and other processes drop their memory copy. Call
        it after the commit. Prefer :meth:`invalidate` plus :meth:`get_or_load` after a write: two
        writers that both ``set`` after committing can finish in either order. A value the shared levels
        cannot encode is kept in memory only (logged).
        """
        key = self._coerce(key)
        region = key.region
        chosen = region.levels if levels is None else _within(region.levels, levels)
        if not chosen:
            return
        stored = NOT_FOUND if value is None else value
        seconds = ttl if ttl is not None else region.policy.entry_ttl(found=value is not None)
        self._tickets.void_names((key.name,))
        self._read_through.forget(Targets(names=(key.name,)))
        if CacheLevel.MEMORY in chosen:
            self._memory.put(key.name, Frozen(stored), seconds)
        if chosen == (CacheLevel.MEMORY,):
            return
        try:
            body = region.codec.encode(stored)
        except (msgspec.EncodeError, TypeError, ValueError) as error:
            logger.warning("value of {} cannot be encoded for the shared cache levels: {}", key.name, error)
            return
        if CacheLevel.DATABASE in chosen and self._database is not None:
            await self._database.put(key, body, seconds)
        if CacheLevel.REDIS in chosen and self._redis is not None and self._bus is not None:
            await self._redis.put(key, body, seconds, self._bus.encode(Targets(names=(key.name,))))

    # -- invalidation ------------------------------------------------------------------------------------

    async def invalidate(self, pattern: str | CacheKey[Any]) -> None:
        """Invalidate a key, or a group: ``"*"``, ``"kind:*"``, ``"kind:guild:*"`` (never a keyspace scan)."""
        targets = Targets(names=(pattern.name,)) if isinstance(pattern, CacheKey) else parse_pattern(pattern)
        await self.invalidate_targets(targets)

    async def invalidate_targets(self, targets: Targets) -> None:
        """Invalidate keys and groups in one step per level; never raises (failures are counted)."""
        if not self.enabled or not targets:
            return
        self._apply_locally(targets)
        entries = self._entry_names(targets.names)
        delivered = True
        if self._redis is not None and self._bus is not None:
            delivered = await self._redis.invalidate(targets, entries, self._bus.encode(targets))
        if self._database is not None and (in_table := self._in_database(targets)):
            sent = await self._database.invalidate(in_table, self._entry_names(in_table.names))
            delivered = sent and delivered
        if delivered:
            self._stats.invalidations_sent += 1
        else:
            self._stats.invalidations_failed += 1

    def _apply_locally(self, targets: Targets) -> None:
        """Drop ``targets`` from the memory level, void fills in flight for them, detach their loads."""
        self._tickets.void_names(targets.names)
        self._tickets.void_tags(targets.tags)
        self._read_through.forget(targets)
        self._memory.delete_names(targets.names)
        self._memory.delete_tags(targets.tags)

    def _entry_names(self, names: Sequence[str]) -> list[tuple[str, str]]:
        pairs = []
        for name in names:
            region = self._regions.get(kind_of(name))
            if region is not None and region.fingerprint != "local":
                pairs.append((name, region.fingerprint))
        return pairs

    def _in_database(self, targets: Targets) -> Targets:
        """Return the part of ``targets`` whose types the DATABASE level keeps (a flush is whole)."""
        if targets.flush:
            return targets
        kept = self._region_levels
        return Targets(
            tuple(name for name in targets.names if CacheLevel.DATABASE in kept(kind_of(name))),
            tuple(tag for tag in targets.tags if CacheLevel.DATABASE in kept(kind_of(tag))),
        )

    def _region_levels(self, kind: str) -> tuple[CacheLevel, ...]:
        region = self._regions.get(kind)
        if region is not None:
            return region.levels
        policy = self.config.policy(kind)
        return policy.effective_levels(redis=self._redis is not None, database=self._database is not None)

    # -- bus callbacks -----------------------------------------------------------------------------------

    def _bus_down(self, reason: str) -> None:
        self._memory.active = False
        self._memory.clear()
        self._tickets.void_all()
        if self._redis is not None:
            self._redis.trip(f"invalidation bus lost ({reason})")

    def _bus_up(self) -> None:
        self._memory.clear()
        self._tickets.void_all()
        self._memory.active = True

    def _flush_message(self) -> bytes:
        assert self._bus is not None  # only the Redis level asks, and it exists with the bus
        return self._bus.encode(Targets(tags=(EPOCH_TAG,)))

    # -- helpers -----------------------------------------------------------------------------------------

    def _levels_of(self, levels: tuple[CacheLevel, ...]) -> tuple[CacheLevel, ...]:
        return levels if self.enabled else ()

    def _shared(self, levels: tuple[CacheLevel, ...]) -> tuple[SharedLevel, ...]:
        shared: list[SharedLevel] = []
        for level in levels:
            if level is CacheLevel.REDIS and self._redis is not None:
                shared.append(self._redis)
            elif level is CacheLevel.DATABASE and self._database is not None:
                shared.append(self._database)
        return tuple(shared)

    def _coerce(self, key: CacheKey[V] | str) -> CacheKey[V]:
        if isinstance(key, CacheKey):
            return key
        targets = parse_pattern(key)
        if not targets.names:
            raise ValidationError(f"{key!r} is a pattern, not a key")
        guild = key.split(":")[1]
        return cast(
            CacheKey[V], CacheKey(self.region(kind_of(key)), None if guild == NO_GUILD else int(guild), key)
        )

    def _spawn(self, coroutine: Coroutine[Any, Any, object]) -> None:
        task = asyncio.create_task(coroutine, context=contextvars.Context())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- observation -------------------------------------------------------------------------------------

    @property
    def redis_available(self) -> bool:
        """Whether the Redis level is configured and currently used."""
        return self._redis is not None and self._redis.available

    @property
    def bus_connected(self) -> bool:
        """Whether the invalidation bus is subscribed (always ``False`` without Redis)."""
        return self._bus is not None and self._bus.connected

    @property
    def memory_active(self) -> bool:
        """Whether the memory level serves (it does not while the bus is down)."""
        return self.enabled and self._memory.active

    def stats(self) -> CacheStatsSnapshot:
        """Return every counter.

        Hits and misses per level and type, hit rate, refused stale fills, invalidations sent and
        failed, level errors, evictions and memory size.
        """
        return self._stats.snapshot(
            enabled=self.enabled,
            memory=self._memory.figures(),
            redis_available=self.redis_available,
            bus_connected=self.bus_connected,
        )


def _within(levels: tuple[CacheLevel, ...], wanted: Iterable[CacheLevel]) -> tuple[CacheLevel, ...]:
    """Return the ``levels`` that are also ``wanted``, in order."""
    chosen = set(wanted)
    return tuple(level for level in levels if level in chosen)
