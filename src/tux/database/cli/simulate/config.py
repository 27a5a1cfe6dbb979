"""What one ``tux-db simulate`` run replays, and against what."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SimulationConfig:
    """Sizes, concurrency and targets of a simulation.

    Attributes
    ----------
    database_url
        The database every process uses (migrated and seeded by the parent before the run).
    redis_url
        Redis shared by every process, or ``None`` for the in-process cache alone.
    seed
        Seeds the workload: the same seed and sizes replay the same events.
    guilds, members
        Guilds, and members per guild; activity over both follows a Zipf law.
    messages
        Chat messages to replay over all processes (commands come with them); ignored with ``duration``.
    duration
        Seconds to run instead of a fixed number of messages.
    workers
        Concurrent tasks per process, each handling one event at a time like a bot's event handlers.
    processes
        Bot processes (shards); each takes every ``processes``-th event.
    redis_namespace
        Key namespace of this run in Redis, so runs never share cache entries.
    """

    database_url: str
    redis_url: str | None = None
    seed: int = 42
    guilds: int = 20
    members: int = 200
    messages: int = 3000
    duration: float | None = None
    workers: int = 8
    processes: int = 1
    redis_namespace: str = "tuxsim"
