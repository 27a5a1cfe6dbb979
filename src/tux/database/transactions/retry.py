"""Which failures are worth re-running a whole transaction for, and how long to wait in between."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass

from tux.database.exceptions import DatabaseLockedError, DeadlockError, SerializationError

RETRYABLE_ERRORS: tuple[type[Exception], ...] = (SerializationError, DeadlockError, DatabaseLockedError)
"""Serialization failure (40001), deadlock (40P01) and SQLite's "database is locked"; nothing else."""


def is_retryable(error: BaseException) -> bool:
    """Return whether re-running the transaction that raised ``error`` can succeed."""
    return isinstance(error, RETRYABLE_ERRORS)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """A bounded number of attempts with exponential backoff and full jitter.

    Full jitter (a uniform draw below the exponential cap) spreads out transactions that conflicted at
    the same moment, so they do not collide again on the next attempt.
    """

    attempts: int = 5
    base_delay: float = 0.005
    max_delay: float = 0.25

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("attempts must be at least 1")

    def delays(self) -> Iterator[float]:
        """Yield the wait before each retry (``attempts - 1`` values)."""
        for attempt in range(self.attempts - 1):
            cap = min(self.max_delay, self.base_delay * (2**attempt))
            yield random.uniform(0, cap)
