"""``ConnectionPoolOptimizer``: what the connection pool really did, and advice drawn from it.

Figures come from the engine, not from configuration: SQLAlchemy's pool events (``connect``,
``checkout``, ``checkin``, ``invalidate``) count connections and time how long each is held; the
pool's own status (``size()``, ``checkedout()``, ``overflow()``) gives the live state; the engine's
cursor events, and the direct statement path through the checkout's activity in the connection's
``info`` (:data:`~tux.database.core.observe.ACTIVITY_KEY`), mark which held connections are running a
statement; and the pool's ``connect`` is
wrapped to time checkouts that had to wait for a connection and to count the ones that timed out.

Everything is a few attribute updates per checkout and per statement, in the event loop's thread.
Advice (:meth:`ConnectionPoolOptimizer.get_pool_recommendations`) is computed only when asked, from
measured rules: checkouts that waited while held connections sat idle (a session kept open across a
slow await, such as a Discord API call), waits with every connection busy, sustained high
utilization, long holds, timeouts, and SQLite's single writer.
"""

from __future__ import annotations

import sys
import time
from bisect import bisect_left
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from typing import Any

from loguru import logger
from sqlalchemy import event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection, ExceptionContext
from sqlalchemy.engine.interfaces import ExecutionContext
from sqlalchemy.pool import ConnectionPoolEntry, Pool, QueuePool

from tux.database.core.client import DatabaseClient
from tux.database.core.observe import ACTIVITY_KEY
from tux.database.optimization.export import BUCKETS as STATEMENT_BUCKETS

__all__ = ["BUCKETS", "ConnectionPoolOptimizer", "PoolFigures"]

BUCKETS = (*STATEMENT_BUCKETS, 10.0)
"""Upper bounds (seconds) of the hold and wait histograms: the statement buckets, and 10 s for long holds."""
HIGH_UTILIZATION = 0.8
"""Share of the pool's capacity in use from which utilization counts as high."""


@dataclass(frozen=True, slots=True)
class PoolFigures:
    """The pool as measured, durations in seconds.

    Attributes
    ----------
    pool_size, max_overflow
        Configured sizes (capacity is their sum).
    checked_out, idle, overflow
        The pool's live status: connections in use, connections ready in the pool, and overflow
        connections open beyond ``pool_size`` (negative while the pool has not opened them all).
    peak
        Most connections ever in use at once.
    connects, checkouts, invalidations
        New DBAPI connections opened, checkouts served, connections invalidated.
    waits, wait_total, wait_max
        Checkouts that found every connection in use and had to wait; time spent waiting.
    waits_with_idle_holders, idle_holders_seen
        Of those, the waits during which at least one held connection sat idle (no statement running,
        none for ``idle_after`` seconds, when the wait began or ended or when it was given back during
        the wait); and how many idle holders those waits saw in all.
    timeouts
        Checkouts that gave up after ``pool_timeout``.
    holds, hold_total, hold_max, hold_p50, hold_p95, long_holds
        Checkout-to-checkin durations (percentiles over the recent window), and holds longer than
        ``long_hold``.
    observed, high_utilization_time
        Seconds since monitoring began, and how many of them the pool spent at or above 80% of
        its capacity.
    """

    pool_size: int
    max_overflow: int
    checked_out: int
    idle: int
    overflow: int
    peak: int
    connects: int
    checkouts: int
    invalidations: int
    running: int
    waiting: int
    waits: int
    wait_total: float
    wait_max: float
    waits_with_idle_holders: int
    idle_holders_seen: int
    timeouts: int
    holds: int
    hold_total: float
    hold_max: float
    hold_p50: float
    hold_p95: float
    long_holds: int
    observed: float
    high_utilization_time: float

    @property
    def capacity(self) -> int:
        """Most connections the pool hands out at once."""
        return self.pool_size + self.max_overflow

    @property
    def utilization(self) -> float:
        """Connections in use as a share of the capacity."""
        return self.checked_out / self.capacity if self.capacity else 0.0


class _Hold:
    """One checkout of a connection: when it began, and when its last statement ran (its activity)."""

    __slots__ = ("_clock", "busy", "last_active", "started")

    def __init__(self, now: float, clock: Callable[[], float]) -> None:
        self.started = now
        self.last_active = now
        self.busy = 0
        self._clock = clock

    def statement_started(self) -> None:
        """A statement is running on the connection."""
        self.busy += 1

    def statement_ended(self) -> None:
        """The statement is done: the connection is idle from now until the next one."""
        self.busy -= 1
        self.last_active = self._clock()


class ConnectionPoolOptimizer:
    """Measures one client's connection pool and advises on its size and use.

    Parameters
    ----------
    db_client
        The client whose engine and pool are measured (attached at once).
    long_hold
        Seconds after which a checkout counts as a long hold (default: setting ``pool_long_hold_s``).
    idle_after
        Seconds without a statement after which a held connection counts as idle.
    window
        How many recent hold durations the percentiles are computed from.
    clock
        Monotonic clock in seconds.
    """

    def __init__(
        self,
        db_client: DatabaseClient,
        *,
        long_hold: float | None = None,
        idle_after: float = 0.05,
        window: int = 1024,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        settings = db_client.settings
        self.db_client = db_client
        self.long_hold = long_hold if long_hold is not None else settings.pool_long_hold_s
        self.idle_after = idle_after
        self._clock = clock
        self._max_overflow = settings.max_overflow
        self._sqlite = db_client.backend == "sqlite"
        self._holds: dict[int, _Hold] = {}
        self._high_at = 0.0
        """Checkouts from which the pool counts as highly utilized (set for each pool by :meth:`_wrap`)."""
        self._recent: deque[float] = deque(maxlen=window)
        self.hold_buckets = [0] * (len(BUCKETS) + 1)
        """Counts of hold durations per :data:`BUCKETS` bound (the last: longer than them all)."""
        self.wait_buckets = [0] * (len(BUCKETS) + 1)
        """Counts of checkout waits per :data:`BUCKETS` bound."""
        self.on_wait: Callable[[int], None] | None = None
        """Called with the number of checkouts now waiting each time one starts to wait (alerts, tests)."""
        self.reset()
        engine = db_client.engine.sync_engine
        for name, listener in (
            ("connect", self._on_connect),
            ("checkout", self._on_checkout),
            ("checkin", self._on_checkin),
            ("invalidate", self._on_invalidate),
        ):
            event.listen(engine, name, listener)
        event.listen(engine, "before_cursor_execute", self._before_statement, named=True)
        event.listen(engine, "after_cursor_execute", self._after_statement, named=True)
        event.listen(engine, "handle_error", self._on_error)
        event.listen(engine, "engine_disposed", lambda _engine: self._wrap(db_client.engine.sync_engine.pool))
        self._wrap(engine.pool)

    def reset(self) -> None:
        """Forget every figure (connections held now are still timed when they come back)."""
        now = self._clock()
        self._started = self._last_change = now
        self._peak = self._connects = self._checkouts = self._invalidations = 0
        self._waits = self._waits_idle = self._idle_seen = self._timeouts = 0
        self._waiting = getattr(self, "_waiting", 0)  # checkouts waiting now still finish their wait
        self._released_idle = getattr(self, "_released_idle", 0)  # only ever compared with itself
        self._wait_total = self._wait_max = 0.0
        self._hold_count = self._long_holds = 0
        self._hold_total = self._hold_max = self._high_time = 0.0
        self._recent.clear()
        self.hold_buckets[:] = [0] * len(self.hold_buckets)
        self.wait_buckets[:] = [0] * len(self.wait_buckets)

    @property
    def pool(self) -> Pool:
        """The engine's current pool."""
        return self.db_client.engine.sync_engine.pool

    def figures(self) -> PoolFigures:
        """Return the pool's figures now."""
        pool = self.pool
        size, checked_out, idle, overflow = _status(pool)
        recent = sorted(self._recent)
        now = self._clock()
        high = self._high_time + (now - self._last_change if self._is_high(len(self._holds)) else 0.0)
        return PoolFigures(
            pool_size=size,
            max_overflow=self._max_overflow if isinstance(pool, QueuePool) else 0,
            checked_out=checked_out,
            idle=idle,
            overflow=overflow,
            peak=self._peak,
            connects=self._connects,
            checkouts=self._checkouts,
            invalidations=self._invalidations,
            running=sum(hold.busy for hold in self._holds.values()),
            waiting=self._waiting,
            waits=self._waits,
            wait_total=self._wait_total,
            wait_max=self._wait_max,
            waits_with_idle_holders=self._waits_idle,
            idle_holders_seen=self._idle_seen,
            timeouts=self._timeouts,
            holds=self._hold_count,
            hold_total=self._hold_total,
            hold_max=self._hold_max,
            hold_p50=_percentile(recent, 0.50),
            hold_p95=_percentile(recent, 0.95),
            long_holds=self._long_holds,
            observed=now - self._started,
            high_utilization_time=high,
        )

    async def monitor_connection_usage(self) -> dict[str, Any]:
        """Return the figures with the plan's keys (``pool_size``, ``active_connections``, ...) first.

        ``utilization_rate`` is connections in use over the capacity (``pool_size + max_overflow``).
        """
        figures = self.figures()
        return {
            "pool_size": figures.pool_size,
            "active_connections": figures.checked_out,
            "peak_usage": figures.peak,
            "utilization_rate": figures.utilization,
            **asdict(figures),
        }

    def get_pool_recommendations(self) -> list[str]:
        """Return advice backed by what was measured; an empty list when nothing calls for a change."""
        return list(_advice(self.figures(), self.long_hold, self.idle_after, sqlite=self._sqlite))

    def _is_high(self, checked_out: int) -> bool:
        return 0 < self._high_at <= checked_out

    def _utilization_changes(self, now: float) -> None:
        if self._is_high(len(self._holds)):
            self._high_time += now - self._last_change
        self._last_change = now

    def _on_connect(self, _dbapi: Any, _record: ConnectionPoolEntry) -> None:
        self._connects += 1

    def _on_checkout(self, _dbapi: Any, record: ConnectionPoolEntry, _proxy: Any) -> None:
        now = self._clock()
        self._utilization_changes(now)
        self._checkouts += 1
        self._holds[id(record)] = record.info[ACTIVITY_KEY] = _Hold(now, self._clock)
        self._peak = max(self._peak, len(self._holds))

    def _on_checkin(self, _dbapi: Any, record: ConnectionPoolEntry) -> None:
        hold = self._holds.pop(id(record), None)
        if hold is None:  # checked out before monitoring began
            return
        now = self._clock()
        if self._is_high(len(self._holds) + 1):
            self._high_time += now - self._last_change
        self._last_change = now
        held = now - hold.started
        if now - hold.last_active > self.idle_after:
            self._released_idle += 1
        self._hold_count += 1
        self._hold_total += held
        self._hold_max = max(self._hold_max, held)
        self._recent.append(held)
        self.hold_buckets[bisect_left(BUCKETS, held)] += 1
        if held > self.long_hold:
            self._long_holds += 1
            logger.debug("connection held {:.3f}s (long-hold threshold {:.3f}s)", held, self.long_hold)

    def _on_invalidate(self, _dbapi: Any, _record: ConnectionPoolEntry, _error: BaseException | None) -> None:
        self._invalidations += 1

    def _before_statement(self, *, conn: Connection, context: ExecutionContext | None, **_: Any) -> None:
        hold = conn.info.get(ACTIVITY_KEY)
        if hold is not None and context is not None:
            hold.statement_started()
            setattr(context, ACTIVITY_KEY, hold)  # found at the statement's end

    def _after_statement(self, *, context: ExecutionContext | None, **_: Any) -> None:
        self._statement_ended(context)

    def _on_error(self, context: ExceptionContext) -> None:
        self._statement_ended(context.execution_context)

    def _statement_ended(self, context: ExecutionContext | None) -> None:
        hold: _Hold | None = getattr(context, ACTIVITY_KEY, None)
        if hold is not None:
            delattr(context, ACTIVITY_KEY)  # an error after the cursor ran must not count it twice
            hold.statement_ended()

    def _idle_holders(self, now: float) -> int:
        return sum(
            1 for hold in self._holds.values() if not hold.busy and now - hold.last_active > self.idle_after
        )

    def _wrap(self, pool: Pool) -> None:
        """Time checkouts that wait for a connection: the pool's ``connect``, wrapped on this instance.

        Also notes the checkouts from which the pool counts as highly utilized (its size is fixed).
        """
        capacity = _status(pool)[0] + self._max_overflow if isinstance(pool, QueuePool) else 0
        self._high_at = HIGH_UTILIZATION * capacity
        if not isinstance(pool, QueuePool) or getattr(pool.connect, "_tux_pool_wrapped", False):
            return
        connect = pool.connect

        def timed_connect() -> Any:
            if pool.checkedin() or pool.overflow() < self._max_overflow:
                return connect()
            started = self._clock()
            idle_at_start, released_before = self._idle_holders(started), self._released_idle
            self._waiting += 1
            if self.on_wait is not None:
                self.on_wait(self._waiting)
            try:
                return connect()
            except sa_exc.TimeoutError:
                self._timeouts += 1
                logger.warning(
                    "no pooled connection within the pool timeout; {} held idle",
                    self._idle_holders(self._clock()),
                )
                _sentry_breadcrumb(self._idle_holders(self._clock()))
                raise
            finally:
                self._waiting -= 1
                ended = self._clock()
                idle = max(idle_at_start, self._idle_holders(ended) + self._released_idle - released_before)
                self._count_wait(ended - started, idle)

        timed_connect._tux_pool_wrapped = True  # type: ignore[attr-defined]
        pool.connect = timed_connect  # type: ignore[method-assign]

    def _count_wait(self, waited: float, idle: int) -> None:
        self._waits += 1
        self._wait_total += waited
        self._wait_max = max(self._wait_max, waited)
        self.wait_buckets[bisect_left(BUCKETS, waited)] += 1
        if idle:
            self._waits_idle += 1
            self._idle_seen += idle


def _status(pool: Pool) -> tuple[int, int, int, int]:
    if isinstance(pool, QueuePool):
        return pool.size(), pool.checkedout(), pool.checkedin(), pool.overflow()
    return 0, 0, 0, 0


def _percentile(ordered: list[float], fraction: float) -> float:
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def _advice(figures: PoolFigures, long_hold: float, idle_after: float, *, sqlite: bool) -> Iterator[str]:
    """The measured rules, each yielding one recommendation when it fires."""
    if figures.timeouts:
        yield (
            f"{figures.timeouts} checkout(s) timed out waiting for a connection: shorten what holds "
            f"connections (peak {figures.peak} of {figures.capacity}) or raise pool_size/max_overflow"
        )
    if figures.waits_with_idle_holders:
        yield (
            f"{figures.waits_with_idle_holders} of {figures.waits} checkout wait(s) began while held "
            f"connections sat idle (no statement for over {idle_after * 1000:.0f} ms; "
            f"{figures.idle_holders_seen} seen): a session is kept open across slow awaits (e.g. Discord "
            "API calls inside db.transaction()); do that work outside the transaction"
        )
    elif figures.waits:
        mean = figures.wait_total / figures.waits * 1000
        yield (
            f"{figures.waits} checkout(s) waited {mean:.1f} ms on average with every connection running "
            "statements: raise pool_size (PostgreSQL's max_connections permitting)"
        )
    if figures.observed >= 1.0 and figures.high_utilization_time >= figures.observed / 2:
        share = figures.high_utilization_time / figures.observed
        yield (
            f"the pool was at >= {HIGH_UTILIZATION:.0%} of its capacity for {share:.0%} of the last "
            f"{figures.observed:.0f} s: raise pool_size before checkouts start to wait"
        )
    if figures.long_holds:
        yield (
            f"{figures.long_holds} connection(s) were held longer than {long_hold:.1f} s (longest "
            f"{figures.hold_max:.2f} s): keep transactions short and await nothing slow inside them"
        )
    if sqlite and figures.peak > 1:
        yield (
            f"SQLite allows one writer: {figures.peak} connections were in use at once, and writers "
            "queue on the write turn; more connections only help readers; use PostgreSQL for "
            "concurrent writers"
        )


def _sentry_breadcrumb(idle: int) -> None:
    """Leave a Sentry breadcrumb for a pool timeout when the application runs Sentry (never imports it)."""
    sentry = sys.modules.get("sentry_sdk")
    if sentry is not None:
        sentry.add_breadcrumb(
            category="db.pool",
            level="warning",
            message="connection pool timeout",
            data={"idle_holders": idle},
        )
