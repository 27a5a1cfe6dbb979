"""Where a repository call gets its session: the current unit of work, or a short transaction of its own.

The unit of work travels in a context variable, so repositories take no session argument. A unit of
work belongs to the task that opened it: a task spawned inside a transaction inherits the context
variable but may not use the session (an ``AsyncSession`` is not safe for concurrent use), and gets a
:class:`~tux.database.exceptions.TransactionError` instead of silently sharing it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from contextvars import ContextVar, Token
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from loguru import logger
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tux.database.core.engine import READ_ONLY_OPTION
from tux.database.core.errors import translate_error
from tux.database.exceptions import DatabaseLockedError, TransactionError

if TYPE_CHECKING:
    from tux.database.core.runner import StatementRunner

CommitCallback = Callable[[], Awaitable[None]]

NO_UNITS: Mapping[int, UnitOfWork] = MappingProxyType({})
"""What :func:`open_units` returns while no unit of work is open in the running context."""
_active_units: ContextVar[Mapping[int, UnitOfWork]] = ContextVar("tux_units_of_work", default=NO_UNITS)
open_units = _active_units.get
"""Return the units of work open in the running context, by provider (``NO_UNITS`` when none).

A C-level call: hot paths use it to learn that no unit is open before paying for
:meth:`SessionProvider.current`."""
_committed: ContextVar[UnitOfWork | None] = ContextVar("tux_committed_unit", default=None)
committed_unit = _committed.get
"""Return the unit of work whose ``on_commit`` callbacks are running in this context, else ``None``."""


class UnitOfWork:
    """One open transaction: its connection, its owning task and what to run once it commits.

    The ORM session is made on first use of :attr:`session`, bound to the unit's connection and its
    transaction, so a unit whose statements all take the direct path pays for no ``AsyncSession``.

    Parameters
    ----------
    session
        The unit's session when it is opened around one (it then owns the connection).
    owner
        The task the unit belongs to.
    connection
        The unit's connection, its transaction begun, when the session is made on demand.
    make_session
        Makes the session bound to ``connection`` on first use of :attr:`session`.
    read_only
        Whether writes are refused.
    """

    __slots__ = (
        "_made",
        "_session",
        "adapter",
        "commit_callbacks",
        "connection",
        "driver",
        "info",
        "owner",
        "read_only",
    )

    def __init__(
        self,
        session: AsyncSession | None = None,
        owner: asyncio.Task[Any] | None = None,
        *,
        connection: Connection | None = None,
        make_session: Callable[[], AsyncSession] | None = None,
        read_only: bool = False,
    ) -> None:
        self._session = session
        self._made = make_session
        self.owner = owner
        self.connection = connection
        self.read_only = read_only
        self.commit_callbacks: list[CommitCallback] = []
        self.adapter: Any = None
        """The DBAPI adapter of the unit's connection, once known."""
        self.driver: Any = None
        """The driver connection behind :attr:`adapter` (asyncpg or aiosqlite)."""
        self.info: dict[Any, Any] | None = None
        """The pooled connection's ``info`` (where a pool monitor keeps its activity), once known."""
        if connection is not None:
            lent = connection.connection
            self.adapter, self.driver, self.info = lent.dbapi_connection, lent.driver_connection, lent.info

    @property
    def session(self) -> AsyncSession:
        """The unit's ORM session, made (bound to the unit's transaction) on first use."""
        if self._session is None:
            if self._made is None:
                raise TransactionError("this unit of work has no session to make")
            self._session = self._made()
        return self._session

    @property
    def opened_session(self) -> AsyncSession | None:
        """The session if ORM code asked for it, else ``None``."""
        return self._session

    async def run_commit_callbacks(self) -> None:
        """Run the registered callbacks in order; one that fails is logged and the rest still run."""
        callbacks, self.commit_callbacks = self.commit_callbacks, []
        token = _committed.set(self)
        try:
            for callback in callbacks:
                try:
                    await callback()
                except Exception:  # noqa: BLE001 - the commit already happened; report and go on
                    logger.exception(
                        "on_commit callback {} failed", getattr(callback, "__qualname__", callback)
                    )
        finally:
            _committed.reset(token)


class SessionProvider:
    """Hands sessions to repositories, honouring the caller's unit of work."""

    def __init__(
        self,
        factory: async_sessionmaker[AsyncSession],
        *,
        sqlite: bool,
        write_wait_timeout: float = 30.0,
        autocommit_reads: bool = True,
    ) -> None:
        self._factory = factory
        self._sqlite = sqlite
        self._write_wait_timeout = write_wait_timeout
        self._write_lock = asyncio.Lock() if sqlite else None
        self.write_turns = 0
        """How many SQLite write turns this process was granted so far (a write happened since a count
        was taken when it changed)."""
        self._runner: StatementRunner | None = None
        self._read_options: dict[str, object] = (
            {READ_ONLY_OPTION: True}
            if sqlite
            else {"isolation_level": "AUTOCOMMIT"}
            if autocommit_reads
            else {}
        )
        """Behind PgBouncer (``autocommit_reads=False``) a read prepares and runs its statement inside
        a transaction, so both steps reach the same server connection."""

    @property
    def factory(self) -> async_sessionmaker[AsyncSession]:
        """The session factory bound to this provider's engine."""
        return self._factory

    @property
    def runner(self) -> StatementRunner:
        """The direct statement path on this provider's engine (``DatabaseClient`` installs its own)."""
        if self._runner is None:
            from tux.database.core.observe import StatementHub  # noqa: PLC0415 - a provider made alone
            from tux.database.core.runner import StatementRunner  # noqa: PLC0415

            self._runner = StatementRunner(self._factory.kw["bind"], self, StatementHub())
        return self._runner

    @runner.setter
    def runner(self, runner: StatementRunner) -> None:
        self._runner = runner

    @property
    def is_sqlite(self) -> bool:
        """Whether the backend is SQLite."""
        return self._sqlite

    def current(self) -> UnitOfWork | None:
        """Return the unit of work of the running task, or ``None`` outside a transaction."""
        units = _active_units.get()
        if units is NO_UNITS:  # the common case, answered on every cached lookup
            return None
        unit = units.get(id(self))
        if unit is None:
            return None
        if unit.owner is not asyncio.current_task():
            raise TransactionError(
                "a transaction's session was reached from another task; "
                "await repository calls directly inside `async with db.transaction()` instead of "
                "spawning tasks (asyncio.gather) that share it"
            )
        return unit

    def bind(self, unit: UnitOfWork) -> Token[Mapping[int, UnitOfWork]]:
        """Make ``unit`` the current unit of work of this provider in the running context."""
        return _active_units.set({**_active_units.get(), id(self): unit})

    def unbind(self, token: Token[Mapping[int, UnitOfWork]]) -> None:
        """Undo a :meth:`bind`."""
        _active_units.reset(token)

    async def after_commit(self, callback: CommitCallback) -> None:
        """Run ``callback`` after the current transaction commits, or now when there is none."""
        unit = self.current()
        if unit is None:
            await callback()
        else:
            unit.commit_callbacks.append(callback)

    @asynccontextmanager
    async def write_turn(self) -> AsyncIterator[None]:
        """Queue this process's SQLite writers on an asyncio lock instead of SQLite's busy handler.

        SQLite allows one writer at a time. Left to itself, a blocked ``BEGIN IMMEDIATE`` sleeps in the
        busy handler in steps of up to 100 ms, so a burst of concurrent writes in one process crawls.
        Waiting on an asyncio lock hands the turn over as soon as the previous writer commits; the busy
        timeout then only arbitrates between processes. PostgreSQL needs no turn.
        """
        lock = self._write_lock
        if lock is None:
            yield
            return
        try:
            async with asyncio.timeout(self._write_wait_timeout):
                await lock.acquire()
        except TimeoutError:
            raise DatabaseLockedError(
                f"no SQLite write turn within {self._write_wait_timeout:.1f}s; "
                "is a task waiting on another that holds a transaction open?"
            ) from None
        self.write_turns += 1
        try:
            yield
        finally:
            lock.release()

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[AsyncSession]:
        """Yield a session for reads: the unit of work's, or a short read of its own.

        Outside a unit of work a read needs no transaction: SQLite reads with ``BEGIN DEFERRED`` (no write
        lock), PostgreSQL in autocommit, which saves the ``BEGIN`` and ``ROLLBACK`` round trips.
        """
        unit = self.current()
        if unit is not None:
            async with translated_errors():
                yield unit.session
            return
        async with self._factory() as session, translated_errors():
            await session.connection(execution_options=self._read_options)
            yield session

    @asynccontextmanager
    async def writing(self) -> AsyncIterator[AsyncSession]:
        """Yield a session for writes: the unit of work's, or a short transaction committed on exit."""
        unit = self.current()
        if unit is not None:
            async with translated_errors():
                yield unit.session
            return
        async with self.write_turn(), self._factory() as session, translated_errors(), session.begin():
            yield session


@asynccontextmanager
async def translated_errors() -> AsyncIterator[None]:
    """Re-raise driver errors as the project's exceptions."""
    try:
        yield
    except Exception as error:
        translated = translate_error(error)
        if translated is None or translated is error:
            raise
        raise translated from error
