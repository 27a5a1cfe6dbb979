"""Shared fixtures: every test gets its own database on each backend.

``backend`` parametrizes a test over ``sqlite`` and ``postgresql``. PostgreSQL is required: when it is
not reachable the run fails rather than skipping, so CI never passes on SQLite alone.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import redis.asyncio as aioredis

from tests import pg
from tux.database.core.client import DatabaseClient
from tux.database.settings import DatabaseSettings
from tux.database.transactions.patterns import TransactionManager

if TYPE_CHECKING:
    from tux.database import Database

BACKENDS = ("sqlite", "postgresql")
REDIS_URL = os.environ.get("TUX_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
STEADY_CACHE = {"redis_socket_timeout": 2.0, "redis_connect_timeout": 2.0, "bus_ping_timeout": 5.0}
"""Cache tuning against the shared, healthy Redis: a busy machine must not look like an outage."""


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The database backend under test."""
    return str(request.param)


@pytest.fixture(scope="session", autouse=True)
def _drop_leftover_databases() -> Iterator[None]:
    yield
    asyncio.run(pg.drop_run_databases())


@pytest.fixture
async def empty_database_url(backend: str, tmp_path: Path) -> AsyncIterator[str]:
    """URL of a fresh, empty database of ``backend`` that is removed after the test."""
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'test.sqlite3'}"
        return
    name = pg.database_name("empty")
    await pg.create_database(name)
    try:
        yield pg.async_url(name)
    finally:
        await pg.drop_database(name)


async def _migrate(url: str) -> None:
    from tux.database.core.engine import create_engine, normalize_url
    from tux.database.migrations import runner
    from tux.database.settings import DatabaseSettings

    engine = create_engine(normalize_url(url), DatabaseSettings())
    try:
        await runner.upgrade(engine)
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def migrated_templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A migrated SQLite file and a migrated PostgreSQL template database, made once per run."""
    sqlite_file = tmp_path_factory.mktemp("template") / "template.sqlite3"
    pg_name = pg.database_name("template")

    async def build() -> None:
        await _migrate(f"sqlite+aiosqlite:///{sqlite_file}")
        await pg.create_database(pg_name)
        await _migrate(pg.async_url(pg_name, direct=True))  # a pooler would hold the template open

    asyncio.run(build())
    yield {"sqlite": str(sqlite_file), "postgresql": pg_name}
    asyncio.run(pg.drop_database(pg_name))


@pytest.fixture
async def database_url(
    backend: str, tmp_path: Path, migrated_templates: dict[str, str]
) -> AsyncIterator[str]:
    """URL of a fresh database of ``backend`` already migrated to head, removed after the test."""
    if backend == "sqlite":
        target = tmp_path / "test.sqlite3"
        shutil.copyfile(migrated_templates["sqlite"], target)
        yield f"sqlite+aiosqlite:///{target}"
        return
    name = pg.database_name("db")
    await pg.create_database(name, template=migrated_templates["postgresql"])
    try:
        yield pg.async_url(name)
    finally:
        await pg.drop_database(name)


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    """A connected ``Database`` on a fresh migrated database, without Redis."""
    from tux.database import Database

    async with Database(database_url, cache_enabled=False) as database:
        yield database


@pytest.fixture
async def client(database_url: str) -> AsyncIterator[DatabaseClient]:
    """A connected ``DatabaseClient`` on a fresh migrated database (build repositories from its sessions)."""
    database_client = DatabaseClient(DatabaseSettings(database_url=database_url))
    await database_client.connect()
    try:
        yield database_client
    finally:
        await database_client.close()


@pytest.fixture
def transactions(client: DatabaseClient) -> TransactionManager:
    """A ``TransactionManager`` on the ``client`` fixture's database."""
    return TransactionManager(client.sessions)


async def delete_namespace(url: str, namespace: str) -> None:
    """Delete every key of ``namespace`` (and of namespaces that start with it); never a flush."""
    client = aioredis.Redis.from_url(url)
    try:
        keys = [key async for key in client.scan_iter(match=f"{namespace}*", count=1000)]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


@pytest.fixture
async def redis_namespace() -> AsyncIterator[str]:
    """A Redis key namespace of this test (``tuxtest-<uuid>``) on the shared Redis, deleted afterwards."""
    name = f"tuxtest-{uuid.uuid4().hex[:12]}"
    yield name
    await delete_namespace(REDIS_URL, name)


@pytest.fixture
async def cached_db(backend: str, database_url: str, redis_namespace: str) -> AsyncIterator[Database]:
    """A connected ``Database`` with its cache on, as deployed on each backend.

    SQLite: the in-process cache alone (the embedded default). PostgreSQL: memory and the shared Redis
    (production), in this test's own namespace.
    """
    from tux.database import Database

    redis_url = REDIS_URL if backend == "postgresql" else None
    async with Database(
        database_url, redis_url, redis_namespace=redis_namespace, cache_options=STEADY_CACHE
    ) as database:
        yield database
