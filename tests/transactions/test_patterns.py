"""Unit-of-work semantics of ``TransactionManager`` on both backends."""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

import pytest
from sqlalchemy import event, text

from tux.database.core.client import DatabaseClient
from tux.database.exceptions import ConflictError, DatabaseLockedError, LockTimeoutError, TransactionError
from tux.database.models import Guild
from tux.database.repositories.base import SQLAlchemyRepository
from tux.database.settings import DatabaseSettings
from tux.database.transactions.monitoring import TransactionMonitor
from tux.database.transactions.patterns import TransactionManager
from tux.database.transactions.retry import RetryPolicy

GUILD = 111_111_111_111_111_111


class Guilds(SQLAlchemyRepository[Guild]):
    model: ClassVar[type[Any]] = Guild


@pytest.fixture
def guilds(client: DatabaseClient) -> Guilds:
    return Guilds(client.sessions)


async def test_commit_makes_every_write_visible_together(
    guilds: Guilds, transactions: TransactionManager
) -> None:
    async with transactions.transaction():
        await guilds.create({"id": GUILD})
        await guilds.create({"id": GUILD + 1})
        assert await guilds.count() == 2
    assert await guilds.count() == 2


async def test_exception_rolls_back_every_write(guilds: Guilds, transactions: TransactionManager) -> None:
    with pytest.raises(RuntimeError, match="boom"):
        async with transactions.transaction():
            await guilds.create({"id": GUILD})
            await guilds.update(GUILD, {"case_count": 5})
            raise RuntimeError("boom")
    assert await guilds.count() == 0


async def test_repository_calls_inside_share_one_session(
    client: DatabaseClient, guilds: Guilds, transactions: TransactionManager
) -> None:
    connections: set[int] = set()

    def remember(conn: Any, *_: Any) -> None:
        connections.add(id(conn.connection.dbapi_connection))

    event.listen(client.engine.sync_engine, "before_cursor_execute", remember)
    try:
        async with transactions.transaction():
            await guilds.create({"id": GUILD})
            await guilds.find_by_id(GUILD)
            await guilds.count()
    finally:
        event.remove(client.engine.sync_engine, "before_cursor_execute", remember)
    assert len(connections) == 1


async def test_savepoint_rolls_back_only_the_inner_block(
    guilds: Guilds, transactions: TransactionManager
) -> None:
    async with transactions.transaction():
        await guilds.create({"id": GUILD})
        with pytest.raises(ConflictError):
            async with transactions.transaction():
                await guilds.create({"id": GUILD + 1})
                await guilds.create({"id": GUILD})
        await guilds.create({"id": GUILD + 2})
    assert sorted(g.id for g in await guilds.find_all()) == [GUILD, GUILD + 2]


async def test_only_the_outermost_block_commits(guilds: Guilds, transactions: TransactionManager) -> None:
    with pytest.raises(RuntimeError):
        async with transactions.transaction():
            async with transactions.transaction():
                await guilds.create({"id": GUILD})
            assert await guilds.exists(id=GUILD)
            raise RuntimeError("outer fails after inner finished")
    assert not await guilds.exists(id=GUILD)


async def test_on_commit_runs_after_commit_and_is_dropped_on_rollback(
    guilds: Guilds, transactions: TransactionManager
) -> None:
    ran: list[str] = []

    async def record(label: str) -> None:
        ran.append(label)

    async with transactions.transaction():
        await guilds.create({"id": GUILD})
        await transactions.on_commit(lambda: record("committed"))
        assert ran == []
    assert ran == ["committed"]

    with pytest.raises(RuntimeError):
        async with transactions.transaction():
            await transactions.on_commit(lambda: record("rolled back"))
            raise RuntimeError
    async with transactions.transaction():
        with pytest.raises(RuntimeError):
            async with transactions.transaction():
                await transactions.on_commit(lambda: record("savepoint rolled back"))
                raise RuntimeError
        await transactions.on_commit(lambda: record("outer"))
    await transactions.on_commit(lambda: record("no transaction"))
    assert ran == ["committed", "outer", "no transaction"]


async def test_an_on_commit_callback_may_write(guilds: Guilds, transactions: TransactionManager) -> None:
    async def write_more() -> None:
        await guilds.create({"id": GUILD + 1})

    async with asyncio.timeout(10):  # a callback run while the SQLite write turn is held waits 30 s for it
        async with transactions.transaction():
            await guilds.create({"id": GUILD})
            await transactions.on_commit(write_more)
    assert await guilds.count() == 2


async def test_on_commit_callback_sees_committed_data(
    guilds: Guilds, transactions: TransactionManager
) -> None:
    seen: list[bool] = []

    async def check() -> None:
        seen.append(await guilds.exists(id=GUILD))

    async with transactions.transaction():
        await guilds.create({"id": GUILD})
        await transactions.on_commit(check)
    assert seen == [True]


async def test_concurrent_transactions_never_share_a_session(
    guilds: Guilds, transactions: TransactionManager
) -> None:
    both_inside = asyncio.Barrier(2)
    sessions: list[int] = []

    counts: list[int] = []
    await guilds.create({"id": GUILD})

    async def work() -> None:
        # Read-only, so that SQLite (one writer at a time) can hold both open at once too.
        async with transactions.transaction(read_only=True) as unit:
            sessions.append(id(unit.session))
            await both_inside.wait()
            counts.append(await guilds.count())

    await asyncio.gather(work(), work())
    assert len(set(sessions)) == 2
    assert counts == [1, 1]


async def test_task_spawned_inside_a_transaction_cannot_use_its_session(
    guilds: Guilds, transactions: TransactionManager
) -> None:
    async with transactions.transaction():
        with pytest.raises(TransactionError, match="another task"):
            await asyncio.create_task(guilds.count())


async def test_read_only_transaction_refuses_writes(guilds: Guilds, transactions: TransactionManager) -> None:
    await guilds.create({"id": GUILD})
    with pytest.raises(TransactionError, match="read-only"):
        async with transactions.transaction(read_only=True):
            await guilds.update(GUILD, {"case_count": 3})
    async with transactions.transaction(read_only=True):
        assert (await guilds.find_by_id(GUILD)) is not None
    found = await guilds.find_by_id(GUILD)
    assert found is not None
    assert found.case_count == 0


async def test_options_only_on_the_outermost_transaction(transactions: TransactionManager) -> None:
    async with transactions.transaction():
        with pytest.raises(TransactionError):
            async with transactions.transaction(isolation_level="SERIALIZABLE"):
                pass


async def test_no_retry_on_constraint_violation(guilds: Guilds, transactions: TransactionManager) -> None:
    await guilds.create({"id": GUILD})
    attempts = 0

    async def duplicate() -> None:
        nonlocal attempts
        attempts += 1
        await guilds.create({"id": GUILD})

    with pytest.raises(ConflictError):
        await transactions.execute_in_transaction(duplicate, name="duplicate")
    assert attempts == 1
    assert transactions.monitor.stats("duplicate").retried == 0


async def test_execute_in_transaction_returns_the_result(
    guilds: Guilds, transactions: TransactionManager
) -> None:
    async def create() -> int:
        return (await guilds.create({"id": GUILD})).id

    assert await transactions.execute_in_transaction(create) == GUILD
    assert transactions.monitor.metrics["total_transactions"] == 1


class _SignallingMonitor(TransactionMonitor):
    def __init__(self) -> None:
        super().__init__()
        self.retried = asyncio.Event()

    def record_retry(self, operation_name: str) -> None:
        super().record_retry(operation_name)
        self.retried.set()


async def _force_serialization_failure(
    client: DatabaseClient, guilds: Guilds
) -> tuple[int, TransactionManager]:
    """Write skew between two SERIALIZABLE transactions: the second must be retried once."""
    manager = TransactionManager(client.sessions, _SignallingMonitor())
    await guilds.create({"id": GUILD})
    await guilds.create({"id": GUILD + 1})
    first_read, second_read, first_committed = asyncio.Event(), asyncio.Event(), asyncio.Event()
    attempts = 0

    async def first() -> None:
        async with manager.transaction("first", isolation_level="SERIALIZABLE"):
            await guilds.find_all()
            first_read.set()
            await second_read.wait()
            await guilds.update(GUILD, {"case_count": 1})
        first_committed.set()

    async def second() -> None:
        nonlocal attempts
        attempts += 1
        await first_read.wait()
        total = sum(g.case_count for g in await guilds.find_all())
        if attempts == 1:
            second_read.set()
            await first_committed.wait()
        await guilds.update(GUILD + 1, {"case_count": total + 10})

    await asyncio.gather(
        first(),
        manager.execute_in_transaction(second, name="second", isolation_level="SERIALIZABLE"),
    )
    return attempts, manager


async def _force_locked_database(database_url: str, guilds: Guilds) -> tuple[int, TransactionManager]:
    """SQLite: a writer holds the lock; the other's BEGIN IMMEDIATE fails at once and is retried."""
    impatient = DatabaseClient(DatabaseSettings(database_url=database_url, sqlite_busy_timeout_ms=0))
    monitor = _SignallingMonitor()
    manager = TransactionManager(impatient.sessions, monitor)
    holder = TransactionManager(guilds.sessions)
    attempts = 0

    async def write() -> None:
        nonlocal attempts
        attempts += 1
        await Guilds(impatient.sessions).create({"id": GUILD + 1})

    try:
        async with holder.transaction():
            await guilds.create({"id": GUILD})
            task = asyncio.create_task(
                manager.execute_in_transaction(
                    write, name="second", retry=RetryPolicy(attempts=50, max_delay=0.05)
                )
            )
            await monitor.retried.wait()
        await task
    finally:
        await impatient.close()
    return attempts, manager


async def test_retry_on_transient_conflict(
    backend: str, database_url: str, client: DatabaseClient, guilds: Guilds
) -> None:
    if backend == "postgresql":
        attempts, manager = await _force_serialization_failure(client, guilds)
        assert attempts == 2
    else:
        attempts, manager = await _force_locked_database(database_url, guilds)
        assert attempts == 1
    assert manager.monitor.stats("second").retried >= 1
    assert await guilds.count() == 2


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_retries_are_bounded(backend: str, database_url: str, guilds: Guilds) -> None:
    impatient = DatabaseClient(DatabaseSettings(database_url=database_url, sqlite_busy_timeout_ms=0))
    manager = TransactionManager(impatient.sessions)

    async def write() -> None:
        await Guilds(impatient.sessions).create({"id": GUILD + 1})

    try:
        async with TransactionManager(guilds.sessions).transaction():
            await guilds.create({"id": GUILD})
            with pytest.raises(DatabaseLockedError):
                await manager.execute_in_transaction(write, name="bounded", retry=RetryPolicy(attempts=3))
    finally:
        await impatient.close()
    assert manager.monitor.stats("bounded").retried == 2


@pytest.mark.parametrize("backend", ["postgresql"])
async def test_statement_timeout_cancels_a_slow_statement(
    client: DatabaseClient, transactions: TransactionManager
) -> None:
    with pytest.raises(LockTimeoutError):
        async with transactions.transaction(statement_timeout=0.05) as unit:
            await unit.session.execute(text("SELECT pg_sleep(5)"))


@pytest.mark.parametrize("backend", ["postgresql"])
async def test_lock_timeout_gives_up_on_a_held_row_lock(
    guilds: Guilds, transactions: TransactionManager
) -> None:
    await guilds.create({"id": GUILD})
    holder_locked, waiter_done = asyncio.Event(), asyncio.Event()

    async def holder() -> None:
        async with transactions.transaction():
            await guilds.update(GUILD, {"case_count": 1})
            holder_locked.set()
            await waiter_done.wait()

    async def waiter() -> None:
        await holder_locked.wait()
        try:
            with pytest.raises(LockTimeoutError):
                async with transactions.transaction(lock_timeout=0.05):
                    await guilds.update(GUILD, {"case_count": 2})
        finally:
            waiter_done.set()

    await asyncio.gather(holder(), waiter())
    found = await guilds.find_by_id(GUILD)
    assert found is not None
    assert found.case_count == 1


@pytest.mark.parametrize("backend", ["postgresql"])
async def test_timeouts_are_local_to_their_transaction(
    guilds: Guilds, transactions: TransactionManager
) -> None:
    async with transactions.transaction(statement_timeout=0.05, lock_timeout=0.05) as unit:
        await unit.session.execute(text("SELECT 1"))
    async with transactions.transaction() as unit:
        setting = (await unit.session.execute(text("SHOW statement_timeout"))).scalar()
    assert setting == "0"
