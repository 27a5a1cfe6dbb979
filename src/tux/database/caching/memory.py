"""The memory level: a bounded, expiring map in the process, tuned for the hit path and for size.

Eviction is CLOCK (second chance) over a ring of slots: a hit only sets the slot's flag, and eviction
moves a hand round the ring, giving entries that were read since its last pass one more round and
dropping the others. It keeps LRU's hit ratio (better under scans: an entry read once never pushes out
a hot one) while a hit does no reordering, which matters when a hit must cost a few hundred
nanoseconds. No library fitted: ``cachetools`` bounds by entries or a size function but has neither
per-entry TTL with a byte bound nor group indexes, and would add a call layer on every hit.

An entry is a slot number: the name -> slot dict is the only per-entry hash table, and the entry's
value, copier, name, expiry, size and flag sit at that index of flat arrays (``array`` for the
numbers, a ``bytearray`` for the flags), about 41 bytes plus the slot number instead of an object, a
float and an int per entry. Freed slots are reused. A key without parts (a guild's config) is its own
``kind:guild`` group, so only keys with parts are indexed by group; dropping a whole type scans the
names (rare: a write whose guild is unknown). The level is bounded by entries and by approximate
bytes (:func:`entry_size`: the value, its key and the bookkeeping), counted per type as well. While the
invalidation bus is down the level is made inactive: it is emptied and neither serves nor stores
anything until it is activated again.
"""

from __future__ import annotations

import sys
import time
from array import array
from collections.abc import Callable, Coroutine, Iterable
from typing import TYPE_CHECKING, Any

from tux.database.caching.keys import EPOCH_TAG, CacheKey, tags_of
from tux.database.caching.snapshot import Copier, Frozen, allocated
from tux.database.caching.stats import MemoryFigures
from tux.database.caching.types import MISS, NOT_FOUND, Miss
from tux.database.core.session import NO_UNITS, SessionProvider, open_units

if TYPE_CHECKING:
    from tux.database.caching.region import CacheRegion

Method = Callable[..., Coroutine[Any, Any, Any]]
_NO_ARGUMENT: Any = object()
"""Default of a guild reader's first parameter: tells "not given" from any value."""

_monotonic = time.monotonic


SLOT_BYTES = 41 + 56
"""Bookkeeping of one entry besides its value and key: eight bytes in each of five arrays, one flag
byte, and the name -> slot dict's share (a 24-byte entry and an index at two-thirds load, about 56
bytes at worst; the slot number's own int object is in the key's figure, see :func:`entry_size`)."""


def entry_size(name: str, frozen: Frozen) -> int:
    """Return the bytes one entry keeps alive: its value, its key, the slot number and the bookkeeping."""
    return frozen.size + allocated(sys.getsizeof(name)) + allocated(sys.getsizeof(1 << 20)) + SLOT_BYTES


class MemoryLevel:
    """Process-local cache level.

    Parameters
    ----------
    max_entries
        Most entries kept.
    max_bytes
        Most bytes kept, by :func:`entry_size`; a single value larger than an eighth of it is not
        cached.
    """

    def __init__(self, max_entries: int, max_bytes: int) -> None:
        self._max_entries = max_entries
        self._max_bytes = max_bytes
        self._slots: dict[str, int] = {}
        self._names: list[str | None] = []
        self._values: list[object] = []
        self._copiers: list[Copier | None] = []
        self._expires = array("d")
        self._sizes = array("q")
        self._visited = bytearray()
        self._free: list[int] = []
        self._hand = 0
        self._groups: dict[str, set[str]] = {}
        self._kind_entries: dict[str, int] = {}
        self._kind_bytes: dict[str, int] = {}
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
        slot = self._slots.get(key.name)
        if slot is None:
            return MISS
        if self._expires[slot] <= _monotonic():
            self._drop(key.name)
            self.expirations += 1
            return MISS
        self._visited[slot] = 1
        stats = region.stats
        stats.memory_hits += 1
        value = self._values[slot]
        if value is NOT_FOUND:
            stats.negative_hits += 1
            return None
        copier = self._copiers[slot]
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
        slots = self._slots
        values = self._values
        expires = self._expires
        visited = self._visited
        guild_keys = region.guild_keys
        stats = region.stats
        current = sessions.current

        async def read(owner: Any, guild_id: Any = _NO_ARGUMENT, /, *args: Any, **kwargs: Any) -> Any:
            if (
                not args
                and not kwargs
                and type(guild_id) is int
                and (key := guild_keys.get(guild_id)) is not None
                and (slot := slots.get(key.name)) is not None
                and expires[slot] > _monotonic()
                and (open_units() is NO_UNITS or current() is None)
            ):
                visited[slot] = 1
                stats.memory_hits += 1
                value = values[slot]
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
        if not self.active or ttl <= 0:
            return
        size = entry_size(name, frozen)
        if size > self._max_bytes // 8:
            return
        self._drop(name)
        while self._slots and (len(self._slots) >= self._max_entries or self.bytes + size > self._max_bytes):
            self._evict_one()
        slot = self._take_slot()
        self._slots[name] = slot
        self._names[slot] = name
        self._values[slot] = frozen.value
        self._copiers[slot] = frozen.copier
        self._expires[slot] = _monotonic() + ttl
        self._sizes[slot] = size
        self._visited[slot] = 0
        self.bytes += size
        kind, group = _kind_and_group(name)
        self._kind_entries[kind] = self._kind_entries.get(kind, 0) + 1
        self._kind_bytes[kind] = self._kind_bytes.get(kind, 0) + size
        if group != name:
            self._groups.setdefault(group, set()).add(name)

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
            if ":" not in tag:
                self._drop_kind(tag)
                continue
            for name in list(self._groups.get(tag, ())):
                self._drop(name)
            self._drop(tag)  # a key without parts is its own group

    def clear(self) -> None:
        """Drop everything (in place: guild readers hold the arrays)."""
        self._slots.clear()
        self._names.clear()
        self._values.clear()
        self._copiers.clear()
        del self._expires[:]
        del self._sizes[:]
        del self._visited[:]
        self._free.clear()
        self._hand = 0
        self._groups.clear()
        self._kind_entries.clear()
        self._kind_bytes.clear()
        self.bytes = 0

    def figures(self) -> MemoryFigures:
        """Return size and churn counters, and entries and bytes per type."""
        per_type = {kind: (count, self._kind_bytes[kind]) for kind, count in self._kind_entries.items()}
        return MemoryFigures(len(self._slots), self.bytes, self.evictions, self.expirations, per_type)

    def __len__(self) -> int:
        return len(self._slots)

    def _take_slot(self) -> int:
        if self._free:
            return self._free.pop()
        self._names.append(None)
        self._values.append(None)
        self._copiers.append(None)
        self._expires.append(0.0)
        self._sizes.append(0)
        self._visited.append(0)
        return len(self._names) - 1

    def _drop(self, name: str) -> None:
        slot = self._slots.pop(name, None)
        if slot is None:
            return
        size = self._sizes[slot]
        self.bytes -= size
        self._names[slot] = self._values[slot] = self._copiers[slot] = None
        self._free.append(slot)
        kind, group = _kind_and_group(name)
        left = self._kind_entries[kind] - 1
        if left:
            self._kind_entries[kind] = left
            self._kind_bytes[kind] -= size
        else:
            del self._kind_entries[kind], self._kind_bytes[kind]
        if group != name:
            members = self._groups.get(group)
            if members is not None:
                members.discard(name)
                if not members:
                    del self._groups[group]

    def _drop_kind(self, kind: str) -> None:
        if kind in self._kind_entries:
            prefix = kind + ":"
            for name in [name for name in self._slots if name.startswith(prefix)]:
                self._drop(name)

    def _evict_one(self) -> None:
        """Move the hand to the first entry not read since its last pass (or expired) and drop it."""
        names, visited, expires = self._names, self._visited, self._expires
        now = _monotonic()
        hand = self._hand
        while True:
            if hand >= len(names):
                hand = 0
            name = names[hand]
            if name is not None:
                if visited[hand] and expires[hand] > now:
                    visited[hand] = 0
                else:
                    break
            hand += 1
        self._hand = hand + 1
        self._drop(name)
        if expires[hand] <= now:
            self.expirations += 1
        else:
            self.evictions += 1


def _kind_and_group(name: str) -> tuple[str, str]:
    """Return the type of the key called ``name`` and its ``kind:guild`` group."""
    _, kind, group = tags_of(name)
    return kind, group
