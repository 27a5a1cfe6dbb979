"""The miss path: read through the shared levels, load once, and fill only what is still current.

:class:`ReadThrough` walks the shared levels fastest first. On a miss in a level it *begins* a fill
there (stamps, and in Redis the key's lease) before it reads the next level or calls the loader, so an
invalidation that lands in between refuses the fill. When another process holds the lease it polls
Redis with bounded exponential backoff for that process's value instead of loading too.
:class:`Flights` makes concurrent misses of one key in this process share one read-through.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol

import msgspec
from loguru import logger

from tux.database.caching.config import CacheConfig
from tux.database.caching.keys import CacheKey
from tux.database.caching.memory import MemoryLevel
from tux.database.caching.snapshot import Frozen
from tux.database.caching.tickets import FillTicket, TicketBook
from tux.database.caching.types import MISS, NOT_FOUND, CacheLevel, StoreResult

Outcome = tuple[Any, Frozen, CacheLevel | None]
"""What a leader returns: its own value, the value prepared for followers, where it was found."""

_FIRST_POLL = 0.001
_MAX_POLL = 0.05


class Fill(Protocol):
    """A fill begun in a shared level."""

    @property
    def found(self) -> object:
        """The value, when a current entry appeared since the read that missed; else ``MISS``."""
        ...

    @property
    def contended(self) -> bool:
        """Whether another process holds the key's lease and is loading it."""
        ...


class SharedLevel(Protocol):
    """What the read-through needs from Redis and the cache table."""

    @property
    def level(self) -> CacheLevel:
        """Which level this is."""
        ...

    async def read(self, key: CacheKey[Any]) -> object:
        """Return the current value, ``NOT_FOUND`` or ``MISS``."""
        ...

    async def begin(self, key: CacheKey[Any], *, lease: bool) -> Fill | None:
        """Begin a fill; ``None`` when the level cannot take one now."""
        ...

    async def store(self, key: CacheKey[Any], fill: Any, body: bytes, ttl: float) -> StoreResult:
        """Store if nothing was invalidated since ``fill`` began."""
        ...

    async def release(self, key: CacheKey[Any], fill: Any) -> None:
        """Abandon ``fill`` (give up its lease)."""
        ...


class ReadThrough:
    """Lookups below the memory level, and the fills that follow them."""

    def __init__(self, tickets: TicketBook, memory: MemoryLevel, config: CacheConfig) -> None:
        self._tickets = tickets
        self._memory = memory
        self._lease_wait = config.lease_ttl

    async def read(self, key: CacheKey[Any], shared: Sequence[SharedLevel], *, memory: bool) -> object:
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
                await self._fill(key, ticket, fills, Frozen(found), memory=memory)
            return found
        finally:
            self._tickets.close(ticket)

    async def load(
        self, key: CacheKey[Any], shared: Sequence[SharedLevel], loader: Callable[[], Awaitable[Any]]
    ) -> Outcome:
        """Find ``key`` in a shared level or run ``loader``; fill every level that is still current."""
        region = key.region
        ticket = self._tickets.open(key.name) if region.memory else None
        try:
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
                value = None if found is NOT_FOUND else found
            frozen = Frozen(found)
            await self._fill(key, ticket, fills, frozen, memory=region.memory)
            return value, frozen, level
        finally:
            if ticket is not None:
                self._tickets.close(ticket)

    async def _descend(
        self, key: CacheKey[Any], shared: Sequence[SharedLevel], *, loading: bool
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

    async def _await_leaseholder(self, key: CacheKey[Any], level: SharedLevel) -> tuple[object, Fill | None]:
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

    async def _fill(
        self,
        key: CacheKey[Any],
        ticket: FillTicket | None,
        fills: list[tuple[SharedLevel, Fill]],
        frozen: Frozen,
        *,
        memory: bool,
    ) -> None:
        region = key.region
        ttl = region.policy.entry_ttl(found=frozen.value is not NOT_FOUND)
        body = _encode(key, frozen.value) if fills and ttl > 0 else None
        refused = False
        for level, fill in reversed(fills):
            if body is None or refused:
                await level.release(key, fill)
            else:
                refused = await level.store(key, fill, body, ttl) is StoreResult.REFUSED
        if refused or (ticket is not None and not self._tickets.usable(ticket)):
            region.stats.refused_fills += 1
            return
        if memory and ttl > 0:
            self._memory.put(key.name, frozen, ttl)
            region.stats.fills += 1


class Flights:
    """Concurrent misses of one key in this process share one read-through (single flight)."""

    def __init__(self) -> None:
        self._running: dict[str, asyncio.Future[tuple[Frozen, CacheLevel | None] | None]] = {}

    async def run(self, key: CacheKey[Any], lead: Callable[[], Awaitable[Outcome]]) -> Any:
        """Run ``lead`` for ``key`` unless one is running, else share the running one's outcome.

        Each caller gets its own copy of a mutable value. If the leader is cancelled, a waiting caller
        takes over.
        """
        name = key.name
        while (flight := self._running.get(name)) is not None:
            outcome = await asyncio.shield(flight)
            if outcome is not None:
                return _follow(key, *outcome)
        flight = asyncio.get_running_loop().create_future()
        flight.add_done_callback(_retrieve)
        self._running[name] = flight
        try:
            value, frozen, level = await lead()
        except asyncio.CancelledError:
            flight.set_result(None)
            raise
        except BaseException as error:
            flight.set_exception(error)
            raise
        finally:
            del self._running[name]
        flight.set_result((frozen, level))
        return value


def _follow(key: CacheKey[Any], frozen: Frozen, level: CacheLevel | None) -> Any:
    stats = key.region.stats
    if level is None:
        stats.lookup_misses += 1
    else:
        stats.count_hit(level)
    if frozen.value is NOT_FOUND:
        stats.negative_hits += level is not None
        return None
    return frozen.thaw()


def _retrieve(flight: asyncio.Future[Any]) -> None:
    """Mark a failed flight's exception as seen even when no caller waited for it."""
    if not flight.cancelled():
        flight.exception()


def _encode(key: CacheKey[Any], value: object) -> bytes | None:
    try:
        return key.region.codec.encode(value)
    except (msgspec.EncodeError, TypeError, ValueError) as error:
        logger.warning("value of {} cannot be encoded for the shared cache levels: {}", key.name, error)
        return None


async def _release(key: CacheKey[Any], fills: list[tuple[SharedLevel, Fill]]) -> None:
    for level, fill in fills:
        await level.release(key, fill)
