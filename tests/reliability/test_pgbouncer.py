"""Behind PgBouncer in transaction pooling mode (1.18: no ``max_prepared_statements``).

A server connection serves one transaction of one client and then any other client, so a statement
prepared outside a transaction may be gone (or another client's) by the time it is run. With
``TUX_DB_PGBOUNCER=true`` the layer prepares nothing that outlives its transaction; the PostgreSQL
suites that matter (repositories, services, cache coherence) then pass through a real PgBouncer.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.caching.conftest import free_port
from tests.reliability.conftest import LONG
from tests.reliability.pgbouncer import ROOT, PrivatePgBouncer
from tux.database import Database
from tux.database.cli.main import app

GUILDS = 10
TASKS = 30
ROUNDS = 10

SUITES_CI = (
    "tests/repositories/test_cases.py",
    "tests/services/test_levels_service.py",
    "tests/caching/test_cache_processes.py",
)
"""What CI runs through the pooler (about 75 s here): cases (direct statements, case numbers, ORM
units), the XP service (gated upserts, level-ups, cached decisions) and cache coherence between two
processes on PostgreSQL."""
SUITES_FULL = (
    "tests/repositories",
    "tests/services",
    "tests/caching/test_cache_guarantees.py",
    "tests/caching/test_cache_processes.py",
    "tests/caching/test_cached_repository.py",
)
"""The PostgreSQL side of those suites whole (``TUX_TEST_LONG=1``; 3.5 minutes here, unloaded)."""

POSTGRESQL = pytest.mark.parametrize("backend", ["postgresql"])


@pytest.fixture(scope="module")
def bouncer() -> Iterator[PrivatePgBouncer]:
    pooler = PrivatePgBouncer(free_port())
    pooler.start()
    try:
        yield pooler
    finally:
        pooler.stop()


def _through(bouncer: PrivatePgBouncer, database_url: str) -> str:
    return bouncer.url(database_url.rsplit("/", 1)[1])


async def _traffic(url: str, *, pgbouncer: bool) -> tuple[Counter[str], float]:
    """``TASKS`` concurrent tasks of uncached reads (ORM and direct) and XP awards; errors and total XP."""
    errors: Counter[str] = Counter()
    async with Database(url, cache_enabled=False, pgbouncer=pgbouncer) as db:
        for guild in range(GUILDS):
            await db.guild_setup.onboard(900 + guild)

        async def work(task: int) -> None:
            for turn in range(ROUNDS):
                guild = 900 + (task + turn) % GUILDS
                try:
                    await db.guilds.find_by_id(guild)
                    await db.guild_configs.find_all(limit=5)
                    await db.levels.add_xp(guild_id=guild, member_id=task + 1, amount=1)
                except Exception as error:  # noqa: BLE001 - without the setting, driver errors escape too
                    errors[type(error).__name__] += 1

        await asyncio.gather(*(work(task) for task in range(TASKS)))
        total = sum(row.xp for row in await db.levels.find_all(limit=1000))
    return errors, total


@POSTGRESQL
async def test_concurrent_traffic_needs_the_setting_and_works_with_it(
    bouncer: PrivatePgBouncer, database_url: str
) -> None:
    url = _through(bouncer, database_url)
    errors, total = await _traffic(url, pgbouncer=True)
    assert errors == Counter()
    assert total == TASKS * ROUNDS
    errors, _ = await _traffic(url, pgbouncer=False)
    assert errors, "named prepared statements were expected to break behind transaction pooling"


def _pooler_check(report: Path) -> dict[str, str]:
    found: dict[str, str] = next(item for item in json.loads(report.read_text()) if item["check"] == "pooler")
    return found


@POSTGRESQL
def test_doctor_sees_pgbouncer_and_names_the_setting(
    bouncer: PrivatePgBouncer, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = _through(bouncer, database_url)
    runner = CliRunner()
    report = tmp_path / "doctor.json"
    result = runner.invoke(app, ["doctor", "--database-url", url, "--json", str(report)])
    assert result.exit_code == 0, result.output
    pooler = _pooler_check(report)
    assert pooler["status"] == "WARN"
    assert pooler["detail"].startswith("PgBouncer 1.")
    assert "set TUX_DB_PGBOUNCER=true" in pooler["detail"]
    monkeypatch.setenv("TUX_DB_PGBOUNCER", "true")
    result = runner.invoke(app, ["doctor", "--database-url", url, "--json", str(report)])
    pooler = _pooler_check(report)
    assert pooler["status"] == "OK"
    assert "TUX_DB_PGBOUNCER=true applies" in pooler["detail"]
    result = runner.invoke(app, ["doctor", "--database-url", database_url, "--json", str(report)])
    pooler = _pooler_check(report)
    assert pooler["status"] == "WARN"
    assert pooler["detail"].startswith("none seen")


def test_the_postgresql_suites_pass_behind_pgbouncer(bouncer: PrivatePgBouncer) -> None:
    suites = SUITES_FULL if LONG else SUITES_CI
    env = {**os.environ, "TUX_TEST_PG_APP_DSN": bouncer.app_dsn, "TUX_DB_PGBOUNCER": "true"}
    command = [sys.executable, "-m", "pytest", "-q", "-n", "0", "-p", "no:cacheprovider", "-k", "postgresql"]
    run = subprocess.run([*command, *suites], cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    summary = run.stdout.strip().splitlines()[-1] if run.stdout.strip() else run.stderr[-2000:]
    assert run.returncode == 0, f"{summary}\n{run.stdout[-6000:]}"
    assert " passed" in summary
    assert "failed" not in summary
    assert "error" not in summary
