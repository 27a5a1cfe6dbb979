"""Lost connections, lock and statement timeouts, and a storm of serialization failures, on PostgreSQL.

A timeout surfaces as the project's transient error and takes the whole unit of work with it (writes
made before it, on the ORM session and on the direct statement path, are rolled back); conflicting
SERIALIZABLE read-modify-write transactions all end committed through the retries, none lost.
"""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

import pytest
from sqlalchemy import text

from tests.core.test_runner import terminate
from tux.database import Database
from tux.database.core.client import DatabaseClient
from tux.database.exceptions import ConnectionLostError, LockTimeoutError, TransientError
from tux.database.models import Guild
from tux.database.repositories.base import SQLAlchemyRepository
from tux.database.transactions.patterns import TransactionManager
from tux.database.transactions.retry import RetryPolicy

GUILD = 222_222_222_222_222_222
MEMBER = 333_333_333_333_333_333
STORM = 12

pytestmark = pytest.mark.parametrize("backend", ["postgresql"])


class Guilds(SQLAlchemyRepository[Guild]):
    model: ClassVar[type[Any]] = Guild


@pytest.fixture
def guilds(client: DatabaseClient) -> Guilds:
    return Guilds(client.sessions)


async def test_statement_timeout_is_transient_and_rolls_the_unit_back(db: Database) -> None:
    with pytest.raises(TransientError) as raised:
        async with db.transaction(statement_timeout=0.05) as unit:
            await db.guilds.create({"id": GUILD})
            await db.levels.add_xp(guild_id=GUILD, member_id=MEMBER, amount=10)  # direct statement path
            await unit.session.execute(text("SELECT pg_sleep(5)"))
    assert isinstance(raised.value, LockTimeoutError)
    assert await db.guilds.find_by_id(GUILD) is None
    assert await db.levels.count() == 0
    assert await db.levels.add_xp(guild_id=GUILD, member_id=MEMBER, amount=1) == 1  # the pool recovered


async def test_lock_timeout_is_transient_and_rolls_the_unit_back(
    guilds: Guilds, transactions: TransactionManager
) -> None:
    await guilds.create({"id": GUILD})
    locked, released = asyncio.Event(), asyncio.Event()

    async def holder() -> None:
        async with transactions.transaction():
            await guilds.update(GUILD, {"case_count": 1})
            locked.set()
            await released.wait()

    async def waiter() -> None:
        await locked.wait()
        try:
            with pytest.raises(TransientError) as raised:
                async with transactions.transaction(lock_timeout=0.05):
                    await guilds.create({"id": GUILD + 1})
                    await guilds.update(GUILD, {"case_count": 2})
            assert isinstance(raised.value, LockTimeoutError)
        finally:
            released.set()

    await asyncio.gather(holder(), waiter())
    assert await guilds.find_by_id(GUILD + 1) is None
    found = await guilds.find_by_id(GUILD)
    assert found is not None
    assert found.case_count == 1


async def test_serialization_failure_storm_is_absorbed_by_retries(
    guilds: Guilds, transactions: TransactionManager
) -> None:
    """``STORM`` transactions each read the counter and write it plus one, all at the same moment."""
    await guilds.create({"id": GUILD})
    everyone_read = asyncio.Barrier(STORM)
    first_attempts: set[int] = set()

    def increment(worker: int) -> Any:
        async def operation() -> None:
            found = await guilds.find_by_id(GUILD)
            assert found is not None
            if worker not in first_attempts:  # line every first attempt up: they all conflict
                first_attempts.add(worker)
                await everyone_read.wait()
            await guilds.update(GUILD, {"case_count": found.case_count + 1})

        return operation

    policy = RetryPolicy(attempts=STORM * 3, base_delay=0.002, max_delay=0.05)
    await asyncio.gather(
        *(
            transactions.execute_in_transaction(
                increment(worker), name="storm", retry=policy, isolation_level="SERIALIZABLE"
            )
            for worker in range(STORM)
        )
    )
    found = await guilds.find_by_id(GUILD)
    assert found is not None
    assert found.case_count == STORM
    stats = transactions.monitor.stats("storm")
    assert stats.retried >= STORM - 1  # every first attempt but one's conflicted
    assert stats.total - stats.failed == STORM


async def _own_backend(db: Database) -> int:
    unit = db.client.sessions.current()
    assert unit is not None
    return int((await unit.session.execute(text("SELECT pg_backend_pid()"))).scalar_one())


async def test_a_connection_lost_before_the_commit_reruns_the_transaction(db: Database) -> None:
    attempts = 0

    async def operation() -> None:
        nonlocal attempts
        attempts += 1
        pid = await _own_backend(db)
        if attempts == 1:
            await terminate(pid)
        await db.guilds.create({"id": GUILD})

    await db.transactions.execute_in_transaction(operation, name="lost")
    assert attempts == 2
    assert await db.guilds.count() == 1
    assert db.transactions.monitor.stats("lost").retried == 1


async def test_a_connection_lost_during_the_commit_is_not_rerun(db: Database) -> None:
    """Whether that commit happened is unknown to the client: a second run could write twice."""
    attempts = 0

    async def operation() -> None:
        nonlocal attempts
        attempts += 1
        await db.guilds.create({"id": GUILD})
        await terminate(await _own_backend(db))  # the COMMIT that follows meets a dead connection

    with pytest.raises(ConnectionLostError):
        await db.transactions.execute_in_transaction(operation, name="lost")
    assert attempts == 1
    assert db.transactions.monitor.stats("lost").retried == 0
    assert await db.guilds.count() == 0
