"""Translation of driver errors into the project's exception hierarchy.

PostgreSQL errors are classified by SQLSTATE, SQLite errors by their extended result code
(``sqlite3.Error.sqlite_errorcode``). Message text is only ever used to *describe* an error, never to
decide what it is. A lost connection is reported as :class:`ConnectionLostError`, never as an integrity
error. ``sqlite3`` is not imported here: an error can only be one of its own once the SQLite driver has
loaded it, so a process on PostgreSQL never loads it.
"""

from __future__ import annotations

import re
import sys
from typing import TYPE_CHECKING, TypeGuard

from sqlalchemy import exc as sa_exc

from tux.database.exceptions import (
    CheckViolationError,
    ConflictError,
    ConnectionLostError,
    DatabaseError,
    DatabaseLockedError,
    DeadlockError,
    ForeignKeyError,
    LockTimeoutError,
    SerializationError,
    TransientError,
    ValidationError,
)

if TYPE_CHECKING:
    import sqlite3

_PG_EXACT: dict[str, type[DatabaseError]] = {
    "23505": ConflictError,
    "23503": ForeignKeyError,
    "23514": CheckViolationError,
    "23502": CheckViolationError,
    "40001": SerializationError,
    "40P01": DeadlockError,
    "55P03": LockTimeoutError,
    "57014": LockTimeoutError,
    "57P01": ConnectionLostError,
    "57P02": ConnectionLostError,
    "57P03": ConnectionLostError,
}
_PG_CLASS: dict[str, type[DatabaseError]] = {
    "08": ConnectionLostError,
    "22": ValidationError,
    "40": TransientError,
    "53": TransientError,
}

SQLITE_BUSY = 5
SQLITE_LOCKED = 6
_SQLITE_PRIMARY: dict[int, type[DatabaseError]] = {
    SQLITE_BUSY: DatabaseLockedError,
    SQLITE_LOCKED: DatabaseLockedError,
    10: ConnectionLostError,  # SQLITE_IOERR
    14: ConnectionLostError,  # SQLITE_CANTOPEN
    18: ValidationError,  # SQLITE_TOOBIG
    20: ValidationError,  # SQLITE_MISMATCH
}
_SQLITE_EXTENDED: dict[int, type[DatabaseError]] = {
    2067: ConflictError,  # SQLITE_CONSTRAINT_UNIQUE
    1555: ConflictError,  # SQLITE_CONSTRAINT_PRIMARYKEY
    787: ForeignKeyError,  # SQLITE_CONSTRAINT_FOREIGNKEY
    275: CheckViolationError,  # SQLITE_CONSTRAINT_CHECK
    1299: CheckViolationError,  # SQLITE_CONSTRAINT_NOTNULL
}
_SQLITE_CONSTRAINT_NAME = re.compile(
    r"constraint failed: (?:index '(?P<index>[^']+)'|(?P<name>[\w.]+(?:, [\w.]+)*))"
)


def _is_sqlite_error(error: BaseException) -> TypeGuard[sqlite3.Error]:
    """Whether ``error`` is a ``sqlite3.Error`` (never, while nothing has imported ``sqlite3``)."""
    module = sys.modules.get("sqlite3")
    return module is not None and isinstance(error, module.Error)


def _unwrap(error: BaseException) -> BaseException:
    """Return the driver's own exception behind SQLAlchemy's and the async adapter's wrappers."""
    current: BaseException = error
    if isinstance(current, sa_exc.DBAPIError) and current.orig is not None:
        current = current.orig
    cause = current.__cause__
    if cause is not None and not _is_sqlite_error(current):
        return cause
    return current


def sqlstate_of(error: BaseException) -> str | None:
    """Return the PostgreSQL SQLSTATE carried by ``error`` or its causes, if any."""
    seen: BaseException | None = error
    while seen is not None:
        for attribute in ("sqlstate", "pgcode"):
            code = getattr(seen, attribute, None)
            if isinstance(code, str) and len(code) == 5:
                return code
        wrapped = seen.orig if isinstance(seen, sa_exc.DBAPIError) else None
        seen = wrapped if wrapped is not None else seen.__cause__
    return None


def _constraint_of(driver_error: BaseException) -> str | None:
    name = getattr(driver_error, "constraint_name", None)
    if isinstance(name, str):
        return name
    if _is_sqlite_error(driver_error):
        match = _SQLITE_CONSTRAINT_NAME.search(str(driver_error))
        return (match.group("index") or match.group("name")) if match else None
    return None


def _classify_sqlite(driver_error: sqlite3.Error) -> type[DatabaseError] | None:
    code = getattr(driver_error, "sqlite_errorcode", None)
    if not isinstance(code, int):
        return None
    return _SQLITE_EXTENDED.get(code) or _SQLITE_PRIMARY.get(code & 0xFF)


def _classify_postgres(sqlstate: str) -> type[DatabaseError] | None:
    return _PG_EXACT.get(sqlstate) or _PG_CLASS.get(sqlstate[:2])


def _is_disconnect(error: BaseException) -> bool:
    if isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated:
        return True
    driver_error = _unwrap(error)
    return isinstance(driver_error, (ConnectionError, OSError, TimeoutError)) and not _is_sqlite_error(
        driver_error
    )


def _is_driver_error(error: BaseException) -> bool:
    """Whether ``error`` comes from SQLAlchemy's DBAPI layer or a driver.

    asyncpg's client-side errors carry no SQLSTATE. asyncpg is only consulted when it is loaded: an
    error of it cannot exist before, and SQLite-only processes never load it.
    """
    if isinstance(error, (sa_exc.DBAPIError, sa_exc.InterfaceError)) or _is_sqlite_error(error):
        return True
    asyncpg = sys.modules.get("asyncpg")
    return asyncpg is not None and isinstance(
        error, (asyncpg.PostgresError, asyncpg.InterfaceError, asyncpg.InternalClientError)
    )


def translate_error(error: BaseException) -> DatabaseError | None:
    """Return the project exception for a driver/SQLAlchemy error, or ``None`` if it is not one.

    Parameters
    ----------
    error
        An exception raised while talking to the database.
    """
    if isinstance(error, DatabaseError):
        return error
    if _is_disconnect(error):
        return ConnectionLostError(f"connection to the database was lost: {type(_unwrap(error)).__name__}")
    driver_error = _unwrap(error)
    kind: type[DatabaseError] | None = None
    sqlstate = sqlstate_of(error)
    if sqlstate is not None:
        kind = _classify_postgres(sqlstate)
    elif _is_sqlite_error(driver_error):
        kind = _classify_sqlite(driver_error)
    if kind is None:
        if sqlstate is not None or _is_driver_error(error) or _is_driver_error(driver_error):
            return DatabaseError(f"database error: {driver_error}")
        return None
    message = f"{kind.__name__}: {driver_error}"
    if issubclass(kind, (ConflictError, ForeignKeyError, CheckViolationError)):
        return kind(message, constraint=_constraint_of(driver_error))
    return kind(message)
