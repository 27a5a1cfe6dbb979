"""Merging the processes' measurements, and the statistics the report shows."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from tux.database.cli.simulate.recorder import ChatFigures, OperationSamples
from tux.database.cli.simulate.runner import SimulationResult
from tux.database.cli.simulate.shard import TimelinePoint


def percentile(samples: Sequence[float], fraction: float) -> float:
    """Return the ``fraction`` percentile of ``samples`` (linear interpolation; 0.0 when empty)."""
    if not samples:
        return 0.0
    ordered = sorted(samples)
    position = (len(ordered) - 1) * fraction
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def latency_summary(samples: Sequence[float]) -> dict[str, float | int]:
    """Return count and p50/p95/p99 (milliseconds) of ``samples`` (seconds)."""
    return {
        "count": len(samples),
        "p50_ms": percentile(samples, 0.50) * 1000,
        "p95_ms": percentile(samples, 0.95) * 1000,
        "p99_ms": percentile(samples, 0.99) * 1000,
    }


def merged_operations(result: SimulationResult) -> dict[str, OperationSamples]:
    """Return every operation's samples over all processes, by name."""
    merged: dict[str, OperationSamples] = {}
    for shard in result.shards:
        for name, samples in shard.operations.items():
            merged.setdefault(name, OperationSamples()).merge(samples)
    return dict(sorted(merged.items()))


def merged_chat(result: SimulationResult) -> ChatFigures:
    """Return the chat-path statement figures over all processes."""
    merged = ChatFigures()
    for shard in result.shards:
        merged.merge(shard.chat)
    return merged


def merged_cache_types(result: SimulationResult) -> dict[str, dict[str, Any]]:
    """Return per cache type: hits and misses per level, served, missed (summed over processes)."""
    merged: dict[str, dict[str, Any]] = {}
    for shard in result.shards:
        for kind, stats in shard.cache["per_type"].items():
            into = merged.setdefault(kind, {"hits": {}, "misses": {}, "served": 0, "missed": 0, "loads": 0})
            for counter in ("hits", "misses"):
                for level, count in stats[counter].items():
                    into[counter][level] = into[counter].get(level, 0) + count
            for counter in ("served", "missed", "loads"):
                into[counter] += stats[counter]
    for stats in merged.values():
        lookups = stats["served"] + stats["missed"]
        stats["hit_rate"] = stats["served"] / lookups if lookups else 0.0
    return dict(sorted(merged.items()))


def merged_timeline(result: SimulationResult) -> list[TimelinePoint]:
    """Return the processes' cache timelines summed per sampling slot."""
    length = max((len(shard.timeline) for shard in result.shards), default=0)
    points = []
    for slot in range(length):
        present = [
            shard.timeline[min(slot, len(shard.timeline) - 1)] for shard in result.shards if shard.timeline
        ]
        points.append(
            TimelinePoint(
                at=max(point.at for point in present),
                served=sum(point.served for point in present),
                missed=sum(point.missed for point in present),
                completed=sum(point.completed for point in present),
            )
        )
    return points
