"""``tux-db bench``: the layer's reads side by side with the raw drivers, in one run, as ratios.

Every group times its contenders in alternating rounds (:mod:`tux.database.cli.timing`) and prints
each one's median and its ratio to the raw driver. Rows:

- PostgreSQL: a repository primary-key read (cache off) and "what Tux runs today" (a plain
  SQLAlchemy ORM session per call) against a prepared asyncpg ``fetchrow``; a memory-cache hit
  against the same raw read; with Redis, a Redis-level hit against a raw redis-py ``GET`` of the
  same entry bytes.
- SQLite: the same reads against the stdlib ``sqlite3`` module on the same file.
- Bulk insert, on both (:mod:`tux.database.cli.bench_bulk`): ``db.batch`` against asyncpg's COPY or
  ``sqlite3``'s ``executemany``, and two per-row loops (the plan's ORM one, ``db.levels.create``);
  microseconds per row.

The bench writes one guild (:data:`BENCH_GUILD`) and deletes it again; Redis keys live in a fresh
namespace that is deleted afterwards.
"""

from __future__ import annotations

import os
import platform
import sqlite3
import tempfile
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import asyncpg
import redis.asyncio as aioredis

from tux.database.cli.bench_bulk import (
    BATCH,
    CREATE_LOOP,
    LOOP,
    LOOP_GOAL,
    BulkSizes,
    postgresql_writes,
    sqlite_writes,
)
from tux.database.cli.reach import delete_namespace
from tux.database.cli.timing import Call, Timing, contest
from tux.database.core.engine import normalize_url
from tux.database.facade import Database
from tux.database.models import GuildConfig

BENCH_GUILD = 987_654_321_012_345_678
PK_READ = "SELECT * FROM guild_config WHERE id = $1"


@dataclass(frozen=True, slots=True)
class BenchRow:
    """One measured contender and how it compares with its group's raw driver."""

    group: str
    label: str
    median_us: float
    p95_us: float
    rounds: int
    ratio: float | None = None
    """Median over the raw driver's median; ``None`` for the raw driver itself."""
    goal: str | None = None
    met: bool | None = None


@dataclass(frozen=True, slots=True)
class Contender:
    """A call to time, and the goal its ratio to the raw driver has (if any)."""

    label: str
    call: Call
    goal: str | None = None
    meets: Callable[[float], bool] | None = None


def machine() -> dict[str, Any]:
    """Describe where the figures come from (they only compare within one run)."""
    return {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "load_average": list(os.getloadavg()),
    }


def _rows(group: str, raw: Contender, others: list[Contender], timings: dict[str, Timing]) -> list[BenchRow]:
    reference = timings[raw.label].median_us
    rows = [BenchRow(group, raw.label, reference, timings[raw.label].p95_us, timings[raw.label].rounds)]
    for contender in others:
        timing = timings[contender.label]
        ratio = timing.median_us / reference
        rows.append(
            BenchRow(
                group,
                contender.label,
                timing.median_us,
                timing.p95_us,
                timing.rounds,
                ratio,
                contender.goal,
                None if contender.meets is None else contender.meets(ratio),
            )
        )
    return rows


def _bulk_rows(group: str, raw: str, timings: dict[str, Timing]) -> list[BenchRow]:
    """Rows of a bulk insert group: ``db.batch`` within 2.0x of the raw driver, 100x the plan's loop."""
    reference, batch, loop, creates = timings[raw], timings[BATCH], timings[LOOP], timings[CREATE_LOOP]
    speedup = loop.median_us / batch.median_us
    return [
        BenchRow(group, raw, reference.median_us, reference.p95_us, reference.rounds),
        BenchRow(
            group,
            BATCH,
            batch.median_us,
            batch.p95_us,
            batch.rounds,
            batch.median_us / reference.median_us,
            "<= 2.0x",
            batch.median_us / reference.median_us <= 2.0,
        ),
        BenchRow(
            group,
            LOOP,
            loop.median_us,
            loop.p95_us,
            loop.rounds,
            loop.median_us / reference.median_us,
            f"db.batch {speedup:.0f}x faster, goal >= {LOOP_GOAL:.0f}x",
            speedup >= LOOP_GOAL,
        ),
        BenchRow(
            group,
            CREATE_LOOP,
            creates.median_us,
            creates.p95_us,
            creates.rounds,
            creates.median_us / reference.median_us,
            f"db.batch {creates.median_us / batch.median_us:.0f}x faster",
        ),
    ]


async def _group(
    group: str, raw: Contender, others: list[Contender], rounds: int, batch: int
) -> list[BenchRow]:
    timings = await contest({c.label: c.call for c in (raw, *others)}, rounds=rounds, batch=batch)
    return _rows(group, raw, others, timings)


def _orm_read(db: Database) -> Call:
    """What Tux runs today: a new ORM session per read, ``session.get`` by primary key."""
    sessions = db.client.session_factory

    async def read() -> GuildConfig | None:
        async with sessions() as session:
            return await session.get(GuildConfig, BENCH_GUILD)

    return read


def _reads(
    plain: Database, cached: Database, raw: Call, driver: str, *, with_goal: bool
) -> tuple[Contender, list[Contender]]:
    """The read contenders of a group; the repository read has the 2.0x goal against asyncpg only.

    Against the stdlib ``sqlite3`` module (synchronous, no thread hop) there is no such goal: any
    asyncio driver for SQLite hands each call to a thread.
    """
    repository = "repository PK read (db.guild_configs.find_by_id, cache off)"
    read = partial(plain.guild_configs.find_by_id, BENCH_GUILD)
    return Contender(f"raw {driver}", raw), [
        Contender(repository, read, "<= 2.0x", lambda ratio: ratio <= 2.0)
        if with_goal
        else Contender(repository, read),
        Contender("what Tux runs today (ORM session per call)", _orm_read(plain)),
        Contender("memory-cache hit (find_by_id)", lambda: cached.guild_configs.find_by_id(BENCH_GUILD)),
    ]


@asynccontextmanager
async def _databases(
    url: str, redis_url: str | None = None, **overrides: Any
) -> AsyncIterator[tuple[Database, Database]]:
    """Yield a cache-less and a cached :class:`Database` on ``url`` with the bench guild in it."""
    async with Database(url, cache_enabled=False) as plain, Database(url, redis_url, **overrides) as cached:
        await plain.migrate()
        await plain.guild_configs.upsert_config(BENCH_GUILD, {"prefix": "!", "mod_log_id": 1})
        try:
            await cached.guild_configs.find_by_id(BENCH_GUILD)
            yield plain, cached
        finally:
            await plain.guilds.delete(BENCH_GUILD)


async def bench_postgresql(
    url: str, redis_url: str | None, rounds: int, batch: int, bulk: BulkSizes
) -> list[BenchRow]:
    """The PostgreSQL (and Redis) groups."""
    dsn = normalize_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    async with _databases(url) as (plain, cached):
        connection = await asyncpg.connect(dsn)
        try:
            statement = await connection.prepare(PK_READ)
            raw_read = partial(statement.fetchrow, BENCH_GUILD)
            raw, others = _reads(plain, cached, raw_read, "asyncpg prepared fetchrow", with_goal=True)
            rows = await _group("PostgreSQL", raw, others, rounds, batch)
            if bulk.rows:
                raw_label, timings = await postgresql_writes(plain, connection, BENCH_GUILD, bulk)
                rows += _bulk_rows(f"PostgreSQL bulk insert, {bulk.rows:,} rows", raw_label, timings)
        finally:
            await connection.close()
    if redis_url is not None:
        rows += await bench_redis(url, redis_url, rounds, batch)
    return rows


async def bench_redis(url: str, redis_url: str, rounds: int, batch: int) -> list[BenchRow]:
    """A Redis-level hit (memory level off for the type) against a raw ``GET`` of the same entry."""
    namespace = f"tuxbench-{uuid.uuid4().hex[:12]}"
    policies = {"guild_config": {"levels": ["redis"]}}
    client = aioredis.Redis.from_url(redis_url)
    try:
        async with _databases(url, redis_url, redis_namespace=namespace, cache_policies=policies) as (
            _,
            cached,
        ):
            [entry] = [key async for key in client.scan_iter(match=f"{namespace}:*:e:*")]
            raw = Contender("raw redis-py GET", lambda: client.get(entry))
            hit = Contender(
                "Redis hit (find_by_id, memory level off)",
                lambda: cached.guild_configs.find_by_id(BENCH_GUILD),
                "<= 1.3x",
                lambda ratio: ratio <= 1.3,
            )
            rows = await _group("Redis", raw, [hit], rounds, batch)
            if cached.cache.stats().per_type["guild_config"].hits["redis"] < rounds * batch:
                raise RuntimeError("the Redis level did not serve the lookups")
            return rows
    finally:
        await client.aclose()
        await delete_namespace(redis_url, namespace)


async def bench_sqlite(url: str | None, rounds: int, batch: int, bulk: BulkSizes) -> list[BenchRow]:
    """The SQLite group, on ``url`` or on a temporary file."""
    with tempfile.TemporaryDirectory() as directory:
        target = url or f"sqlite+aiosqlite:///{Path(directory) / 'bench.sqlite3'}"
        database = normalize_url(target).database
        async with _databases(target) as (plain, cached):
            connection = sqlite3.connect(database or ":memory:")
            try:

                async def raw_read() -> Any:
                    return connection.execute(PK_READ.replace("$1", "?"), (BENCH_GUILD,)).fetchone()

                raw, others = _reads(plain, cached, raw_read, "sqlite3 (stdlib) read", with_goal=False)
                rows = await _group("SQLite", raw, others, rounds, batch)
            finally:
                connection.close()
            if bulk.rows:
                raw_label, timings = await sqlite_writes(plain, database or ":memory:", BENCH_GUILD, bulk)
                rows += _bulk_rows(f"SQLite bulk insert, {bulk.rows:,} rows", raw_label, timings)
            return rows


async def run_bench(
    database_url: str | None, redis_url: str | None, *, rounds: int, batch: int, bulk: BulkSizes | None = None
) -> list[BenchRow]:
    """Every group ``database_url`` (PostgreSQL, or SQLite) and ``redis_url`` allow; SQLite always."""
    bulk = bulk or BulkSizes()
    rows: list[BenchRow] = []
    postgres = database_url is not None and normalize_url(database_url).get_backend_name() == "postgresql"
    if database_url is not None and postgres:
        rows += await bench_postgresql(database_url, redis_url, rounds, batch, bulk)
    rows += await bench_sqlite(None if postgres else database_url, rounds, batch, bulk)
    return rows
