"""``StatementRunner``: hot, fixed-shape statements sent straight to the driver connection.

Outside a unit of work a statement takes a connection from SQLAlchemy's pool (one pool, so its figures
stay meaningful; no pre-ping), sends one prepared statement (asyncpg's statement cache; one aiosqlite
``execute``) and gives the connection back: one round trip, no ``BEGIN``/``ROLLBACK``, no ``SET``.
A connection found closed is discarded before anything is sent; one that dies while a statement is in
flight is discarded too, and the statement is sent again on a fresh connection only when that is safe
(a read). Otherwise the project's transient error (:class:`ConnectionLostError`) is raised.

Inside ``db.transaction()`` the statement runs on the unit of work's own connection, after the
pending changes of its session (if ORM code made one) are flushed and its transaction has begun on the
server (SQLAlchemy's asyncpg adapter begins lazily, so a statement sent before that would run outside
the transaction). Atomicity, savepoints, retries and commit callbacks therefore stay those of the unit.

Every statement is reported to the client's :class:`~tux.database.core.observe.StatementHub`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, nullcontext
from contextvars import ContextVar
from time import perf_counter
from typing import Any, Literal

from loguru import logger
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import PoolProxiedConnection

from tux.database.core.errors import translate_error
from tux.database.core.observe import ACTIVITY_KEY, ConnectionActivity, StatementHub
from tux.database.core.session import SessionProvider, UnitOfWork
from tux.database.core.statements import CompiledStatement, Row, Statement
from tux.database.exceptions import ConnectionLostError, TransactionError

Info = dict[Any, Any] | None
"""A pooled connection's ``info`` dictionary, where a pool monitor keeps the checkout's activity."""
Mode = Literal["one", "all", "count"]


class StatementRunner:
    """Runs :class:`Statement` objects on the driver connection of the current context.

    Parameters
    ----------
    engine
        The engine whose pool lends the connections.
    sessions
        Tells whether a unit of work is open (its connection is then used).
    hub
        Where every statement is reported.
    """

    def __init__(self, engine: AsyncEngine, sessions: SessionProvider, hub: StatementHub) -> None:
        self._engine = engine
        self._dialect = engine.dialect
        self._sessions = sessions
        self._hub = hub
        self._sqlite = sessions.is_sqlite
        self._held: ContextVar[tuple[Any, asyncio.Task[Any] | None, Info] | None] = ContextVar(
            f"tux_runner_held_{id(self)}", default=None
        )
        pool: Any = engine.pool
        self._pooled: int = pool.size() + max(0, pool.overflow()) + 1
        """How many closed connections a checkout may meet before the database counts as gone."""

    @property
    def dialect_name(self) -> str:
        """``"sqlite"`` or ``"postgresql"``: what :meth:`Statement.construct` takes."""
        return str(self._dialect.name)

    async def one(self, statement: Statement, values: dict[str, Any]) -> Row | None:
        """Return the first row of ``statement`` (as a dict of column key to value), or ``None``."""
        return await self._run(statement, values, "one")  # type: ignore[no-any-return]

    async def all(self, statement: Statement, values: dict[str, Any]) -> list[Row]:
        """Return every row of ``statement``."""
        return await self._run(statement, values, "all")  # type: ignore[no-any-return]

    async def count(self, statement: Statement, values: dict[str, Any]) -> int:
        """Run ``statement`` (no ``RETURNING``); return how many rows it changed."""
        return await self._run(statement, values, "count")  # type: ignore[no-any-return]

    @asynccontextmanager
    async def atomic(self) -> AsyncIterator[None]:
        """Run the statements this runner gets inside the block in one transaction.

        Inside a unit of work the unit is that transaction already. Outside one a connection is held
        for the block, with ``BEGIN`` (SQLite: ``BEGIN IMMEDIATE`` in this process's write turn) and
        ``COMMIT``, or ``ROLLBACK`` when the block raises, sent on the driver connection.
        """
        if self._sessions.current() is not None or self._held.get() is not None:
            yield
            return
        async with self._sessions.write_turn() if self._sqlite else nullcontext():
            lent, driver = await self._checkout()
            token = self._held.set((driver, asyncio.current_task(), lent.info))
            try:
                await self._control(driver, "BEGIN IMMEDIATE" if self._sqlite else "BEGIN")
                yield
                await self._control(driver, "COMMIT")
            except BaseException:
                await self._abandon(lent, driver)
                raise
            else:
                _give_back(lent)
            finally:
                self._held.reset(token)

    async def _run(self, statement: Statement, values: dict[str, Any], mode: Mode) -> Any:
        compiled = statement.compiled(self._dialect)
        arguments = compiled.bind(values)
        unit = self._sessions.current()
        if unit is not None:
            return await self._in_unit(unit, statement, compiled, arguments, mode)
        held = self._held.get()
        if held is not None:
            driver, owner, info = held
            if owner is not asyncio.current_task():
                raise TransactionError("a statement reached another task's transaction")
            return await self._on(driver, compiled, arguments, mode, info)
        if self._sqlite and statement.writes:
            async with self._sessions.write_turn():
                return await self._pooled_run(statement, compiled, arguments, mode)
        return await self._pooled_run(statement, compiled, arguments, mode)

    async def _checkout(self) -> tuple[PoolProxiedConnection, Any]:
        """Borrow a pooled connection, discarding any found closed while idle (nothing was sent)."""
        for _ in range(self._pooled):
            lent = await self._engine.raw_connection()
            driver: Any = lent.driver_connection
            if self._sqlite or not driver.is_closed():
                return lent, driver
            lent.invalidate()
        raise ConnectionLostError("every pooled connection to the database was closed")

    async def _pooled_run(
        self, statement: Statement, compiled: CompiledStatement, arguments: list[Any], mode: Mode
    ) -> Any:
        retried = False
        while True:
            lent, driver = await self._checkout()
            try:
                result = await self._send(driver, compiled, arguments, mode, lent.info)
            except Exception as error:
                failure = self._failure(error, driver)
                if isinstance(failure, ConnectionLostError):
                    lent.invalidate()
                    if not statement.writes and not retried:
                        retried = True
                        continue
                else:
                    _give_back(lent)
                raise failure from error
            except BaseException:
                lent.invalidate()  # cancelled mid-statement: the connection's protocol state is unknown
                raise
            _give_back(lent)
            return result

    async def _control(self, driver: Any, sql: str) -> None:
        started = perf_counter()
        try:
            await driver.execute(sql)
        except Exception as error:
            self._hub.report(sql, (), started, error=error)
            raise self._failure(error, driver) from error
        self._hub.report(sql, (), started)

    async def _abandon(self, lent: PoolProxiedConnection, driver: Any) -> None:
        """Roll back a held transaction that failed; a connection that cannot is discarded."""
        try:
            if self._sqlite or not driver.is_closed():
                await self._control(driver, "ROLLBACK")
                _give_back(lent)
                return
        except Exception:  # noqa: BLE001 - the block's own error is the one to raise
            logger.opt(exception=True).debug("rollback of a direct transaction failed")
        lent.invalidate()

    async def _in_unit(
        self,
        unit: UnitOfWork,
        statement: Statement,
        compiled: CompiledStatement,
        arguments: list[Any],
        mode: Mode,
    ) -> Any:
        if statement.writes and unit.read_only:
            raise TransactionError("write attempted in a read-only transaction")
        session = unit.opened_session
        if session is not None:
            pending = session.sync_session
            if pending.new or pending.deleted or pending.dirty:
                await session.flush()  # read-your-writes, as the session's autoflush would
        adapter = unit.adapter
        if adapter is None:  # a unit opened around a session: learn its connection once
            lent = await (await unit.session.connection()).get_raw_connection()
            adapter = unit.adapter = lent.dbapi_connection
            unit.driver, unit.info = lent.driver_connection, lent.info
        if not self._sqlite and not adapter._started:  # the adapter begins its transaction lazily
            try:
                await adapter._start_transaction()
            except Exception as error:  # a connection that died in the pool: lost, so the unit may re-run
                raise self._failure(error, unit.driver) from error
        return await self._on(unit.driver, compiled, arguments, mode, unit.info)

    async def _on(
        self, driver: Any, compiled: CompiledStatement, arguments: list[Any], mode: Mode, info: Info
    ) -> Any:
        """Send on a connection a transaction holds: no retry, errors translated."""
        try:
            return await self._send(driver, compiled, arguments, mode, info)
        except Exception as error:
            raise self._failure(error, driver) from error

    def _failure(self, error: Exception, driver: Any) -> Exception:
        """Return the project's exception for ``error``; a closed connection is a lost one."""
        translated = translate_error(error)
        if isinstance(translated, ConnectionLostError) or self._sqlite or not driver.is_closed():
            return translated or error
        return ConnectionLostError(f"connection to the database was lost: {type(error).__name__}")

    async def _send(
        self, driver: Any, compiled: CompiledStatement, arguments: list[Any], mode: Mode, info: Info
    ) -> Any:
        activity: ConnectionActivity | None = info.get(ACTIVITY_KEY) if info is not None else None
        if activity is not None:
            activity.statement_started()
        started = perf_counter()
        try:
            if self._sqlite:
                result = await _sqlite_send(driver, compiled, arguments, mode)
            else:
                result = await _asyncpg_send(driver, compiled, arguments, mode)
        except Exception as error:
            self._hub.report(compiled.sql, arguments, started, error=error)
            raise
        finally:
            if activity is not None:
                activity.statement_ended()
        if self._hub.active:
            rows = result if mode == "count" else len(result) if mode == "all" else int(result is not None)
            self._hub.report(compiled.sql, arguments, started, rows=rows)
        return result


def _give_back(lent: PoolProxiedConnection) -> None:
    """Return a connection to the pool; nothing to reset, as no transaction was begun on it."""
    lent.close()


async def _asyncpg_send(driver: Any, compiled: CompiledStatement, arguments: list[Any], mode: Mode) -> Any:
    if mode == "one":
        record = await driver.fetchrow(compiled.sql, *arguments)
        return None if record is None else compiled.row(record)
    if mode == "all":
        return [compiled.row(record) for record in await driver.fetch(compiled.sql, *arguments)]
    status: str = await driver.execute(compiled.sql, *arguments)
    tail = status.rsplit(" ", 1)[-1]
    return int(tail) if tail.isdigit() else -1


async def _sqlite_send(driver: Any, compiled: CompiledStatement, arguments: list[Any], mode: Mode) -> Any:
    if mode == "count":
        cursor = await driver.execute(compiled.sql, arguments)
        try:
            return int(cursor.rowcount)
        finally:
            await cursor.close()
    rows = await driver.execute_fetchall(compiled.sql, arguments)
    if mode == "one":
        return compiled.row(rows[0]) if rows else None
    return [compiled.row(row) for row in rows]
