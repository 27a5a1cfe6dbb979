"""One bot process of a simulation: workers handling events, the background loops, a cache timeline."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import resource
import sys
import time
from collections.abc import Iterator, MutableSequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tux.database.cli.simulate.bot import Bot, Ledger
from tux.database.cli.simulate.config import SimulationConfig
from tux.database.cli.simulate.probes import PROBES
from tux.database.cli.simulate.recorder import ChatFigures, OperationSamples, Recorder
from tux.database.cli.simulate.workload import Event, Workload
from tux.database.facade import Database

LOOP_INTERVAL = 0.25
"""Seconds between two runs of the background loops (the bot runs them every few seconds)."""
SAMPLE_INTERVAL = 0.25
"""Seconds between two points of the cache timeline."""


@dataclass(frozen=True, slots=True)
class TimelinePoint:
    """Cache lookups served and missed, and events done, ``at`` seconds into the run."""

    at: float
    served: int
    missed: int
    completed: int


@dataclass(slots=True)
class ShardResult:
    """Everything one process measured (plain data: it crosses process boundaries by pickle)."""

    shard: int
    elapsed: float
    completed: int
    operations: dict[str, OperationSamples]
    chat: ChatFigures
    ledger: Ledger
    cache: dict[str, Any]
    transactions: dict[str, Any]
    peak_rss_bytes: int
    timeline: list[TimelinePoint] = field(default_factory=list)
    probes: dict[str, Any] = field(default_factory=dict)


def peak_rss_bytes() -> int:
    """Return this process's peak resident set size in bytes."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak if sys.platform == "darwin" else peak * 1024)


def open_database(config: SimulationConfig) -> Database:
    """Return the :class:`Database` every process of ``config`` uses."""
    return Database(config.database_url, config.redis_url, redis_namespace=config.redis_namespace)


async def run_shard(
    config: SimulationConfig, shard: int, progress: MutableSequence[int], started: datetime
) -> ShardResult:
    """Replay shard ``shard``'s events with ``config.workers`` tasks; count done events in ``progress``."""
    workload = Workload(config)
    recorder = Recorder()
    events = workload.events(shard, config.processes)
    deadline = None if config.duration is None else time.perf_counter() + config.duration
    async with open_database(config) as db:
        bot = Bot(db, workload, recorder, started)
        probes = [make(db) for make in PROBES]
        timeline: list[TimelinePoint] = []
        stop = asyncio.Event()
        begun = time.perf_counter()

        async def worker() -> None:
            for event in _until(events, deadline):
                await bot.handle(event)
                progress[shard] += 1

        with recorder.attached(db.client.statements):
            background = [
                asyncio.create_task(_every(LOOP_INTERVAL, stop, bot.run_loops_once)),
                asyncio.create_task(
                    _every(SAMPLE_INTERVAL, stop, lambda: _sample(db, recorder, begun, timeline))
                ),
            ]
            try:
                await asyncio.gather(*(worker() for _ in range(config.workers)))
            finally:
                stop.set()
                await asyncio.gather(*background)
            await _sample(db, recorder, begun, timeline)
        return ShardResult(
            shard=shard,
            elapsed=time.perf_counter() - begun,
            completed=recorder.completed,
            operations=recorder.operations,
            chat=recorder.chat,
            ledger=bot.ledger,
            cache=db.cache.stats().to_dict(),
            transactions={
                "totals": dict(db.transactions.monitor.metrics),
                "operations": {
                    name: dataclasses.asdict(stats)
                    for name, stats in db.transactions.monitor.snapshot().items()
                },
            },
            peak_rss_bytes=peak_rss_bytes(),
            timeline=timeline,
            probes={probe.key: await probe.finish() for probe in probes},
        )


def _until(events: Iterator[Event], deadline: float | None) -> Iterator[Event]:
    for event in events:
        if deadline is not None and time.perf_counter() >= deadline:
            return
        yield event


async def _every(interval: float, stop: asyncio.Event, tick: Any) -> None:
    """Call ``tick`` every ``interval`` seconds until ``stop`` is set (a timer, as the bot's loops are)."""
    while not stop.is_set():
        await tick()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), interval)


async def _sample(db: Database, recorder: Recorder, begun: float, timeline: list[TimelinePoint]) -> None:
    stats = db.cache.stats()
    served = sum(kind.served for kind in stats.per_type.values())
    missed = sum(kind.missed for kind in stats.per_type.values())
    timeline.append(TimelinePoint(time.perf_counter() - begun, served, missed, recorder.completed))
