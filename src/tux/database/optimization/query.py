"""``QueryOptimizer``: statistics per statement shape, slow-query log, N+1 detection and advice.

It subscribes to the client's :class:`~tux.database.core.observe.StatementHub`, the one place every
statement passes (SQLAlchemy's cursor events and the direct driver paths alike), so it installs no
engine events of its own. Per statement it pays one dictionary lookup for the shape (see
:mod:`~tux.database.optimization.fingerprint`), a few counter updates, a reservoir sample and the N+1
run check; percentiles are computed only when someone asks.

>>> with db.query_optimizer.strict():          # raises NPlusOneError at the end if a loop did N+1
...     await handler()
>>> with db.query_optimizer.assert_max_statements(2):
...     await db.moderation.ban_user(...)
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from loguru import logger
from sqlalchemy import text

from tux.database.core.observe import StatementRecord, current_operation
from tux.database.exceptions import DatabaseError
from tux.database.optimization.fingerprint import Shape, shape_of
from tux.database.optimization.nplusone import NPlusOne, NPlusOneDetector

if TYPE_CHECKING:
    from tux.database.core.client import DatabaseClient

__all__ = [
    "INTERNAL_OPERATION",
    "NPlusOneError",
    "ObservedStatement",
    "QueryOptimizer",
    "QueryStats",
    "StatementBudgetError",
    "StatementExporter",
    "unobserved",
]

INTERNAL_OPERATION = "tux.optimization"
"""Operation name of the optimizers' own statements (EXPLAIN, catalog reads): never counted."""

PLAN_AVERAGE_MS = 50.0
PLAN_SLOW_RATE = 0.10
PGHERO_AVERAGE_MS = 20.0
PGHERO_CALLS = 100

_OTHER = Shape("(other)", "other", "other", None, control=False)
"""Where statements of shapes past ``max_shapes`` are counted."""


class NPlusOneError(DatabaseError, AssertionError):
    """A :meth:`QueryOptimizer.strict` block ran an N+1 loop."""

    def __init__(self, findings: Sequence[NPlusOne]) -> None:
        lines = [f"{f.count}x [{f.operation or '-'}] {f.fingerprint[:160]}: {f.advice}" for f in findings]
        super().__init__("N+1 detected:\n" + "\n".join(lines))
        self.findings = list(findings)


class StatementBudgetError(DatabaseError, AssertionError):
    """A block sent more statements than :meth:`QueryOptimizer.assert_max_statements` allowed."""


class StatementExporter(Protocol):
    """Something that forwards statements and findings elsewhere (Prometheus, Sentry)."""

    def statement(self, shape: Shape, record: StatementRecord) -> None:
        """Called for every data statement; must be cheap and must not raise."""

    def n_plus_one(self, finding: NPlusOne) -> None:
        """Called once per new N+1 finding."""


@contextmanager
def unobserved() -> Iterator[None]:
    """Run the block's statements as :data:`INTERNAL_OPERATION`, which the optimizers ignore."""
    token = current_operation.set(INTERNAL_OPERATION)
    try:
        yield
    finally:
        current_operation.reset(token)


@dataclass(frozen=True, slots=True)
class QueryStats:
    """Statistics of one statement shape (or one name given to ``analyze_query_performance``), in ms."""

    query: str
    id: str
    kind: str
    table: str | None
    calls: int
    total_ms: float
    mean_ms: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    rows: int
    errors: int
    slow_calls: int
    operations: dict[str, int] = field(default_factory=dict)

    @property
    def slow_rate(self) -> float:
        """Share of calls at or above the slow-query threshold."""
        return self.slow_calls / self.calls if self.calls else 0.0


class _Stats:
    """Running totals of one shape; touched only from the event loop's thread."""

    __slots__ = (
        "calls",
        "errors",
        "max_ms",
        "operations",
        "parameters",
        "reservoir",
        "rows",
        "shape",
        "slow",
        "sql",
        "total_ms",
    )

    def __init__(self, shape: Shape, sql: str, parameters: object) -> None:
        self.shape = shape
        self.sql = sql
        self.parameters = parameters
        self.calls = 0
        self.errors = 0
        self.slow = 0
        self.rows = 0
        self.total_ms = 0.0
        self.max_ms = 0.0
        self.reservoir: list[float] = []
        self.operations: dict[str, int] = {}

    def add(self, elapsed_ms: float, size: int, slow: bool) -> None:
        self.calls += 1
        self.total_ms += elapsed_ms
        if elapsed_ms > self.max_ms:  # noqa: PLR1730 - a compare is cheaper than calling max()
            self.max_ms = elapsed_ms
        if slow:
            self.slow += 1
        reservoir = self.reservoir
        if len(reservoir) < size:
            reservoir.append(elapsed_ms)
        else:  # Vitter's algorithm R: every call so far equally likely to be in the sample
            slot = int(random.random() * self.calls)
            if slot < size:
                reservoir[slot] = elapsed_ms

    def freeze(self) -> QueryStats:
        ordered = sorted(self.reservoir)
        if len(ordered) > 1:
            import statistics  # noqa: PLC0415 - only when figures are read, not on every statement

            cuts = statistics.quantiles(ordered, n=100, method="inclusive")
            p50, p95, p99 = cuts[49], cuts[94], cuts[98]
        else:
            p50 = p95 = p99 = ordered[0] if ordered else 0.0
        return QueryStats(
            query=self.shape.fingerprint,
            id=self.shape.id,
            kind=self.shape.kind,
            table=self.shape.table,
            calls=self.calls,
            total_ms=self.total_ms,
            mean_ms=self.total_ms / self.calls if self.calls else 0.0,
            p50_ms=p50,
            p95_ms=p95,
            p99_ms=p99,
            max_ms=self.max_ms,
            rows=self.rows,
            errors=self.errors,
            slow_calls=self.slow,
            operations=dict(self.operations),
        )


@dataclass(frozen=True, slots=True)
class ObservedStatement:
    """A shape with one real example of it, for the index advisor."""

    shape: Shape
    sql: str
    parameters: object
    calls: int
    total_ms: float


class QueryOptimizer:
    """Statistics per statement shape, slow-query log, N+1 detection and recommendations.

    Parameters
    ----------
    client
        Whose statements to watch; ``None`` for a standalone optimizer fed by
        :meth:`analyze_query_performance` only.
    slow_query_threshold_ms
        Statements at least this slow are logged and count as slow.
    n_plus_one_threshold
        Repetitions of one shape in a row, in one task and operation, that make an N+1.
    reservoir
        Samples kept per shape for the percentiles (bounded memory, uniformly sampled).
    max_shapes
        Distinct shapes tracked; later ones go to one ``(other)`` entry, so memory stays bounded.
    exporters
        Forwarders of statements and findings (see :mod:`tux.database.optimization.export`).
    """

    def __init__(
        self,
        client: DatabaseClient | None = None,
        *,
        slow_query_threshold_ms: float = 100.0,
        n_plus_one_threshold: int = 5,
        reservoir: int = 512,
        max_shapes: int = 2000,
        exporters: Sequence[StatementExporter] = (),
    ) -> None:
        self.slow_query_threshold_ms = slow_query_threshold_ms
        self.detector = NPlusOneDetector(n_plus_one_threshold)
        self._reservoir = reservoir
        self._max_shapes = max_shapes
        self._exporters = tuple(exporters)
        for exporter in self._exporters:
            self.detector.watchers.append(exporter.n_plus_one)
        self._shapes: dict[str, _Stats] = {}
        self._named: dict[str, _Stats] = {}
        self._client = client
        self._unsubscribe = client.statements.subscribe(self._observe) if client is not None else None

    @property
    def attached(self) -> bool:
        """Whether it is watching a client's statements."""
        return self._unsubscribe is not None

    def detach(self) -> None:
        """Stop watching statements (the statistics gathered so far stay)."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    def reset(self) -> None:
        """Forget every statistic and finding."""
        self._shapes = {}
        self._named = {}
        self.detector.reset()

    def _observe(self, record: StatementRecord) -> None:
        operation = record.operation
        if operation == INTERNAL_OPERATION:
            return
        shape = shape_of(record.sql)
        if shape.control:
            return
        stats = self._shapes.get(shape.fingerprint)
        if stats is None:
            stats = self._new_shape(shape, record)
        elapsed_ms = record.elapsed * 1000.0
        slow = elapsed_ms >= self.slow_query_threshold_ms
        stats.add(elapsed_ms, self._reservoir, slow)
        if record.rows > 0:
            stats.rows += record.rows
        if record.error is not None:
            stats.errors += 1
        if operation is not None:
            stats.operations[operation] = stats.operations.get(operation, 0) + 1
        if slow:
            logger.warning(
                "Slow query: {:.1f} ms (threshold {:.0f} ms) in {}, shape {}: {}",
                elapsed_ms,
                self.slow_query_threshold_ms,
                operation or "-",
                shape.id,
                shape.fingerprint[:300],
            )
        if record.error is None:
            self.detector.observe(shape, operation, executemany=record.executemany, rows=record.rows)
        for exporter in self._exporters:
            exporter.statement(shape, record)

    def _new_shape(self, shape: Shape, record: StatementRecord) -> _Stats:
        if len(self._shapes) < self._max_shapes:
            stats = self._shapes[shape.fingerprint] = _Stats(shape, record.sql, record.parameters)
            return stats
        other = self._shapes.get(_OTHER.fingerprint)
        if other is None:
            other = self._shapes[_OTHER.fingerprint] = _Stats(_OTHER, "", None)
        return other

    async def analyze_query_performance(self, query_name: str, execution_time_ms: float) -> None:
        """Record one run of a named query taking ``execution_time_ms`` (the plan's API)."""
        stats = self._named.get(query_name)
        if stats is None:
            shape = Shape(query_name, query_name, "named", None, control=False)
            stats = self._named[query_name] = _Stats(shape, query_name, None)
        slow = execution_time_ms > self.slow_query_threshold_ms
        stats.add(execution_time_ms, self._reservoir, slow)
        if slow:
            logger.warning("Slow query detected: {} took {:.2f}ms", query_name, execution_time_ms)

    def stats(self) -> list[QueryStats]:
        """Every shape and named query, the most total time first."""
        every = [*self._shapes.values(), *self._named.values()]
        return sorted((stats.freeze() for stats in every), key=lambda s: s.total_ms, reverse=True)

    def stats_for(self, query: str) -> QueryStats | None:
        """The statistics of one named query, fingerprint or raw SQL text (fingerprinted first)."""
        stats = (
            self._named.get(query) or self._shapes.get(query) or self._shapes.get(shape_of(query).fingerprint)
        )
        return stats.freeze() if stats is not None else None

    @property
    def n_plus_one(self) -> list[NPlusOne]:
        """The N+1 runs found so far, oldest first."""
        return list(self.detector.findings)

    def observed_statements(self) -> list[ObservedStatement]:
        """Every shape seen, with one real statement and its parameters (for index advice)."""
        return [
            ObservedStatement(stats.shape, stats.sql, stats.parameters, stats.calls, stats.total_ms)
            for stats in self._shapes.values()
            if stats.sql
        ]

    def get_optimization_recommendations(self) -> list[dict[str, Any]]:
        """Advice from the plan's rules, PgHero's rule and the N+1 findings, as dictionaries.

        Every entry has ``query``, ``issue``, ``recommendation`` and ``source`` (``"plan"``,
        ``"pghero"`` or ``"n+1"``); rule entries also carry ``avg_time`` / ``slow_rate`` / ``calls``.
        """
        found: list[dict[str, Any]] = []
        for stats in self.stats():
            if stats.mean_ms > PLAN_AVERAGE_MS:
                found.append(
                    {
                        "query": stats.query,
                        "issue": "High average execution time",
                        "avg_time": stats.mean_ms,
                        "recommendation": "Consider adding database indexes or query optimization",
                        "source": "plan",
                    }
                )
            if stats.slow_rate > PLAN_SLOW_RATE:
                found.append(
                    {
                        "query": stats.query,
                        "issue": "High slow query rate",
                        "slow_rate": stats.slow_rate,
                        "recommendation": "Review query structure and database schema",
                        "source": "plan",
                    }
                )
            if stats.calls >= PGHERO_CALLS and stats.mean_ms >= PGHERO_AVERAGE_MS:
                found.append(
                    {
                        "query": stats.query,
                        "issue": "Slow query (average >= 20 ms over >= 100 calls)",
                        "avg_time": stats.mean_ms,
                        "calls": stats.calls,
                        "recommendation": "Check its plan with EXPLAIN ANALYZE; see db.index_optimizer",
                        "source": "pghero",
                    }
                )
        found.extend(finding.as_dict() for finding in self.detector.findings)
        return found

    @contextmanager
    def strict(self) -> Iterator[list[NPlusOne]]:
        """Collect the N+1 runs found inside the block and raise :class:`NPlusOneError` at its end."""
        found: list[NPlusOne] = []
        self.detector.watchers.append(found.append)
        try:
            yield found
        finally:
            self.detector.watchers.remove(found.append)
        if found:
            raise NPlusOneError(found)

    @contextmanager
    def assert_max_statements(self, limit: int) -> Iterator[list[StatementRecord]]:
        """Raise :class:`StatementBudgetError` if the block sends more than ``limit`` data statements."""
        if self._client is None:
            raise DatabaseError("assert_max_statements needs an optimizer attached to a client")
        with self._client.statements.recording() as seen:
            yield seen
        mine = [record for record in seen if record.operation != INTERNAL_OPERATION]
        if len(mine) > limit:
            shapes = "\n".join(shape_of(record.sql).fingerprint[:160] for record in mine)
            raise StatementBudgetError(f"{len(mine)} statements, at most {limit} allowed:\n{shapes}")

    async def database_totals(self, limit: int = 20) -> list[dict[str, Any]] | None:
        """Top statements by total time from ``pg_stat_statements``, when the server offers it.

        ``None`` on SQLite, when the extension is not installed in the database, or when the server
        does not preload it (the view then raises). It is never created or configured from here.
        """
        client = self._client
        if client is None or client.backend != "postgresql":
            return None
        query = text(
            "SELECT query, calls, total_exec_time, mean_exec_time, rows FROM pg_stat_statements "
            "WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) "
            "ORDER BY total_exec_time DESC LIMIT :limit"
        )
        with unobserved():
            async with client.engine.connect() as connection:
                installed = await connection.scalar(
                    text("SELECT 1 FROM pg_extension WHERE extname = 'pg_stat_statements'")
                )
                if installed is None:
                    return None
                try:
                    rows = (await connection.execute(query, {"limit": limit})).mappings().all()
                except Exception as error:  # noqa: BLE001 - not preloaded: the view refuses to read
                    logger.debug("pg_stat_statements unreadable: {}", type(error).__name__)
                    return None
        return [dict(row) for row in rows]
