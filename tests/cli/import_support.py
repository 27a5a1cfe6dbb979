"""Fixture databases in Tux's earlier schemas, and the target after an import."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from rich.console import Console
from rich.progress import Progress

from tests import pg
from tux.database import Database
from tux.database.cli.importer import ImportReport, run_import

G1 = 111_111_111_111_111_111
G2 = 222_222_222_222_222_222
MOD = 900_000_000_000_000_001
U1, U2, U3, U4, U5 = (300_000_000_000_000_000 + n for n in range(1, 6))
LATER = "(now() AT TIME ZONE 'UTC') + interval '1 day'"
EARLIER = "(now() AT TIME ZONE 'UTC') - interval '1 day'"


@asynccontextmanager
async def source_database(ddl: str, data: str) -> AsyncIterator[str]:
    """A PostgreSQL database holding ``ddl`` and ``data``; yields its URL, drops it afterwards."""
    name = pg.database_name("tuxsource")
    await pg.create_database(name)
    try:
        connection = await asyncpg.connect(pg.async_url(name).replace("+asyncpg", ""))
        try:
            await connection.execute(ddl)
            await connection.execute(data)
        finally:
            await connection.close()
        yield pg.async_url(name)
    finally:
        await pg.drop_database(name)


async def import_into(db: Database, source_url: str, *, batch_size: int = 3) -> tuple[ImportReport, Progress]:
    """Run the import into ``db`` with a progress bar that is kept for inspection."""
    progress = Progress(console=Console(quiet=True))
    report = await run_import(source_url, db.client.engine, batch_size=batch_size, progress=progress)
    return report, progress


def by_table(report: ImportReport) -> dict[str, tuple[int, int, int]]:
    """``target table -> (read, skipped, present)``."""
    return {table.target: (table.read, sum(table.skipped.values()), table.present) for table in report.tables}
