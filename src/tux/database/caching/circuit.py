"""Circuit breaker of the Redis level: after a few consecutive failures, stop calling Redis at all.

While the circuit is open an operation costs one attribute check instead of a socket timeout, so a dead
or blackholed Redis costs callers only the few operations that tripped it. The breaker does no probing
of its own: the Redis level runs one background probe that closes it (see ``RedisLevel``), so no caller
ever waits on a half-open trial.
"""

from __future__ import annotations

import enum


class CircuitState(enum.Enum):
    """Whether calls go through."""

    CLOSED = "closed"
    OPEN = "open"


class CircuitBreaker:
    """Counts consecutive failures and opens after ``failure_threshold`` of them.

    Parameters
    ----------
    failure_threshold
        Consecutive failures that open the circuit.
    """

    def __init__(self, failure_threshold: int) -> None:
        self._threshold = max(1, failure_threshold)
        self._failures = 0
        self.state = CircuitState.CLOSED

    @property
    def is_closed(self) -> bool:
        """Whether calls may go through."""
        return self.state is CircuitState.CLOSED

    def record_success(self) -> None:
        """Reset the failure count."""
        self._failures = 0

    def record_failure(self) -> bool:
        """Count a failure; return whether this one opened the circuit."""
        self._failures += 1
        if self.state is CircuitState.CLOSED and self._failures >= self._threshold:
            self.trip()
            return True
        return False

    def trip(self) -> None:
        """Open the circuit now (used when a failure must not be retried, e.g. a lost invalidation)."""
        self.state = CircuitState.OPEN

    def close(self) -> None:
        """Let calls through again."""
        self.state = CircuitState.CLOSED
        self._failures = 0
