"""``tux-db``: the command line of tux-database."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Annotated

import typer
from loguru import logger
from rich.console import Console

from tux.database.cli.bulk_import import REPOSITORIES, import_rows
from tux.database.cli.demo import run_demo
from tux.database.exceptions import DatabaseError
from tux.database.facade import Database
from tux.database.settings import redact_url

app = typer.Typer(help="Tux database tools.", no_args_is_help=True, add_completion=False)
console = Console()


@app.callback()
def configure(
    log_level: str = typer.Option("WARNING", help="Library log level (DEBUG, INFO, WARNING, ...)."),
) -> None:
    """Route the library's loguru records to stderr at ``log_level``."""
    logger.remove()
    logger.add(sys.stderr, level=log_level.upper())


@app.command()
def demo(
    database_url: str | None = typer.Option(
        None, help="Database URL; default: a fresh SQLite file under ./data."
    ),
    guilds: int = typer.Option(5, min=1, max=10_000, help="Guilds to onboard."),
    cases: int = typer.Option(20, min=1, max=100_000, help="Moderation cases to create per guild."),
) -> None:
    """Migrate a fresh database, onboard guilds, create cases and read them back."""
    url = database_url
    if url is None:
        path = Path("data") / "demo.sqlite3"
        path.parent.mkdir(parents=True, exist_ok=True)
        for stale in path.parent.glob(f"{path.name}*"):
            stale.unlink()
        url = f"sqlite+aiosqlite:///{path.as_posix()}"
    console.print(f"[bold]tux-db demo[/] on {redact_url(url)}")
    asyncio.run(run_demo(url, guilds=guilds, cases_per_guild=cases, console=console))


@app.command()
def migrate(
    database_url: str | None = typer.Option(None, help="Database URL; default from settings."),
    revision: str = typer.Option("head", help="Target revision."),
) -> None:
    """Upgrade the schema to ``revision``."""

    async def upgrade() -> None:
        async with Database(database_url) as db:
            await db.migrate(revision)
            console.print(f"migrated {db.client.safe_url} to {revision}")

    asyncio.run(upgrade())


@app.command("import")
def import_(
    repository: Annotated[str, typer.Argument(help=f"One of: {', '.join(REPOSITORIES)}.")],
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="JSON Lines, one row a line.")],
    database_url: str | None = typer.Option(None, help="Database URL; default from settings."),
    upsert: bool = typer.Option(False, help="Update rows that already exist (INSERT ... ON CONFLICT)."),
    accumulate: Annotated[
        list[str] | None, typer.Option(help="With --upsert: fields added to the stored value.")
    ] = None,
) -> None:
    """Write many rows at once through db.batch (all or nothing), showing progress."""
    if repository not in REPOSITORIES:
        raise typer.BadParameter(f"unknown repository {repository!r}", param_hint="REPOSITORY")
    try:
        work = import_rows(
            database_url, repository, path, upsert=upsert, accumulate=accumulate or (), console=console
        )
        written = asyncio.run(work)
    except DatabaseError as error:
        console.print(f"[red]nothing imported[/]: {error}")
        raise typer.Exit(1) from None
    console.print(f"imported {written} row(s) into {repository}")


@app.command()
def health(
    database_url: str | None = typer.Option(None, help="Database URL; default from settings."),
) -> None:
    """Exit 0 when the database answers, 1 otherwise."""

    async def check() -> bool:
        db = Database(database_url)
        try:
            return await db.client.health_check()
        finally:
            await db.close()

    healthy = asyncio.run(check())
    console.print("healthy" if healthy else "[red]unreachable[/]")
    raise typer.Exit(0 if healthy else 1)
