"""Settings of the data layer, read from ``TUX_DB_*`` environment variables and ``.env``.

Validated with msgspec (each field's type and ``Meta`` constraints, strings from the environment
converted leniently) rather than pydantic-settings, which would add about 9 MiB to every bot process.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, ClassVar, get_type_hints

import msgspec
from msgspec import Meta
from sqlalchemy.engine import make_url

from tux.database.exceptions import ConfigurationError

DEFAULT_DATA_DIR = Path("data")
ENV_PREFIX = "tux_db_"
ENV_FILE = ".env"
_BOOLEAN_WORDS = {
    "on": True,
    "yes": True,
    "y": True,
    "t": True,
    "off": False,
    "no": False,
    "n": False,
    "f": False,
}


def redact_url(url: str) -> str:
    """Return ``url`` with any password replaced by ``***``, safe to print or log."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - a URL we cannot parse is not shown at all
        return "<unparseable url>"


class SecretStr:
    """A string that never shows in a ``repr`` or ``str``; :meth:`get_secret_value` reads it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def get_secret_value(self) -> str:
        """Return the secret itself."""
        return self._value

    def __repr__(self) -> str:
        return "SecretStr('**********')" if self._value else "SecretStr('')"

    def __str__(self) -> str:
        return "**********" if self._value else ""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SecretStr) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __len__(self) -> int:
        return len(self._value)


class DatabaseSettings:
    """Connection, pool and behaviour settings.

    Each field comes from the keyword argument of that name, else from ``TUX_DB_<FIELD>`` (any case) in
    the environment, else from ``.env`` in the working directory, else from its default; ``dict`` fields
    take JSON there. Unknown keywords are ignored. URLs are kept as :class:`SecretStr` so that a ``repr``
    or a log line never shows a password; use :meth:`database_url_value` to read one.

    Raises
    ------
    ConfigurationError
        Naming every field whose value has the wrong type or breaks its constraint.
    """

    model_fields: ClassVar[Mapping[str, Any]]
    """Field name to declared type (with its constraints), for callers checking names."""

    data_dir: Path = DEFAULT_DATA_DIR
    database_url: SecretStr | None = None
    redis_url: SecretStr | None = None
    pool_size: Annotated[int, Meta(ge=1, le=500)] = 10
    max_overflow: Annotated[int, Meta(ge=0, le=500)] = 10
    pool_timeout: Annotated[float, Meta(gt=0)] = 10.0
    pool_recycle: Annotated[float, Meta(gt=0)] = 1800.0
    connect_timeout: Annotated[float, Meta(gt=0)] = 10.0
    sqlite_busy_timeout_ms: Annotated[int, Meta(ge=0)] = 30_000
    statement_cache_size: Annotated[int, Meta(ge=0)] = 500
    pgbouncer: bool = False
    """PostgreSQL is reached through PgBouncer in transaction pooling mode (``TUX_DB_PGBOUNCER=true``):
    no prepared statement outlives its transaction (asyncpg's statement cache off, unique statement
    names, reads and direct statements inside a transaction)."""
    slow_query_threshold_ms: Annotated[float, Meta(gt=0)] = 100.0
    query_monitor_enabled: bool = True
    """Per-shape statement statistics, slow-query log and N+1 detection (``db.query_optimizer``)."""
    n_plus_one_threshold: Annotated[int, Meta(ge=2)] = 5
    """Statements of one shape in a row, in one task and operation, that count as an N+1."""
    query_metrics_prometheus: bool = False
    """Export statement durations to Prometheus (needs the ``prometheus`` extra)."""
    query_spans_sentry: bool = False
    """Record a Sentry ``db.query`` span per statement under the running span (``sentry`` extra)."""
    long_transaction_threshold_s: Annotated[float, Meta(gt=0)] = 5.0
    echo: bool = False
    cache_enabled: bool = True
    cache_policies: dict[str, dict[str, Any]] = {}  # noqa: RUF012 - each instance gets its own copy
    """Per-type cache policy overrides, e.g. ``{"guild_config": {"ttl": 600}}`` (JSON in the env)."""
    cache_options: dict[str, Any] = {}  # noqa: RUF012 - each instance gets its own copy
    """Other ``CacheConfig`` fields, e.g. ``{"memory_max_entries": 10000, "redis_socket_timeout": 0.05}``."""
    cache_ready_timeout: Annotated[float, Meta(ge=0)] = 2.0
    """Seconds ``Database.connect()`` waits for Redis before starting without it."""
    redis_namespace: Annotated[str, Meta(min_length=1, max_length=64, pattern=r"\A[^:\s]*\Z")] = "tux"
    """Must not contain ``:`` or whitespace."""
    batch_copy_threshold: Annotated[int, Meta(ge=1)] = 1000
    """Rows from which ``db.batch`` inserts on PostgreSQL use ``COPY`` instead of ``executemany``."""
    batch_chunk_size: Annotated[int, Meta(ge=1)] = 5000
    """Rows per chunk of ``db.batch`` (progress reports and savepoint-per-chunk)."""
    pool_monitor_enabled: bool = True
    """Attach ``db.pool_optimizer`` (pool events and cursor events: a few attribute updates each)."""
    pool_long_hold_s: Annotated[float, Meta(gt=0)] = 1.0
    """Seconds after which ``db.pool_optimizer`` counts a checked-out connection as held long."""

    def __init__(self, **values: Any) -> None:
        fields = self.model_fields
        given = _environment(fields) | {name: value for name, value in values.items() if name in fields}
        problems: list[str] = []
        for name, kind in fields.items():
            if name not in given:
                default = getattr(type(self), name)
                setattr(self, name, default.copy() if isinstance(default, dict) else default)
                continue
            try:
                setattr(self, name, _convert(given[name], kind))
            except msgspec.ValidationError as error:
                problems.append(f"{name} ({error})")
        if problems:
            raise ConfigurationError(f"invalid setting(s): {', '.join(problems)}")

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.model_fields)
        return f"{type(self).__name__}({shown})"

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return all(getattr(self, name) == getattr(other, name) for name in self.model_fields)

    __hash__ = None  # type: ignore[assignment]  # mutable and compared by value, like a pydantic model

    def database_url_value(self) -> str:
        """Return the database URL, defaulting to a SQLite file under ``data_dir``."""
        if self.database_url is not None:
            return self.database_url.get_secret_value()
        return f"sqlite+aiosqlite:///{(self.data_dir / 'tux.sqlite3').as_posix()}"

    def redis_url_value(self) -> str | None:
        """Return the Redis URL, or ``None`` when no Redis is configured."""
        return None if self.redis_url is None else self.redis_url.get_secret_value()


DatabaseSettings.model_fields = {
    name: kind
    for name, kind in get_type_hints(DatabaseSettings, include_extras=True).items()
    if name != "model_fields"
}


def _environment(fields: Mapping[str, Any]) -> dict[str, Any]:
    """Return the fields set by ``.env`` and, taking precedence, by ``TUX_DB_*`` variables."""
    found: dict[str, Any] = {}
    sources: list[Mapping[str, str | None]] = []
    if os.path.isfile(ENV_FILE):
        from dotenv import dotenv_values  # noqa: PLC0415 - python-dotenv only when a .env exists

        sources.append(dotenv_values(ENV_FILE, encoding="utf-8"))
    sources.append(os.environ)
    for source in sources:
        for key, text in source.items():
            name = key.lower().removeprefix(ENV_PREFIX)
            if text is None or name == key.lower() or name not in fields:
                continue
            found[name] = _parse_environment_text(name, text, fields[name])
    return found


def _parse_environment_text(name: str, text: str, kind: Any) -> Any:
    if kind is bool or getattr(kind, "__origin__", None) is dict:
        if kind is bool:
            return _BOOLEAN_WORDS.get(text.strip().lower(), text)
        try:
            return json.loads(text)
        except ValueError:
            raise ConfigurationError(f"invalid setting(s): {name} (not JSON)") from None
    return text


def _convert(value: Any, kind: Any) -> Any:
    return msgspec.convert(value, kind, strict=False, dec_hook=_decode_custom)


def _decode_custom(kind: type, value: Any) -> Any:
    if isinstance(value, kind):
        return value
    if isinstance(value, str):
        return kind(value)
    raise TypeError(f"Expected `str`, got `{type(value).__name__}`")
