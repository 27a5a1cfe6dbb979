"""The miss path: read through the shared levels, load once, and fill only what is still current.

:class:`ReadThrough` walks the shared levels fastest first. On a miss in a level it *begins* a fill
there (stamps, and in Redis the key's lease) before it reads the next level or calls the loader, so an
invalidation that lands in between refuses the fill. When another process holds the lease it polls
Redis with bounded exponential backoff for that process's value instead of loading too. Concurrent
misses of one key in this process share one read-through (single flight).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar, cast

import msgspec
from loguru import logger

from tux.database.caching.config import CacheConfig
from tux.database.caching.keys import Targets, tags_of
from tux.database.caching.memory import MemoryLevel
from tux.database.caching.region import CacheKey, Fill, SharedLevel
from tux.database.caching.snapshot import Frozen
from tux.database.caching.tickets import FillTicket, TicketBook
from tux.database.caching.types import MISS, NOT_FOUND, CacheLevel, StoreResult

V = TypeVar("V")
_FIRST_POLL = 0.001
_MAX_POLL = 0.05


class ReadThrough:
    """Lookups below the memory level, and the fills that follow them."""

    def __init__(self, tickets: TicketBook, memory: MemoryLevel, config: CacheConfig) -> None:
        self._tickets = tickets
        self._memory = memory
        self._lease_wait = config.lease_ttl
        self._flights: dict[str, _Flight] = {}

    async def read(self, key: CacheKey[V], shared: Sequence[SharedLevel], *, memory: bool) -> object:
        """Return the value from the first shared level that has it (filling those above), or ``MISS``."""
        if not shared:
            return MISS
        if not memory and len(shared) == 1:
            found, _, _ = await self._descend(key, shared, loading=False)
            return found
        ticket = self._tickets.open(key.name)
        try:
            found, fills, _ = await self._descend(key, shared, loading=False)
            if found is MISS:
                await _release(key, fills)
            else:
                refused = bool(fills) and await self._store(key, fills, found)
                self._keep(key, ticket, found, refused=refused, memory=memory)
            return found
        finally:
            self._tickets.close(ticket)

    async def load(
        self, key: CacheKey[V], shared: Sequence[SharedLevel], loader: Callable[[], Awaitable[V | None]]
    ) -> V | None:
        """Find ``key`` in a shared level or run ``loader``; fill every level that is still current.

        Concurrent calls for one key in this process share one read-through (single flight): the
        first leads, the others wait for its outcome and get their own copy of a mutable value. If the
        leader is cancelled, a waiting caller takes over. Written as one coroutine, since every frame
        here is resumed again on each round trip to Redis.
        """
        name = key.name
        while (running := self._flights.get(name)) is not None:
            outcome = await running.outcome()
            if outcome is not None:
                return cast("V | None", _follow(key, *outcome))
        flight = self._flights[name] = _Flight()
        region = key.region
        ticket: FillTicket | None = None
        try:
            if region.memory:
                ticket = self._tickets.open(name)
            found, fills, level = await self._descend(key, shared, loading=True)
            if found is MISS:
                region.stats.lookup_misses += 1
                region.stats.loads += 1
                try:
                    value = await loader()
                except BaseException:
                    await _release(key, fills)
                    raise
                found = NOT_FOUND if value is None else value
            else:
                value = None if found is NOT_FOUND else cast("V", found)  # a level holds the key's type
            refused = bool(fills) and await self._store(key, fills, found)
            frozen = self._keep(key, ticket, found, refused=refused, memory=region.memory)
        except BaseException as error:
            flight.fail(error)
            raise
        finally:
            if self._flights.get(name) is flight:  # not forgotten by an invalidation
                del self._flights[name]
            if ticket is not None:
                self._tickets.close(ticket)
        flight.land(found, level, frozen)
        return value

    def forget(self, targets: Targets) -> None:
        """Detach the loads in flight that ``targets`` invalidate, so that later callers load anew.

        Such a load still answers the callers that joined it before the invalidation (they asked before
        it), and its fills are refused by their tickets and stamps.
        """
        if not self._flights:
            return
        if targets.flush:
            self._flights.clear()
            return
        names, tags = set(targets.names), set(targets.tags)
        for name in [name for name in self._flights if name in names or not tags.isdisjoint(tags_of(name))]:
            del self._flights[name]

    async def _descend(
        self, key: CacheKey[V], shared: Sequence[SharedLevel], *, loading: bool
    ) -> tuple[object, list[tuple[SharedLevel, Fill]], CacheLevel | None]:
        stats = key.region.stats
        fills: list[tuple[SharedLevel, Fill]] = []
        for index, level in enumerate(shared):
            found = await level.read(key)
            if found is MISS:
                stats.count_miss(level.level)
                if not loading and index == len(shared) - 1:
                    break
                fill = await level.begin(key, lease=loading)
                if fill is not None and fill.contended:
                    found, fill = await self._await_leaseholder(key, level)
                elif fill is not None:
                    found = fill.found
            if found is not MISS:
                stats.count_hit(level.level)
                stats.negative_hits += found is NOT_FOUND
                return found, fills, level.level
            if fill is not None:
                fills.append((level, fill))
        return MISS, fills, None

    async def _await_leaseholder(self, key: CacheKey[V], level: SharedLevel) -> tuple[object, Fill | None]:
        """Poll ``level`` until the lease holder's value appears, the lease is ours, or the wait is over.

        The wait is bounded by the lease TTL: a holder that died lets its lease expire, and after that
        this process loads (its fill is still guarded by the stamps).
        """
        deadline = time.monotonic() + self._lease_wait
        delay = _FIRST_POLL
        while True:
            await asyncio.sleep(delay)
            delay = min(delay * 2, _MAX_POLL)
            fill = await level.begin(key, lease=True)
            if fill is None or not fill.contended or time.monotonic() >= deadline:
                return (MISS, fill) if fill is None else (fill.found, fill)

    async def _store(self, key: CacheKey[V], fills: list[tuple[SharedLevel, Fill]], found: object) -> bool:
        """Store ``found`` in the shared levels where a fill began; return whether one refused it."""
        ttl = key.region.policy.entry_ttl(found=found is not NOT_FOUND)
        body = _encode(key, found) if ttl > 0 else None
        refused = False
        for level, fill in reversed(fills):
            if body is None or refused:
                await level.release(key, fill)
            else:
                refused = await level.store(key, fill, body, ttl) is StoreResult.REFUSED
        return refused

    def _keep(
        self, key: CacheKey[V], ticket: FillTicket | None, found: object, *, refused: bool, memory: bool
    ) -> Frozen | None:
        """Offer ``found`` to memory unless a fill was refused or invalidated; return what was offered.

        Preparing a value for sharing scans it (and copies it when it is mutable), so it is done only
        when the memory level is to keep it (the level may still decline: inactive, or too large).
        """
        region = key.region
        if refused or (ticket is not None and not self._tickets.usable(ticket)):
            region.stats.refused_fills += 1
            return None
        if not memory:
            return None
        ttl = region.policy.entry_ttl(found=found is not NOT_FOUND)
        if ttl <= 0:
            return None
        frozen = Frozen(found)
        self._memory.put(key.name, frozen, ttl)
        region.stats.fills += 1
        return frozen


class _Flight:
    """A read-through in progress.

    Its future is made by the first caller that waits for it, so a flight nobody waits for allocates
    none and prepares nothing for sharing.
    """

    __slots__ = ("_done",)

    def __init__(self) -> None:
        self._done: asyncio.Future[tuple[Frozen, CacheLevel | None] | None] | None = None

    async def outcome(self) -> tuple[Frozen, CacheLevel | None] | None:
        """Wait for the leader's outcome; ``None`` if it was cancelled (the caller then leads).

        The outcome is the value prepared for sharing and where it was found.
        """
        if self._done is None:
            self._done = asyncio.get_running_loop().create_future()
            self._done.add_done_callback(_retrieve)
        return await asyncio.shield(self._done)

    def land(self, found: object, level: CacheLevel | None, frozen: Frozen | None) -> None:
        """Hand the leader's outcome to the callers waiting (its error, if it cannot be shared)."""
        if self._done is None:
            return
        try:
            shared = frozen if frozen is not None else Frozen(found)
        except Exception as error:  # noqa: BLE001 - a value that cannot be copied fails the waiters only
            self._done.set_exception(error)
            return
        self._done.set_result((shared, level))

    def fail(self, error: BaseException) -> None:
        """Pass the leader's error on (a cancelled leader lets a waiting caller take over)."""
        if self._done is not None:
            if isinstance(error, asyncio.CancelledError):
                self._done.set_result(None)
            else:
                self._done.set_exception(error)


def _follow(key: CacheKey[V], frozen: Frozen, level: CacheLevel | None) -> object:
    stats = key.region.stats
    if level is None:
        stats.lookup_misses += 1
    else:
        stats.count_hit(level)
    if frozen.value is NOT_FOUND:
        stats.negative_hits += level is not None
        return None
    return frozen.thaw()


def _retrieve(flight: asyncio.Future[V]) -> None:
    """Mark a failed flight's exception as seen even when no caller waited for it."""
    if not flight.cancelled():
        flight.exception()


def _encode(key: CacheKey[V], value: object) -> bytes | None:
    try:
        return key.region.codec.encode(cast("V", value))  # the key's value, or NOT_FOUND
    except (msgspec.EncodeError, TypeError, ValueError) as error:
        logger.warning("value of {} cannot be encoded for the shared cache levels: {}", key.name, error)
        return None


async def _release(key: CacheKey[V], fills: list[tuple[SharedLevel, Fill]]) -> None:
    for level, fill in fills:
        await level.release(key, fill)
