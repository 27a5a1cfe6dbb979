"""Bad input is refused before any SQL, and driver errors arrive as the project's exceptions.

"Before any SQL" is proven with a ``before_cursor_execute`` listener on the engine: a rejected call must
not send a single statement (not even ``BEGIN``). "Nothing half-written" is proven by counting the rows
of every table before and after.
"""

from __future__ import annotations

import sqlite3
from typing import Any

import asyncpg
import pytest
from sqlalchemy import exc as sa_exc
from sqlalchemy import text

from tests import pg
from tests.repositories import NOW, Call, assert_rejected_before_sql, row_counts
from tux.database.core.client import DatabaseClient
from tux.database.core.errors import translate_error
from tux.database.exceptions import (
    CheckViolationError,
    ConflictError,
    ConnectionLostError,
    DatabaseLockedError,
    ForeignKeyError,
    IntegrityError,
    TransientError,
    UnknownFieldError,
)
from tux.database.models import CaseType
from tux.database.repositories.cases import CaseRepository
from tux.database.repositories.guild import GuildRepository
from tux.database.settings import DatabaseSettings
from tux.database.transactions.patterns import TransactionManager

GUILD = 51


def case_row(**extra: Any) -> dict[str, Any]:
    return {
        "guild_id": GUILD,
        "case_number": 1,
        "case_type": CaseType.WARN,
        "case_reason": "reason",
        "case_moderator_id": 2,
        "case_user_id": 3,
        **extra,
    }


@pytest.fixture
async def cases(client: DatabaseClient) -> CaseRepository:
    await GuildRepository(client.sessions).ensure(GUILD)
    repository = CaseRepository(client.sessions)
    await repository.create(case_row())
    return repository


async def test_unknown_fields_and_operators(client: DatabaseClient, cases: CaseRepository) -> None:
    calls: dict[str, Call] = {
        "find_all unknown field": lambda: cases.find_all(case_colour="red"),
        "find_all unknown operator": lambda: cases.find_all(case_number__like=1),
        "find_all operator typo": lambda: cases.find_all(case_number__gtee=1),
        "find_all relationship-style path": lambda: cases.find_all(guild__id=GUILD),
        "find_all empty operator": lambda: cases.find_all(case_number__=1),
        "count unknown field": lambda: cases.count(nope=1),
        "exists unknown operator": lambda: cases.exists(case_type__contains="BAN"),
        "order_by unknown field": lambda: cases.find_all(order_by="-case_colour"),
        "order_by SQL injection": lambda: cases.find_all(order_by="case_number; DROP TABLE cases"),
        "create unknown field": lambda: cases.create(case_row(case_colour="red")),
        "update unknown field": lambda: cases.update(1, {"case_colour": "red"}),
        "upsert unknown conflict field": lambda: cases.upsert(case_row(), conflict_fields=["nope"]),
        "upsert unknown update field": lambda: cases.upsert(case_row(), update_fields=["nope"]),
    }
    before = await row_counts(client)
    await assert_rejected_before_sql(client.engine, calls, UnknownFieldError)
    assert await row_counts(client) == before


async def test_wrong_values(client: DatabaseClient, cases: CaseRepository) -> None:
    naive = NOW.replace(tzinfo=None)
    calls: dict[str, Call] = {
        "str for int filter": lambda: cases.find_all(case_number="1"),
        "bool for int filter": lambda: cases.find_all(case_number=True),
        "float for int filter": lambda: cases.count(case_number__gt=1.5),
        "None equality": lambda: cases.find_all(case_expires_at=None),
        "naive datetime filter": lambda: cases.find_all(case_expires_at__lt=naive),
        "2**64 filter": lambda: cases.exists(case_user_id=2**64),
        "in with a string": lambda: cases.find_all(case_type__in="BAN"),
        "in with a mapping": lambda: cases.find_all(case_number__in={1: 1}),
        "in with bad member": lambda: cases.find_all(case_number__in=[1, "2"]),
        "in with too many": lambda: cases.find_all(case_number__in=list(range(10_001))),
        "not_in with a scalar": lambda: cases.find_all(case_number__not_in=1),
        "isnull with a string": lambda: cases.find_all(case_expires_at__isnull="yes"),
        "unknown enum value": lambda: cases.find_all(case_type="SMITE"),
        "negative limit": lambda: cases.find_all(limit=-1),
        "bool offset": lambda: cases.find_all(offset=True),
        "order_by not text": lambda: cases.find_all(order_by=[1]),  # type: ignore[list-item]
        "find_by_id str": lambda: cases.find_by_id("1"),
        "find_by_id 2**64": lambda: cases.find_by_id(2**64),
        "find_by_id tuple for single key": lambda: cases.find_by_id((1, 2)),
        "delete bool id": lambda: cases.delete(True),
        "create reason 2001 chars": lambda: cases.create(case_row(case_number=2, case_reason="r" * 2001)),
        "create NUL in reason": lambda: cases.create(case_row(case_number=2, case_reason="a\x00b")),
        "create naive expiry": lambda: cases.create(case_row(case_number=2, case_expires_at=naive)),
        "create str for int": lambda: cases.create(case_row(case_number="2")),
        "create bool for int": lambda: cases.create(case_row(case_number=True)),
        "create 2**64 user": lambda: cases.create(case_row(case_number=2, case_user_id=2**64)),
        "create missing required": lambda: cases.create({"guild_id": GUILD, "case_number": 2}),
        "create null in non-null": lambda: cases.create(case_row(case_number=2, case_reason=None)),
        "create metadata not JSON object": lambda: cases.create(case_row(case_number=2, case_metadata="{}")),
        "create not a mapping": lambda: cases.create([("case_number", 2)]),  # type: ignore[arg-type]
        "create metadata datetime": lambda: cases.create(case_row(case_number=2, case_metadata={"at": NOW})),
        "create metadata NaN": lambda: cases.create(
            case_row(case_number=2, case_metadata={"x": float("nan")})
        ),
        "create metadata NUL": lambda: cases.create(case_row(case_number=2, case_metadata={"k\x00": 1})),
        "create roles set": lambda: cases.create(case_row(case_number=2, case_user_roles=[{1, 2}])),
        "update reason 2001 chars": lambda: cases.update(1, {"case_reason": "r" * 2001}),
        "update NUL": lambda: cases.update(1, {"case_reason": "\x00"}),
        "update naive datetime": lambda: cases.update(1, {"case_voided_at": naive}),
        "update 2**64 id": lambda: cases.update(2**64, {"case_reason": "ok"}),
        "upsert reason 2001 chars": lambda: cases.upsert(case_row(case_reason="r" * 2001)),
    }
    before = await row_counts(client)
    await assert_rejected_before_sql(client.engine, calls)
    assert await row_counts(client) == before
    stored = await cases.find_by_guild_and_number(GUILD, 1)
    assert stored is not None
    assert stored.case_reason == "reason"


async def test_validation_error_inside_a_transaction_rolls_back_earlier_writes(
    client: DatabaseClient, cases: CaseRepository, transactions: TransactionManager
) -> None:
    before = await row_counts(client)

    async def two_writes() -> None:
        async with transactions.transaction():
            await cases.create(case_row(case_number=2))
            await cases.create(case_row(case_number=3, case_reason="r" * 2001))

    with pytest.raises(ValueError, match="exceeds the limit of 2000"):
        await two_writes()
    assert await row_counts(client) == before


async def test_duplicate_case_number_is_a_conflict(backend: str, cases: CaseRepository) -> None:
    with pytest.raises(ConflictError) as caught:
        await cases.create(case_row(case_reason="duplicate"))
    expected = (
        "uq_cases_guild_id_case_number" if backend == "postgresql" else "cases.guild_id, cases.case_number"
    )
    assert caught.value.constraint == expected
    assert await cases.count() == 1


async def test_duplicate_primary_key_is_a_conflict(
    backend: str, client: DatabaseClient, cases: CaseRepository
) -> None:
    with pytest.raises(ConflictError) as caught:
        await GuildRepository(client.sessions).create({"id": GUILD})
    assert caught.value.constraint == ("pk_guild" if backend == "postgresql" else "guild.id")


async def test_missing_guild_is_a_foreign_key_error(
    backend: str, client: DatabaseClient, cases: CaseRepository
) -> None:
    before = await row_counts(client)
    with pytest.raises(ForeignKeyError) as caught:
        await cases.create(case_row(guild_id=GUILD + 1))
    if backend == "postgresql":  # SQLite's message names no constraint
        assert caught.value.constraint == "fk_cases_guild_id_guild"
    assert await row_counts(client) == before


async def test_check_violation(client: DatabaseClient, cases: CaseRepository) -> None:
    before = await row_counts(client)
    checks = {
        "ck_cases_case_number_positive": case_row(case_number=0),
        "ck_cases_case_user_id_positive": case_row(case_number=2, case_user_id=-3),
        "ck_cases_case_reason_length": case_row(case_number=2, case_reason=""),
    }
    for constraint, row in checks.items():
        with pytest.raises(CheckViolationError) as caught:
            await cases.create(row)
        assert caught.value.constraint == constraint
    assert await row_counts(client) == before


async def test_integrity_error_in_a_transaction_rolls_back_everything(
    client: DatabaseClient, cases: CaseRepository, transactions: TransactionManager
) -> None:
    before = await row_counts(client)

    async def allocate_and_collide() -> None:
        async with transactions.transaction():
            assert await cases.get_next_case_number(GUILD) == 1
            await cases.create(case_row(case_number=2))
            await cases.create(case_row(case_number=1))

    with pytest.raises(ConflictError):
        await allocate_and_collide()
    assert await row_counts(client) == before
    guild = await GuildRepository(client.sessions).find_by_id(GUILD)
    assert guild is not None
    assert guild.case_count == 0


@pytest.mark.parametrize("backend", ["postgresql"])
async def test_lost_connection_is_not_an_integrity_error(
    backend: str, client: DatabaseClient, cases: CaseRepository, transactions: TransactionManager
) -> None:
    before = await row_counts(client)
    seen: list[BaseException] = []

    async def write_then_lose_connection() -> None:
        async with transactions.transaction() as unit:
            await cases.create(case_row(case_number=2))
            pid = (await unit.session.execute(text("SELECT pg_backend_pid()"))).scalar_one()
            admin = await asyncpg.connect(pg.PG_ADMIN_DSN)
            try:  # the timeout makes the call wait until the backend has exited
                assert await admin.fetchval("SELECT pg_terminate_backend($1, 10000)", pid)
            finally:
                await admin.close()
            try:
                await cases.create(case_row(case_number=1))  # would also be a duplicate
            except Exception as error:
                seen.append(error)
                raise

    with pytest.raises(ConnectionLostError):
        await write_then_lose_connection()
    [error] = seen
    assert isinstance(error, ConnectionLostError)
    assert isinstance(error, TransientError)
    assert not isinstance(error, IntegrityError)
    assert await row_counts(client) == before  # the uncommitted write died with the connection
    assert await cases.count() == 1  # and the pool hands out a working connection again


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_sqlite_busy_is_database_locked(backend: str, database_url: str) -> None:
    path = database_url.split(":///", 1)[1]
    holder = sqlite3.connect(path, isolation_level=None)
    contender = sqlite3.connect(path, isolation_level=None, timeout=0)
    client = DatabaseClient(DatabaseSettings(database_url=database_url, sqlite_busy_timeout_ms=0))
    try:
        await client.connect()
        holder.execute("BEGIN IMMEDIATE")
        with pytest.raises(sqlite3.OperationalError) as raw:
            contender.execute("BEGIN IMMEDIATE")
        assert raw.value.sqlite_errorcode == sqlite3.SQLITE_BUSY
        assert isinstance(translate_error(raw.value), DatabaseLockedError)
        wrapped = sa_exc.OperationalError("BEGIN IMMEDIATE", {}, raw.value)
        assert isinstance(translate_error(wrapped), DatabaseLockedError)

        with pytest.raises(DatabaseLockedError):
            await GuildRepository(client.sessions).ensure(GUILD)
        holder.execute("ROLLBACK")
        assert (await GuildRepository(client.sessions).ensure(GUILD)).id == GUILD
    finally:
        await client.close()
        holder.close()
        contender.close()
