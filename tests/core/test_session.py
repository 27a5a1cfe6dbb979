"""SessionProvider: short transactions outside a unit of work, and SQLite's write turn."""

from __future__ import annotations

import asyncio
import contextvars
from typing import Any, ClassVar

import pytest
from sqlalchemy import event

from tux.database.core.client import DatabaseClient
from tux.database.exceptions import ConflictError, DatabaseLockedError
from tux.database.models import Guild
from tux.database.repositories.base import SQLAlchemyRepository
from tux.database.settings import DatabaseSettings
from tux.database.transactions.patterns import TransactionManager


class Guilds(SQLAlchemyRepository[Guild]):
    model: ClassVar[type[Any]] = Guild


async def test_each_call_outside_a_transaction_commits_on_its_own(client: DatabaseClient) -> None:
    guilds = Guilds(client.sessions)
    await guilds.create({"id": 1})
    with pytest.raises(ConflictError):
        await guilds.create({"id": 1})
    assert await guilds.count() == 1


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_sqlite_writers_in_one_process_never_wait_in_the_busy_handler(
    backend: str, client: DatabaseClient
) -> None:
    guilds = Guilds(client.sessions)
    begins: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        if statement.startswith("BEGIN"):
            begins.append(statement)

    event.listen(client.engine.sync_engine, "before_cursor_execute", record)
    await asyncio.gather(*(guilds.upsert({"id": n % 10 + 1}) for n in range(200)))
    event.remove(client.engine.sync_engine, "before_cursor_execute", record)
    assert await guilds.count() == 10
    assert begins.count("BEGIN IMMEDIATE") == 200


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_a_writer_waiting_on_a_transaction_of_its_own_task_times_out(
    backend: str, database_url: str
) -> None:
    client = DatabaseClient(DatabaseSettings(database_url=database_url, sqlite_busy_timeout_ms=200))
    guilds = Guilds(client.sessions)
    transactions = TransactionManager(client.sessions)
    try:
        async with transactions.transaction():
            await guilds.create({"id": 5})
            child = asyncio.create_task(
                Guilds(client.sessions).create({"id": 6}), context=contextvars.Context()
            )
            with pytest.raises(DatabaseLockedError, match="write turn"):
                await child
    finally:
        await client.close()
