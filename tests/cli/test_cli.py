"""``tux-db``: the demo workload and the health check, run the way a user runs them."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from tux.database.cli.main import app

runner = CliRunner()


def test_demo_runs_the_workload_on_a_fresh_sqlite_file(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'demo.sqlite3'}"
    result = runner.invoke(app, ["demo", "--database-url", url, "--guilds", "2", "--cases", "6"])
    assert result.exit_code == 0, result.output
    assert result.output.count("1..6 gapless") == 2
    assert "GAPS" not in result.output


def test_health_reports_a_reachable_and_an_unreachable_database(tmp_path: Path) -> None:
    good = runner.invoke(app, ["health", "--database-url", f"sqlite+aiosqlite:///{tmp_path / 'h.sqlite3'}"])
    assert good.exit_code == 0
    assert "healthy" in good.output
    bad = runner.invoke(app, ["health", "--database-url", "postgresql+asyncpg://postgres@127.0.0.1:1/none"])
    assert bad.exit_code == 1
    assert "unreachable" in bad.output
