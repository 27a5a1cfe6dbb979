"""Where the query monitor's figures go besides its own statistics: Prometheus, Sentry, loguru.

Both exporters are optional extras and off by default (``query_metrics_prometheus``,
``query_spans_sentry``); the query monitor itself logs through loguru. Prometheus labels are kept to a
small, fixed set so a scrape stays small: the operation name (a fixed set of service operations), the
table, the statement kind and the shape's id for the first ``top`` shapes seen (``other`` after that).
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import TYPE_CHECKING, Any

from tux.database.core.observe import StatementRecord
from tux.database.exceptions import ConfigurationError
from tux.database.optimization.fingerprint import Shape
from tux.database.optimization.nplusone import NPlusOne
from tux.database.optimization.query import QueryOptimizer, StatementExporter

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry

    from tux.database.core.client import DatabaseClient
    from tux.database.settings import DatabaseSettings

__all__ = ["BUCKETS", "PrometheusExporter", "SentrySpans", "build_query_optimizer"]

BUCKETS = (
    0.0001,
    0.00025,
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
)
"""Statement duration buckets in seconds, from 100 µs: a cached primary-key read takes well under 1 ms."""

_CHILD_LIMIT = 5000
_NONE = "-"


@cache
def _metrics(registry: CollectorRegistry) -> tuple[Any, Any, Any]:
    """The three metric families, registered once per registry (a second Database reuses them)."""
    from prometheus_client import Counter, Histogram  # noqa: PLC0415 - optional extra

    duration = Histogram(
        "tux_db_statement_duration_seconds",
        "Time from sending a statement to its result",
        ["operation", "table", "kind", "shape"],
        buckets=BUCKETS,
        registry=registry,
    )
    errors = Counter(
        "tux_db_statement_errors", "Statements that raised", ["operation", "table", "kind"], registry=registry
    )
    n_plus_one = Counter("tux_db_n_plus_one", "N+1 runs detected", ["operation", "kind"], registry=registry)
    return duration, errors, n_plus_one


class PrometheusExporter:
    """Statement durations as a histogram, errors and N+1 runs as counters.

    Parameters
    ----------
    registry
        The collector registry; ``prometheus_client.REGISTRY`` by default.
    top
        How many distinct shapes get their own ``shape`` label value.
    """

    def __init__(self, registry: CollectorRegistry | None = None, *, top: int = 25) -> None:
        try:
            import prometheus_client  # noqa: PLC0415 - optional extra
        except ImportError as error:
            raise ConfigurationError("query_metrics_prometheus needs tux-database[prometheus]") from error
        self._duration, self._errors, self._n_plus_one = _metrics(registry or prometheus_client.REGISTRY)
        self._top = top
        self._labels: dict[str, str] = {}
        self._children: dict[tuple[str | None, str], Any] = {}

    def statement(self, shape: Shape, record: StatementRecord) -> None:
        """Observe one statement's duration (and count its error)."""
        key = (record.operation, shape.fingerprint)
        child = self._children.get(key)
        if child is None:
            child = self._duration.labels(
                record.operation or _NONE, shape.table or _NONE, shape.kind, self._shape_label(shape)
            )
            if len(self._children) < _CHILD_LIMIT:
                self._children[key] = child
        child.observe(record.elapsed)
        if record.error is not None:
            self._errors.labels(record.operation or _NONE, shape.table or _NONE, shape.kind).inc()

    def n_plus_one(self, finding: NPlusOne) -> None:
        """Count one N+1 run."""
        self._n_plus_one.labels(finding.operation or _NONE, finding.kind).inc()

    def _shape_label(self, shape: Shape) -> str:
        label = self._labels.get(shape.fingerprint)
        if label is None:
            label = shape.id if len(self._labels) < self._top else "other"
            self._labels[shape.fingerprint] = label
        return label


class SentrySpans:
    """A ``db.query`` span per statement under the running Sentry span, and a breadcrumb per N+1.

    Like the transaction monitor it never imports Sentry itself: it does nothing unless the
    application imported ``sentry_sdk`` and a sampled span is running.
    """

    def statement(self, shape: Shape, record: StatementRecord) -> None:
        """Record the statement as a finished child span of the current span."""
        sdk = sys.modules.get("sentry_sdk")
        if sdk is None:
            return
        parent = sdk.get_current_span()
        if parent is None or parent.sampled is False:
            return
        started = datetime.now(UTC) - timedelta(seconds=record.elapsed)
        span = parent.start_child(op="db.query", start_timestamp=started)
        span.description = shape.fingerprint
        span.set_data("db.operation.name", record.operation or _NONE)
        span.set_data("db.query.shape", shape.id)
        if record.error is not None:
            span.set_status("internal_error")
        span.finish()

    def n_plus_one(self, finding: NPlusOne) -> None:
        """Leave a warning breadcrumb naming the repeated shape."""
        sdk = sys.modules.get("sentry_sdk")
        if sdk is not None:
            sdk.add_breadcrumb(
                category="db.n_plus_one",
                level="warning",
                message=f"{finding.count}x {finding.fingerprint[:200]}",
                data={"operation": finding.operation, "kind": finding.kind},
            )


def build_query_optimizer(settings: DatabaseSettings, client: DatabaseClient) -> QueryOptimizer:
    """The query optimizer ``settings`` describe: attached to ``client`` unless monitoring is off."""
    exporters: list[StatementExporter] = []
    if settings.query_metrics_prometheus:
        exporters.append(PrometheusExporter())
    if settings.query_spans_sentry:
        exporters.append(SentrySpans())
    return QueryOptimizer(
        client if settings.query_monitor_enabled else None,
        slow_query_threshold_ms=settings.slow_query_threshold_ms,
        n_plus_one_threshold=settings.n_plus_one_threshold,
        exporters=exporters,
    )
