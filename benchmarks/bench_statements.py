"""Uncached statements against the raw driver running the same SQL, ratios in one run.

Run ``python -m benchmarks.bench_statements`` (``--table 2`` runs one table; repeat the option for
several). It needs PostgreSQL (``TUX_BENCH_PG_ADMIN_DSN``; a
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

import argparse
import asyncio
import itertools
import os
import re
import statistics
import tempfile
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiosqlite
import asyncpg
import redis.asyncio as aioredis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from benchmarks._pg import temporary_database
from benchmarks._timing import Call, taking_turns
from tux.database import Database
from tux.database.models import GuildConfig
from tux.database.repositories.cases import _NEXT_CASE_NUMBER
from tux.database.repositories.interfaces import ILevelsActivityRepository
from tux.database.repositories.levels_activity import _AWARD, _STORE_LEVEL
from tux.database.repositories.snippets import _USE

GUILD = 123_456_789_012_345_678
MEMBER = 200_000_000_000_000_001
CHANNEL = 300_000_000_000_000_000
MESSAGE_GUILD = GUILD + 1
"""Guild of table 3 (table 2 moved its member's last rewarded message far ahead)."""
MENTIONED = 200_000_000_000_000_999
NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
REDIS_URL = os.environ.get("TUX_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
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


async def writes_postgres(url: str, dsn: str) -> None:
    """Table 2: the XP award, a snippet-use counter and a three-statement transaction."""
    raw = await asyncpg.connect(dsn)
    async with Database(url, cache_enabled=False) as db:
        await db.migrate()  # table 1 may not have run
        await db.guild_setup.onboard(GUILD)
        await db.snippets.create(
            {"guild_id": GUILD, "snippet_name": "tip", "snippet_content": "x", "snippet_user_id": MEMBER}
        )
        await db.levels.add_xp(guild_id=GUILD, member_id=MEMBER, amount=1.0)
        activity = db.registry.get_repository(ILevelsActivityRepository)
        dialect = db.client.engine.dialect
        moments = itertools.count(1)

        def award_values() -> dict[str, Any]:
            moment = NOW + timedelta(seconds=next(moments))
            return {"guild_id": GUILD, "member_id": MEMBER, "amount": 1.0, "now": moment, "cutoff": moment}

        award_sql = _AWARD.compiled(dialect)
        use_sql = _USE.compiled(dialect)
        case_sql = _NEXT_CASE_NUMBER.compiled(dialect)
        level_sql = _STORE_LEVEL.compiled(dialect)
        award = await raw.prepare(award_sql.sql)
        use = await raw.prepare(use_sql.sql)
        next_case = await raw.prepare(case_sql.sql)
        store_level = await raw.prepare(level_sql.sql)

        async def raw_award() -> Any:
            return await award.fetchrow(*award_sql.bind(award_values()))

        async def our_award() -> Any:
            moment = NOW + timedelta(seconds=next(moments))
            return await activity.award_if_cooled_down(
                guild_id=GUILD,
                member_id=MEMBER,
                amount=1.0,
                now=moment,
                cooldown_seconds=0,
                create_guild=False,
            )

        async def raw_use() -> Any:
            return await use.fetchrow(*use_sql.bind({"in_guild": GUILD, "named": "tip"}))

        level_values = {"in_guild": GUILD, "of_member": MEMBER, "new_level": 1}

        async def raw_three() -> Any:
            async with raw.transaction():
                await award.fetchrow(*award_sql.bind(award_values()))
                await next_case.fetchrow(*case_sql.bind({"guild_id": GUILD}))
                await store_level.fetch(*level_sql.bind(level_values))

        async def our_three() -> Any:
            async with db.transaction():
                await our_award()
                await db.cases.get_next_case_number(GUILD)
                await activity.store_level(guild_id=GUILD, member_id=MEMBER, level=1)

        await compare(
            "2. XP award (gated upsert), PostgreSQL, cache off",
            {"raw asyncpg, same SQL, prepared (the floor)": raw_award, "award_if_cooled_down": our_award},
            {"award_if_cooled_down": 2.5},
        )
        await compare(
            "2. snippet use counter (UPDATE ... RETURNING), PostgreSQL, cache off",
            {
                "raw asyncpg, same SQL, prepared (the floor)": raw_use,
                "db.snippets.use": lambda: db.snippets.use(GUILD, "tip"),
            },
            {"db.snippets.use": 2.5},
        )
        await compare(
            "2. three statements in one transaction (award, case number, level), PostgreSQL",
            {"raw asyncpg transaction, same SQL (the floor)": raw_three, "db.transaction()": our_three},
            {"db.transaction()": 1.5},
        )
    await raw.close()


async def on_message(db: Database, member: int, now: datetime) -> None:
    """The per-message path: prefix, AFK of a mention, the XP decision."""
    await db.guild_configs.get_prefix(MESSAGE_GUILD)
    await db.afk_service.get_afk(MESSAGE_GUILD, MENTIONED)
    await db.levels_service.process_message(MESSAGE_GUILD, member, CHANNEL, [], now=now)


async def per_message(url: str, redis_url: str | None, label: str) -> None:
    """Table 3: statements per message inside the cooldown and per award; the path's time, warm cache."""
    namespace = f"tuxbench-{uuid.uuid4().hex[:8]}"
    async with Database(url, redis_url, redis_namespace=namespace) as db:
        await db.migrate()  # table 1 may not have run
        await db.guild_setup.onboard(MESSAGE_GUILD)
        members = [MEMBER + n for n in range(50)]
        for member in members:  # each member's first message awards XP, the second reads its state again
            await on_message(db, member, NOW)
            await on_message(db, member, NOW + timedelta(seconds=1))
        with db.client.statements.recording() as quiet:
            for second in range(2, 22):
                for member in members:
                    await on_message(db, member, NOW + timedelta(seconds=second))
        quiet_messages = 20 * len(members)
        with db.client.statements.recording() as awards:
            for member in members:
                await on_message(db, member, NOW + timedelta(seconds=120))
        calls = {
            "per-message path inside the cooldown, warm cache": lambda: on_message(
                db, MEMBER, NOW + timedelta(seconds=30)
            )
        }
        timings = (await taking_turns(calls, 2000))[next(iter(calls))]
        if redis_url is not None:
            await delete_namespace(redis_url, namespace)
    median = statistics.median(timings)
    print(f"\n3. per chat message, {label}, cache on")
    print(f"  statements per message inside the cooldown: {len(quiet) / quiet_messages:.2f} (goal 0)")
    print(f"  statements per XP award: {len(awards) / len(members):.2f} (goal 1) {_kinds(awards)}")
    verdict = "met" if median <= 50 else "NOT met"
    print(f"  per-message path inside the cooldown: median {median:.1f} us (goal <= 50 us: {verdict})")


def _kinds(records: list[Any]) -> str:
    words = [f"{record.sql.lstrip().split()[0].upper()} {_table(record.sql)}" for record in records]
    return "(" + ", ".join(f"{word} x{words.count(word)}" for word in sorted(set(words))) + ")"


def _table(sql: str) -> str:
    """The table a statement reads or writes first (``INSERT INTO levels ...`` -> ``levels``)."""
    found = re.search(r"\b(?:INTO|FROM|UPDATE)\s+(\w+)", sql, re.IGNORECASE)
    return found.group(1) if found else "?"


async def delete_namespace(redis_url: str, namespace: str) -> None:
    client = aioredis.Redis.from_url(redis_url)
    keys = [key async for key in client.scan_iter(match=f"{namespace}:*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()


async def main(tables: set[int]) -> None:
    print("Uncached statements vs the raw driver; ratios are medians over rounds, same run.")
    print("(the machine is shared: absolute times vary with its load, the ratios much less)")
    async with temporary_database() as (url, dsn):
        if 1 in tables:
            await pk_reads_postgres(url, dsn)
        if 2 in tables:
            await writes_postgres(url, dsn)
        if 3 in tables:
            await per_message(url, REDIS_URL, "PostgreSQL + Redis")
    with tempfile.TemporaryDirectory() as folder:
        if 1 in tables:
            await pk_reads_sqlite(Path(folder) / "bench.sqlite3")
        if 3 in tables:
            await per_message(
                f"sqlite+aiosqlite:///{Path(folder) / 'bench.sqlite3'}", None, "SQLite, in-process cache"
            )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--table", type=int, action="append", choices=(1, 2, 3), help="run only this table (repeatable)"
    )
    asyncio.run(main(set(parser.parse_args().table or (1, 2, 3))))
