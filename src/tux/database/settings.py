"""Settings of the data layer, read from ``TUX_DB_*`` environment variables and ``.env``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url

DEFAULT_DATA_DIR = Path("data")


def redact_url(url: str) -> str:
    """Return ``url`` with any password replaced by ``***``, safe to print or log."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - a URL we cannot parse is not shown at all
        return "<unparseable url>"


class DatabaseSettings(BaseSettings):
    """Connection, pool and behaviour settings.

    URLs are kept as :class:`~pydantic.SecretStr` so that a ``repr`` or a log line never shows a
    password; use :meth:`database_url_value` to read one.
    """

    model_config = SettingsConfigDict(
        env_prefix="TUX_DB_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
    )

    data_dir: Path = DEFAULT_DATA_DIR
    database_url: SecretStr | None = None
    redis_url: SecretStr | None = None
    pool_size: int = Field(default=10, ge=1, le=500)
    max_overflow: int = Field(default=10, ge=0, le=500)
    pool_timeout: float = Field(default=10.0, gt=0)
    pool_recycle: float = Field(default=1800.0, gt=0)
    connect_timeout: float = Field(default=10.0, gt=0)
    sqlite_busy_timeout_ms: int = Field(default=30_000, ge=0)
    statement_cache_size: int = Field(default=500, ge=0)
    pgbouncer: bool = False
    """PostgreSQL is reached through PgBouncer in transaction pooling mode (``TUX_DB_PGBOUNCER=true``):
    no prepared statement outlives its transaction (asyncpg's statement cache off, unique statement
    names, reads and direct statements inside a transaction)."""
    slow_query_threshold_ms: float = Field(default=100.0, gt=0)
    query_monitor_enabled: bool = True
    """Per-shape statement statistics, slow-query log and N+1 detection (``db.query_optimizer``)."""
    n_plus_one_threshold: int = Field(default=5, ge=2)
    """Statements of one shape in a row, in one task and operation, that count as an N+1."""
    query_metrics_prometheus: bool = False
    """Export statement durations to Prometheus (needs the ``prometheus`` extra)."""
    query_spans_sentry: bool = False
    """Record a Sentry ``db.query`` span per statement under the running span (``sentry`` extra)."""
    long_transaction_threshold_s: float = Field(default=5.0, gt=0)
    echo: bool = False
    cache_enabled: bool = True
    cache_policies: dict[str, dict[str, Any]] = Field(default_factory=dict)
    """Per-type cache policy overrides, e.g. ``{"guild_config": {"ttl": 600}}`` (JSON in the env)."""
    cache_options: dict[str, Any] = Field(default_factory=dict)
    """Other ``CacheConfig`` fields, e.g. ``{"memory_max_entries": 10000, "redis_socket_timeout": 0.05}``."""
    cache_ready_timeout: float = Field(default=2.0, ge=0)
    """Seconds ``Database.connect()`` waits for Redis before starting without it."""
    redis_namespace: str = Field(default="tux", min_length=1, max_length=64)
    batch_copy_threshold: int = Field(default=1000, ge=1)
    """Rows from which ``db.batch`` inserts on PostgreSQL use ``COPY`` instead of ``executemany``."""
    batch_chunk_size: int = Field(default=5000, ge=1)
    """Rows per chunk of ``db.batch`` (progress reports and savepoint-per-chunk)."""
    pool_monitor_enabled: bool = True
    """Attach ``db.pool_optimizer`` (pool events and cursor events: a few attribute updates each)."""
    pool_long_hold_s: float = Field(default=1.0, gt=0)
    """Seconds after which ``db.pool_optimizer`` counts a checked-out connection as held long."""

    @field_validator("redis_namespace")
    @classmethod
    def _namespace_has_no_separator(cls, value: str) -> str:
        if ":" in value or any(ch.isspace() for ch in value):
            raise ValueError("redis_namespace must not contain ':' or whitespace")
        return value

    def database_url_value(self) -> str:
        """Return the database URL, defaulting to a SQLite file under ``data_dir``."""
        if self.database_url is not None:
            return self.database_url.get_secret_value()
        return f"sqlite+aiosqlite:///{(self.data_dir / 'tux.sqlite3').as_posix()}"

    def redis_url_value(self) -> str | None:
        """Return the Redis URL, or ``None`` when no Redis is configured."""
        return None if self.redis_url is None else self.redis_url.get_secret_value()
