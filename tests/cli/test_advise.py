"""``tux-db advise``: advice for a live database from a read-only probe and pg_stat_statements."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from tux.database.cli.advise import READS
from tux.database.cli.errors import ExitCode
from tux.database.cli.main import app
from tux.database.facade import Database

runner = CliRunner()
GUILDS = 3
ROUNDS = 2


def run_cli(*args: str) -> Any:
    return runner.invoke(app, list(args), catch_exceptions=False)


async def _fill(url: str) -> None:
    """Guilds with members, cases and reminders: something for the probe's reads to find."""
    async with Database(url, cache_enabled=False) as db:
        due = datetime.now(UTC) + timedelta(days=1)
        for guild in range(1, GUILDS + 1):
            await db.guild_setup.onboard(guild)
            await db.levels.add_xp(guild_id=guild, member_id=guild * 10, amount=5.0)
            for number in range(3):
                await db.reminders.create(
                    {
                        "reminder_content": f"r{number}",
                        "reminder_expires_at": due,
                        "reminder_channel_id": 1,
                        "reminder_user_id": guild * 10,
                        "guild_id": guild,
                    }
                )


def _advise(url: str, tmp_path: Path, *extra: str) -> dict[str, Any]:
    out = tmp_path / "advice.json"
    result = run_cli(
        "advise",
        "--database-url",
        url,
        *("--guilds", str(GUILDS), "--rounds", str(ROUNDS), "--json", str(out)),
        *extra,
    )
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    report: dict[str, Any] = json.loads(out.read_text())
    return report


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_dropped_index_is_advised_from_the_probe_and_an_intact_schema_gets_none(
    database_url: str, tmp_path: Path
) -> None:
    asyncio.run(_fill(database_url))
    intact = _advise(database_url, tmp_path)
    assert intact["backend"] == "sqlite"
    assert intact["observed"] == {
        "pg_stat_statements": False,
        "probe_calls": GUILDS * ROUNDS * len(READS),
        "probe_guilds": GUILDS,
    }
    assert intact["database_statements"] is None
    findings = intact["findings"]
    assert findings["statements"] >= GUILDS * ROUNDS * len(READS)
    assert findings["index_advice"] == []
    assert findings["index_recommendations"] == {}
    (pool,) = findings["pool"]
    assert pool["checkouts"] >= GUILDS * ROUNDS * len(READS)
    assert intact["pool_settings"]["connections_at_most"] == 20
    database = make_url(database_url).database
    assert database is not None
    connection = sqlite3.connect(database)
    with connection:
        connection.execute("DROP INDEX ix_reminder_pending")
        connection.execute("DROP INDEX ix_reminder_guild_id")  # what the pending-reminders read searches by
    connection.close()
    planted = _advise(database_url, tmp_path)
    [advice] = [entry for entry in planted["findings"]["index_advice"] if entry["table"] == "reminder"]
    assert advice["validated"] is True
    assert "guild_id" in advice["columns"]
    [line] = planted["findings"]["index_recommendations"]["reminder"]
    assert line.startswith(advice["statement"])


async def _plant_slow_statement(database_url: str) -> str | None:
    """Run one 60 ms statement where pg_stat_statements sees it; the reason to skip when it cannot."""
    dsn = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
    connection = await asyncpg.connect(dsn)
    try:
        try:
            await connection.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
            await connection.fetch("SELECT 1 FROM pg_stat_statements LIMIT 1")
        except asyncpg.PostgresError as error:
            return f"pg_stat_statements is not preloaded by this server: {error}"
        await connection.execute("SELECT pg_sleep(0.06)")
        return None
    finally:
        await connection.close()


@pytest.mark.parametrize("backend", ["postgresql"])
def test_on_postgresql_pg_stat_statements_totals_are_checked_against_the_rules(
    database_url: str, tmp_path: Path
) -> None:
    asyncio.run(_fill(database_url))
    skip = asyncio.run(_plant_slow_statement(database_url))
    if skip is not None:
        pytest.skip(skip)
    report = _advise(database_url, tmp_path, "--processes", "100")
    assert report["observed"]["pg_stat_statements"] is True
    [slow] = [row for row in report["database_statements"] if "pg_sleep" in row["query"]]
    assert slow["mean_ms"] >= 60
    assert any(issue.endswith("(plan)") for issue in slow["issues"])
    pool = report["pool_settings"]
    assert pool["processes"] == 100
    assert pool["max_connections"] > 0
    assert pool["connections_at_most"] == 100 * (pool["pool_size"] + pool["max_overflow"])
    over = pool["connections_at_most"] > pool["max_connections"] - pool["reserved_connections"]
    assert any("PgBouncer" in advice for advice in pool["advice"]) is over
    assert all(not entry["table"].startswith("pg_") for entry in report["findings"]["index_advice"])


def test_bad_url_unreachable_server_and_missing_migration_exit_with_their_codes(tmp_path: Path) -> None:
    bad = run_cli("advise", "--database-url", "nosuchdb://x/y")
    assert bad.exit_code == ExitCode.CONFIGURATION
    down = run_cli("advise", "--database-url", "postgresql://postgres:hunter2@127.0.0.1:1/x")
    assert down.exit_code == ExitCode.UNREACHABLE
    assert "hunter2" not in down.output
    unmigrated = run_cli("advise", "--database-url", f"sqlite+aiosqlite:///{tmp_path / 'new.sqlite3'}")
    assert unmigrated.exit_code == ExitCode.MIGRATION
    assert "never migrated" in unmigrated.output
    for result in (bad, down, unmigrated):
        assert result.output.startswith("error:")
        assert "Traceback" not in result.output
