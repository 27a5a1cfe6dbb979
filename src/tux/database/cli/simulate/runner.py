"""A whole simulation: prepare the database, run the processes, drain the loops, check invariants.

The parent process migrates and seeds the database, then runs the shards: in its own event loop for
one process, or in ``processes`` spawned interpreters otherwise (each its own :class:`Database`, as
separate bot shards would be). The background loops are drained at the end so that every tempban and
reminder is due and processed, and the invariants are checked from the database.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import time
from collections.abc import Callable, MutableSequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from tux.database.cli.console import route_logs
from tux.database.cli.reach import delete_namespace
from tux.database.cli.simulate.bot import Ledger
from tux.database.cli.simulate.config import SimulationConfig
from tux.database.cli.simulate.invariants import InvariantResult, check_invariants
from tux.database.cli.simulate.shard import ShardResult, open_database, run_shard
from tux.database.cli.simulate.workload import (
    MODERATOR_ID,
    SNIPPETS_PER_GUILD,
    STARRED_PER_GUILD,
    Workload,
)
from tux.database.exceptions import ConfigurationError
from tux.database.facade import Database
from tux.database.repositories.support import MAX_PAGE_SIZE

DRAIN_AHEAD = timedelta(days=1)
"""The drain runs the loops as of this long after the run: everything scheduled is due by then."""
PROGRESS_INTERVAL = 0.1

Progress = Callable[[int], None]
"""Told the number of events done so far, several times a second."""


@dataclass(slots=True)
class SimulationResult:
    """What a simulation measured and found."""

    config: SimulationConfig
    elapsed: float
    setup_seconds: float
    shards: list[ShardResult]
    ledger: Ledger
    invariants: list[InvariantResult]
    backend: str
    redis: bool
    guild_ids: list[int] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether every invariant held."""
        return all(result.ok for result in self.invariants)


def validate(config: SimulationConfig) -> None:
    """Refuse configurations that cannot give a meaningful run."""
    if config.processes > 1 and config.redis_url is None:
        raise ConfigurationError(
            "--processes above 1 needs --redis-url: without Redis each process caches on its own "
            "and would serve the others' stale rows"
        )


async def simulate(config: SimulationConfig, progress: Progress) -> SimulationResult:
    """Run the simulation ``config`` describes; ``progress`` is told the events done."""
    validate(config)
    workload = Workload(config)
    guild_ids = [workload.guild_id(guild) for guild in range(config.guilds)]
    begun = time.perf_counter()
    async with open_database(config) as db:
        await db.migrate()
        await _seed(db, workload)
        backend = db.client.backend
    setup = time.perf_counter() - begun
    started = datetime.now(UTC)
    try:
        shards = await _run_shards(config, started, progress)
        ledger = Ledger()
        for shard in shards:
            ledger.merge(shard.ledger)
        async with open_database(config) as db:
            ledger.merge(await _drain(db, started))
            invariants = await check_invariants(db, guild_ids, ledger)
    finally:
        if config.redis_url is not None:
            await delete_namespace(config.redis_url, config.redis_namespace)
    return SimulationResult(
        config=config,
        elapsed=time.perf_counter() - begun - setup,
        setup_seconds=setup,
        shards=shards,
        ledger=ledger,
        invariants=invariants,
        backend=backend,
        redis=config.redis_url is not None,
        guild_ids=guild_ids,
    )


async def _seed(db: Database, workload: Workload) -> None:
    """Onboard the guilds with their snippets, starboard and starred messages."""
    if await db.guilds.find_by_id(workload.guild_id(0)) is not None:
        raise ConfigurationError(
            "the database already holds simulated guilds; run the simulation on a fresh database"
        )
    await asyncio.gather(*(_seed_guild(db, workload, guild) for guild in range(workload.config.guilds)))


async def _seed_guild(db: Database, workload: Workload, guild: int) -> None:
    guild_id = workload.guild_id(guild)
    await db.guild_setup.onboard(guild_id)
    for pick in range(SNIPPETS_PER_GUILD):
        await db.snippet_service.create(guild_id, workload.snippet_name(pick), f"tip {pick}", MODERATOR_ID)
    channel_id = workload.channel_id(guild, 0)
    await db.starboards.upsert_starboard(
        guild_id, {"starboard_channel_id": channel_id, "starboard_emoji": "⭐", "starboard_threshold": 3}
    )
    starred = [workload.starred_message_id(guild, pick) for pick in range(STARRED_PER_GUILD)]
    await db.batch.batch_create(
        db.starboard_messages,
        [
            {
                "message_id": message_id,
                "message_content": f"starred message {pick}",
                "message_channel_id": channel_id,
                "message_user_id": workload.member_id(guild, pick),
                "message_guild_id": guild_id,
                "star_count": 3,
                "starboard_message_id": message_id + STARRED_PER_GUILD,
            }
            for pick, message_id in enumerate(starred)
        ],
        returning=False,
    )


async def _run_shards(config: SimulationConfig, started: datetime, progress: Progress) -> list[ShardResult]:
    if config.processes == 1:
        counts = [0]
        task = asyncio.create_task(run_shard(config, 0, counts, started))
        await _report_progress(task, counts, progress)
        return [task.result()]
    context = multiprocessing.get_context("spawn")
    shared = context.Array("q", config.processes, lock=False)
    loop = asyncio.get_running_loop()
    with ProcessPoolExecutor(
        config.processes, mp_context=context, initializer=_adopt_counts, initargs=(shared,)
    ) as pool:
        futures = [
            loop.run_in_executor(pool, _shard_process, config, shard, started)
            for shard in range(config.processes)
        ]
        gathered = asyncio.gather(*futures)
        await _report_progress(gathered, shared, progress)
        return list(gathered.result())


async def _report_progress(
    work: asyncio.Future[Any], counts: MutableSequence[int], progress: Progress
) -> None:
    """Tell ``progress`` the sum of ``counts`` until ``work`` is done (polled: other processes count)."""
    while not work.done():
        progress(sum(counts))
        await asyncio.wait([work], timeout=PROGRESS_INTERVAL)
    progress(sum(counts))
    work.result()


_process_counts: MutableSequence[int] = [0]


def _adopt_counts(counts: MutableSequence[int]) -> None:
    global _process_counts  # noqa: PLW0603 - set once per spawned process by the pool's initializer
    _process_counts = counts


def _shard_process(config: SimulationConfig, shard: int, started: datetime) -> ShardResult:
    """Run one shard in a spawned process."""
    route_logs()
    return asyncio.run(run_shard(config, shard, _process_counts, started))


async def _drain(db: Database, started: datetime) -> Ledger:
    """Run the background loops as of a day later until they find nothing twice: everything is due then.

    The tempban loop returns only the tempbans it lifted (a superseded one is processed silently), so
    one empty answer may still leave work; a second one in a row may not.
    """
    ledger = Ledger()
    later = max(datetime.now(UTC), started) + DRAIN_AHEAD
    empty = 0
    while empty < 2:
        lifted = await db.moderation.process_expired_tempbans(later, MAX_PAGE_SIZE)
        due = await db.reminder_service.claim_due(later, MAX_PAGE_SIZE)
        ledger.lifted_tempbans.extend(case.id for case in lifted)
        ledger.claimed_reminders.extend(reminder.reminder_id for reminder in due)
        empty = 0 if lifted or due else empty + 1
    return ledger
