"""Prometheus export of the pool figures (the ``tux-database[prometheus]`` extra).

A custom collector: nothing is recorded per checkout beyond what :class:`ConnectionPoolOptimizer`
keeps anyway; the metric families are built from its figures when Prometheus scrapes.

>>> from prometheus_client import REGISTRY
>>> REGISTRY.register(PoolCollector(db.pool_optimizer))
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from tux.database.optimization.connection import BUCKETS, ConnectionPoolOptimizer

if TYPE_CHECKING:
    from prometheus_client.metrics_core import Metric


def cumulative(bounds: Sequence[float], counts: Sequence[int]) -> list[tuple[str, float]]:
    """Prometheus histogram buckets (``le`` bound, cumulative count) from per-bucket counts."""
    total = 0
    buckets: list[tuple[str, float]] = []
    for bound, count in zip((*map(str, bounds), "+Inf"), counts, strict=True):
        total += count
        buckets.append((bound, float(total)))
    return buckets


class PoolCollector:
    """Collects ``tux_db_pool_*`` metrics of one pool, labelled by backend."""

    def __init__(self, optimizer: ConnectionPoolOptimizer) -> None:
        self._optimizer = optimizer
        self._backend = optimizer.db_client.backend

    def collect(self) -> Iterator[Metric]:
        """Build the metric families from the figures now."""
        from prometheus_client.core import (  # noqa: PLC0415 - optional extra
            CounterMetricFamily,
            GaugeMetricFamily,
            HistogramMetricFamily,
        )

        figures = self._optimizer.figures()
        labels = [self._backend]
        for name, documentation, value in (
            ("size", "Configured pool size", figures.pool_size),
            ("checked_out", "Connections in use", figures.checked_out),
            ("idle", "Connections ready in the pool", figures.idle),
            ("peak", "Most connections in use at once", figures.peak),
            ("waiting", "Checkouts waiting for a connection now", figures.waiting),
        ):
            gauge = GaugeMetricFamily(f"tux_db_pool_{name}", documentation, labels=["backend"])
            gauge.add_metric(labels, value)
            yield gauge
        for name, documentation, value in (
            ("connects", "DBAPI connections opened", figures.connects),
            ("checkouts", "Connections checked out", figures.checkouts),
            ("invalidations", "Connections invalidated", figures.invalidations),
            ("timeouts", "Checkouts that timed out", figures.timeouts),
            ("long_holds", "Checkouts held longer than the long-hold threshold", figures.long_holds),
            (
                "waits_with_idle_holders",
                "Checkout waits while held connections sat idle",
                figures.waits_with_idle_holders,
            ),
        ):
            counter = CounterMetricFamily(f"tux_db_pool_{name}", documentation, labels=["backend"])
            counter.add_metric(labels, value)
            yield counter
        for name, documentation, counts, total in (
            (
                "hold_seconds",
                "Checkout-to-checkin durations",
                self._optimizer.hold_buckets,
                figures.hold_total,
            ),
            (
                "wait_seconds",
                "Time checkouts waited for a connection",
                self._optimizer.wait_buckets,
                figures.wait_total,
            ),
        ):
            histogram = HistogramMetricFamily(f"tux_db_pool_{name}", documentation, labels=["backend"])
            histogram.add_metric(labels, cumulative(BUCKETS, counts), total)
            yield histogram
