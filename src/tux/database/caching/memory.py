"""The memory level: a bounded, expiring map in the process, tuned for the hit path and for size.

Eviction is CLOCK (second chance) over a ring of entries: a hit only sets the entry's flag, and
eviction moves a hand round the ring, giving entries that were read since its last pass one more round
and dropping the others; a new entry takes the evicted one's place, just behind the hand. It keeps
LRU's hit ratio (better under scans: an entry read once never pushes out a hot one) while a hit does no
reordering, which matters when a hit must cost a few hundred nanoseconds. No library fitted:
``cachetools`` bounds by entries or a size function but has neither per-entry TTL with a byte bound nor
group indexes, and would add a call layer on every hit.

An entry is as small as the hit path allows: a ``float`` subclass whose value is its expiry time, with
three slots (name, value, flag), 64 bytes; the dict from name to entry and the ring's pointer are the
rest of its bookkeeping. A value that must be copied per reader lives in a second dict, in an entry
that also holds its copier, so shared values (every cached row) pay nothing for it and the hit path
never asks; an entry's size is computed again when it is dropped rather than kept.
A key without parts (a guild's config) is its own ``kind:guild`` group, so only keys with parts are
indexed by group; dropping a whole type scans the names (rare: a write whose guild is unknown). The
level is bounded by entries and by approximate bytes (:func:`entry_size`: the value, its key and the
bookkeeping), counted per type as well. While the invalidation bus is down the level is made inactive:
it is emptied and neither serves nor stores anything until it is activated again.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, cast

from tux.database.caching.keys import EPOCH_TAG, tags_of
from tux.database.caching.snapshot import Copier, Frozen, allocated, approximate_size
from tux.database.caching.stats import MemoryFigures
from tux.database.caching.types import MISS, NOT_FOUND, Miss

if TYPE_CHECKING:
    from tux.database.caching.region import CacheKey

_monotonic = time.monotonic


ENTRY_BYTES = 64 + 8 + 56
"""Bookkeeping of one entry besides its value and key: the entry object, its pointer in the ring, and
the name -> entry dict's share (a 24-byte entry and an index at two-thirds load, about 56 bytes)."""


class _Entry(float):
    """One cached value; the float is the monotonic time it expires at."""

    __slots__ = ("name", "value", "visited")

    name: str
    value: object
    visited: bool


class _PrivateEntry(_Entry):
    """An entry whose value is mutable: each reader gets a copy made by ``copier``."""

    __slots__ = ("copier",)

    copier: Copier


_DROPPED: Any = object()
"""Value of an entry that left the level but still holds its place in the ring."""


def entry_size(name: str, value_bytes: int) -> int:
    """Return the bytes one entry keeps alive: its value's ``value_bytes``, its key and the bookkeeping."""
    return value_bytes + allocated(sys.getsizeof(name)) + ENTRY_BYTES


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
        self._entries: dict[str, _Entry] = {}
        self._private: dict[str, _PrivateEntry] = {}
        self._ring: list[_Entry] = []
        self._hand = 0
        self._dropped = 0
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
        entry = self._entries.get(key.name)
        if entry is None and (entry := self._private.get(key.name)) is None:
            return MISS
        if entry <= _monotonic():
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
        return value if type(entry) is _Entry else cast(_PrivateEntry, entry).copier(value)

    @property
    def shared_entries(self) -> dict[str, _Entry]:
        """The entries of immutable values, by key name, for a hit path written out in its own frame.

        Such a path (:func:`~tux.database.repositories.cached_guild.guild_reader`) only reads them and
        sets an entry's ``visited`` flag, as :meth:`lookup` does, and leaves every miss to it.
        """
        return self._entries

    def put(self, name: str, frozen: Frozen, ttl: float) -> None:
        """Store ``frozen`` under ``name`` for ``ttl`` seconds, evicting as needed."""
        if not self.active or ttl <= 0:
            return
        size = entry_size(name, frozen.size)
        if size > self._max_bytes // 8:
            return
        self._drop(name)
        place = -1
        while len(self) and (len(self) >= self._max_entries or self.bytes + size > self._max_bytes):
            place = self._evict_one()
        expires = _monotonic() + ttl
        if frozen.copier is None:
            entry = self._entries[name] = _Entry(expires)
        else:
            entry = self._private[name] = _PrivateEntry(expires)
            entry.copier = frozen.copier
        entry.name = name
        entry.value = frozen.value
        entry.visited = False
        if place < 0:
            self._ring.append(entry)
        else:  # the evicted entry's place, just behind the hand: the last the hand comes back to
            self._ring[place] = entry
            self._dropped -= 1
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
        """Drop everything."""
        self._entries.clear()
        self._private.clear()
        self._ring.clear()
        self._hand = self._dropped = 0
        self._groups.clear()
        self._kind_entries.clear()
        self._kind_bytes.clear()
        self.bytes = 0

    def figures(self) -> MemoryFigures:
        """Return size and churn counters, and entries and bytes per type."""
        per_type = {kind: (count, self._kind_bytes[kind]) for kind, count in self._kind_entries.items()}
        return MemoryFigures(len(self), self.bytes, self.evictions, self.expirations, per_type)

    def __len__(self) -> int:
        return len(self._entries) + len(self._private)

    def _drop(self, name: str) -> None:
        entry = self._entries.pop(name, None)
        if entry is None and (entry := self._private.pop(name, None)) is None:
            return
        size = entry_size(name, approximate_size(entry.value))  # the value never changed: same size
        entry.name = entry.value = _DROPPED
        self.bytes -= size
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
        self._dropped += 1
        if self._dropped > 32 and self._dropped * 2 > len(self._ring):
            self._compact()

    def _drop_kind(self, kind: str) -> None:
        if kind in self._kind_entries:
            prefix = kind + ":"
            for name in [name for name in (*self._entries, *self._private) if name.startswith(prefix)]:
                self._drop(name)

    def _evict_one(self) -> int:
        """Move the hand to the first entry not read since its last pass (or expired) and drop it.

        Returns the place in the ring the dropped entry held.
        """
        ring = self._ring
        now = _monotonic()
        hand = self._hand
        while True:
            if hand >= len(ring):
                hand = 0
            entry = ring[hand]
            if entry.value is not _DROPPED:
                if not entry.visited or entry <= now:
                    break
                entry.visited = False
            hand += 1
        self._hand = hand + 1
        if entry <= now:
            self.expirations += 1
        else:
            self.evictions += 1
        self._drop(entry.name)
        return hand if hand < len(ring) and ring[hand] is entry else -1

    def _compact(self) -> None:
        """Remove the places of dropped entries from the ring, keeping the hand on the same entry."""
        ring = self._ring
        self._hand = sum(entry.value is not _DROPPED for entry in ring[: self._hand])
        ring[:] = [entry for entry in ring if entry.value is not _DROPPED]
        self._dropped = 0


def _kind_and_group(name: str) -> tuple[str, str]:
    """Return the type of the key called ``name`` and its ``kind:guild`` group."""
    _, kind, group = tags_of(name)
    return kind, group
