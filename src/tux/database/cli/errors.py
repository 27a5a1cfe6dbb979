"""Exit codes of ``tux-db``, and the one place errors become a message and an exit code.

No command lets a traceback reach the user: every expected failure is printed as one line saying
what went wrong (URLs with their password masked) and the process exits with the code below.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from enum import IntEnum

import asyncpg
import typer
from alembic.util.exc import CommandError
from redis.exceptions import RedisError
from sqlalchemy.ext.asyncio import AsyncEngine

from tux.database.cli.console import console
from tux.database.exceptions import ConfigurationError, ConnectionLostError, DatabaseError
from tux.database.migrations import runner


class ExitCode(IntEnum):
    """What the process exit status of ``tux-db`` means."""

    OK = 0
    CHECK_FAILED = 1
    """An invariant, a health check or a doctor check failed."""
    USAGE = 2
    """Bad command-line options (Typer's own code)."""
    CONFIGURATION = 3
    """A URL or setting that cannot work (unparseable, unsupported driver, contradictory options)."""
    UNREACHABLE = 4
    """The database or Redis did not answer."""
    MIGRATION = 5
    """The schema is not migrated, or a migration revision does not exist."""
    DATABASE = 6
    """Any other error the database reported."""


class MigrationMissingError(DatabaseError):
    """The database's schema is not at the revision a command needs."""


def fail(code: ExitCode, message: str) -> typer.Exit:
    """Print ``message`` as an error and return the exit to raise."""
    console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(int(code))


@contextmanager
def exit_on_errors() -> Iterator[None]:
    """Turn the expected failures of a command into a message and its exit code."""
    try:
        yield
    except ConfigurationError as error:
        raise fail(ExitCode.CONFIGURATION, str(error)) from None
    except ConnectionLostError as error:
        raise fail(ExitCode.UNREACHABLE, f"cannot reach the database: {error}") from None
    except (MigrationMissingError, CommandError) as error:
        raise fail(ExitCode.MIGRATION, str(error)) from None
    except DatabaseError as error:
        raise fail(ExitCode.DATABASE, f"{type(error).__name__}: {error}") from None
    except RedisError as error:
        raise fail(ExitCode.UNREACHABLE, f"cannot reach Redis: {type(error).__name__}: {error}") from None
    except (asyncpg.PostgresError, sqlite3.Error) as error:
        raise fail(ExitCode.DATABASE, f"{type(error).__name__}: {error}") from None
    except OSError as error:
        raise fail(ExitCode.UNREACHABLE, f"{type(error).__name__}: {error}") from None


async def schema_gap(engine: AsyncEngine) -> str | None:
    """Return what is missing when ``engine``'s database is not at the newest revision, else ``None``."""
    have, want = await runner.current(engine), runner.head()
    if have == want:
        return None
    return (
        f"the database is at revision {have or 'none (never migrated)'} and this package needs {want}: "
        "run `tux-db migrate upgrade`"
    )


async def require_head(engine: AsyncEngine) -> None:
    """Raise :class:`MigrationMissingError` unless ``engine``'s database is at the newest revision."""
    gap = await schema_gap(engine)
    if gap is not None:
        raise MigrationMissingError(gap)
