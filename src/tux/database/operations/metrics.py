"""Counts and durations of batch operations, and their Prometheus export (an optional extra).

:class:`BatchStats` is a few additions per batch call (never per row), keyed by operation and table:
both label sets are small and fixed. :class:`BatchCollector` builds ``tux_db_batch_*`` metric
families from it when Prometheus scrapes, so an application without Prometheus pays nothing more.
Each batch is also one unit of work, so the transaction monitor times it (and opens its Sentry
``db.transaction`` span) under the operation's name.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tux.database.optimization.connection import BUCKETS
from tux.database.optimization.connection_metrics import cumulative

if TYPE_CHECKING:
    from prometheus_client.metrics_core import Metric


@dataclass(slots=True)
class BatchCounters:
    """What the batches of one operation on one table did; durations in seconds."""

    calls: int = 0
    failed: int = 0
    rows: int = 0
    seconds: float = 0.0
    buckets: list[int] = field(default_factory=lambda: [0] * (len(BUCKETS) + 1))


class BatchStats:
    """Running totals per ``(operation, table)``."""

    def __init__(self) -> None:
        self.by_key: dict[tuple[str, str], BatchCounters] = {}

    def record(self, operation: str, table: str, rows: int, seconds: float, *, failed: bool) -> None:
        """Count one batch call."""
        counters = self.by_key.get((operation, table))
        if counters is None:
            counters = self.by_key[operation, table] = BatchCounters()
        counters.calls += 1
        counters.failed += failed
        counters.rows += rows
        counters.seconds += seconds
        counters.buckets[bisect_left(BUCKETS, seconds)] += 1


class BatchCollector:
    """Collects ``tux_db_batch_*`` metrics, labelled by operation and table."""

    def __init__(self, stats: BatchStats) -> None:
        self._stats = stats

    def collect(self) -> Iterator[Metric]:
        """Build the metric families from the totals now."""
        from prometheus_client.core import (  # noqa: PLC0415 - optional extra
            CounterMetricFamily,
            HistogramMetricFamily,
        )

        labels = ["operation", "table"]
        calls = CounterMetricFamily("tux_db_batch_calls", "Batch operations run", labels=labels)
        failed = CounterMetricFamily("tux_db_batch_failed", "Batch operations that raised", labels=labels)
        rows = CounterMetricFamily("tux_db_batch_rows", "Rows written by batch operations", labels=labels)
        seconds = HistogramMetricFamily("tux_db_batch_seconds", "Duration of batch operations", labels=labels)
        for (operation, table), counters in sorted(self._stats.by_key.items()):
            values = [operation, table]
            calls.add_metric(values, counters.calls)
            failed.add_metric(values, counters.failed)
            rows.add_metric(values, counters.rows)
            seconds.add_metric(values, cumulative(BUCKETS, counters.buckets), counters.seconds)
        yield from (calls, failed, rows, seconds)
