"""Latency and statement count of every operation a simulation runs.

Each timed operation opens a statement tally in its task's context; the client's
:class:`~tux.database.core.observe.StatementHub` listener adds every statement to the tallies open in
the context it runs in. An operation that sent no data statement was served by the cache ("cached"),
the others went to the database.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TypeVar

from tux.database.core.observe import StatementHub, StatementRecord
from tux.database.exceptions import DatabaseError

T = TypeVar("T")


class Tally:
    """Statements counted while it is open: data statements and every round trip."""

    __slots__ = ("data", "total")

    def __init__(self) -> None:
        self.data = 0
        self.total = 0


_open_tallies: ContextVar[tuple[Tally, ...]] = ContextVar("tux_sim_tallies", default=())


@dataclass(slots=True)
class OperationSamples:
    """Durations (seconds) of one operation, split by where it was served, and its failures."""

    cached: list[float] = field(default_factory=list)
    database: list[float] = field(default_factory=list)
    statements: int = 0
    errors: Counter[str] = field(default_factory=Counter)

    def merge(self, other: OperationSamples) -> None:
        """Add ``other``'s samples (of another process) to these."""
        self.cached.extend(other.cached)
        self.database.extend(other.database)
        self.statements += other.statements
        self.errors.update(other.errors)


@dataclass(slots=True)
class ChatFigures:
    """Statements the chat-message path (prefix, AFK checks, XP) sent."""

    messages: int = 0
    data_statements: int = 0
    round_trips: int = 0

    def merge(self, other: ChatFigures) -> None:
        """Add another process's figures."""
        self.messages += other.messages
        self.data_statements += other.data_statements
        self.round_trips += other.round_trips


class Recorder:
    """Times operations and counts their statements; one per process."""

    def __init__(self) -> None:
        self.operations: dict[str, OperationSamples] = {}
        self.chat = ChatFigures()
        self.completed = 0

    @contextmanager
    def attached(self, hub: StatementHub) -> Iterator[None]:
        """Count the statements ``hub`` reports while the block runs."""
        unsubscribe = hub.subscribe(_count)
        try:
            yield
        finally:
            unsubscribe()

    @contextmanager
    def tally(self) -> Iterator[Tally]:
        """Count the statements sent by the current task inside the block."""
        counted = Tally()
        token = _open_tallies.set((*_open_tallies.get(), counted))
        try:
            yield counted
        finally:
            _open_tallies.reset(token)

    async def time(self, name: str, call: Callable[[], Awaitable[T]]) -> T | None:
        """Run ``call`` as operation ``name``; a :class:`DatabaseError` is counted and gives ``None``."""
        samples = self.operations.get(name)
        if samples is None:
            samples = self.operations[name] = OperationSamples()
        with self.tally() as counted:
            started = time.perf_counter()
            try:
                result = await call()
            except DatabaseError as error:
                samples.errors[type(error).__name__] += 1
                return None
            finally:
                samples.statements += counted.data
            elapsed = time.perf_counter() - started
        (samples.database if counted.data else samples.cached).append(elapsed)
        return result


def _count(record: StatementRecord) -> None:
    tallies = _open_tallies.get()
    if tallies:
        data = not record.is_control
        for counted in tallies:
            counted.total += 1
            counted.data += data
