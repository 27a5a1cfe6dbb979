"""Private PostgreSQL databases for tests: created per test, dropped afterwards."""

from __future__ import annotations

import os
import uuid

import asyncpg

PG_ADMIN_DSN = os.environ.get("TUX_TEST_PG_ADMIN_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
PG_APP_DSN = os.environ.get("TUX_TEST_PG_APP_DSN", PG_ADMIN_DSN)
"""Where the code under test connects (a PgBouncer in front, for the suites run through one)."""
RUN_ID = uuid.uuid4().hex[:8]


def database_name(label: str) -> str:
    """Return a database name unique to this test run."""
    return f"tuxtest_{RUN_ID}_{label}_{uuid.uuid4().hex[:8]}"


def async_url(name: str, *, direct: bool = False) -> str:
    """Return the SQLAlchemy URL of the test database ``name`` (``direct``: never through a pooler)."""
    base = (PG_ADMIN_DSN if direct else PG_APP_DSN).rsplit("/", 1)[0]
    return f"{base.replace('postgresql://', 'postgresql+asyncpg://', 1)}/{name}"


async def create_database(name: str, template: str | None = None) -> None:
    """Create ``name`` (optionally from ``template``)."""
    connection = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        suffix = f' TEMPLATE "{template}"' if template else ""
        await connection.execute(f'CREATE DATABASE "{name}"{suffix}')
    finally:
        await connection.close()


async def drop_database(name: str) -> None:
    """Drop ``name``, disconnecting whoever is still connected."""
    connection = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


async def drop_run_databases() -> None:
    """Drop every database this run created (safety net for aborted tests)."""
    connection = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        rows = await connection.fetch(
            "SELECT datname FROM pg_database WHERE datname LIKE $1", f"tuxtest_{RUN_ID}_%"
        )
        for row in rows:
            await connection.execute(f'DROP DATABASE IF EXISTS "{row["datname"]}" WITH (FORCE)')
    finally:
        await connection.close()
