"""``tux-db simulate``: replay bot traffic through the services and report against the plan's targets."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import uuid
from collections import Counter
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from tux.database.cli.console import console
from tux.database.cli.errors import ExitCode, exit_on_errors, require_head
from tux.database.cli.reach import redis_version
from tux.database.cli.simulate.bot import Ledger
from tux.database.cli.simulate.config import SimulationConfig
from tux.database.cli.simulate.invariants import InvariantResult, check_invariants
from tux.database.cli.simulate.report import build_report, render_report
from tux.database.cli.simulate.runner import SimulationResult, simulate
from tux.database.cli.simulate.sections import InvariantsSection
from tux.database.exceptions import ConfigurationError
from tux.database.facade import Database
from tux.database.settings import redact_url

DEFAULT_DATA_DIR = Path("data")
DEFAULT_FILE = "simulate.sqlite3"


def fresh_sqlite_url(data_dir: Path, name: str = DEFAULT_FILE) -> str:
    """Return the URL of a new, empty SQLite file in ``data_dir`` (a previous run's file is removed)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    for stale in data_dir.glob(f"{name}*"):
        stale.unlink()
    return f"sqlite+aiosqlite:///{(data_dir / name).as_posix()}"


def simulate_command(  # noqa: PLR0917 - Typer maps each parameter to an option
    database_url: Annotated[
        str | None,
        typer.Option(
            help="Database to run on (fresh or without simulated guilds); default: a new SQLite file."
        ),
    ] = None,
    redis_url: Annotated[
        str | None, typer.Option(help="Redis shared by the processes; default: none.")
    ] = None,
    data_dir: Annotated[Path, typer.Option(help="Where the default SQLite file goes.")] = DEFAULT_DATA_DIR,
    seed: Annotated[int, typer.Option(help="Seed of the workload: same seed, same events.")] = 42,
    guilds: Annotated[int, typer.Option(min=1, max=100_000, help="Guilds (Zipf-skewed activity).")] = 20,
    members: Annotated[
        int, typer.Option(min=1, max=1_000_000, help="Members per guild (Zipf-skewed).")
    ] = 200,
    messages: Annotated[
        int, typer.Option(min=1, help="Chat messages to replay (with their commands).")
    ] = 3000,
    duration: Annotated[
        float | None, typer.Option(min=0.1, help="Run this many seconds instead of --messages.")
    ] = None,
    workers: Annotated[int, typer.Option(min=1, max=1000, help="Concurrent event handlers per process.")] = 8,
    processes: Annotated[
        int, typer.Option(min=1, max=64, help="Bot processes (shards); above 1 needs Redis.")
    ] = 1,
    json_path: Annotated[
        Path | None, typer.Option("--json", help="Write every figure to this JSON file.")
    ] = None,
    html_path: Annotated[
        Path | None, typer.Option("--html", help="Write a page with charts to this file.")
    ] = None,
) -> None:
    """Replay a deterministic bot workload and report latency, cache, transactions, memory and invariants."""
    config = SimulationConfig(
        database_url=database_url or fresh_sqlite_url(data_dir),
        redis_url=redis_url,
        seed=seed,
        guilds=guilds,
        members=members,
        messages=messages,
        duration=duration,
        workers=workers,
        processes=processes,
        redis_namespace=f"tuxsim-{uuid.uuid4().hex[:12]}",
    )
    with exit_on_errors():
        result = asyncio.run(_run(config))
    report = build_report(result)
    for table in render_report(report):
        console.print(table)
    if json_path is not None:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(report, indent=2))
        console.print(f"figures written to {json_path}")
    if html_path is not None:
        from tux.database.cli.simulate.html import write_page  # noqa: PLC0415 - matplotlib only when asked

        write_page(html_path, report, result)
        console.print(f"page written to {html_path}")
    verdict = "[green]all invariants hold[/]" if result.ok else "[red]invariants FAILED[/]"
    console.print(verdict)
    raise typer.Exit(int(ExitCode.OK if result.ok else ExitCode.CHECK_FAILED))


async def _run(config: SimulationConfig) -> SimulationResult:
    target = redact_url(config.database_url)
    if config.redis_url is not None:
        version = await redis_version(config.redis_url)
        target += f" + Redis {version} at {redact_url(config.redis_url)}"
    console.print(f"[bold]tux-db simulate[/] on {target}")
    columns: list[Any] = [
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    ]
    with Progress(*columns, console=console, transient=False) as progress:
        if config.duration is None:
            task = progress.add_task("chat messages", total=config.messages)

            def show(done: int) -> None:
                progress.update(task, completed=done)

        else:
            task = progress.add_task("chat messages (timed run)", total=None)

            def show(done: int) -> None:
                progress.update(task, completed=done)

        return await simulate(config, show)


def verify_command(
    report_path: Annotated[Path, typer.Argument(help="A report written by `tux-db simulate --json`.")],
    database_url: Annotated[str, typer.Option(help="The database that simulation ran on.")],
) -> None:
    """Check a simulated database's invariants again, against the ledger in a ``--json`` report."""
    with exit_on_errors():
        ledger, guild_ids = _ledger_of(report_path)
        results = asyncio.run(_verify(database_url, ledger, guild_ids))
    figures = [dataclasses.asdict(result) for result in results]
    console.print(InvariantsSection().render(figures))
    ok = all(result.ok for result in results)
    console.print("[green]all invariants hold[/]" if ok else "[red]invariants FAILED[/]")
    raise typer.Exit(int(ExitCode.OK if ok else ExitCode.CHECK_FAILED))


def _ledger_of(report_path: Path) -> tuple[Ledger, list[int]]:
    try:
        recorded = json.loads(report_path.read_text())["ledger"]
        ledger = Ledger(
            xp_awarded={int(guild): float(xp) for guild, xp in recorded["xp_awarded"].items()},
            snippet_gets=Counter({int(guild): int(gets) for guild, gets in recorded["snippet_gets"].items()}),
            lifted_tempbans=[int(case) for case in recorded["lifted_tempbans"]],
            claimed_reminders=[int(reminder) for reminder in recorded["claimed_reminders"]],
        )
        return ledger, [int(guild) for guild in recorded["guild_ids"]]
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
        raise ConfigurationError(
            f"{report_path} is not a simulate report: {type(error).__name__}: {error}"
        ) from None


async def _verify(database_url: str, ledger: Ledger, guild_ids: list[int]) -> list[InvariantResult]:
    async with Database(database_url, cache_enabled=False) as db:
        await require_head(db.client.engine)
        return await check_invariants(db, guild_ids, ledger)
