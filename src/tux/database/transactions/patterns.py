"""``TransactionManager``: the unit of work repositories join through a context variable.

``async with db.transaction():`` opens one connection and begins a transaction on it; every repository
call awaited inside it, from any repository, in the same task, runs on that connection (direct
statements on its driver connection, ORM code through a session made on first use and bound to the same
transaction), and everything commits or rolls back together. A nested
``transaction()`` is a SAVEPOINT. Callbacks registered with :meth:`TransactionManager.on_commit` run
after the outermost commit and are dropped on rollback.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext
from dataclasses import dataclass
from functools import partial
from typing import Any, Literal, TypeVar

from loguru import logger
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession
from sqlalchemy.orm import ORMExecuteState, Session
from sqlalchemy.util import greenlet_spawn

from tux.database.core.engine import READ_ONLY_OPTION
from tux.database.core.session import CommitCallback, SessionProvider, UnitOfWork, translated_errors
from tux.database.exceptions import ConnectionLostError, TransactionError
from tux.database.transactions.monitoring import TransactionMonitor
from tux.database.transactions.retry import RetryPolicy, is_retryable

T = TypeVar("T")
IsolationLevel = Literal["READ COMMITTED", "REPEATABLE READ", "SERIALIZABLE"]


@dataclass(frozen=True, slots=True)
class TransactionOptions:
    """Per-transaction settings; timeouts are in seconds and apply on PostgreSQL only."""

    isolation_level: IsolationLevel | None = None
    read_only: bool = False
    lock_timeout: float | None = None
    statement_timeout: float | None = None

    def is_default(self) -> bool:
        """Whether nothing differs from the backend's defaults."""
        return self == _DEFAULT_OPTIONS


_DEFAULT_OPTIONS = TransactionOptions()


def _reject_writes(session: Session) -> None:
    """Make ``session`` refuse writes, whatever the backend enforces."""

    def on_execute(state: ORMExecuteState) -> None:
        if state.is_insert or state.is_update or state.is_delete:
            raise TransactionError("write attempted in a read-only transaction")

    def on_flush(flushing: Session, *_: object) -> None:
        if flushing.new or flushing.dirty or flushing.deleted:
            raise TransactionError("write attempted in a read-only transaction")

    event.listen(session, "do_orm_execute", on_execute)
    event.listen(session, "before_flush", on_flush)


class TransactionManager:
    """Opens units of work, savepoints and retried transactions on one database.

    Parameters
    ----------
    sessions
        The session provider repositories of the same ``Database`` draw from.
    monitor
        Records counts and durations per operation name.
    """

    def __init__(self, sessions: SessionProvider, monitor: TransactionMonitor | None = None) -> None:
        self._sessions = sessions
        self.monitor = monitor if monitor is not None else TransactionMonitor()

    @property
    def in_transaction(self) -> bool:
        """Whether the running task has an open unit of work here."""
        return self._sessions.current() is not None

    async def on_commit(self, callback: CommitCallback) -> None:
        """Run ``callback`` after the outermost commit; dropped on rollback; run now outside a transaction."""
        await self._sessions.after_commit(callback)

    @asynccontextmanager
    async def transaction(
        self,
        name: str = "transaction",
        *,
        isolation_level: IsolationLevel | None = None,
        read_only: bool = False,
        lock_timeout: float | None = None,
        statement_timeout: float | None = None,
    ) -> AsyncIterator[UnitOfWork]:
        """Open a unit of work, or a SAVEPOINT when one is already open in this task."""
        options = TransactionOptions(isolation_level, read_only, lock_timeout, statement_timeout)
        unit = self._sessions.current()
        if unit is not None:
            if not options.is_default():
                raise TransactionError("options can only be set on the outermost transaction")
            async with self._savepoint(unit):
                yield unit
            return
        async with self.monitor.track(name):
            async with self._write_turn(options), self._outermost(options) as opened:
                yield opened
            await opened.run_commit_callbacks()  # committed; the SQLite write turn is free again

    async def execute_in_transaction(
        self,
        operation: Callable[[], Awaitable[T]],
        *,
        name: str | None = None,
        retry: RetryPolicy | None = None,
        isolation_level: IsolationLevel | None = None,
        read_only: bool = False,
        lock_timeout: float | None = None,
        statement_timeout: float | None = None,
    ) -> T:
        """Run ``operation`` in a transaction, re-running it whole on a retryable failure.

        Only serialization failures, deadlocks and SQLite's "database is locked" are retried, with
        jittered backoff, at most ``retry.attempts`` times; so is a connection lost before the commit
        was sent (the server rolled the transaction back; a pooled connection the server closed while
        idle is found this way, as the pool does not pre-ping). A connection lost during the commit is
        not: whether it committed is unknown. Inside an open transaction the operation
        runs in a savepoint and is not retried: the outermost transaction owns the retry.
        """
        label = name or str(getattr(operation, "__qualname__", "transaction"))
        if self.in_transaction:
            async with self.transaction(label):
                return await operation()
        delays = (retry or RetryPolicy()).delays()
        while True:
            committing = False
            try:
                async with self.transaction(
                    label,
                    isolation_level=isolation_level,
                    read_only=read_only,
                    lock_timeout=lock_timeout,
                    statement_timeout=statement_timeout,
                ):
                    result = await operation()
                    committing = True
                return result
            except Exception as error:
                lost = isinstance(error, ConnectionLostError) and not committing
                delay = next(delays, None) if lost or is_retryable(error) else None
                if delay is None:
                    raise
                self.monitor.record_retry(label)
                logger.debug("retrying transaction {} after {}: {}", label, type(error).__name__, error)
                await asyncio.sleep(delay)

    def _write_turn(self, options: TransactionOptions) -> AbstractAsyncContextManager[None]:
        return nullcontext() if options.read_only else self._sessions.write_turn()

    @asynccontextmanager
    async def _outermost(self, options: TransactionOptions) -> AsyncIterator[UnitOfWork]:
        engine: AsyncEngine = self._sessions.factory.kw["bind"]
        unit: UnitOfWork | None = None
        try:
            async with translated_errors():
                connection = await greenlet_spawn(_begin, engine.sync_engine, *self._settings(options))
                unit = UnitOfWork(
                    owner=asyncio.current_task(),
                    connection=connection,
                    make_session=partial(self._session_on, engine, connection, options),
                    read_only=options.read_only,
                )
                token = self._sessions.bind(unit)
                try:
                    yield unit
                    await greenlet_spawn(_commit, connection, _sync(unit.opened_session))
                finally:
                    self._sessions.unbind(token)
        except BaseException:
            if unit is not None:
                await greenlet_spawn(_discard, unit.connection, _sync(unit.opened_session))
            raise

    def _session_on(
        self, engine: AsyncEngine, connection: Connection, options: TransactionOptions
    ) -> AsyncSession:
        """The unit's session, made when ORM code first needs it: it owns the unit's transaction."""
        bind = AsyncConnection(engine, connection)
        session = self._sessions.factory(bind=bind, join_transaction_mode="control_fully")
        if options.read_only:
            _reject_writes(session.sync_session)
        return session

    @asynccontextmanager
    async def _savepoint(self, unit: UnitOfWork) -> AsyncIterator[None]:
        registered = len(unit.commit_callbacks)
        try:
            async with translated_errors(), unit.session.begin_nested():
                await unit.session.connection()  # SAVEPOINT now: direct statements bypass the session
                yield
        except BaseException:
            del unit.commit_callbacks[registered:]
            raise

    def _settings(self, options: TransactionOptions) -> tuple[dict[str, Any], list[tuple[str, int]]]:
        """The connection's execution options and the ``SET LOCAL`` settings (milliseconds) to apply."""
        execution_options: dict[str, Any] = {}
        if options.isolation_level is not None:
            execution_options["isolation_level"] = options.isolation_level
        if options.read_only:
            execution_options[READ_ONLY_OPTION] = True
            if not self._sessions.is_sqlite:
                execution_options["postgresql_readonly"] = True
        if self._sessions.is_sqlite:
            return execution_options, []
        settings = [
            (setting, max(1, round(seconds * 1000)))
            for setting, seconds in (
                ("lock_timeout", options.lock_timeout),
                ("statement_timeout", options.statement_timeout),
            )
            if seconds is not None
        ]
        return execution_options, settings


def _begin(engine: Engine, execution_options: dict[str, Any], settings: list[tuple[str, int]]) -> Connection:
    """Check out a connection and begin the unit's transaction on it, in one greenlet hop."""
    connection = engine.connect()
    try:
        if execution_options:
            connection.execution_options(**execution_options)
        connection.begin()
        for setting, milliseconds in settings:
            connection.exec_driver_sql(f"SET LOCAL {setting} = {int(milliseconds)}")
    except BaseException:
        connection.close()
        raise
    return connection


def _sync(session: AsyncSession | None) -> Session | None:
    return None if session is None else session.sync_session


def _commit(connection: Connection, session: Session | None) -> None:
    """Commit the unit (its session flushes first when ORM code used one) and give the connection back."""
    if session is not None:
        session.commit()  # the session owns the connection's transaction
        session.close()
    else:
        connection.commit()
    connection.close()


def _discard(connection: Connection | None, session: Session | None) -> None:
    """Roll back, logging rather than masking the original error if the rollback itself fails."""
    try:
        if session is not None:
            session.rollback()
        elif connection is not None:
            connection.rollback()
    except Exception:  # noqa: BLE001 - the original error is the one to raise
        logger.opt(exception=True).warning("rollback failed")
    finally:
        if session is not None:
            session.close()
        if connection is not None:
            connection.close()
