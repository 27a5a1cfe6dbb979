"""Uncached statements against the raw driver running the same SQL, ratios in one run.

Run ``python -m benchmarks.bench_statements``. It needs PostgreSQL (``TUX_BENCH_PG_ADMIN_DSN``; a
temporary database is created and dropped) and writes a SQLite file in a temporary folder. Every
contender of a table takes turns with the raw driver call (so drift in the machine's load weighs on
both alike); a table is measured in several rounds and each ratio printed is the median of the rounds'
ratios of medians, with the rounds' range beside it.

1. Primary-key read of ``guild_config``, cache off: ``db.guild_configs.find_by_id`` vs asyncpg's
   prepared ``fetchrow`` (goal <= 2.0x) and vs aiosqlite on SQLite (goal <= 2.0x); plain SQLAlchemy ORM
   ``session.get`` with a session per call is the "what Tux ran before" reference.
2. Writes vs raw asyncpg running the same SQL: the gated XP upsert and a snippet-use counter (goal
   <= 2.5x); a three-statement ``db.transaction()`` vs the same statements in a raw asyncpg transaction
   (goal <= 1.5x).
3. Statements per chat message (cache on): inside the XP cooldown (goal 0) and per award (goal 1), and
   the per-message path (prefix, AFK of mentions, XP decision) inside the cooldown with a warm cache
   (goal <= 50 us).
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import aiosqlite
import asyncpg
from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from benchmarks._pg import temporary_database
from benchmarks._timing import Call, taking_turns
from tux.database import Database
from tux.database.models import GuildConfig

GUILD = 123_456_789_012_345_678
MEMBER = 200_000_000_000_000_001
CHANNEL = 300_000_000_000_000_000
ROUNDS = 5
SAMPLES = 400
PK_SQL_PG = "SELECT * FROM guild_config WHERE id = $1"
PK_SQL_SQLITE = "SELECT * FROM guild_config WHERE id = ?"


async def compare(
    title: str, calls: Mapping[str, Call], goals: Mapping[str, float] | None = None, *, rounds: int = ROUNDS
) -> dict[str, float]:
    """Print a table of ``calls`` against the first one (the raw driver); return the median ratios."""
    names = list(calls)
    reference = names[0]
    await taking_turns(calls, 50)
    medians: dict[str, list[float]] = {name: [] for name in names}
    ratios: dict[str, list[float]] = {name: [] for name in names}
    for _ in range(rounds):
        timings = await taking_turns(calls, SAMPLES)
        floor = statistics.median(timings[reference])
        for name in names:
            median = statistics.median(timings[name])
            medians[name].append(median)
            ratios[name].append(median / floor)
    print(f"\n{title}")
    print(f"  {'path':<62} {'median us':>10} {'ratio':>8} {'rounds':>13}  goal")
    result = {}
    for name in names:
        ratio = statistics.median(ratios[name])
        result[name] = ratio
        spread = f"{min(ratios[name]):.2f}-{max(ratios[name]):.2f}"
        goal = (goals or {}).get(name)
        verdict = "" if goal is None else f"<= {goal:.1f}x: {'met' if ratio <= goal else 'NOT met'}"
        print(f"  {name:<62} {statistics.median(medians[name]):10.1f} {ratio:7.2f}x {spread:>13}  {verdict}")
    return result


async def pk_reads_postgres(url: str, dsn: str) -> None:
    """Table 1 on PostgreSQL."""
    raw = await asyncpg.connect(dsn)
    orm_engine = create_async_engine(url, pool_pre_ping=True)
    orm_sessions = async_sessionmaker(orm_engine, expire_on_commit=False)
    async with Database(url, cache_enabled=False) as db:
        await db.migrate()
        await db.guild_configs.upsert_config(GUILD, {"prefix": "!", "mod_log_id": 1})
        prepared = await raw.prepare(PK_SQL_PG)

        async def orm_get() -> Any:
            async with orm_sessions() as session:
                return await session.get(GuildConfig, GUILD)

        async def core_held() -> Any:
            return (await held.execute(core)).first()

        core = select(GuildConfig.__table__).where(GuildConfig.id == GUILD)
        async with orm_engine.connect() as held:
            await compare(
                "1. primary-key read of guild_config, cache off, PostgreSQL",
                {
                    "raw asyncpg prepared fetchrow (the floor)": lambda: prepared.fetchrow(GUILD),
                    "db.guild_configs.find_by_id, cache off": lambda: db.guild_configs.find_by_id(GUILD),
                    "SQLAlchemy Core, prebuilt statement, held connection": core_held,
                    "SQLAlchemy ORM session.get, session per call (before)": orm_get,
                },
                {"db.guild_configs.find_by_id, cache off": 2.0},
            )
    await orm_engine.dispose()
    await raw.close()


async def pk_reads_sqlite(path: Path) -> None:
    """Table 1 on SQLite."""
    url = f"sqlite+aiosqlite:///{path}"
    async with Database(url, cache_enabled=False) as db:
        await db.migrate()
        await db.guild_configs.upsert_config(GUILD, {"prefix": "!", "mod_log_id": 1})
        async with aiosqlite.connect(path) as raw:
            await compare(
                "1. primary-key read of guild_config, cache off, SQLite",
                {
                    "raw aiosqlite execute_fetchall (the floor)": lambda: raw.execute_fetchall(
                        PK_SQL_SQLITE, (GUILD,)
                    ),
                    "db.guild_configs.find_by_id, cache off": lambda: db.guild_configs.find_by_id(GUILD),
                },
                {"db.guild_configs.find_by_id, cache off": 2.0},
            )


async def main() -> None:
    print("Uncached statements vs the raw driver; ratios are medians over rounds, same run.")
    async with temporary_database() as (url, dsn):
        await pk_reads_postgres(url, dsn)
    with tempfile.TemporaryDirectory() as folder:
        await pk_reads_sqlite(Path(folder) / "bench.sqlite3")


if __name__ == "__main__":
    asyncio.run(main())
