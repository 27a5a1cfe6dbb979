"""The direct statement path: one statement per call, dead connections, schema changes, units of work."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
from sqlalchemy import bindparam, func, select, text, update

from tests import pg
from tests.repositories import row_counts
from tux.database.core.client import DatabaseClient
from tux.database.core.statements import Statement
from tux.database.exceptions import ConnectionLostError, DatabaseError, TransactionError, TransientError
from tux.database.models import Guild, GuildConfig
from tux.database.repositories.base import row_columns
from tux.database.repositories.guild import GuildRepository
from tux.database.repositories.guild_config import GuildConfigRepository
from tux.database.transactions.patterns import TransactionManager

GUILD = 111_111_111_111_111_111
BACKEND_PID = Statement(select(func.pg_backend_pid().label("pid")))
BY_ID = Statement(select(*row_columns(Guild)).where(Guild.id == bindparam("id")))
BUMP = Statement(
    update(Guild).where(Guild.id == bindparam("id")).values(case_count=Guild.case_count + 1),
    writes=True,
)


async def terminate(pid: int) -> None:
    """Kill backend ``pid`` and wait until it has exited."""
    admin = await asyncpg.connect(pg.PG_ADMIN_DSN)
    try:
        assert await admin.fetchval("SELECT pg_terminate_backend($1, 10000)", pid)
    finally:
        await admin.close()


async def pooled_pid(client: DatabaseClient) -> int:
    row = await client.runner.one(BACKEND_PID, {})
    assert row is not None
    return int(row["pid"])


def hide_the_loss_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the driver's first "is it closed?" answer "no", as before it has read the server's goodbye."""
    real_is_closed = asyncpg.Connection.is_closed
    asked: list[bool] = []

    def loss_not_yet_seen(connection: asyncpg.Connection) -> bool:
        asked.append(True)
        return len(asked) > 1 and real_is_closed(connection)

    monkeypatch.setattr(asyncpg.Connection, "is_closed", loss_not_yet_seen)


@pytest.fixture
async def guild(client: DatabaseClient) -> int:
    await GuildRepository(client.sessions).create({"id": GUILD})
    return GUILD


async def test_primary_key_read_is_one_statement_without_transaction_control(
    client: DatabaseClient, guild: int
) -> None:
    repository = GuildConfigRepository(client.sessions)
    await GuildRepository(client.sessions).find_by_id(guild)  # the pool holds a connection now
    with client.statements.recording(data_only=False) as seen:
        assert await repository.find_by_id(guild) is None
        found = await GuildRepository(client.sessions).find_by_id(guild)
    assert found is not None
    assert found.id == guild
    assert [record.sql.split()[0] for record in seen] == ["SELECT", "SELECT"]
    assert all(record.error is None for record in seen)


@pytest.mark.parametrize("backend", ["postgresql"])
async def test_connection_killed_between_reads_is_replaced(
    backend: str, client: DatabaseClient, guild: int
) -> None:
    before = await pooled_pid(client)
    await terminate(before)
    row = await client.runner.one(BY_ID, {"id": guild})
    assert row is not None
    assert row["id"] == guild
    assert await pooled_pid(client) != before


@pytest.mark.parametrize("backend", ["postgresql"])
async def test_read_in_flight_on_a_dead_connection_is_sent_again(
    backend: str, client: DatabaseClient, guild: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The connection dies after the pool lent it but before the driver noticed: the read is retried."""
    await terminate(await pooled_pid(client))
    hide_the_loss_once(monkeypatch)
    with client.statements.recording() as seen:
        row = await client.runner.one(BY_ID, {"id": guild})
    assert row is not None
    assert [record.error is None for record in seen] == [False, True]


@pytest.mark.parametrize("backend", ["postgresql"])
async def test_write_on_a_connection_seen_closed_goes_to_a_fresh_one(
    backend: str, client: DatabaseClient, guild: int
) -> None:
    """Nothing was sent on a connection the driver already knows is closed: the write is safe to send."""
    lent = await client.engine.raw_connection()
    driver = lent.driver_connection
    assert isinstance(driver, asyncpg.Connection)
    closed = asyncio.Event()
    driver.add_termination_listener(lambda _connection: closed.set())
    pid = driver.get_server_pid()
    lent.close()
    await terminate(pid)
    await closed.wait()
    assert await client.runner.count(BUMP, {"id": guild}) == 1
    found = await GuildRepository(client.sessions).find_by_id(guild)
    assert found is not None
    assert found.case_count == 1


@pytest.mark.parametrize("backend", ["postgresql"])
async def test_write_in_flight_on_a_dead_connection_is_not_sent_again(
    backend: str, client: DatabaseClient, guild: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A write that may have reached the server raises the transient error instead of running twice."""
    await terminate(await pooled_pid(client))
    hide_the_loss_once(monkeypatch)
    with client.statements.recording() as seen, pytest.raises(ConnectionLostError):
        await client.runner.count(BUMP, {"id": guild})
    assert len(seen) == 1
    monkeypatch.undo()
    found = await GuildRepository(client.sessions).find_by_id(guild)
    assert found is not None
    assert found.case_count == 0


@pytest.mark.parametrize("backend", ["postgresql"])
async def test_write_on_a_connection_killed_mid_transaction_writes_nothing(
    backend: str, client: DatabaseClient, transactions: TransactionManager, guild: int
) -> None:
    before = await row_counts(client)
    with pytest.raises(ConnectionLostError) as raised:
        async with transactions.transaction() as unit:
            assert await client.runner.count(BUMP, {"id": guild}) == 1
            pid = (await unit.session.execute(text("SELECT pg_backend_pid()"))).scalar_one()
            await terminate(pid)
            await client.runner.count(BUMP, {"id": guild})
    assert isinstance(raised.value, TransientError)
    assert await row_counts(client) == before
    found = await GuildRepository(client.sessions).find_by_id(guild)
    assert found is not None
    assert found.case_count == 0


@pytest.mark.parametrize("backend", ["postgresql"])
async def test_prepared_statements_survive_alter_table(
    backend: str, client: DatabaseClient, guild: int
) -> None:
    repository = GuildConfigRepository(client.sessions)
    await repository.upsert_config(guild, {"prefix": "?"})
    assert (found := await repository.find_by_id(guild)) is not None
    assert found.prefix == "?"
    admin = await asyncpg.connect(pg.PG_ADMIN_DSN.rsplit("/", 1)[0] + "/" + client.url.database)  # type: ignore[operator]
    try:
        await admin.execute("ALTER TABLE guild_config ADD COLUMN unrelated integer")
        assert (found := await repository.find_by_id(guild)) is not None
        assert found.prefix == "?"
        # a changed result type makes PostgreSQL refuse the prepared plan: it is prepared again once
        await admin.execute("ALTER TABLE guild_config ALTER COLUMN prefix TYPE varchar(12)")
        with client.statements.recording() as seen:
            assert (found := await repository.find_by_id(guild)) is not None
        assert found.prefix == "?"
        assert [record.error for record in seen] == [None]
    finally:
        await admin.close()


async def test_statements_inside_a_transaction_commit_and_roll_back_with_it(
    client: DatabaseClient, transactions: TransactionManager, guild: int
) -> None:
    async with transactions.transaction():
        assert await client.runner.count(BUMP, {"id": guild}) == 1
        async with transactions.transaction():  # a savepoint, released
            assert await client.runner.count(BUMP, {"id": guild}) == 1
            row = await client.runner.one(BY_ID, {"id": guild})
            assert row is not None
            assert row["case_count"] == 2
            with pytest.raises(RuntimeError):
                async with transactions.transaction():  # a savepoint, rolled back
                    await client.runner.count(BUMP, {"id": guild})
                    raise RuntimeError("roll back the savepoint")
        row = await client.runner.one(BY_ID, {"id": guild})
        assert row is not None
        assert row["case_count"] == 2
    found = await GuildRepository(client.sessions).find_by_id(guild)
    assert found is not None
    assert found.case_count == 2
    with pytest.raises(RuntimeError):
        async with transactions.transaction():
            await client.runner.count(BUMP, {"id": guild})
            raise RuntimeError("roll back")
    found = await GuildRepository(client.sessions).find_by_id(guild)
    assert found is not None
    assert found.case_count == 2


async def test_statement_sees_the_sessions_pending_changes(
    client: DatabaseClient, transactions: TransactionManager
) -> None:
    async with transactions.transaction() as unit:
        unit.session.add(Guild(id=GUILD))  # not flushed yet
        assert await client.runner.count(BUMP, {"id": GUILD}) == 1
    found = await GuildRepository(client.sessions).find_by_id(GUILD)
    assert found is not None
    assert found.case_count == 1


async def test_a_unit_of_direct_statements_makes_no_session(
    client: DatabaseClient, transactions: TransactionManager, guild: int
) -> None:
    with client.statements.recording(data_only=False) as seen:
        async with transactions.transaction() as unit:
            assert await client.runner.count(BUMP, {"id": guild}) == 1
            assert await client.runner.count(BUMP, {"id": guild}) == 1
            made = unit.opened_session
    assert made is None
    assert [record.sql.split()[0] for record in seen if record.sql.split()[0] == "UPDATE"] == ["UPDATE"] * 2
    found = await GuildRepository(client.sessions).find_by_id(guild)
    assert found is not None
    assert found.case_count == 2


async def test_a_session_made_late_joins_the_units_transaction(
    client: DatabaseClient, transactions: TransactionManager, guild: int
) -> None:
    with pytest.raises(RuntimeError):
        async with transactions.transaction() as unit:
            await client.runner.count(BUMP, {"id": guild})
            assert unit.opened_session is None
            unit.session.add(Guild(id=GUILD + 1))
            stored = await unit.session.get(Guild, guild)  # flushes the new guild; sees the direct write
            assert stored is not None
            assert stored.case_count == 1
            raise RuntimeError("roll back both")
    assert await GuildRepository(client.sessions).find_by_id(GUILD + 1) is None
    found = await GuildRepository(client.sessions).find_by_id(guild)
    assert found is not None
    assert found.case_count == 0
    async with transactions.transaction() as unit:
        await client.runner.count(BUMP, {"id": guild})
        unit.session.add(Guild(id=GUILD + 1))
    assert await GuildRepository(client.sessions).find_by_id(GUILD + 1) is not None
    found = await GuildRepository(client.sessions).find_by_id(guild)
    assert found is not None
    assert found.case_count == 1


async def test_write_refused_in_a_read_only_transaction(
    client: DatabaseClient, transactions: TransactionManager, guild: int
) -> None:
    with pytest.raises(TransactionError):
        async with transactions.transaction(read_only=True):
            await client.runner.count(BUMP, {"id": guild})


async def test_rows_come_back_as_an_orm_read_returns_them(client: DatabaseClient, guild: int) -> None:
    repository = GuildConfigRepository(client.sessions)
    stored = await repository.upsert_config(guild, {"prefix": "!", "mod_log_id": 5})
    found = await repository.find_by_id(guild)
    assert found is not None
    names = [column.key for column in GuildConfig.__table__.c]
    assert {name: getattr(found, name) for name in names} == {name: getattr(stored, name) for name in names}


async def test_error_with_no_mapped_class_is_still_a_project_error(
    backend: str, client: DatabaseClient, guild: int
) -> None:
    """An error the SQLSTATE/result-code tables do not name (here: the table is gone) is a DatabaseError."""
    repository = GuildConfigRepository(client.sessions)
    async with client.engine.begin() as connection:
        await connection.execute(text("ALTER TABLE guild_config RENAME TO guild_config_moved"))
    with pytest.raises(DatabaseError) as raised:
        await repository.find_by_id(guild)
    assert type(raised.value) is DatabaseError
    assert raised.value.__cause__ is not None
    rename = Statement(
        update(GuildConfig).where(GuildConfig.id == bindparam("id")).values(prefix="?"), writes=True
    )
    with pytest.raises(DatabaseError) as raised:
        await client.runner.one(rename, {"id": guild})
    assert type(raised.value) is DatabaseError
