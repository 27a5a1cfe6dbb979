"""``tux-db import``: copy an existing Tux database (Prisma-era or SQLModel-era schema) into ours.

The copy streams each source table in primary-key order and writes it in batches of multi-row
``INSERT ... ON CONFLICT DO NOTHING`` (one transaction per batch), so running it again adds only what
is missing and never overwrites a row the bot changed since. Rows our schema cannot hold are left out
and reported with the reason. Afterwards it sets each guild's case counter past its highest case
number, rebuilds the members' status from their cases, moves PostgreSQL sequences past the copied ids
and verifies that every accepted row is present. Run it with the bots stopped: it writes underneath the
cache.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import typer
from rich.progress import Progress
from rich.table import Table as RichTable
from sqlalchemy import Table, func, inspect, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from tux.database.cli.console import console
from tux.database.cli.errors import ExitCode, exit_on_errors
from tux.database.cli.import_mapping import SCHEMAS, Row, SkipRow, SourceSchema, TableCopy, map_row
from tux.database.cli.import_status import rebuild_member_status
from tux.database.core.engine import create_engine, normalize_url
from tux.database.exceptions import ConfigurationError, ValidationError
from tux.database.facade import Database
from tux.database.models import Case, Guild, Snippet
from tux.database.repositories.validation import validate_payload
from tux.database.settings import DatabaseSettings

UNIQUE_KEYS: dict[type[Any], Callable[[Row], Hashable]] = {
    Case: lambda row: (row["guild_id"], row["case_number"]),
    Snippet: lambda row: (row["guild_id"], str(row["snippet_name"]).lower()),
}
"""Our unique keys beyond the primary key: a later source row with the same key is left out."""


@dataclass
class TableReport:
    """What happened to one source table."""

    source: str
    target: str
    read: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    accepted: set[tuple[Any, ...]] = field(default_factory=set)
    present: int = 0

    @property
    def verified(self) -> bool:
        """Whether every accepted row is in the target."""
        return self.present == len(self.accepted)


@dataclass
class ImportReport:
    """The outcome of one import."""

    schema: str
    tables: list[TableReport]
    members_rebuilt: int = 0
    not_copied: dict[str, int] = field(default_factory=dict)

    @property
    def verified(self) -> bool:
        """Whether every table verified."""
        return all(table.verified for table in self.tables)


async def run_import(
    source_url: str, target: AsyncEngine, *, batch_size: int = 1000, progress: Progress | None = None
) -> ImportReport:
    """Copy the Tux database at ``source_url`` into the (migrated) database behind ``target``."""
    if batch_size < 1:
        raise ValidationError("batch_size: expected a positive integer")
    source = create_engine(normalize_url(source_url), DatabaseSettings(database_url=source_url))
    try:
        async with source.connect() as connection:
            schema = await detect_schema(connection)
            totals = {copy.source: await _count(connection, copy.source) for copy in schema.copies}
            left = {name: await _count(connection, name) for name in schema.not_copied}
        report = ImportReport(schema.name, [], not_copied=left)
        for copy in schema.copies:
            task = None if progress is None else progress.add_task(copy.source, total=totals[copy.source])
            report.tables.append(
                await _copy_table(source, target, copy, batch_size=batch_size, progress=progress, task=task)
            )
    finally:
        await source.dispose()
    async with target.begin() as connection:
        await _raise_case_counters(connection)
        report.members_rebuilt = await rebuild_member_status(connection)
        await _move_sequences(connection, [copy.model for copy in schema.copies])
    async with target.connect() as connection:
        for copy, table in zip(schema.copies, report.tables, strict=True):
            table.present = len(table.accepted & await _keys(connection, copy.model))
    return report


async def detect_schema(connection: AsyncConnection) -> SourceSchema:
    """Return the schema the source database was written in, by its tables."""
    names = set(await connection.run_sync(lambda sync: inspect(sync).get_table_names()))
    for schema in SCHEMAS:
        if schema.marker in names:
            return schema
    raise ConfigurationError("the source has neither Tux's Prisma-era nor its SQLModel-era tables")


async def _copy_table(
    source: AsyncEngine,
    target: AsyncEngine,
    copy: TableCopy,
    *,
    batch_size: int,
    progress: Progress | None,
    task: Any,
) -> TableReport:
    table: Table = copy.model.__table__
    report = TableReport(copy.source, table.name)
    keys = _primary_key(copy.model)
    unique = UNIQUE_KEYS.get(copy.model)
    seen: set[Hashable] = set()
    order = ", ".join(_quoted(source, copy.columns[name]) for name in keys)
    statement = text(f"SELECT * FROM {_quoted(source, copy.source)} ORDER BY {order}")
    async with source.connect() as connection:
        result = await connection.stream(statement)
        async for batch in result.mappings().partitions(batch_size):
            rows: list[Row] = []
            for source_row in batch:
                report.read += 1
                try:
                    row = _complete(copy.model, map_row(copy, dict(source_row)))
                except (SkipRow, ValidationError) as reason:
                    report.skipped[str(reason)] += 1
                    continue
                marker = None if unique is None else unique(row)
                if marker is not None and marker in seen:
                    report.skipped["duplicate of an earlier row's unique key"] += 1
                    continue
                seen.add(marker)
                rows.append(row)
            await _write(target, table, rows, report, keys)
            if progress is not None:
                progress.advance(task, len(batch))
    return report


def _complete(model: type[Any], row: Row) -> Row:
    """Give every column a value (defaults for the missing ones), then validate like a repository does."""
    full: Row = {}
    for column in model.__table__.columns:
        value = row.get(column.name)
        if value is None and column.default is not None and not column.nullable:
            default = column.default
            value = default.arg(None) if default.is_callable else default.arg
        full[column.name] = value
    return validate_payload(model, full, partial=False)


async def _write(
    target: AsyncEngine, table: Table, rows: list[Row], report: TableReport, keys: Sequence[str]
) -> None:
    """Insert ``rows`` in one statement; when the batch is refused, row by row to find the culprits."""
    if not rows:
        return
    statement = _insert(target, table)
    try:
        async with target.begin() as connection:
            await connection.execute(statement, rows)
    except DBAPIError:
        for row in rows:
            try:
                async with target.begin() as connection:
                    await connection.execute(statement, [row])
            except DBAPIError as error:
                report.skipped[f"refused by the database ({type(error.orig).__name__})"] += 1
                continue
            report.accepted.add(tuple(row[name] for name in keys))
        return
    report.accepted.update(tuple(row[name] for name in keys) for row in rows)


def _insert(engine: AsyncEngine, table: Table) -> Any:
    dialect = postgresql if engine.dialect.name == "postgresql" else sqlite
    return dialect.insert(table).on_conflict_do_nothing()


def _primary_key(model: type[Any]) -> list[str]:
    return [column.name for column in model.__table__.primary_key.columns]


def _quoted(engine: AsyncEngine, name: str) -> str:
    return str(engine.dialect.identifier_preparer.quote(name))


async def _count(connection: AsyncConnection, name: str) -> int:
    quoted = connection.dialect.identifier_preparer.quote(name)
    return int((await connection.execute(text(f"SELECT count(*) FROM {quoted}"))).scalar_one())


async def _keys(connection: AsyncConnection, model: type[Any]) -> set[tuple[Any, ...]]:
    columns = [model.__table__.c[name] for name in _primary_key(model)]
    return {tuple(row) for row in (await connection.execute(select(*columns))).all()}


async def _raise_case_counters(connection: AsyncConnection) -> None:
    """Set each guild's ``case_count`` to at least its highest case number, so numbering continues."""
    highest = select(func.max(Case.case_number)).where(Case.guild_id == Guild.id).scalar_subquery()
    await connection.execute(update(Guild).where(Guild.case_count < highest).values(case_count=highest))


async def _move_sequences(connection: AsyncConnection, models: Sequence[type[Any]]) -> None:
    """On PostgreSQL, restart each copied table's id sequence after the highest id (SQLite needs none)."""
    if connection.dialect.name != "postgresql":
        return
    for model in models:
        keys = list(model.__table__.primary_key.columns)
        if len(keys) != 1 or keys[0].autoincrement is not True:
            continue
        table, column = model.__table__.name, keys[0].name
        await connection.execute(
            text(
                "SELECT setval(pg_get_serial_sequence(:table, :column), "
                f"COALESCE((SELECT max({column}) FROM {table}), 0) + 1, false)"
            ),
            {"table": table, "column": column},
        )


def summary_rows(report: ImportReport) -> list[tuple[str, str, str, str, str]]:
    """Return one ``(source, target, read, skipped, verified)`` line per table, for the CLI's table."""
    return [
        (
            table.source,
            table.target,
            str(table.read),
            ", ".join(f"{count} {reason}" for reason, count in table.skipped.items()) or "0",
            f"{table.present}/{len(table.accepted)}" + ("" if table.verified else " MISSING"),
        )
        for table in report.tables
    ]


def describe_not_copied(not_copied: Mapping[str, int]) -> str:
    """Say which source tables have no counterpart here and how many rows they held."""
    return ", ".join(f"{name} ({rows} rows)" for name, rows in not_copied.items())


def import_command(
    source_url: str = typer.Argument(..., help="URL of the existing Tux database (Prisma or SQLModel era)."),
    database_url: str | None = typer.Option(None, help="Target database URL; default from settings."),
    batch_size: int = typer.Option(1000, min=1, max=50_000, help="Rows per INSERT."),
) -> None:
    """Copy an existing Tux database into this schema (idempotent; exit 1 when a row is missing)."""

    async def copy() -> ImportReport:
        async with Database(database_url, cache_enabled=False) as db:
            await db.migrate()
            with Progress(console=console, transient=True) as progress:
                return await run_import(
                    source_url, db.client.engine, batch_size=batch_size, progress=progress
                )

    with exit_on_errors():
        report = asyncio.run(copy())
    summary = RichTable(title=f"tux-db import ({report.schema}-era schema)")
    for heading in ("source", "table", "read", "skipped", "verified"):
        summary.add_column(heading)
    for line in summary_rows(report):
        summary.add_row(*line)
    console.print(summary)
    console.print(f"member status rebuilt for {report.members_rebuilt} member(s)")
    if report.not_copied:
        console.print(f"not copied (no such table here): {describe_not_copied(report.not_copied)}")
    if not report.verified:
        console.print("[red]some accepted rows are missing from the target[/]")
        raise typer.Exit(int(ExitCode.CHECK_FAILED))
