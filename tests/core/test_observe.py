from __future__ import annotations

import pytest
from sqlalchemy import text

from tux.database.core.client import DatabaseClient
from tux.database.core.observe import StatementRecord, current_operation
from tux.database.exceptions import DatabaseError


async def test_hub_reports_engine_statements_with_timing_and_operation(client: DatabaseClient) -> None:
    token = current_operation.set("tests.probe")
    try:
        with client.statements.recording() as seen:
            async with client.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
    finally:
        current_operation.reset(token)
    assert [record.sql for record in seen] == ["SELECT 1"]
    assert seen[0].elapsed > 0
    assert seen[0].operation == "tests.probe"
    assert seen[0].error is None


async def test_hub_reports_failed_statements(client: DatabaseClient) -> None:
    with client.statements.recording() as seen, pytest.raises(Exception):  # noqa: B017, PT011
        async with client.engine.connect() as connection:
            await connection.execute(text("SELECT * FROM no_such_table"))
    assert len(seen) == 1
    assert seen[0].error is not None
    assert not isinstance(seen[0].error, DatabaseError)


async def test_unsubscribed_listener_sees_nothing(client: DatabaseClient) -> None:
    seen: list[StatementRecord] = []
    unsubscribe = client.statements.subscribe(seen.append)
    unsubscribe()
    assert not client.statements.active
    async with client.engine.connect() as connection:
        await connection.execute(text("SELECT 1"))
    assert seen == []
