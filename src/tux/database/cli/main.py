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
from tux.database.cli.console import console, route_logs
from tux.database.cli.demo import run_demo
from tux.database.cli.doctor import Status, examine, exit_code
from tux.database.cli.errors import exit_on_errors
from tux.database.cli.simulate.command import fresh_sqlite_url, simulate_command, verify_command
from tux.database.facade import Database, build_settings
from tux.database.settings import redact_url

app = typer.Typer(help="Tux database tools.", no_args_is_help=True, add_completion=False)
app.command("simulate")(simulate_command)
app.command("verify")(verify_command)
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
