"""``tux-db advise``: query, pool and index recommendations for a live database, from what it observes.

Two sources of statements, both read-only:

- ``pg_stat_statements`` (PostgreSQL, when the server preloads it and the database has the
  extension): the top statements by total time. The plan's and PgHero's rules are applied to their
  totals, and the columns they filter on are handed to the index advisor
  (``analyze_query_patterns``), which plans each with a real value from the table.
- A short probe workload: the bot's common reads (prefix, moderation settings, case history, snippet
  list, leaderboard and rank, pending reminders, member status, ...) replayed through the
  repositories, cache off, for guilds and members sampled from the database, several at a time.
  ``db.query_optimizer`` and ``db.pool_optimizer`` watch them, and the index advisor plans every shape
  seen with its real parameters.

The pool settings are compared with the server's ``max_connections`` for ``--processes`` bot
processes. Nothing is written and no index is created.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import asdict
from typing import Any

from sqlalchemy import text

from tux.database.cli.errors import require_head
from tux.database.cli.simulate.findings import collect_findings
from tux.database.facade import Database
from tux.database.optimization.predicates import table_uses
from tux.database.optimization.query import PGHERO_AVERAGE_MS, PGHERO_CALLS, PLAN_AVERAGE_MS, unobserved
from tux.database.settings import DatabaseSettings

Read = Callable[[Database, int, int], Awaitable[object]]

READS: dict[str, Read] = {
    "prefix": lambda db, guild, _: db.guild_configs.get_prefix(guild),
    "moderation settings": lambda db, guild, _: db.guild_configs.get_moderation_settings(guild),
    "case history": lambda db, guild, _: db.cases.history(guild),
    "member's cases": lambda db, guild, member: db.cases.history(guild, user_id=member),
    "cases by type": lambda db, guild, _: db.cases.count_by_type(guild),
    "audit log page": lambda db, guild, _: db.audit_log.page(guild),
    "snippet list": lambda db, guild, _: db.snippets.list_by_guild(guild),
    "leaderboard": lambda db, guild, _: db.levels.leaderboard(guild),
    "rank": lambda db, guild, member: db.levels.rank(guild_id=guild, member_id=member),
    "pending reminders": lambda db, guild, _: db.reminders.pending(guild_id=guild),
    "member status": lambda db, guild, member: db.member_status.get_status(guild, member),
    "permission ranks": lambda db, guild, _: db.permissions.ranks_of_guild(guild),
}
"""The probe's reads: what a bot does most, each given a guild id and a member id of that guild."""
DATABASE_STATEMENTS = 50
"""Statements read from ``pg_stat_statements`` (the most total time first)."""
ADVISED_KINDS = frozenset({"SELECT", "WITH", "UPDATE", "DELETE"})
"""Statements whose filters are handed to the index advisor (not ``EXPLAIN``, ``SHOW``, ``INSERT``...)."""
SYSTEM_TABLES = ("pg_", "information_schema")


async def _sample(db: Database, guilds: int) -> list[tuple[int, int]]:
    """``(guild_id, member_id)`` pairs: the first ``guilds`` guilds, each with its top member (or 0)."""
    query = text(
        "SELECT guild.id, (SELECT levels.member_id FROM levels WHERE levels.guild_id = guild.id "
        "ORDER BY levels.xp DESC LIMIT 1) FROM guild ORDER BY guild.id LIMIT :guilds"
    )
    with unobserved():
        async with db.client.engine.connect() as connection:
            rows = (await connection.execute(query, {"guilds": guilds})).all()
    return [(int(guild), int(member or 0)) for guild, member in rows]


async def run_probe(db: Database, *, guilds: int, rounds: int, concurrency: int) -> tuple[int, int]:
    """Replay :data:`READS` ``rounds`` times for each sampled guild, ``concurrency`` at a time.

    Returns the number of reads and of guilds sampled.
    """
    sample = await _sample(db, guilds)
    calls = [
        (read, guild, member) for _ in range(rounds) for guild, member in sample for read in READS.values()
    ]
    turn = asyncio.Semaphore(concurrency)

    async def one(read: Read, guild: int, member: int) -> None:
        async with turn:
            await read(db, guild, member)

    await asyncio.gather(*(one(read, guild, member) for read, guild, member in calls))
    return len(calls), len(sample)


def _issues(row: Mapping[str, Any]) -> list[str]:
    issues: list[str] = []
    mean = float(row["mean_exec_time"])
    if mean > PLAN_AVERAGE_MS:
        issues.append(f"average {mean:.1f} ms > {PLAN_AVERAGE_MS:g} ms (plan)")
    if int(row["calls"]) >= PGHERO_CALLS and mean >= PGHERO_AVERAGE_MS:
        issues.append(f"average >= {PGHERO_AVERAGE_MS:g} ms over >= {PGHERO_CALLS} calls (PgHero)")
    return issues


async def database_statements(db: Database) -> list[dict[str, Any]] | None:
    """The top ``pg_stat_statements`` entries with the rules they break; their filters go to the advisor.

    ``None`` when the database offers no ``pg_stat_statements`` (SQLite, not installed, not preloaded).
    """
    rows = await db.query_optimizer.database_totals(DATABASE_STATEMENTS)
    if rows is None:
        return None
    found = []
    for row in rows:
        query = str(row["query"])
        if query.lstrip().split(" ", 1)[0].upper() in ADVISED_KINDS:
            for use in table_uses(query, "postgresql"):
                if not use.table.startswith(SYSTEM_TABLES):
                    db.index_optimizer.analyze_query_patterns(use.table, [*use.equality, *use.joins])
        found.append(
            {
                "query": query,
                "calls": int(row["calls"]),
                "total_ms": float(row["total_exec_time"]),
                "mean_ms": float(row["mean_exec_time"]),
                "rows": int(row["rows"]),
                "issues": _issues(row),
            }
        )
    return found


async def pool_settings(db: Database, processes: int) -> dict[str, Any]:
    """The configured pool against what the server allows for ``processes`` bot processes."""
    settings: DatabaseSettings = db.settings
    capacity = settings.pool_size + settings.max_overflow
    figures: dict[str, Any] = {
        "pool_size": settings.pool_size,
        "max_overflow": settings.max_overflow,
        "pool_timeout_s": settings.pool_timeout,
        "processes": processes,
        "connections_at_most": capacity * processes,
        "max_connections": None,
        "reserved_connections": None,
    }
    advice: list[str] = []
    if db.client.backend == "postgresql":
        with unobserved():
            async with db.client.engine.connect() as connection:
                most = int(await connection.scalar(text("SHOW max_connections")) or 0)
                reserved = int(await connection.scalar(text("SHOW superuser_reserved_connections")) or 0)
        figures["max_connections"], figures["reserved_connections"] = most, reserved
        usable = most - reserved
        if capacity * processes > usable:
            advice.append(
                f"{processes} process(es) x (pool_size {settings.pool_size} + max_overflow "
                f"{settings.max_overflow}) = {capacity * processes} connections, over the {usable} the "
                "server allows: lower TUX_DB_POOL_SIZE / TUX_DB_MAX_OVERFLOW or put PgBouncer in front"
            )
    figures["advice"] = advice
    return figures


async def advise(
    database_url: str | None, *, processes: int, guilds: int, rounds: int, concurrency: int
) -> dict[str, Any]:
    """Observe the database at ``database_url`` and return every recommendation (see the module)."""
    async with Database(database_url, cache_enabled=False) as db:
        await require_head(db.client.engine)
        statements = await database_statements(db)
        calls, sampled = await run_probe(db, guilds=guilds, rounds=rounds, concurrency=concurrency)
        findings = await collect_findings(db)
        findings["pool"] = [] if findings["pool"] is None else [{"shard": 0, **findings["pool"]}]
        findings["index_recommendations"] = db.index_optimizer.get_index_recommendations()
        unused = await db.index_optimizer.unused_indexes()
        duplicates = await db.index_optimizer.duplicate_indexes()
        return {
            "database_url": db.client.safe_url,
            "backend": db.client.backend,
            "observed": {
                "pg_stat_statements": statements is not None,
                "probe_calls": calls,
                "probe_guilds": sampled,
            },
            "database_statements": statements,
            "findings": findings,
            "pool_settings": await pool_settings(db, processes),
            "unused_indexes": [asdict(index) for index in unused],
            "duplicate_indexes": [
                {"redundant": asdict(redundant), "covered_by": asdict(covering)}
                for redundant, covering in duplicates
            ],
        }
