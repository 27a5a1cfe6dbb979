"""Counters of the cache: plain integer attributes, so counting costs the hit path next to nothing.

A cached "not found" counts as a hit (it saved a query) and is also reported on its own.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tux.database.caching.types import CacheLevel


class RegionStats:
    """Counters of one type of value."""

    __slots__ = (
        "database_hits",
        "database_misses",
        "fills",
        "loads",
        "lookup_misses",
        "memory_hits",
        "memory_misses",
        "negative_hits",
        "redis_hits",
        "redis_misses",
        "refused_fills",
    )

    def __init__(self) -> None:
        self.memory_hits = self.memory_misses = 0
        self.redis_hits = self.redis_misses = 0
        self.database_hits = self.database_misses = 0
        self.negative_hits = self.loads = self.fills = self.refused_fills = 0
        self.lookup_misses = 0

    def count_hit(self, level: CacheLevel) -> None:
        """Count a hit in a shared level, REDIS or DATABASE (memory counts its own, inline)."""
        if level is CacheLevel.REDIS:
            self.redis_hits += 1
        else:
            self.database_hits += 1

    def count_miss(self, level: CacheLevel) -> None:
        """Count a miss in a shared level, REDIS or DATABASE (memory misses are counted inline)."""
        if level is CacheLevel.REDIS:
            self.redis_misses += 1
        else:
            self.database_misses += 1

    def snapshot(self, memory: tuple[int, int] = (0, 0)) -> TypeStats:
        """Return the counters as an immutable record, with the type's ``(entries, bytes)`` in memory."""
        hits = {level.value: getattr(self, f"{level.value}_hits") for level in CacheLevel}
        misses = {level.value: getattr(self, f"{level.value}_misses") for level in CacheLevel}
        served = sum(hits.values())
        return TypeStats(
            hits=hits,
            misses=misses,
            served=served,
            missed=self.lookup_misses,
            loads=self.loads,
            hit_rate=_rate(served, served + self.lookup_misses),
            negative_hits=self.negative_hits,
            fills=self.fills,
            refused_stale_fills=self.refused_fills,
            memory_entries=memory[0],
            memory_bytes=memory[1],
        )


@dataclass(frozen=True, slots=True)
class TypeStats:
    """Counters of one type.

    Hits and misses per level, lookups served from cache vs. missed everywhere, and loader runs (fewer
    than misses when concurrent misses share one load), and the entries and bytes the type holds in the
    memory level (bytes as :func:`~tux.database.caching.memory.entry_size` counts them).
    """

    hits: Mapping[str, int]
    misses: Mapping[str, int]
    served: int
    missed: int
    loads: int
    hit_rate: float
    negative_hits: int
    fills: int
    refused_stale_fills: int
    memory_entries: int = 0
    memory_bytes: int = 0


@dataclass(frozen=True, slots=True)
class CacheStatsSnapshot:
    """What :meth:`CacheManager.stats` returns."""

    enabled: bool
    hits: Mapping[str, int]
    misses: Mapping[str, int]
    hit_rate: float
    negative_hits: int
    loads: int
    refused_stale_fills: int
    invalidations_sent: int
    invalidations_failed: int
    level_errors: Mapping[str, int]
    bus_messages_received: int
    bus_disconnects: int
    redis_available: bool
    bus_connected: bool
    memory_entries: int
    memory_bytes: int
    evictions: int
    expirations: int
    per_type: Mapping[str, TypeStats]

    def to_dict(self) -> dict[str, Any]:
        """Return plain nested dicts (for logging, metrics exporters, the CLI)."""
        return dataclasses.asdict(self)


class CacheStats:
    """All counters of one cache manager except the memory level's own (size, evictions)."""

    def __init__(self) -> None:
        self.regions: dict[str, RegionStats] = {}
        self.level_errors: dict[CacheLevel, int] = dict.fromkeys(CacheLevel, 0)
        self.invalidations_sent = 0
        self.invalidations_failed = 0
        self.bus_messages = 0
        self.bus_disconnects = 0

    def region(self, kind: str) -> RegionStats:
        """Return (creating it once) the counters of ``kind``."""
        stats = self.regions.get(kind)
        if stats is None:
            stats = self.regions[kind] = RegionStats()
        return stats

    def count_error(self, level: CacheLevel) -> None:
        """Count one failed operation of ``level``."""
        self.level_errors[level] += 1

    def snapshot(
        self, *, enabled: bool, memory: MemoryFigures, redis_available: bool, bus_connected: bool
    ) -> CacheStatsSnapshot:
        """Return every counter at once."""
        kinds = {*self.regions, *memory.per_type}
        regions = {kind: self.regions.get(kind) or RegionStats() for kind in kinds}
        per_type = {
            kind: stats.snapshot(memory.per_type.get(kind, (0, 0))) for kind, stats in sorted(regions.items())
        }
        hits = {level.value: sum(t.hits[level.value] for t in per_type.values()) for level in CacheLevel}
        misses = {level.value: sum(t.misses[level.value] for t in per_type.values()) for level in CacheLevel}
        served = sum(t.served for t in per_type.values())
        missed = sum(t.missed for t in per_type.values())
        return CacheStatsSnapshot(
            enabled=enabled,
            hits=hits,
            misses=misses,
            hit_rate=_rate(served, served + missed),
            negative_hits=sum(t.negative_hits for t in per_type.values()),
            loads=sum(t.loads for t in per_type.values()),
            refused_stale_fills=sum(t.refused_stale_fills for t in per_type.values()),
            invalidations_sent=self.invalidations_sent,
            invalidations_failed=self.invalidations_failed,
            level_errors={level.value: count for level, count in self.level_errors.items()},
            bus_messages_received=self.bus_messages,
            bus_disconnects=self.bus_disconnects,
            redis_available=redis_available,
            bus_connected=bus_connected,
            memory_entries=memory.entries,
            memory_bytes=memory.bytes,
            evictions=memory.evictions,
            expirations=memory.expirations,
            per_type=per_type,
        )


@dataclass(frozen=True, slots=True)
class MemoryFigures:
    """Size and churn of the memory level."""

    entries: int
    bytes: int
    evictions: int
    expirations: int
    per_type: Mapping[str, tuple[int, int]] = dataclasses.field(default_factory=dict)
    """Type -> (entries, bytes) in the memory level."""


def _rate(part: int, whole: int) -> float:
    return part / whole if whole else 0.0
