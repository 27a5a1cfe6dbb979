"""``tux-db migrate``: upgrade, downgrade, current and history of the packaged alembic migrations."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

import typer
from alembic.script import ScriptDirectory
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncEngine

from tux.database.cli.console import console
from tux.database.cli.errors import exit_on_errors
from tux.database.core.client import DatabaseClient
from tux.database.facade import build_settings
from tux.database.migrations import runner

T = TypeVar("T")

app = typer.Typer(help="Schema migrations (the packaged alembic scripts).", no_args_is_help=True)

DatabaseUrl = Annotated[
    str | None, typer.Option(help="Database URL; default: TUX_DB_DATABASE_URL or settings.")
]


def _on_database(database_url: str | None, work: Callable[[DatabaseClient], Awaitable[T]]) -> T:
    """Run ``work`` with a connected client, errors turned into messages and exit codes."""

    async def run() -> T:
        client = DatabaseClient(build_settings(database_url, None, {}))
        try:
            await client.connect()
            return await work(client)
        finally:
            await client.close()

    with exit_on_errors():
        return asyncio.run(run())


def _migrate_to(
    database_url: str | None, step: Callable[[AsyncEngine, str], Awaitable[None]], revision: str
) -> str | None:
    """Run ``step`` (upgrade or downgrade) to ``revision``; return the revision the database is at then."""

    async def work(client: DatabaseClient) -> str | None:
        await step(client.engine, revision)
        return await runner.current(client.engine)

    return _on_database(database_url, work)


@app.command()
def upgrade(
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
    database_url: DatabaseUrl = None,
) -> None:
    """Upgrade the schema to REVISION (default: the newest)."""
    console.print(f"upgraded to {_migrate_to(database_url, runner.upgrade, revision)}")


@app.command()
def downgrade(
    revision: Annotated[str, typer.Argument(help="Target revision: an id, -1 for one step, base for none.")],
    database_url: DatabaseUrl = None,
) -> None:
    """Downgrade the schema to REVISION."""
    now = _migrate_to(database_url, runner.downgrade, revision)
    console.print(f"downgraded to {now or 'base (no schema)'}")


@app.command()
def current(database_url: DatabaseUrl = None) -> None:
    """Print the database's revision and whether it is the newest."""

    async def work(client: DatabaseClient) -> str | None:
        return await runner.current(client.engine)

    now, head = _on_database(database_url, work), runner.head()
    state = "up to date" if now == head else f"behind: the package is at {head}"
    console.print(f"{now or 'none (never migrated)'} ({state})")


@app.command()
def history(database_url: DatabaseUrl = None) -> None:
    """List the packaged revisions, newest first, marking the database's current one."""
    now = _on_database(database_url, lambda client: runner.current(client.engine))
    table = Table(title="Migrations", title_justify="left")
    for column in ("revision", "parent", "description", ""):
        table.add_column(column)
    for script in ScriptDirectory.from_config(runner.make_config()).walk_revisions():
        parent = script.down_revision
        marks = [mark for mark, on in (("head", script.is_head), ("current", script.revision == now)) if on]
        table.add_row(
            script.revision,
            parent if isinstance(parent, str) else "-",
            script.doc or "",
            ", ".join(marks),
        )
    console.print(table)
