"""The statements a batch sends, per backend, inside the caller's session and transaction.

Bulk inserts without ``RETURNING`` take the driver's fastest road: PostgreSQL's binary ``COPY``
(``asyncpg.Connection.copy_records_to_table``) above a row threshold, SQLite's ``executemany`` on the
``sqlite3`` connection. Both run on the session's own connection, reached through SQLAlchemy's public
API (``AsyncConnection.get_raw_connection().driver_connection``), so they are inside the unit of work's
transaction and roll back with it. They bypass the engine's events, so they report themselves to the
client's :class:`~tux.database.core.observe.StatementHub`. Everything else goes through SQLAlchemy.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Sequence
from time import perf_counter
from typing import Any

from sqlalchemy import ColumnElement, Table, bindparam, delete, func, insert, select, tuple_, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from tux.database.core.observe import StatementHub
from tux.database.core.session import SessionProvider
from tux.database.models import Guild
from tux.database.operations.columns import DriverRows
from tux.database.operations.rows import Layout, Row, Target
from tux.database.repositories.support import dialect_insert

SQLITE_MAX_VARIABLES = 32_766 if sqlite3.sqlite_version_info >= (3, 32, 0) else 999
"""Bound parameters one SQLite statement may carry (``SQLITE_MAX_VARIABLE_NUMBER``)."""


def sqlite_rows_per_statement(columns: int, wanted: int) -> int:
    """Return how many rows of ``columns`` parameters fit in one SQLite statement, at most ``wanted``."""
    return max(1, min(wanted, SQLITE_MAX_VARIABLES // max(1, columns)))


async def _driver_connection(session: AsyncSession, *, begun: bool) -> tuple[AsyncConnection, Any]:
    """Return the session's connection and the driver connection under it.

    With ``begun``, make sure the transaction has really begun on the driver connection: SQLAlchemy's
    asyncpg adapter begins it lazily, at the first statement, so if nothing ran yet one trivial
    statement goes first and the bulk write cannot run in autocommit outside the unit of work.
    """
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    driver: Any = raw.driver_connection
    if begun and not driver.is_in_transaction():
        await connection.exec_driver_sql("SELECT 1")
    return connection, driver


async def copy_rows(session: AsyncSession, statements: StatementHub, table: Table, rows: DriverRows) -> int:
    """Write ``rows`` with PostgreSQL's binary ``COPY``, inside the session's transaction."""
    connection, driver = await _driver_connection(session, begun=True)
    name = connection.dialect.identifier_preparer.format_table(table)
    sql = f"COPY {name} ({_column_list(connection, rows)}) FROM STDIN (FORMAT binary)"
    send = driver.copy_records_to_table(
        table.name, records=rows.records, columns=list(rows.columns), schema_name=table.schema
    )
    return await _reported(statements, sql, rows.records, send)


async def executemany_rows(
    session: AsyncSession, statements: StatementHub, table: Table, rows: DriverRows, *, sqlite: bool
) -> int:
    """Write ``rows`` with one ``executemany`` on the driver's own connection, inside the transaction."""
    connection, driver = await _driver_connection(session, begun=not sqlite)
    name = connection.dialect.identifier_preparer.format_table(table)
    marks = ["?" if sqlite else f"${position}" for position in range(1, len(rows.columns) + 1)]
    sql = f"INSERT INTO {name} ({_column_list(connection, rows)}) VALUES ({', '.join(marks)})"
    return await _reported(statements, sql, rows.records, driver.executemany(sql, rows.records))


def _column_list(connection: AsyncConnection, rows: DriverRows) -> str:
    return ", ".join(connection.dialect.identifier_preparer.quote(name) for name in rows.columns)


async def _reported(
    statements: StatementHub, sql: str, records: list[tuple[object, ...]], send: Awaitable[Any]
) -> int:
    """Await ``send`` (a driver call the engine's events do not see) and report it as ``sql``."""
    started = perf_counter()
    try:
        await send
    except BaseException as error:
        statements.report(sql, records, started, error=error, executemany=True)
        raise
    statements.report(sql, records, started, rows=len(records), executemany=True)
    return len(records)


async def insert_rows(
    session: AsyncSession, target: Target, rows: list[Row], *, returning: bool
) -> list[Any]:
    """Insert ``rows`` with SQLAlchemy's ORM bulk insert (``RETURNING`` in bulk when asked).

    Rows may set different fields: SQLAlchemy groups them, one ``executemany`` per set of fields.
    """
    if returning:
        statement = insert(target.model).returning(target.model, sort_by_parameter_order=True)
        return list((await session.scalars(statement, rows)).all())
    await session.execute(insert(target.model), rows)
    return []


async def upsert_rows(
    session: AsyncSession,
    sessions: SessionProvider,
    target: Target,
    layout: Layout,
    *,
    keys: Sequence[str],
    update_fields: Sequence[str] | None,
    accumulate: Sequence[str],
    returning: bool,
) -> list[Any]:
    """``INSERT ... ON CONFLICT (keys) DO UPDATE`` for ``layout``'s rows, as ``executemany``.

    Overwritten are ``update_fields`` (default: every column the caller set outside the key);
    ``accumulate`` columns add the new value to the stored one (``xp = xp + excluded.xp``).
    """
    statement = dialect_insert(sessions, target.model)
    excluded = statement.excluded
    names = [
        name for name in (update_fields if update_fields is not None else layout.given) if name not in keys
    ]
    set_: dict[str, Any] = {name: excluded[name] for name in names}
    for name in accumulate:
        set_[name] = target.column(name) + excluded[name]
    if set_:
        statement = statement.on_conflict_do_update(index_elements=list(keys), set_=set_)
    else:
        statement = statement.on_conflict_do_nothing(index_elements=list(keys))
    if returning:
        statement = statement.returning(target.model, sort_by_parameter_order=True)
        return list((await session.scalars(statement, layout.rows)).all())
    await session.execute(statement, layout.rows)
    return []


async def ensure_guilds(session: AsyncSession, sessions: SessionProvider, guild_ids: Sequence[int]) -> None:
    """Insert the missing ``guild`` rows of ``guild_ids``, as single writes do one guild at a time."""
    if guild_ids:
        statement = dialect_insert(sessions, Guild).on_conflict_do_nothing(index_elements=["id"])
        await session.execute(statement, [{"id": guild} for guild in guild_ids])


def identity_match(
    target: Target, identities: Sequence[tuple[object, ...]], *, sqlite: bool
) -> list[ColumnElement[bool]]:
    """Return WHERE clauses matching ``identities``: one on PostgreSQL (arrays), chunks on SQLite.

    PostgreSQL gets ``pk = ANY($1)`` (a composite key: ``(a, b) IN (SELECT unnest($1), unnest($2))``),
    one statement and one parameter per key column whatever the number of ids. SQLite gets ``IN``
    lists as long as its parameter limit allows.
    """
    columns = [target.column(name) for name in target.primary_key]
    if not sqlite:
        arrays = [
            bindparam(
                f"ids_{position}", [identity[position] for identity in identities], type_=ARRAY(column.type)
            )
            for position, column in enumerate(columns)
        ]
        if len(columns) == 1:
            return [columns[0] == func.any(arrays[0])]
        return [tuple_(*columns).in_(select(*(func.unnest(array) for array in arrays)))]
    size = sqlite_rows_per_statement(len(columns), len(identities))
    chunks = [identities[start : start + size] for start in range(0, len(identities), size)]
    if len(columns) == 1:
        return [columns[0].in_([identity[0] for identity in chunk]) for chunk in chunks]
    return [tuple_(*columns).in_(list(chunk)) for chunk in chunks]


async def delete_matching(session: AsyncSession, target: Target, where: ColumnElement[bool]) -> int:
    """Delete the rows ``where`` matches; return how many went."""
    result = await session.execute(delete(target.table).where(where))
    return max(0, int(getattr(result, "rowcount", 0) or 0))


async def select_matching(session: AsyncSession, target: Target, where: ColumnElement[bool]) -> list[Any]:
    """Return the model instances ``where`` matches, refreshed from the database."""
    statement = select(target.model).where(where).execution_options(populate_existing=True)
    return list((await session.scalars(statement)).all())


async def update_rows(
    session: AsyncSession, target: Target, fields: tuple[str, ...], parameters: list[dict[str, object]]
) -> None:
    """``UPDATE ... SET fields WHERE key = ...`` as one ``executemany`` over ``parameters``.

    Each parameter set holds the new values under ``v_<field>`` and the key under ``k_<key field>``.
    """
    where = [target.column(name) == bindparam(f"k_{name}") for name in target.primary_key]
    values: dict[str, Any] = {target.column(name).key: bindparam(f"v_{name}") for name in fields}
    await session.execute(update(target.table).where(*where).values(values), parameters)
