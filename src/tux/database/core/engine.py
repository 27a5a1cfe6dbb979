"""Engine construction: one tuned async engine per backend.

SQLite gets WAL, ``foreign_keys=ON`` and a busy timeout on every connection, and transactions that
write start with ``BEGIN IMMEDIATE`` so two writers queue on the busy timeout instead of failing with
"database is locked" when a read lock would have to be upgraded. A SQLite connection going back to the
pool is rolled back only when a transaction is open on it, so returning one costs no trip to the
driver's thread. PostgreSQL gets asyncpg's prepared-statement cache and no pre-ping: a checkout
costs no round trip, and a connection that turns out dead is discarded by whoever used it (the
direct statement path retries a read once on a fresh one; the ORM path raises ``ConnectionLostError``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from uuid import uuid4

from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry, PoolResetState

from tux.database.exceptions import ConfigurationError
from tux.database.settings import DatabaseSettings

READ_ONLY_OPTION = "tux_read_only"
PGBOUNCER_CONNECT_ARGS: dict[str, Any] = {
    "statement_cache_size": 0,
    "prepared_statement_cache_size": 0,
    "prepared_statement_name_func": lambda: f"__asyncpg_{uuid4()}__",
}
"""SQLAlchemy's documented asyncpg settings behind PgBouncer in transaction pooling mode: asyncpg
caches no statement (``statement_cache_size``), nor does SQLAlchemy's adapter, and the statements it
prepares get unique names, so two clients sharing a server connection never collide on a name."""
SUPPORTED_DRIVERS = {"sqlite+aiosqlite", "postgresql+asyncpg"}


def normalize_url(raw: str) -> URL:
    """Parse ``raw`` and pick the async driver for plain ``postgresql://`` and ``sqlite://`` URLs."""
    try:
        url = make_url(raw)
    except Exception as error:
        raise ConfigurationError("database URL cannot be parsed") from error
    aliases = {
        "postgresql": "postgresql+asyncpg",
        "postgres": "postgresql+asyncpg",
        "sqlite": "sqlite+aiosqlite",
    }
    url = url.set(drivername=aliases.get(url.drivername, url.drivername))
    if url.drivername not in SUPPORTED_DRIVERS:
        raise ConfigurationError(
            f"unsupported driver {url.drivername!r}; use one of {sorted(SUPPORTED_DRIVERS)}"
        )
    return url


def _install_sqlite_hooks(engine: AsyncEngine, busy_timeout_ms: int) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "reset")
    def _on_reset(dbapi_connection: Any, record: ConnectionPoolEntry, state: PoolResetState) -> None:
        in_transaction = bool(getattr(record.driver_connection, "in_transaction", True))
        if state.asyncio_safe and not state.transaction_was_reset and in_transaction:
            dbapi_connection.rollback()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Connection) -> None:
        read_only = bool(connection.get_execution_options().get(READ_ONLY_OPTION))
        connection.exec_driver_sql("BEGIN DEFERRED" if read_only else "BEGIN IMMEDIATE")


def create_engine(url: URL, settings: DatabaseSettings) -> AsyncEngine:
    """Create the engine for ``url`` with the backend's tuning applied."""
    if url.get_backend_name() == "sqlite":
        database = url.database or ""
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(
            url,
            echo=settings.echo,
            pool_size=settings.pool_size,
            max_overflow=settings.max_overflow,
            pool_timeout=settings.pool_timeout,
            pool_reset_on_return=None,
            connect_args={"timeout": settings.sqlite_busy_timeout_ms / 1000},
        )
        _install_sqlite_hooks(engine, settings.sqlite_busy_timeout_ms)
        return engine
    connect_args: dict[str, Any] = {
        "timeout": settings.connect_timeout,
        "prepared_statement_cache_size": settings.statement_cache_size,
        "server_settings": {"application_name": "tux-database"},
    }
    if settings.pgbouncer:
        connect_args.update(PGBOUNCER_CONNECT_ARGS)
    return create_async_engine(
        url,
        echo=settings.echo,
        pool_size=settings.pool_size,
        max_overflow=settings.max_overflow,
        pool_timeout=settings.pool_timeout,
        pool_recycle=settings.pool_recycle,
        pool_pre_ping=False,
        connect_args=connect_args,
    )
