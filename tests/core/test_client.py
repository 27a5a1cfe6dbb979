"""DatabaseClient: lifecycle, health, backend tuning."""

from __future__ import annotations

import socket

import pytest
from sqlalchemy import text

from tux.database.core.client import DatabaseClient
from tux.database.exceptions import ConnectionLostError
from tux.database.settings import DatabaseSettings


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_connect_health_and_close(database_url: str) -> None:
    client = DatabaseClient(DatabaseSettings(database_url=database_url))
    await client.connect()
    assert client.is_connected
    assert await client.health_check()
    await client.close()
    assert not client.is_connected
    await client.connect()
    assert await client.health_check()
    await client.close()


async def test_unreachable_postgres_is_a_connection_error() -> None:
    url = f"postgresql+asyncpg://postgres@127.0.0.1:{_closed_port()}/nothing"
    client = DatabaseClient(DatabaseSettings(database_url=url, connect_timeout=2))
    assert not await client.health_check()
    with pytest.raises(ConnectionLostError):
        await client.connect()
    assert not client.is_connected


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_sqlite_connections_are_tuned(backend: str, client: DatabaseClient) -> None:
    async with client.engine.connect() as connection:
        assert (await connection.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
        assert (await connection.execute(text("PRAGMA foreign_keys"))).scalar() == 1
        assert (await connection.execute(text("PRAGMA busy_timeout"))).scalar() == 30_000


@pytest.mark.parametrize("backend", ["postgresql"])
async def test_postgres_pool_is_not_pre_pinged(backend: str, client: DatabaseClient) -> None:
    """A checkout costs no round trip; dead connections are handled by their user (test_runner.py)."""
    assert not client.engine.pool._pre_ping  # type: ignore[attr-defined]
    async with client.engine.connect() as connection:
        name = (await connection.execute(text("SELECT current_setting('application_name')"))).scalar()
    assert name == "tux-database"
