"""Timing for ``tux-db bench``: contenders measured in alternating rounds, reported as medians.

Each round times a batch of calls of every contender in turn, so a change in the machine's load
(other processes, a CPU slowing down) weighs on all of them alike; each figure is the median over
the rounds of the per-call mean of a batch.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

Call = Callable[[], Awaitable[Any]]


@dataclass(frozen=True, slots=True)
class Timing:
    """Microseconds per call of one contender: median and 95th percentile over the rounds."""

    median_us: float
    p95_us: float
    rounds: int


async def contest(
    calls: Mapping[str, Call], *, rounds: int, batch: int, warmup: int = 20
) -> dict[str, Timing]:
    """Time every call of ``calls`` in ``rounds`` alternating rounds of ``batch`` calls each."""
    for call in calls.values():
        for _ in range(warmup):
            await call()
    means: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(rounds):
        for name, call in calls.items():
            started = time.perf_counter_ns()
            for _ in range(batch):
                await call()
            means[name].append((time.perf_counter_ns() - started) / batch / 1000)
    return {name: _summary(values) for name, values in means.items()}


def _summary(values: list[float]) -> Timing:
    ordered = sorted(values)
    return Timing(
        statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))], len(ordered)
    )


Write = Callable[[], Awaitable[int]]
"""A bulk write: writes some rows and returns how many."""


async def contest_bulk(
    writes: Mapping[str, Write], reset: Callable[[], Awaitable[None]], *, rounds: int
) -> dict[str, Timing]:
    """Time every write of ``writes`` once per round, taking turns, on an emptied table; µs per row.

    ``reset`` empties the table before each write (untimed); a first round warms up and is not counted.
    """
    per_row: dict[str, list[float]] = {name: [] for name in writes}
    for round_number in range(rounds + 1):
        for name, write in writes.items():
            await reset()
            started = time.perf_counter_ns()
            rows = await write()
            elapsed = time.perf_counter_ns() - started
            if round_number:
                per_row[name].append(elapsed / rows / 1000)
    await reset()
    return {name: _summary(values) for name, values in per_row.items()}
