"""``tux-db bench``: every row measured in one run, ratios against the raw drivers, JSON output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import REDIS_URL
from tux.database.cli.main import app

runner = CliRunner()
SHORT = ["--rounds", "3", "--batch", "5", "--bulk-rows", "500", "--loop-rows", "10", "--bulk-rounds", "2"]
BULK = (
    "db.batch.batch_create (per row)",
    "plan's loop: ORM session + commit per row",
    "db.levels.create per row",
)


@pytest.mark.parametrize("backend", ["postgresql"])
def test_bench_on_postgresql_and_redis_compares_every_row_with_its_raw_driver(
    database_url: str, tmp_path: Path
) -> None:
    out = tmp_path / "bench.json"
    result = runner.invoke(
        app,
        ["bench", "--database-url", database_url, "--redis-url", REDIS_URL, *SHORT, "--json", str(out)],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    figures = json.loads(out.read_text())
    assert figures["machine"]["cpus"] >= 1
    rows = {(row["group"], row["label"]): row for row in figures["rows"]}
    assert set(rows) == {
        ("PostgreSQL", "raw asyncpg prepared fetchrow"),
        ("PostgreSQL", "repository PK read (db.guild_configs.find_by_id, cache off)"),
        ("PostgreSQL", "what Tux runs today (ORM session per call)"),
        ("PostgreSQL", "memory-cache hit (find_by_id)"),
        ("Redis", "raw redis-py GET"),
        ("Redis", "Redis hit (find_by_id, memory level off)"),
        ("SQLite", "raw sqlite3 (stdlib) read"),
        ("SQLite", "repository PK read (db.guild_configs.find_by_id, cache off)"),
        ("SQLite", "what Tux runs today (ORM session per call)"),
        ("SQLite", "memory-cache hit (find_by_id)"),
        ("PostgreSQL bulk insert, 500 rows", "raw asyncpg COPY, copy_records_to_table (per row)"),
        ("SQLite bulk insert, 500 rows", "raw sqlite3 executemany, one transaction (per row)"),
        *(
            (group, label)
            for group in ("PostgreSQL bulk insert, 500 rows", "SQLite bulk insert, 500 rows")
            for label in BULK
        ),
    }
    for (group, _), row in rows.items():
        raw = next(r for (g, label), r in rows.items() if g == group and label.startswith("raw "))
        assert row["rounds"] == (2 if "bulk" in group else 3)
        assert 0 < row["median_us"] <= row["p95_us"]
        if row is not raw:
            assert row["ratio"] == pytest.approx(row["median_us"] / raw["median_us"])
    pk_goal = rows[("PostgreSQL", "repository PK read (db.guild_configs.find_by_id, cache off)")]
    assert pk_goal["goal"] == "<= 2.0x"
    assert pk_goal["met"] is (pk_goal["ratio"] <= 2.0)
    for group in ("PostgreSQL bulk insert, 500 rows", "SQLite bulk insert, 500 rows"):
        batch, loop = rows[(group, BULK[0])], rows[(group, BULK[1])]
        assert batch["goal"] == "<= 2.0x"
        assert batch["met"] is (batch["ratio"] <= 2.0)
        speedup = loop["median_us"] / batch["median_us"]
        assert loop["goal"] == f"db.batch {speedup:.0f}x faster, goal >= 100x"
        assert loop["met"] is (speedup >= 100)
        creates = rows[(group, BULK[2])]
        assert creates["goal"] == f"db.batch {creates['median_us'] / batch['median_us']:.0f}x faster"
        assert creates["met"] is None
    assert "vs raw" in result.output


def test_bench_without_postgresql_runs_the_sqlite_rows(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'b.sqlite3'}"
    result = runner.invoke(app, ["bench", "--database-url", url, *SHORT], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "raw sqlite3 (stdlib) read" in result.output
    assert "SQLite bulk insert, 500 rows" in result.output
    assert "asyncpg" not in result.output
