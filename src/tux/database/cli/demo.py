"""The demo workload ``tux-db demo`` runs: a small, real session of bot traffic on a fresh database."""

from __future__ import annotations

import asyncio
import random
import time

from rich.console import Console
from rich.table import Table

from tux.database.facade import Database
from tux.database.models import CaseType

GUILD_BASE_ID = 100_000_000_000_000_000
MODERATOR_ID = 200_000_000_000_000_001
ACTIONS = (CaseType.WARN, CaseType.TIMEOUT, CaseType.KICK, CaseType.BAN, CaseType.JAIL)


async def _onboard(db: Database, guild_id: int) -> None:
    async with db.transaction("onboard"):
        await db.guilds.ensure(guild_id)
        await db.guild_configs.upsert_config(guild_id, {"prefix": "$"})


async def _create_case(db: Database, guild_id: int, user_id: int, case_type: CaseType) -> None:
    async with db.transaction("create_case"):
        number = await db.cases.get_next_case_number(guild_id)
        await db.cases.create(
            {
                "guild_id": guild_id,
                "case_number": number,
                "case_type": case_type,
                "case_reason": f"demo {case_type.name.lower()} #{number}",
                "case_moderator_id": MODERATOR_ID,
                "case_user_id": user_id,
            }
        )


async def run_demo(url: str, *, guilds: int, cases_per_guild: int, console: Console) -> None:
    """Run the demo against ``url`` and print what it did."""
    rng = random.Random(7)
    async with Database(url) as db:
        started = time.perf_counter()
        await db.migrate()
        console.print(f"migrated in {time.perf_counter() - started:.2f}s")
        guild_ids = [GUILD_BASE_ID + index for index in range(guilds)]
        await asyncio.gather(*(_onboard(db, guild_id) for guild_id in guild_ids))
        started = time.perf_counter()
        await asyncio.gather(
            *(
                _create_case(db, guild_id, 300_000_000_000_000_000 + rng.randrange(50), rng.choice(ACTIONS))
                for guild_id in guild_ids
                for _ in range(cases_per_guild)
            )
        )
        elapsed = time.perf_counter() - started
        console.print(
            f"created {guilds * cases_per_guild} cases in {elapsed:.2f}s (concurrently, per-guild numbering)"
        )
        table = Table(title="Guilds after the demo")
        for column in ("guild", "prefix", "cases", "case numbers", "latest case"):
            table.add_column(column)
        for guild_id in guild_ids:
            config = await db.guild_configs.find_by_id(guild_id)
            numbers = sorted(case.case_number for case in await db.cases.find_all(guild_id=guild_id))
            latest = await db.cases.find_by_guild_and_number(guild_id, numbers[-1])
            gapless = numbers == list(range(1, len(numbers) + 1))
            table.add_row(
                str(guild_id),
                config.prefix if config else "-",
                str(len(numbers)),
                f"1..{numbers[-1]} {'gapless' if gapless else 'GAPS!'}",
                f"{latest.case_type.name}: {latest.case_reason}" if latest else "-",
            )
        console.print(table)
