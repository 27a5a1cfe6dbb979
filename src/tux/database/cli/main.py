"""``tux-db``: the command line of tux-database."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from tux.database.cli import migrate
from tux.database.cli.advise_command import advise_command
from tux.database.cli.bench import machine, run_bench
from tux.database.cli.bench_bulk import BulkSizes
from tux.database.cli.bulk_load import REPOSITORIES, load_rows
from tux.database.cli.console import console, route_logs
from tux.database.cli.demo import run_demo
from tux.database.cli.doctor import Status, examine, exit_code
from tux.database.cli.errors import exit_on_errors
from tux.database.cli.importer import import_command
from tux.database.cli.simulate.command import fresh_sqlite_url, simulate_command, verify_command
from tux.database.facade import Database, build_settings
from tux.database.settings import redact_url

app = typer.Typer(
    help="Tux database tools.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)
app.command("simulate")(simulate_command)
app.command("verify")(verify_command)
app.command("import")(import_command)
app.command("advise")(advise_command)
app.add_typer(migrate.app, name="migrate")


@app.callback()
def configure(
    log_level: Annotated[
        str, typer.Option(help="Library log level (DEBUG, INFO, WARNING, ...).")
    ] = "WARNING",
) -> None:
    """Route the library's loguru records to stderr at ``log_level``."""
    route_logs(log_level)


@app.command()
def demo(
    database_url: Annotated[
        str | None, typer.Option(help="Database URL; default: a fresh SQLite file under ./data.")
    ] = None,
    guilds: Annotated[int, typer.Option(min=1, max=10_000, help="Guilds to onboard.")] = 5,
    cases: Annotated[
        int, typer.Option(min=1, max=100_000, help="Moderation cases to create per guild.")
    ] = 20,
) -> None:
    """Migrate a fresh database, onboard guilds, create cases and read them back (a small example)."""
    url = database_url or fresh_sqlite_url(Path("data"), "demo.sqlite3")
    console.print(f"[bold]tux-db demo[/] on {redact_url(url)}")
    with exit_on_errors():
        asyncio.run(run_demo(url, guilds=guilds, cases_per_guild=cases, console=console))


@app.command()
def doctor(
    database_url: Annotated[str | None, typer.Option(help="Database URL; default from settings.")] = None,
    redis_url: Annotated[str | None, typer.Option(help="Redis URL; default from settings.")] = None,
    json_path: Annotated[Path | None, typer.Option("--json", help="Also write the findings here.")] = None,
) -> None:
    """Check connectivity, server versions, schema, extensions, pool settings and Redis."""
    with exit_on_errors():
        findings = asyncio.run(examine(build_settings(database_url, redis_url, {})))
    table = Table(title="tux-db doctor", title_justify="left")
    for column in ("check", "status", "detail"):
        table.add_column(column)
    colors = {Status.OK: "green", Status.WARN: "yellow", Status.FAIL: "red"}
    for finding in findings:
        table.add_row(finding.check, f"[{colors[finding.status]}]{finding.status}[/]", finding.detail)
    console.print(table)
    if json_path is not None:
        json_path.write_text(json.dumps([dataclasses.asdict(finding) for finding in findings], indent=2))
    raise typer.Exit(int(exit_code(findings)))


@app.command()
def bench(  # noqa: PLR0917 - Typer maps each parameter to an option
    database_url: Annotated[
        str | None,
        typer.Option(help="PostgreSQL for the asyncpg rows; default from settings (SQLite rows only)."),
    ] = None,
    redis_url: Annotated[
        str | None, typer.Option(help="Redis for the Redis row; default from settings.")
    ] = None,
    rounds: Annotated[
        int, typer.Option(min=3, help="Alternating rounds per group; figures are medians.")
    ] = 30,
    batch: Annotated[int, typer.Option(min=1, help="Calls per contender per round.")] = 50,
    json_path: Annotated[Path | None, typer.Option("--json", help="Also write the rows here.")] = None,
    bulk_rows: Annotated[int, typer.Option(min=0, help="Rows per bulk insert (0: no bulk rows).")] = 10_000,
    loop_rows: Annotated[int, typer.Option(min=1, help="Rows the per-row loop inserts.")] = 200,
    bulk_rounds: Annotated[int, typer.Option(min=1, help="Rounds of the bulk inserts.")] = 5,
) -> None:
    """Time the layer's reads and bulk inserts against the raw drivers in one run; print the ratios."""
    settings = build_settings(database_url, redis_url, {})
    url = settings.database_url_value() if settings.database_url is not None else None
    bulk = BulkSizes(bulk_rows, loop_rows, bulk_rounds)
    with exit_on_errors():
        rows = asyncio.run(run_bench(url, settings.redis_url_value(), rounds=rounds, batch=batch, bulk=bulk))
    table = Table(title=f"tux-db bench ({rounds} rounds x {batch} calls, medians)", title_justify="left")
    for column in ("group", "what", "median us", "p95 us", "vs raw", "goal"):
        table.add_column(column, justify="left" if column in {"group", "what"} else "right")
    for row in rows:
        ratio = _ratio(row.ratio)
        verdict = "" if row.met is None else (" met" if row.met else " NOT met")
        goal = "" if row.goal is None else f"{row.goal}{verdict}"
        table.add_row(row.group, row.label, f"{row.median_us:.1f}", f"{row.p95_us:.1f}", ratio, goal)
    console.print(table)
    where = machine()
    console.print(f"machine: {where['platform']}, {where['cpus']} CPUs, load average {where['load_average']}")
    if json_path is not None:
        rows_out = [dataclasses.asdict(row) for row in rows]
        json_path.write_text(json.dumps({"machine": where, "rows": rows_out}, indent=2))


def _ratio(ratio: float | None) -> str:
    if ratio is None:
        return ""
    return f"{ratio:.2f}x" if ratio >= 0.1 else f"{ratio:.4f}x ({1 / ratio:.0f}x faster)"


@app.command("load")
def load(
    repository: Annotated[str, typer.Argument(help=f"One of: {', '.join(REPOSITORIES)}.")],
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="JSON Lines, one row a line.")],
    database_url: Annotated[str | None, typer.Option(help="Database URL; default from settings.")] = None,
    upsert: Annotated[bool, typer.Option(help="Update rows that exist (INSERT ... ON CONFLICT).")] = False,
    accumulate: Annotated[
        list[str] | None, typer.Option(help="With --upsert: fields added to the stored value.")
    ] = None,
) -> None:
    """Write many rows at once through db.batch (all or nothing), showing progress."""
    if repository not in REPOSITORIES:
        raise typer.BadParameter(f"unknown repository {repository!r}", param_hint="REPOSITORY")
    work = load_rows(
        database_url, repository, path, upsert=upsert, accumulate=accumulate or (), console=console
    )
    with exit_on_errors():
        written = asyncio.run(work)
    console.print(f"loaded {written} row(s) into {repository}")


@app.command()
def health(
    database_url: Annotated[str | None, typer.Option(help="Database URL; default from settings.")] = None,
) -> None:
    """Exit 0 when the database answers, 1 otherwise."""

    async def check() -> bool:
        db = Database(database_url)
        try:
            return await db.client.health_check()
        finally:
            await db.close()

    with exit_on_errors():
        healthy = asyncio.run(check())
    console.print("healthy" if healthy else "[red]unreachable[/]")
    raise typer.Exit(0 if healthy else 1)
