"""A throwaway PostgreSQL database for one benchmark run."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg

ADMIN_DSN = os.environ.get("TUX_BENCH_PG_ADMIN_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")


@asynccontextmanager
async def temporary_database() -> AsyncIterator[tuple[str, str]]:
    """Yield ``(sqlalchemy_url, asyncpg_dsn)`` of a new database, dropped afterwards."""
    name = f"tuxbench_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(ADMIN_DSN)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    base = ADMIN_DSN.rsplit("/", 1)[0]
    try:
        yield f"{base.replace('postgresql://', 'postgresql+asyncpg://', 1)}/{name}", f"{base}/{name}"
    finally:
        admin = await asyncpg.connect(ADMIN_DSN)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()
