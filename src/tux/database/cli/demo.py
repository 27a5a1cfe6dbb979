"""The demo workload ``tux-db demo`` runs: a small, real session of bot traffic on a fresh database."""

from __future__ import annotations

import asyncio
import random
import time

from rich.console import Console
from rich.table import Table

from tux.database.facade import Database

GUILD_BASE_ID = 100_000_000_000_000_000
MODERATOR_ID = 200_000_000_000_000_001
ROLE_ID = 400_000_000_000_000_001
ACTIONS = ("warn", "kick", "ban", "jail")


async def _moderate(db: Database, guild_id: int, user_id: int, action: str) -> None:
    reason = f"demo {action}"
    match action:
        case "warn":
            await db.moderation.warn_user(guild_id, user_id, reason, MODERATOR_ID)
        case "kick":
            await db.moderation.kick_user(guild_id, user_id, reason, MODERATOR_ID)
        case "ban":
            await db.moderation.ban_user(guild_id, user_id, reason, MODERATOR_ID)
        case _:
            await db.moderation.jail_user(guild_id, user_id, reason, MODERATOR_ID, role_ids=[ROLE_ID])


async def run_demo(url: str, *, guilds: int, cases_per_guild: int, console: Console) -> None:
    """Run the demo against ``url`` and print what it did."""
    rng = random.Random(7)
    async with Database(url) as db:
        started = time.perf_counter()
        await db.migrate()
        console.print(f"migrated in {time.perf_counter() - started:.2f}s")
        guild_ids = [GUILD_BASE_ID + index for index in range(guilds)]
        await asyncio.gather(*(db.guild_setup.onboard(guild_id) for guild_id in guild_ids))
        started = time.perf_counter()
        await asyncio.gather(
            *(
                _moderate(db, guild_id, 300_000_000_000_000_000 + rng.randrange(50), rng.choice(ACTIONS))
                for guild_id in guild_ids
                for _ in range(cases_per_guild)
            )
        )
        elapsed = time.perf_counter() - started
        console.print(
            f"{guilds * cases_per_guild} moderation actions (case + member status + audit log, each atomic) "
            f"in {elapsed:.2f}s, run concurrently"
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
