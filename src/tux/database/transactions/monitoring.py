"""Counts and durations of transactions per operation name, with an optional Sentry span each.

:class:`TransactionMonitor` wraps every unit of work (``async with monitor.track("ban_user"): ...``),
so the bookkeeping on that path is kept to a few attribute updates: counters and a running sum per
operation, and the duration appended to a bounded window. Percentiles are computed only when someone
asks (:meth:`TransactionMonitor.stats`), never per transaction.

Sentry is an optional extra, and this module never causes its import: a client can only have been
initialised by code that imported ``sentry_sdk`` already, so the tracker looks the module up in
:data:`sys.modules` (one dictionary lookup) and only asks it for a span when it is there, a sampled span
or transaction is running to hang the ``db.transaction`` span under, and its client is active.
"""

from __future__ import annotations

import sys
import time
from collections import deque
from collections.abc import Callable, Iterable
from contextlib import AbstractAsyncContextManager
from contextvars import Token
from dataclasses import dataclass
from functools import cache
from types import TracebackType
from typing import TYPE_CHECKING, TypedDict

from loguru import logger

from tux.database.core.observe import current_operation

if TYPE_CHECKING:
    from sentry_sdk.client import BaseClient
    from sentry_sdk.tracing import Span

__all__ = ["SPAN_OP", "OperationStats", "TransactionMetrics", "TransactionMonitor"]

SPAN_OP = "db.transaction"
"""The Sentry span ``op`` of a tracked transaction; its description is the operation name."""

_SENTRY_MODULE = "sentry_sdk"
_modules = sys.modules  # bound once: the per-transaction check is then a single dict lookup


class TransactionMetrics(TypedDict):
    """Totals over every operation (the keys Tux's dashboards read), plus the retry count."""

    total_transactions: int
    failed_transactions: int
    retried_transactions: int
    average_duration: float
    long_running_transactions: int


@dataclass(frozen=True, slots=True)
class OperationStats:
    """What happened to the transactions of one operation (or of all of them), durations in seconds.

    Attributes
    ----------
    total
        Tracked transactions that finished, successfully or not.
    failed
        Those an exception escaped from (including cancellation): they did not commit.
    retried
        Retry attempts reported through :meth:`TransactionMonitor.record_retry`.
    long_running
        Those that took longer than the monitor's threshold.
    average
        Mean duration over all ``total`` transactions.
    p50, p95, p99
        Percentiles (linear interpolation, as ``numpy.percentile``) over the ``samples`` most recent
        durations, so they follow current behaviour and cost bounded memory.
    max
        Longest duration ever seen.
    samples
        How many recent durations the percentiles were computed from.
    """

    total: int = 0
    failed: int = 0
    retried: int = 0
    long_running: int = 0
    average: float = 0.0
    p50: float = 0.0
    p95: float = 0.0
    p99: float = 0.0
    max: float = 0.0
    samples: int = 0


class _Counters:
    """Mutable running totals of one operation; only ever touched from the event loop's thread."""

    __slots__ = ("duration_sum", "failed", "long_running", "max", "recent", "retried", "total")

    def __init__(self, window: int) -> None:
        self.total = 0
        self.failed = 0
        self.retried = 0
        self.long_running = 0
        self.duration_sum = 0.0
        self.max = 0.0
        self.recent: deque[float] = deque(maxlen=window)


class TransactionMonitor:
    """Count and time transactions per operation name; warn about long-running ones.

    Operation names are used as keys, like metric labels: use a fixed set of names (``"ban_user"``), not
    names built from data (``f"ban {user_id}"``), or the number of tracked operations grows without bound.

    Parameters
    ----------
    long_running_threshold
        Seconds after which a transaction counts as long-running and a warning is logged. Long
        transactions hold locks (and on SQLite, the whole database) for their duration.
    clock
        Monotonic clock in seconds; injectable so tests can feed exact durations.
    window
        How many recent durations per operation the percentiles are computed from. Memory per
        operation is bounded by it.
    """

    def __init__(
        self,
        long_running_threshold: float = 5.0,
        *,
        clock: Callable[[], float] = time.perf_counter,
        window: int = 1024,
    ) -> None:
        if long_running_threshold < 0:
            raise ValueError("long_running_threshold must not be negative")
        if window < 1:
            raise ValueError("window must be at least 1")
        self._threshold = long_running_threshold
        self._clock = clock
        self._window = window
        self._operations: dict[str, _Counters] = {}

    @property
    def long_running_threshold(self) -> float:
        """Seconds after which a transaction counts as long-running."""
        return self._threshold

    def track(self, operation_name: str) -> AbstractAsyncContextManager[None]:
        """Time the block as one transaction of ``operation_name``.

        Use as ``async with monitor.track("ban_user"): ...``. One ``track`` is one attempt: a retried
        operation is tracked once per attempt and reports each retry through :meth:`record_retry`.

        Parameters
        ----------
        operation_name
            The operation the transaction belongs to; a small, fixed set of names.

        Returns
        -------
        AbstractAsyncContextManager[None]
            Records the duration and outcome on exit; never swallows the exception.
        """
        return _Tracking(self, operation_name)

    def record_retry(self, operation_name: str) -> None:
        """Count one retry of ``operation_name`` (the transaction manager calls it before re-running)."""
        self._counters(operation_name).retried += 1

    def _counters(self, operation_name: str) -> _Counters:
        counters = self._operations.get(operation_name)
        if counters is None:
            counters = self._operations[operation_name] = _Counters(self._window)
        return counters

    @property
    def metrics(self) -> TransactionMetrics:
        """Totals over every operation (durations in seconds)."""
        total = failed = retried = long_running = 0
        duration_sum = 0.0
        for counters in self._operations.values():
            total += counters.total
            failed += counters.failed
            retried += counters.retried
            long_running += counters.long_running
            duration_sum += counters.duration_sum
        return TransactionMetrics(
            total_transactions=total,
            failed_transactions=failed,
            retried_transactions=retried,
            average_duration=duration_sum / total if total else 0.0,
            long_running_transactions=long_running,
        )

    def stats(self, operation_name: str | None = None) -> OperationStats:
        """Return the statistics of ``operation_name``, or of all operations together when ``None``.

        An operation never tracked gives all zeros. Across all operations the percentiles are computed
        over the union of each operation's recent window.
        """
        if operation_name is not None:
            counters = self._operations.get(operation_name)
            return _fold((counters,) if counters is not None else ())
        return _fold(self._operations.values())

    def snapshot(self) -> dict[str, OperationStats]:
        """Return the statistics of every operation tracked so far, by operation name."""
        return {name: _fold((counters,)) for name, counters in self._operations.items()}

    def reset(self) -> None:
        """Forget everything; transactions still running are counted afresh when they finish."""
        self._operations = {}


class _Tracking:
    """One tracked transaction: an async context manager object, allocated once per ``track`` call.

    A plain class rather than ``@asynccontextmanager`` avoids a generator and its wrapper per call.
    """

    __slots__ = ("_monitor", "_name", "_operation", "_span", "_started")

    _span: Span | None
    _started: float
    _operation: Token[str | None]

    def __init__(self, monitor: TransactionMonitor, name: str) -> None:
        self._monitor = monitor
        self._name = name

    async def __aenter__(self) -> None:
        self._span = _open_span(self._name) if _modules.get(_SENTRY_MODULE) is not None else None
        self._operation = current_operation.set(self._name)  # statements inside are attributed to it
        self._started = self._monitor._clock()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        # The hot path: plain attribute updates, inlined rather than a call to a recording method.
        monitor = self._monitor
        duration = monitor._clock() - self._started
        current_operation.reset(self._operation)
        span = self._span
        if span is not None:
            self._span = None
            span.__exit__(exc_type, exc, traceback)
        name = self._name
        counters = monitor._operations.get(name)
        if counters is None:
            counters = monitor._counters(name)
        counters.total += 1
        counters.duration_sum += duration
        counters.recent.append(duration)
        if duration > counters.max:  # noqa: PLR1730 - a compare is cheaper than calling max()
            counters.max = duration
        if exc_type is not None:
            counters.failed += 1
            logger.debug("Transaction {} failed after {:.3f}s: {!r}", name, duration, exc)
        if duration > monitor._threshold:
            counters.long_running += 1
            logger.warning(
                "Long-running transaction {} took {:.3f}s (threshold {:.3f}s)",
                name,
                duration,
                monitor._threshold,
            )


def _open_span(operation_name: str) -> Span | None:
    """Start and enter a ``db.transaction`` child span, or return ``None`` when Sentry would drop it.

    Called only once ``sentry_sdk`` has been imported by the application. The cheap question comes first:
    without a running, sampled span or transaction there is nothing to send, whatever the client (asking
    an uninitialised SDK for its client builds a placeholder client on every call). Entering the span
    makes it the scope's current span, so spans of the queries run inside (Sentry's SQLAlchemy
    integration) nest under it.
    """
    get_current_span, get_client = _sentry_api()
    parent = get_current_span()
    if parent is None or parent.sampled is False or not get_client().is_active():
        return None
    span = parent.start_child(op=SPAN_OP)
    # An attribute rather than a keyword: ``name=`` only exists from sentry-sdk 2.15 (the extra allows
    # >= 2.0, where it raises TypeError) and ``description=`` warns as deprecated from 2.15 on.
    span.description = operation_name
    span.__enter__()
    return span


@cache
def _sentry_api() -> tuple[Callable[[], Span | None], Callable[[], BaseClient]]:
    """The two SDK functions the tracker needs, imported once (only after the application imported it)."""
    from sentry_sdk import get_client, get_current_span  # noqa: PLC0415 - optional extra

    return get_current_span, get_client


def _percentile(ordered: list[float], fraction: float) -> float:
    """Linear-interpolation percentile of sorted, non-empty ``ordered`` (numpy's default method)."""
    position = (len(ordered) - 1) * fraction
    lower = int(position)
    upper = min(lower + 1, len(ordered) - 1)
    return ordered[lower] + (ordered[upper] - ordered[lower]) * (position - lower)


def _fold(operations: Iterable[_Counters]) -> OperationStats:
    """Fold running counters into an :class:`OperationStats`, sorting the recent durations once."""
    total = failed = retried = long_running = 0
    duration_sum = longest = 0.0
    recent: list[float] = []
    for counters in operations:
        total += counters.total
        failed += counters.failed
        retried += counters.retried
        long_running += counters.long_running
        duration_sum += counters.duration_sum
        longest = max(longest, counters.max)
        recent.extend(counters.recent)
    if not recent:
        return OperationStats(total=total, failed=failed, retried=retried, long_running=long_running)
    recent.sort()
    return OperationStats(
        total=total,
        failed=failed,
        retried=retried,
        long_running=long_running,
        average=duration_sum / total,
        p50=_percentile(recent, 0.50),
        p95=_percentile(recent, 0.95),
        p99=_percentile(recent, 0.99),
        max=longest,
        samples=len(recent),
    )
