"""The partial and functional indexes are usable by the queries their docstrings recommend.

A partial index only helps when the planner can prove the query implies its predicate, which depends
on how the filter is written; these tests pin the recommended spellings on both backends.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Connection, Select, event, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from tux.database.models import Case, CaseType, Levels, Reminder, Snippet

GUILD_ID = 42
NOW = datetime(2024, 1, 1, tzinfo=UTC)


async def _plan(engine: AsyncEngine, statement: Select[Any]) -> str:
    """Return the backend's plan for ``statement`` as run with its real driver parameters."""
    captured: dict[str, Any] = {}

    def capture(_conn: Connection, _cursor: Any, sql: str, parameters: Any, *_args: Any) -> None:
        captured.update(sql=sql, parameters=parameters)

    async with engine.connect() as connection:
        event.listen(connection.sync_connection, "before_cursor_execute", capture)
        await connection.execute(statement)
        event.remove(connection.sync_connection, "before_cursor_execute", capture)
        if engine.dialect.name == "postgresql":
            await connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
            rows = await connection.exec_driver_sql(f"EXPLAIN {captured['sql']}", captured["parameters"])
        else:
            rows = await connection.exec_driver_sql(
                f"EXPLAIN QUERY PLAN {captured['sql']}", captured["parameters"]
            )
        return "\n".join(str(row[-1]) for row in rows)


@pytest.mark.parametrize(
    ("statement", "index"),
    [
        pytest.param(
            select(Case.id).where(
                Case.case_type == CaseType.TEMPBAN, ~Case.case_processed, Case.case_expires_at <= NOW
            ),
            "ix_cases_tempban_pending",
            id="tempban-not",
        ),
        pytest.param(
            select(Case.id).where(
                Case.case_type == CaseType.TEMPBAN,
                Case.case_processed == False,  # noqa: E712 - the documented spelling
                Case.case_expires_at <= NOW,
            ),
            "ix_cases_tempban_pending",
            id="tempban-eq-false",
        ),
        pytest.param(
            select(Reminder.reminder_id).where(~Reminder.reminder_sent, Reminder.reminder_expires_at <= NOW),
            "ix_reminder_pending",
            id="reminders",
        ),
        pytest.param(
            select(Levels.member_id)
            .where(Levels.guild_id == GUILD_ID, ~Levels.blacklisted)
            .order_by(Levels.xp.desc())
            .limit(10),
            "ix_levels_leaderboard",
            id="leaderboard",
        ),
        pytest.param(
            select(Snippet.snippet_id).where(
                Snippet.guild_id == GUILD_ID, func.lower(Snippet.snippet_name) == func.lower("Rules")
            ),
            "uq_snippet_guild_id_lower_snippet_name",
            id="snippet-by-name",
        ),
    ],
)
async def test_query_uses_index(engine: AsyncEngine, statement: Select[Any], index: str) -> None:
    assert index in await _plan(engine, statement)
