"""The memory level: a bounded, expiring map in the process, tuned for the hit path.

Eviction is CLOCK (second chance) over an ``OrderedDict``: a hit only sets a flag on the entry, and
eviction walks from the oldest entry, giving entries that were read since the last pass one more
round and dropping the others. It keeps LRU's hit ratio (better under scans: an entry read once never
pushes out a hot one) while a hit does no reordering, which matters when a hit must cost a few hundred
nanoseconds. No library fitted: ``cachetools`` bounds by entries or a size function but has neither
per-entry TTL with a byte bound nor group indexes, and would add a call layer on every hit.

The level is bounded twice, by entries and by approximate bytes, and keeps an index from group tag to
keys so a group invalidation drops exactly its keys. While the invalidation bus is down the level is
made inactive: it is emptied and neither serves nor stores anything until it is activated again.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Coroutine, Iterable
from typing import TYPE_CHECKING, Any

from tux.database.caching.keys import EPOCH_TAG, CacheKey, tags_of
from tux.database.caching.snapshot import Copier, Frozen
from tux.database.caching.stats import MemoryFigures
from tux.database.caching.types import MISS, NOT_FOUND, Miss
from tux.database.core.session import NO_UNITS, SessionProvider, open_units

if TYPE_CHECKING:
    from tux.database.caching.region import CacheRegion

Method = Callable[..., Coroutine[Any, Any, Any]]
_NO_ARGUMENT: Any = object()
"""Default of a guild reader's first parameter: tells "not given" from any value."""

_monotonic = time.monotonic


class _Entry:
    __slots__ = ("copier", "expires", "size", "value", "visited")

    def __init__(self, frozen: Frozen, expires: float) -> None:
        self.value = frozen.value
        self.copier: Copier | None = frozen.copier
        self.size = frozen.size
        self.expires = expires
        self.visited = False


class MemoryLevel:
    """Process-local cache level.

    Parameters
    ----------
    max_entries
        Most entries kept.
    max_bytes
        Most bytes kept, by :func:`~tux.database.caching.snapshot.approximate_size`; a single value
        larger than an eighth of it is not cached.
    """

    def __init__(self, max_entries: int, max_bytes: int) -> None:
        self._max_entries = max_entries
        self._max_bytes = max_bytes
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._groups: dict[str, set[str]] = {}
        self.active = True
        self.bytes = 0
        self.evictions = 0
        self.expirations = 0

    def lookup(self, key: CacheKey[Any]) -> object | Miss | None:
        """Return the value of ``key`` (a private copy if it is mutable), ``None`` or ``MISS``.

        ``None`` is a cached "not found". A hit is counted in the key's region; a miss is left to the
        caller, who goes on to the next level. Written as one function: it is the whole memory hit.
        """
        region = key.region
        if not region.memory:
            return MISS
        entry = self._entries.get(key.name)
        if entry is None:
            return MISS
        if entry.expires <= _monotonic():
            self._drop(key.name)
            self.expirations += 1
            return MISS
        entry.visited = True
        stats = region.stats
        stats.memory_hits += 1
        value = entry.value
        if value is NOT_FOUND:
            stats.negative_hits += 1
            return None
        copier = entry.copier
        return value if copier is None else copier(value)

    def guild_reader(
        self,
        region: CacheRegion[Any],
        thaw: Callable[[Any], Any],
        *,
        sessions: SessionProvider,
        fallback: Method,
    ) -> Method:
        """Return an async method that serves the guild values of ``region`` from this level.

        ``method(owner, guild_id)``, with one positional guild id whose key ``region`` has built before,
        outside a unit of work, is answered here on a hit: ``thaw`` of the stored value (which it must
        not change: it copies what it hands out), or ``None`` for a cached "not found". Any other call,
        and every miss or expired entry, is ``fallback`` with the same arguments. The hit is written out
        in the method's own frame: it is the hottest path of the library (a guild's config and prefix,
        on every message). For a region kept out of memory the method is ``fallback`` itself.
        """
        if not region.memory:
            return fallback
        entries = self._entries
        guild_keys = region.guild_keys
        stats = region.stats
        current = sessions.current

        async def read(owner: Any, guild_id: Any = _NO_ARGUMENT, /, *args: Any, **kwargs: Any) -> Any:
            if (
                not args
                and not kwargs
                and type(guild_id) is int
                and (key := guild_keys.get(guild_id)) is not None
                and (entry := entries.get(key.name)) is not None
                and entry.expires > _monotonic()
                and (open_units() is NO_UNITS or current() is None)
            ):
                entry.visited = True
                stats.memory_hits += 1
                value = entry.value
                if value is NOT_FOUND:
                    stats.negative_hits += 1
                    return None
                return thaw(value)
            if guild_id is _NO_ARGUMENT:
                return await fallback(owner, *args, **kwargs)
            return await fallback(owner, guild_id, *args, **kwargs)

        return read

    def put(self, name: str, frozen: Frozen, ttl: float) -> None:
        """Store ``frozen`` under ``name`` for ``ttl`` seconds, evicting as needed."""
        if not self.active or ttl <= 0 or frozen.size > self._max_bytes // 8:
            return
        self._drop(name)
        self._entries[name] = _Entry(frozen, _monotonic() + ttl)
        self.bytes += frozen.size
        for tag in tags_of(name)[1:]:
            self._groups.setdefault(tag, set()).add(name)
        self._evict()

    def delete_names(self, names: Iterable[str]) -> None:
        """Drop the keys ``names``."""
        for name in names:
            self._drop(name)

    def delete_tags(self, tags: Iterable[str]) -> None:
        """Drop every key of the groups ``tags`` (``*`` drops everything)."""
        for tag in tags:
            if tag == EPOCH_TAG:
                self.clear()
                return
            for name in list(self._groups.get(tag, ())):
                self._drop(name)

    def clear(self) -> None:
        """Drop everything."""
        self._entries.clear()
        self._groups.clear()
        self.bytes = 0

    def figures(self) -> MemoryFigures:
        """Return size and churn counters."""
        return MemoryFigures(len(self._entries), self.bytes, self.evictions, self.expirations)

    def __len__(self) -> int:
        return len(self._entries)

    def _drop(self, name: str) -> None:
        entry = self._entries.pop(name, None)
        if entry is None:
            return
        self.bytes -= entry.size
        for tag in tags_of(name)[1:]:
            group = self._groups.get(tag)
            if group is not None:
                group.discard(name)
                if not group:
                    del self._groups[tag]

    def _evict(self) -> None:
        entries = self._entries
        now = _monotonic()
        while len(entries) > self._max_entries or self.bytes > self._max_bytes:
            name, entry = next(iter(entries.items()))
            if entry.visited and entry.expires > now:
                entry.visited = False
                entries.move_to_end(name)
                continue
            self._drop(name)
            if entry.expires <= now:
                self.expirations += 1
            else:
                self.evictions += 1
