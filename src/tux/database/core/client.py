"""``DatabaseClient``: the engine, the session factory and their lifecycle, one per ``Database``."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from tux.database.core.engine import READ_ONLY_OPTION, create_engine, normalize_url
from tux.database.core.errors import translate_error
from tux.database.core.observe import StatementHub
from tux.database.core.runner import StatementRunner
from tux.database.core.session import SessionProvider
from tux.database.exceptions import ConnectionLostError, DatabaseError, TransientError
from tux.database.settings import DatabaseSettings, redact_url


class DatabaseClient:
    """Owns one engine and one session factory.

    Parameters
    ----------
    settings
        Where to connect and how to size the pool.
    """

    def __init__(self, settings: DatabaseSettings) -> None:
        self._settings = settings
        self._url: URL = normalize_url(settings.database_url_value())
        self._engine: AsyncEngine = create_engine(self._url, settings)
        self.statements = StatementHub()
        """Every statement this client's engine (and any direct driver path) sends."""
        self.statements.attach(self._engine.sync_engine)
        self._sessions = SessionProvider(
            async_sessionmaker(self._engine, expire_on_commit=False),
            sqlite=self.backend == "sqlite",
            write_wait_timeout=settings.sqlite_busy_timeout_ms / 1000,
            autocommit_reads=not settings.pgbouncer,
        )
        self.runner = self._sessions.runner = StatementRunner(self._engine, self._sessions, self.statements)
        """Runs the hot fixed-shape statements on the driver connection (see ``core.runner``)."""
        self._connected = False

    def __repr__(self) -> str:
        return f"DatabaseClient(url={self.safe_url!r}, connected={self.is_connected})"

    @property
    def url(self) -> URL:
        """The parsed database URL (render it with :attr:`safe_url` for display)."""
        return self._url

    @property
    def safe_url(self) -> str:
        """The database URL with the password hidden."""
        return redact_url(self._url.render_as_string(hide_password=False))

    @property
    def settings(self) -> DatabaseSettings:
        """The settings this client was made with."""
        return self._settings

    @property
    def backend(self) -> str:
        """``"sqlite"`` or ``"postgresql"``."""
        return self._url.get_backend_name()

    @property
    def is_connected(self) -> bool:
        """Whether :meth:`connect` succeeded and :meth:`close` did not run since."""
        return self._connected

    @property
    def engine(self) -> AsyncEngine:
        """The async engine (its pool opens connections lazily)."""
        return self._engine

    @property
    def sessions(self) -> SessionProvider:
        """The session provider repositories use."""
        return self._sessions

    @property
    def session_factory(self) -> async_sessionmaker[AsyncSession]:
        """The session factory (``expire_on_commit=False``)."""
        return self.sessions.factory

    async def connect(self) -> None:
        """Check that the database answers; the pool then serves connections on demand."""
        try:
            await self.ping()
        except BaseException:
            await self._engine.dispose()
            raise
        self._connected = True

    async def close(self) -> None:
        """Close every pooled connection; the client can be connected again."""
        self._connected = False
        await self._engine.dispose()

    async def ping(self) -> None:
        """Run ``SELECT 1``; raise :class:`ConnectionLostError` if the database does not answer."""
        try:
            async with self.engine.connect() as connection:
                await connection.execution_options(**{READ_ONLY_OPTION: True})
                await connection.execute(text("SELECT 1"))
        except Exception as error:
            translated = translate_error(error)
            if isinstance(translated, TransientError):
                raise translated from error
            raise ConnectionLostError(
                f"database at {self.safe_url} did not answer: {type(error).__name__}"
            ) from error

    async def health_check(self) -> bool:
        """Return whether the database answers a trivial query."""
        try:
            await self.ping()
        except DatabaseError:
            return False
        return True
