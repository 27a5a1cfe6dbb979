"""``tux-db migrate`` and ``tux-db doctor``: outputs, masked passwords and exit codes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.conftest import REDIS_URL
from tux.database.cli.errors import ExitCode
from tux.database.cli.main import app
from tux.database.migrations import runner as migrations

cli = CliRunner()
UNREACHABLE_PG = "postgresql://postgres:hunter2@127.0.0.1:1/nowhere"


def run_cli(*args: str) -> Any:
    return cli.invoke(app, list(args), catch_exceptions=False)


def test_migrate_upgrades_reports_lists_and_downgrades(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'm.sqlite3'}"
    head = migrations.head()
    assert head is not None
    assert "none (never migrated)" in run_cli("migrate", "current", "--database-url", url).output
    upgraded = run_cli("migrate", "upgrade", "--database-url", url)
    assert upgraded.exit_code == 0
    assert f"upgraded to {head}" in upgraded.output
    assert f"{head} (up to date)" in run_cli("migrate", "current", "--database-url", url).output
    history = run_cli("migrate", "history", "--database-url", url)
    assert history.exit_code == 0
    assert "head, current" in history.output
    downgraded = run_cli("migrate", "downgrade", "base", "--database-url", url)
    assert downgraded.exit_code == 0
    assert "downgraded to base" in downgraded.output
    assert "none (never migrated)" in run_cli("migrate", "current", "--database-url", url).output


def test_migrate_errors_have_their_exit_codes_and_no_traceback(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'm.sqlite3'}"
    missing = run_cli("migrate", "upgrade", "nosuchrevision", "--database-url", url)
    assert missing.exit_code == ExitCode.MIGRATION
    assert "nosuchrevision" in missing.output
    bad = run_cli("migrate", "current", "--database-url", "mysql://x/y")
    assert bad.exit_code == ExitCode.CONFIGURATION
    down = run_cli("migrate", "upgrade", "--database-url", UNREACHABLE_PG)
    assert down.exit_code == ExitCode.UNREACHABLE
    assert "hunter2" not in down.output
    for result in (missing, bad, down):
        assert "Traceback" not in result.output
        assert result.output.startswith("error:")


@pytest.mark.parametrize("backend", ["postgresql"])
def test_doctor_on_a_migrated_postgresql_with_redis(database_url: str) -> None:
    with_password = database_url.replace("postgres@", "postgres:hunter2@", 1)
    result = run_cli("doctor", "--database-url", with_password, "--redis-url", REDIS_URL)
    assert result.exit_code == 0, result.output
    output = " ".join(result.output.split())
    assert "postgres:***@" in output
    assert "hunter2" not in output
    for check in ("schema", "server", "extension pg_stat_statements", "extension hypopg", "pool", "redis"):
        assert f"│ {check} " in result.output
    assert "PostgreSQL 1" in output
    assert "max_connections" in output
    assert "Redis 7" in output or "Redis 6" in output


@pytest.mark.parametrize("backend", ["postgresql"])
def test_doctor_exit_codes(empty_database_url: str, tmp_path: Path) -> None:
    unmigrated = run_cli("doctor", "--database-url", empty_database_url)
    assert unmigrated.exit_code == ExitCode.MIGRATION
    assert "never migrated" in unmigrated.output
    no_server = run_cli("doctor", "--database-url", UNREACHABLE_PG)
    assert no_server.exit_code == ExitCode.UNREACHABLE
    assert "hunter2" not in no_server.output
    sqlite = f"sqlite+aiosqlite:///{tmp_path / 'd.sqlite3'}"
    assert run_cli("migrate", "upgrade", "--database-url", sqlite).exit_code == 0
    no_redis = run_cli("doctor", "--database-url", sqlite, "--redis-url", "redis://:hunter2@127.0.0.1:1/0")
    assert no_redis.exit_code == ExitCode.UNREACHABLE
    assert "hunter2" not in no_redis.output
    assert run_cli("doctor", "--database-url", sqlite).exit_code == 0
