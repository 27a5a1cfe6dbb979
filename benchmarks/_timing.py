"""Timing helpers the benchmarks share: batched means, contenders taking turns, median and p95."""

from __future__ import annotations

import statistics
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

Call = Callable[[], Awaitable[Any]]


async def batch_timings(call: Call, *, batch: int, samples: int, warmup: int = 0) -> list[float]:
    """Return ``samples`` timings in microseconds, each the mean of ``batch`` consecutive calls."""
    for _ in range(warmup):
        await call()
    timings = []
    for _ in range(samples):
        started = time.perf_counter_ns()
        for _ in range(batch):
            await call()
        timings.append((time.perf_counter_ns() - started) / batch / 1000)
    return timings


async def taking_turns(calls: Mapping[str, Call], samples: int) -> dict[str, list[float]]:
    """Time single calls taking turns, so drift in the machine's load weighs on every contender alike."""
    timings: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(samples):
        for name, call in calls.items():
            started = time.perf_counter_ns()
            await call()
            timings[name].append((time.perf_counter_ns() - started) / 1000)
    return timings


def median_p95(timings: list[float]) -> tuple[float, float]:
    """Return the median and the 95th percentile."""
    ordered = sorted(timings)
    return statistics.median(ordered), ordered[int(len(ordered) * 0.95)]
