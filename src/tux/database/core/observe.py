"""Every statement the layer sends, reported in one place.

Statements reach the database by two roads: through SQLAlchemy (ORM sessions, Core, migrations),
seen by the engine's cursor events, and through paths that talk to the driver connection directly,
which report themselves with :meth:`StatementHub.publish`. Both feed one :class:`StatementHub` per
client, and whatever watches statements (query statistics, index advice, statement counts in tests and
benchmarks) subscribes to it instead of to either road.

A hub without subscribers costs one attribute test per statement.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from time import perf_counter
from typing import Any, Final, NamedTuple, Protocol
from weakref import WeakKeyDictionary

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine, ExceptionContext
from sqlalchemy.engine.interfaces import DBAPICursor, ExecutionContext

current_operation: ContextVar[str | None] = ContextVar("tux_current_operation", default=None)
"""Name of the service operation (unit of work) the running task is in, for attributing statements."""

ACTIVITY_KEY: Final = "tux_connection_activity"
"""Key, in a checked-out connection's ``info``, of the :class:`ConnectionActivity` a pool monitor keeps
for that checkout; absent when nothing monitors the pool."""

_STARTED = "tux_statement_started"
_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "PRAGMA", "SET ")


class StatementRecord(NamedTuple):
    """One statement sent to the database (a named tuple: one is built for every statement sent).

    Attributes
    ----------
    sql
        The SQL text as sent (bound parameters as placeholders, never inlined).
    parameters
        The bound parameters (a sequence of parameter sets when ``executemany``).
    elapsed
        Seconds from sending to the result (or the error).
    rows
        Rows returned or affected; ``-1`` when the driver does not say.
    error
        The exception the statement raised, or ``None``.
    executemany
        Whether one statement ran for many parameter sets.
    operation
        The service operation the statement belongs to (:data:`current_operation`), if any.
    """

    sql: str
    parameters: object
    elapsed: float
    rows: int = -1
    error: BaseException | None = None
    executemany: bool = False
    operation: str | None = None

    @property
    def is_control(self) -> bool:
        """Whether this is transaction or session control (``BEGIN``, ``SAVEPOINT``, ``PRAGMA``, ...)."""
        return self.sql.lstrip().upper().startswith(_CONTROL)


_HUBS: WeakKeyDictionary[Engine, StatementHub] = WeakKeyDictionary()


def hub_of(engine: Engine) -> StatementHub | None:
    """Return the hub attached to ``engine`` (the sync engine behind an async one), if any."""
    return _HUBS.get(engine)


class ConnectionActivity(Protocol):
    """Told when a statement starts and ends on a checked-out connection.

    SQLAlchemy's cursor events say so for statements sent through it; the paths that talk to the
    driver connection directly say so through this, so a connection running a slow statement is never
    taken for one held idle.
    """

    def statement_started(self) -> None:
        """A statement was sent on the connection."""

    def statement_ended(self) -> None:
        """The statement's result (or error) came back."""


StatementListener = Callable[[StatementRecord], None]
"""Called synchronously for every statement; it must be cheap and must not raise."""


class StatementHub:
    """Fans statement records out to subscribers."""

    __slots__ = ("_listeners",)

    def __init__(self) -> None:
        self._listeners: tuple[StatementListener, ...] = ()

    @property
    def active(self) -> bool:
        """Whether anyone listens (callers skip building records when not)."""
        return bool(self._listeners)

    def subscribe(self, listener: StatementListener) -> Callable[[], None]:
        """Add ``listener``; return the function that removes it again."""
        self._listeners = (*self._listeners, listener)

        def unsubscribe() -> None:
            self._listeners = tuple(known for known in self._listeners if known is not listener)

        return unsubscribe

    def publish(self, record: StatementRecord) -> None:
        """Hand ``record`` to every subscriber."""
        for listener in self._listeners:
            listener(record)

    def report(
        self,
        sql: str,
        parameters: object,
        started: float,
        *,
        rows: int = -1,
        error: BaseException | None = None,
        executemany: bool = False,
    ) -> None:
        """Publish a statement that began at ``perf_counter()`` value ``started``, if anyone listens."""
        if self._listeners:
            self.publish(
                StatementRecord(
                    sql,
                    parameters,
                    perf_counter() - started,
                    rows,
                    error,
                    executemany,
                    current_operation.get(),
                )
            )

    def attach(self, engine: Engine) -> None:
        """Report every statement ``engine`` (the sync engine behind an async one) sends."""
        _HUBS[engine] = self
        event.listen(engine, "before_cursor_execute", _before_cursor_execute)
        event.listen(engine, "after_cursor_execute", self._after_cursor_execute)
        event.listen(engine, "handle_error", self._handle_error)

    @contextmanager
    def recording(self, *, data_only: bool = True) -> Iterator[list[StatementRecord]]:
        """Collect the statements sent inside the block (transaction control left out by default)."""
        seen: list[StatementRecord] = []

        def keep(record: StatementRecord) -> None:
            if not (data_only and record.is_control):
                seen.append(record)

        unsubscribe = self.subscribe(keep)
        try:
            yield seen
        finally:
            unsubscribe()

    def _after_cursor_execute(
        self,
        _conn: Connection,
        cursor: DBAPICursor,
        statement: str,
        parameters: Any,
        context: ExecutionContext | None,
        executemany: bool,
    ) -> None:
        if self._listeners and context is not None:
            started = getattr(context, _STARTED, None)
            if started is not None:
                rows = getattr(cursor, "rowcount", -1)
                self.report(
                    statement,
                    parameters,
                    started,
                    rows=rows if isinstance(rows, int) else -1,
                    executemany=executemany,
                )

    def _handle_error(self, context: ExceptionContext) -> None:
        execution = context.execution_context
        started = getattr(execution, _STARTED, None) if execution is not None else None
        if self._listeners and started is not None and context.statement is not None:
            self.report(
                context.statement,
                context.parameters,
                started,
                error=context.original_exception,
            )


def _before_cursor_execute(
    _conn: Connection,
    _cursor: DBAPICursor,
    _statement: str,
    _parameters: Any,
    context: ExecutionContext | None,
    _executemany: bool,
) -> None:
    if context is not None:
        setattr(context, _STARTED, perf_counter())
