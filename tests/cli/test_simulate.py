"""``tux-db simulate`` and ``tux-db verify``, run the way a user runs them."""

from __future__ import annotations

import asyncio
import json
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests import pg
from tests.conftest import REDIS_URL
from tux.database.cli.errors import ExitCode
from tux.database.cli.main import app
from tux.database.cli.simulate.config import SimulationConfig
from tux.database.cli.simulate.report import SECTIONS
from tux.database.cli.simulate.workload import Workload

runner = CliRunner()
SMALL = ["--guilds", "6", "--members", "40", "--messages", "600", "--workers", "4"]


def run_cli(*args: str) -> Any:
    return runner.invoke(app, list(args), catch_exceptions=False)


@pytest.fixture(scope="module")
def sqlite_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """One small default (SQLite) run: its database file and its JSON report."""
    folder = tmp_path_factory.mktemp("simulate")
    report = folder / "report.json"
    result = run_cli("simulate", "--data-dir", str(folder), "--json", str(report), *SMALL)
    assert result.exit_code == 0, result.output
    return folder / "simulate.sqlite3", json.loads(report.read_text())


def test_default_run_passes_its_invariants_and_writes_every_section(
    sqlite_run: tuple[Path, dict[str, Any]],
) -> None:
    _, report = sqlite_run
    assert report["ok"] is True
    assert {section.key for section in SECTIONS} <= set(report)
    assert report["run"]["backend"] == "sqlite"
    assert report["run"]["messages"] == 600
    assert [check["ok"] for check in report["invariants"]] == [True] * 5
    operations = report["operations"]
    assert operations["chat.xp"]["database"]["count"] + operations["chat.xp"]["cached"]["count"] == 600
    assert operations["chat.prefix"]["cached"]["count"] > operations["chat.prefix"]["database"]["count"]
    for summary in (operations["chat.xp"]["database"], operations["chat.prefix"]["cached"]):
        assert 0 < summary["p50_ms"] <= summary["p95_ms"] <= summary["p99_ms"]
    assert report["cache"]["per_type"]["guild_config"]["hits"]["memory"] > 0
    assert 0 < report["statements"]["per_chat_message"] < report["statements"]["round_trips_per_chat_message"]
    transactions = report["transactions"]
    assert transactions["total"] > 300
    assert (
        transactions["success_rate"]
        == (transactions["total"] - transactions["failed"]) / transactions["total"]
    )
    assert [row["metric"] for row in report["success_metrics"]] == [
        "cached queries, p95",
        "database queries, p95",
        "cache hit rate",
        "transaction success",
        "memory cache size (largest process)",
    ]
    assert all(isinstance(row["passed"], bool) for row in report["success_metrics"])
    (process,) = report["memory"]["processes"]
    assert process["peak_rss_bytes"] > process["cache_bytes"] > 0
    optimizer = report["optimizer"]
    assert set(optimizer) == {
        "monitored",
        "slow_query_threshold_ms",
        "statements",
        "slow_queries",
        "recommendations",
        "n_plus_one",
        "pool",
        "index_advice",
    }
    assert optimizer["monitored"] is True
    assert optimizer["slow_query_threshold_ms"] == 100.0
    assert optimizer["statements"] > 600
    assert all(q["slow_calls"] > 0 and q["max_ms"] >= 100.0 for q in optimizer["slow_queries"])
    (pool,) = optimizer["pool"]
    assert pool["shard"] == 0
    assert pool["checkouts"] >= pool["peak_usage"] > 0
    assert any("SQLite allows one writer" in advice for advice in pool["advice"]) is (pool["peak_usage"] > 1)
    assert optimizer["index_advice"] == []  # every filter the workload runs has its index
    xp = sum(report["ledger"]["xp_awarded"].values())
    assert report["invariants"][1]["detail"].startswith(f"{xp:.0f} XP in the database")


def test_the_seed_fixes_the_events_and_processes_split_them() -> None:
    config = SimulationConfig(database_url="sqlite://", guilds=8, members=50, messages=400)
    everything = list(Workload(config).events())
    assert everything == list(Workload(config).events())
    assert everything != list(Workload(SimulationConfig(database_url="sqlite://", seed=7)).events())[:400]
    halves = [list(Workload(config).events(shard, 2)) for shard in (0, 1)]
    assert sorted(halves[0] + halves[1], key=lambda event: event.index) == everything
    busiest = max(range(8), key=lambda guild: sum(event.guild == guild for event in everything))
    assert busiest == 0
    assert sum(event.guild == 0 for event in everything) > 3 * sum(event.guild == 7 for event in everything)


def _corrupt(database: Path, statement: str) -> None:
    connection = sqlite3.connect(database)
    try:
        with connection:
            assert connection.execute(statement).rowcount == 1
    finally:
        connection.close()


def _one(database: Path, query: str) -> tuple[Any, ...]:
    connection = sqlite3.connect(database)
    try:
        row = connection.execute(query).fetchone()
    finally:
        connection.close()
    assert row is not None, query
    return tuple(row)


def _expected_discrepancy(database: Path, broken: str) -> tuple[str, str]:
    """Return the statement corrupting ``broken``'s invariant and the exact discrepancy it must report."""
    if broken == "cases":
        guild, number, count = _one(
            database,
            "SELECT c.guild_id, c.case_number, g.case_count FROM cases c JOIN guild g ON g.id = c.guild_id "
            "ORDER BY c.id LIMIT 1",
        )
        statement = f"UPDATE cases SET case_number = 999 WHERE guild_id = {guild} AND case_number = {number}"
        return (
            statement,
            f"guild {guild}: case_count {count}, missing [{number}], duplicated [], beyond 1..{count} [999]",
        )
    if broken == "xp":
        guild, member = _one(database, "SELECT guild_id, member_id FROM levels ORDER BY xp DESC LIMIT 1")
        (total,) = _one(database, f"SELECT SUM(xp) FROM levels WHERE guild_id = {guild}")
        statement = f"UPDATE levels SET xp = xp + 7 WHERE guild_id = {guild} AND member_id = {member}"
        return statement, f"guild {guild}: database {total + 7:.0f} XP, workload {total:.0f} (off by +7)"
    if broken == "snippets":
        guild, snippet = _one(database, "SELECT guild_id, snippet_id FROM snippet WHERE uses > 0 LIMIT 1")
        (uses,) = _one(database, f"SELECT SUM(uses) FROM snippet WHERE guild_id = {guild}")
        statement = f"UPDATE snippet SET uses = uses - 1 WHERE snippet_id = {snippet}"
        return statement, f"guild {guild}: database {uses - 1} uses, workload {uses} (off by -1)"
    (case_id,) = _one(database, "SELECT case_id FROM audit_log WHERE action = 'case.tempban_expired' LIMIT 1")
    statement = (
        "INSERT INTO audit_log (guild_id, actor_id, action, target_id, case_id, details, created_at) "
        "SELECT guild_id, actor_id, action, target_id, case_id, details, created_at FROM audit_log "
        f"WHERE action = 'case.tempban_expired' AND case_id = {case_id}"
    )
    return statement, f"case {case_id} expiry recorded 2 times"


@pytest.mark.parametrize("broken", ["cases", "xp", "snippets", "tempbans"])
def test_verify_reports_the_exact_discrepancy_of_a_corrupted_row(
    sqlite_run: tuple[Path, dict[str, Any]], tmp_path: Path, broken: str
) -> None:
    original, report = sqlite_run
    report_path = tmp_path / "report.json"
    report_path.write_text(json.dumps(report))
    database = tmp_path / "copy.sqlite3"
    shutil.copyfile(original, database)
    url = f"sqlite+aiosqlite:///{database}"
    intact = run_cli("verify", str(report_path), "--database-url", url)
    assert intact.exit_code == ExitCode.OK, intact.output
    again = run_cli("simulate", "--database-url", url, "--messages", "1")
    assert again.exit_code == ExitCode.CONFIGURATION
    assert "already holds simulated guilds" in again.output
    statement, discrepancy = _expected_discrepancy(database, broken)
    _corrupt(database, statement)
    result = run_cli("verify", str(report_path), "--database-url", url)
    assert result.exit_code == ExitCode.CHECK_FAILED, result.output
    assert discrepancy in " ".join(result.output.split()).replace("│ ", "")
    assert result.output.count("FAILED") == 2  # the one broken invariant, and the verdict line


def test_bad_url_unreachable_server_and_missing_migration_exit_with_their_codes(tmp_path: Path) -> None:
    bad = run_cli("simulate", "--database-url", "nosuchdb://x/y", "--messages", "1")
    assert bad.exit_code == ExitCode.CONFIGURATION
    assert "unsupported driver" in bad.output
    assert "Traceback" not in bad.output
    down = run_cli(
        "simulate", "--database-url", "postgresql://postgres:secret@127.0.0.1:1/x", "--messages", "1"
    )
    assert down.exit_code == ExitCode.UNREACHABLE
    assert "cannot reach the database" in down.output
    assert "secret" not in down.output
    no_redis = run_cli("simulate", "--data-dir", str(tmp_path), "--processes", "2", "--messages", "1")
    assert no_redis.exit_code == ExitCode.CONFIGURATION
    assert "--redis-url" in no_redis.output
    redis_down = run_cli(
        "simulate", "--data-dir", str(tmp_path), "--redis-url", "redis://127.0.0.1:1/0", "--messages", "1"
    )
    assert redis_down.exit_code == ExitCode.UNREACHABLE
    assert "cannot reach Redis" in redis_down.output
    report = tmp_path / "report.json"
    report.write_text(
        json.dumps(
            {
                "ledger": {
                    "xp_awarded": {},
                    "snippet_gets": {},
                    "lifted_tempbans": [],
                    "claimed_reminders": [],
                    "guild_ids": [1],
                }
            }
        )
    )
    unmigrated = run_cli(
        "verify", str(report), "--database-url", f"sqlite+aiosqlite:///{tmp_path / 'new.sqlite3'}"
    )
    assert unmigrated.exit_code == ExitCode.MIGRATION
    assert "never migrated" in unmigrated.output
    not_a_report = run_cli("verify", str(tmp_path / "missing.json"), "--database-url", "sqlite://")
    assert not_a_report.exit_code == ExitCode.CONFIGURATION


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database (the simulation migrates it), dropped afterwards."""
    name = pg.database_name("simulate")
    asyncio.run(pg.create_database(name))
    try:
        yield pg.async_url(name)
    finally:
        asyncio.run(pg.drop_database(name))


@pytest.mark.slow
def test_two_processes_on_postgresql_and_redis_pass_the_invariants(postgres_url: str, tmp_path: Path) -> None:
    report_path = tmp_path / "report.json"
    result = run_cli(
        "simulate",
        "--database-url",
        postgres_url,
        "--redis-url",
        REDIS_URL,
        "--processes",
        "2",
        "--guilds",
        "5",
        "--members",
        "30",
        "--messages",
        "400",
        "--json",
        str(report_path),
    )
    assert result.exit_code == 0, result.output
    report = json.loads(report_path.read_text())
    assert report["run"]["backend"] == "postgresql"
    assert report["run"]["messages"] == 400
    assert [process["shard"] for process in report["memory"]["processes"]] == [0, 1]
    assert all(check["ok"] for check in report["invariants"])
    redis_hits = sum(kind["hits"]["redis"] for kind in report["cache"]["per_type"].values())
    assert redis_hits > 0
    optimizer = report["optimizer"]
    assert optimizer["monitored"] is True
    assert [pool["shard"] for pool in optimizer["pool"]] == [0, 1]
    assert all(pool["checkouts"] > 0 for pool in optimizer["pool"])
    assert optimizer["statements"] > 400


def test_a_timed_run_stops_after_its_duration(tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    result = run_cli(
        "simulate",
        "--data-dir",
        str(tmp_path),
        "--guilds",
        "3",
        "--members",
        "20",
        "--duration",
        "1.5",
        "--json",
        str(report),
    )
    assert result.exit_code == 0, result.output
    figures = json.loads(report.read_text())
    assert figures["run"]["duration_limit_s"] == 1.5
    assert figures["run"]["messages"] > 0
    assert 1.5 <= figures["run"]["elapsed_s"] < 30
