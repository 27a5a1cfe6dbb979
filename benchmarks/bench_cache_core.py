"""Speed of the cache core, as ratios against the raw drivers measured in the same run.

Run ``python -m benchmarks.bench_cache_core``. It needs PostgreSQL (``TUX_BENCH_PG_ADMIN_DSN``, default
``postgresql://postgres@127.0.0.1:5432/postgres``; a temporary database is created and dropped) and Redis
(``TUX_BENCH_REDIS_URL``, default ``redis://127.0.0.1:6379/0``; keys live in a fresh namespace that is
deleted afterwards).

Printed:

* memory hit of a guild-config-sized frozen Struct through ``peek`` (``load`` on a miss), including what
  the repository layer adds (key building, the open-transaction check), vs. a raw asyncpg primary-key read
  of the same row (goal: >= 50x faster, median < 5 us);
* Redis-level hit (``get`` from REDIS, and ``get_or_load`` of a REDIS-only type) vs. a raw redis-py
  ``GET`` of the same entry bytes (goal: <= 1.3x). These calls take turns in one loop, so a change in
  the machine's load during the run weighs on all of them alike.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import uuid
from typing import Any, cast

import asyncpg
import msgspec
import redis.asyncio as aioredis
from redis.utils import HIREDIS_AVAILABLE
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from benchmarks._timing import batch_timings, median_p95, taking_turns
from tux.database.caching import CacheConfig, CacheLevel, CacheManager
from tux.database.caching.types import MISS
from tux.database.core.session import NO_UNITS, SessionProvider, open_units

PG_ADMIN_DSN = os.environ.get("TUX_BENCH_PG_ADMIN_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("TUX_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
BATCH = 200
SAMPLES = 500
NETWORK_SAMPLES = 3000


class GuildConfigSnapshot(msgspec.Struct, frozen=True):
    """The shape of a guild config row as a repository would cache it."""

    guild_id: int
    prefix: str
    mod_log_id: int | None
    audit_log_id: int | None
    join_log_id: int | None
    private_log_id: int | None
    report_log_id: int | None
    dev_log_id: int | None
    jail_role_id: int | None
    general_channel_id: int | None
    starboard_channel_id: int | None
    base_staff_role_id: int | None
    base_member_role_id: int | None
    quarantine_role_id: int | None


COLUMNS = list(GuildConfigSnapshot.__struct_fields__)
ROW = GuildConfigSnapshot(123456789012345678, "$", *range(1, 13))


def report(
    label: str, timings: list[float], reference: list[float] | None = None, ratio_label: str = ""
) -> float:
    median, p95 = median_p95(timings)
    line = f"  {label:<52} median {median:9.2f} us   p95 {p95:9.2f} us"
    if reference is not None:
        ratio = median / statistics.median(reference)
        line += f"   {ratio_label} {ratio:6.2f}x"
    print(line)
    return median


async def memory_vs_postgres(database: str) -> tuple[list[float], list[float]]:
    """Time a raw asyncpg primary-key read and the cached repository's memory hit, taking turns."""
    dsn = PG_ADMIN_DSN.rsplit("/", 1)[0] + f"/{database}"
    connection = await asyncpg.connect(dsn)
    engine = create_async_engine(dsn.replace("postgresql://", "postgresql+asyncpg://", 1))
    sessions = SessionProvider(async_sessionmaker(engine), sqlite=False)
    cache = CacheManager(CacheConfig(), redis_url=None)
    await cache.start()
    try:
        definition = ", ".join(f"{name} BIGINT" if name != "prefix" else "prefix TEXT" for name in COLUMNS)
        await connection.execute(f"CREATE TABLE guild_config ({definition}, PRIMARY KEY (guild_id))")
        await connection.execute(
            f"INSERT INTO guild_config VALUES ({', '.join(f'${i + 1}' for i in range(len(COLUMNS)))})",
            *msgspec.structs.astuple(ROW),
        )
        statement = await connection.prepare("SELECT * FROM guild_config WHERE guild_id = $1")
        region = cache.region("guild_config", GuildConfigSnapshot)

        async def load(guild_id: int) -> GuildConfigSnapshot:
            record = await statement.fetchrow(guild_id)
            return GuildConfigSnapshot(*record.values())

        async def find_by_id(guild_id: int) -> GuildConfigSnapshot | None:
            """What CachedRepository adds around the cache: the transaction check and the key."""
            if open_units() is not NO_UNITS and sessions.current() is not None:
                return await load(guild_id)
            key = region.guild_keys[guild_id]
            found = cache.peek(key)
            if found is MISS:
                return await cache.load(key, lambda: load(guild_id))
            return cast("GuildConfigSnapshot | None", found)

        if await find_by_id(ROW.guild_id) != ROW:
            raise RuntimeError("the cached row differs from the stored one")
        pg: list[float] = []
        memory: list[float] = []
        for _ in range(SAMPLES):
            pg += await batch_timings(lambda: statement.fetchrow(ROW.guild_id), batch=1, samples=4, warmup=1)
            memory += await batch_timings(
                lambda: find_by_id(ROW.guild_id), batch=BATCH, samples=1, warmup=BATCH
            )
        return pg, memory
    finally:
        await cache.close()
        await engine.dispose()
        await connection.close()


async def redis_hits() -> tuple[list[float], list[float], list[float], list[float]]:
    """Time Redis-level hits and a raw GET (and GET + decode) of the same entry."""
    namespace = f"tuxbench-{uuid.uuid4().hex[:8]}"
    config = CacheConfig().with_policy("guild_config", levels=["redis"])
    cache = CacheManager(config, redis_url=REDIS_URL, namespace=namespace)
    raw = aioredis.Redis.from_url(REDIS_URL)
    await cache.start()
    try:
        region = cache.region("guild_config", GuildConfigSnapshot)
        key = region.key(ROW.guild_id)

        async def load() -> GuildConfigSnapshot:
            return ROW

        await cache.get_or_load(key, load)
        [entry_key] = [k async for k in raw.scan_iter(match=f"{namespace}:*:e:*")]
        entry = await raw.get(entry_key)
        decoder = msgspec.msgpack.Decoder(GuildConfigSnapshot)
        if await cache.get(key, [CacheLevel.REDIS]) != ROW:
            raise RuntimeError("the Redis level did not return the stored value")

        async def raw_get() -> Any:
            return await raw.get(entry_key)

        async def raw_get_decode() -> Any:
            return decoder.decode(memoryview(await raw.get(entry_key))[33:])

        if len(entry) <= 33:
            raise RuntimeError("unexpected entry layout")
        calls = {
            "raw": raw_get,
            "decoded": raw_get_decode,
            "level": lambda: cache.get(key, [CacheLevel.REDIS]),
            "through": lambda: cache.get_or_load(key, load),
        }
        await taking_turns(calls, 200)
        timings = await taking_turns(calls, NETWORK_SAMPLES)
        return timings["raw"], timings["decoded"], timings["level"], timings["through"]
    finally:
        keys = [k async for k in raw.scan_iter(match=f"{namespace}:*")]
        if keys:
            await raw.delete(*keys)
        await cache.close()
        await raw.aclose()


async def main() -> None:
    database = f"tuxbench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(PG_ADMIN_DSN)
    await admin.execute(f'CREATE DATABASE "{database}"')
    try:
        print(f"hiredis parser: {HIREDIS_AVAILABLE}")
        print("memory level (guild config, frozen msgspec Struct, 14 fields)")
        pg, memory = await memory_vs_postgres(database)
        report("raw asyncpg primary-key read (prepared)", pg)
        speedup = statistics.median(pg) / statistics.median(memory)
        median = report("memory hit (peek) + key + transaction check", memory)
        print(
            f"  -> {speedup:.0f}x faster than the raw read (goal >= 50x); median {median:.2f} us (goal < 5)"
        )
        print("Redis level (same entry bytes)")
        raw_get, raw_decode, level, through = await redis_hits()
        report("raw redis-py GET", raw_get)
        report("raw redis-py GET + msgspec decode", raw_decode, raw_get, "vs GET")
        report("get(key, [REDIS]) (MGET entry + stamps, check, decode)", level, raw_get, "vs GET")
        report("get_or_load of a REDIS-only type (hit)", through, raw_get, "vs GET")
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        await admin.close()


if __name__ == "__main__":
    asyncio.run(main())
