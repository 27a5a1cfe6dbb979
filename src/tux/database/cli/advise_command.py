"""``tux-db advise`` on the command line: options, tables and ``--json``."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from tux.database.cli.advise import advise
from tux.database.cli.console import console
from tux.database.cli.errors import exit_on_errors
from tux.database.cli.simulate.optimizer_section import OptimizerSection, shorten


def advise_command(  # noqa: PLR0917 - Typer maps each parameter to an option
    database_url: Annotated[str | None, typer.Option(help="Database URL; default from settings.")] = None,
    processes: Annotated[
        int, typer.Option(min=1, max=1000, help="Bot processes that will share the database (pool check).")
    ] = 1,
    guilds: Annotated[int, typer.Option(min=0, help="Guilds the read-only probe replays reads for.")] = 20,
    rounds: Annotated[int, typer.Option(min=1, max=100, help="Times each probe read is replayed.")] = 3,
    concurrency: Annotated[int, typer.Option(min=1, max=100, help="Probe reads running at once.")] = 8,
    json_path: Annotated[Path | None, typer.Option("--json", help="Also write every figure here.")] = None,
) -> None:
    """Query, pool and index recommendations for a live database (read-only; creates nothing)."""
    with exit_on_errors():
        report = asyncio.run(
            advise(database_url, processes=processes, guilds=guilds, rounds=rounds, concurrency=concurrency)
        )
    observed = report["observed"]
    source = "pg_stat_statements + " if observed["pg_stat_statements"] else ""
    console.print(
        f"[bold]tux-db advise[/] on {report['database_url']}: {source}a probe of {observed['probe_calls']} "
        f"reads over {observed['probe_guilds']} guild(s)"
    )
    if report["database_statements"] is not None:
        console.print(_database_table(report["database_statements"]))
    elif report["backend"] == "postgresql":
        console.print("pg_stat_statements is not readable in this database (see tux-db doctor): probe only")
    console.print(OptimizerSection().render(report["findings"]))
    console.print(_pool_table(report["pool_settings"]))
    if report["unused_indexes"] or report["duplicate_indexes"]:
        console.print(_indexes_table(report))
    if json_path is not None:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(report, indent=2))
        console.print(f"figures written to {json_path}")


def _table(title: str, *columns: str) -> Table:
    table = Table(title=title, title_justify="left", title_style="bold")
    for column in columns:
        table.add_column(column, overflow="fold")
    return table


def _database_table(rows: list[Mapping[str, Any]]) -> Table:
    table = _table(
        "pg_stat_statements (most total time)", "statement", "calls", "mean ms", "total ms", "issues"
    )
    for row in rows[:10]:
        table.add_row(
            shorten(row["query"]),
            str(row["calls"]),
            f"{row['mean_ms']:.2f}",
            f"{row['total_ms']:.0f}",
            "; ".join(row["issues"]) or "-",
        )
    return table


def _pool_table(pool: Mapping[str, Any]) -> Table:
    table = _table("Pool settings", "setting", "value")
    table.add_row("pool_size + max_overflow", f"{pool['pool_size']} + {pool['max_overflow']}")
    table.add_row("pool_timeout", f"{pool['pool_timeout_s']:g} s")
    table.add_row(f"connections at most ({pool['processes']} process(es))", str(pool["connections_at_most"]))
    if pool["max_connections"] is not None:
        table.add_row(
            "server max_connections (reserved)", f"{pool['max_connections']} ({pool['reserved_connections']})"
        )
    for advice in pool["advice"] or ["the settings fit the server"]:
        table.add_row("advice", advice)
    return table


def _indexes_table(report: Mapping[str, Any]) -> Table:
    table = _table("Indexes not pulling their weight (PostgreSQL)", "index", "table", "finding")
    for index in report["unused_indexes"]:
        table.add_row(index["name"], index["table"], "never scanned since statistics were reset")
    for pair in report["duplicate_indexes"]:
        redundant, covering = pair["redundant"], pair["covered_by"]
        table.add_row(redundant["name"], redundant["table"], f"a leading prefix of {covering['name']}")
    return table
