"""Helpers shared by the repository tests: SQL statement capture and whole-database row counts."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from tux.database.core.client import DatabaseClient
from tux.database.core.observe import hub_of
from tux.database.exceptions import ValidationError
from tux.database.models import Base

Call = Callable[[], Awaitable[object]]
"""A deferred repository call, as :func:`assert_rejected_before_sql` takes them."""

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
"""A fixed aware instant, so ordering tests do not depend on the wall clock."""


def at(minutes: float) -> datetime:
    """Return :data:`NOW` shifted by ``minutes``."""
    return NOW + timedelta(minutes=minutes)


@contextmanager
def captured_sql(engine: AsyncEngine) -> Iterator[list[str]]:
    """Collect every statement sent on the engine's connections (including SQLite's ``BEGIN``).

    It listens to the client's statement hub, which sees both roads: SQLAlchemy's and the direct
    driver path.
    """
    seen: list[str] = []
    hub = hub_of(engine.sync_engine)
    assert hub is not None, "the engine belongs to no DatabaseClient"
    unsubscribe = hub.subscribe(lambda record: seen.append(record.sql))
    try:
        yield seen
    finally:
        unsubscribe()


def queries(seen: list[str]) -> list[str]:
    """Drop transaction control statements from a capture, keeping what the repository ran."""
    return [
        s for s in seen if not s.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT"))
    ]


async def row_counts(client: DatabaseClient) -> dict[str, int]:
    """Return the number of rows of every table, to prove a failed call wrote nothing."""
    counts: dict[str, int] = {}
    async with client.engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            counts[table.name] = int(
                (await connection.execute(select(func.count()).select_from(table))).scalar_one()
            )
    return counts


async def assert_rejected_before_sql(
    engine: AsyncEngine,
    calls: Mapping[str, Call],
    expected: type[Exception] = ValidationError,
) -> None:
    """Assert every call raises ``expected`` without sending a single statement to the database."""
    for label, call in calls.items():
        with captured_sql(engine) as seen:
            try:
                await call()
            except expected:
                pass
            else:
                raise AssertionError(f"{label}: no {expected.__name__} raised")
        assert seen == [], f"{label}: SQL ran before the input was rejected: {seen}"
