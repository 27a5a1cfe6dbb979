"""The optimizer's findings in the simulate report: planted problems show up, processes merge."""

from __future__ import annotations

import io
import json
import sqlite3
from pathlib import Path

from rich.console import Console
from sqlalchemy import text
from typer.testing import CliRunner

from tux.database.cli.main import app
from tux.database.cli.simulate.bot import Ledger
from tux.database.cli.simulate.config import SimulationConfig
from tux.database.cli.simulate.findings import OptimizerFindings
from tux.database.cli.simulate.optimizer_section import OptimizerSection
from tux.database.cli.simulate.recorder import ChatFigures
from tux.database.cli.simulate.runner import SimulationResult
from tux.database.cli.simulate.shard import ShardResult
from tux.database.facade import Database

runner = CliRunner()
SLOW_MS = 20.0
SLOW_STATEMENT = {
    "sqlite": (
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000000) "
        "SELECT count(*) FROM n"
    ),
    "postgresql": "SELECT pg_sleep(0.05)",
}
PLANTED_READS = 7


def _result(backend: str, found: list[dict[str, object]]) -> SimulationResult:
    """A simulation result whose processes found ``found`` (one entry per process)."""
    shards = [
        ShardResult(
            shard=number,
            elapsed=1.0,
            completed=0,
            operations={},
            chat=ChatFigures(),
            ledger=Ledger(),
            cache={},
            transactions={},
            peak_rss_bytes=0,
            probes={"optimizer": figures},
        )
        for number, figures in enumerate(found)
    ]
    return SimulationResult(
        config=SimulationConfig(database_url="sqlite://"),
        elapsed=1.0,
        setup_seconds=0.0,
        shards=shards,
        ledger=Ledger(),
        invariants=[],
        backend=backend,
        redis=False,
    )


async def test_a_planted_n_plus_one_and_slow_statement_are_reported_and_merged(
    backend: str, database_url: str
) -> None:
    async with Database(database_url, cache_enabled=False, slow_query_threshold_ms=SLOW_MS) as db:
        probe = OptimizerFindings.watch(db)
        for guild_id in range(1, PLANTED_READS + 1):
            await db.guilds.find_by_id(guild_id)
        async with db.client.engine.connect() as connection:
            await connection.execute(text(SLOW_STATEMENT[backend]))
        found = await probe.finish()
    section = OptimizerSection()
    one = section.figures(_result(backend, [found]))
    assert one["monitored"] is True
    assert one["slow_query_threshold_ms"] == SLOW_MS
    assert one["statements"] >= PLANTED_READS + 1
    [slow] = [
        q for q in one["slow_queries"] if q["query"].upper().startswith(("WITH RECURSIVE", "SELECT PG_SLEEP"))
    ]
    assert slow["slow_calls"] == slow["calls"] == 1
    assert slow["max_ms"] >= SLOW_MS
    [loop] = [n for n in one["n_plus_one"] if "FROM guild" in n["query"]]
    assert loop["kind"] == "read"
    assert loop["longest"] == PLANTED_READS
    assert loop["runs"] == loop["processes"] == 1
    assert "one statement" in loop["advice"]
    [rule] = [
        r for r in one["recommendations"] if r["query"] == slow["query"] and "slow query rate" in r["issue"]
    ]
    assert (rule["source"], rule["slow_rate"], rule["processes"]) == ("plan", 1.0, 1)
    [pool] = one["pool"]
    assert pool["shard"] == 0
    assert pool["checkouts"] >= PLANTED_READS
    assert isinstance(pool["advice"], list)
    assert isinstance(one["index_advice"], list)
    two = section.figures(_result(backend, [found, found]))
    [merged] = [n for n in two["n_plus_one"] if "FROM guild" in n["query"]]
    assert (merged["runs"], merged["processes"], merged["longest"]) == (2, 2, PLANTED_READS)
    [slow_twice] = [q for q in two["slow_queries"] if q["query"] == slow["query"]]
    assert slow_twice["calls"] == slow_twice["slow_calls"] == 2
    assert [p["shard"] for p in two["pool"]] == [0, 1]
    [rule_twice] = [
        r for r in two["recommendations"] if r["query"] == slow["query"] and r["issue"] == rule["issue"]
    ]
    assert rule_twice["processes"] == 2
    console = Console(width=200, record=True, file=io.StringIO())
    console.print(section.render(two))
    shown = console.export_text()
    assert "N+1 reads" in shown
    assert "2 run(s), longest 7 in a row" in shown
    assert "pool (process 1)" in shown


def test_a_dropped_index_shows_up_as_planner_checked_advice(tmp_path: Path) -> None:
    database = tmp_path / "planted.sqlite3"
    url = f"sqlite+aiosqlite:///{database}"
    assert runner.invoke(app, ["migrate", "upgrade", "--database-url", url]).exit_code == 0
    connection = sqlite3.connect(database)
    with connection:
        connection.execute("DROP INDEX ix_reminder_pending")
        connection.execute("DROP INDEX ix_cases_tempban_pending")
    connection.close()
    report_path = tmp_path / "report.json"
    page = tmp_path / "report.html"
    result = runner.invoke(
        app,
        [
            "simulate",
            "--database-url",
            url,
            *("--guilds", "5", "--members", "30", "--messages", "400", "--workers", "4"),
            *("--json", str(report_path), "--html", str(page)),
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    advice = {
        entry["table"]: entry for entry in json.loads(report_path.read_text())["optimizer"]["index_advice"]
    }
    assert {"reminder", "cases"} <= set(advice)
    for table, column in (("reminder", "reminder_sent"), ("cases", "case_processed")):
        entry = advice[table]
        assert entry["statement"].startswith(f"CREATE INDEX ix_{table}_")
        assert column in entry["columns"]
        assert entry["validated"] is True
        assert entry["method"] == "sqlite-plan"
        assert entry["calls"] > 0
        assert entry["recommendation"].startswith(entry["statement"] + " -- plan ")
        assert entry["statement"] in page.read_text()
    assert "Optimizer findings" in result.output
