"""What ``TUX_DB_PGBOUNCER=true`` costs: the same calls directly and through a private PgBouncer.

Run ``python -m benchmarks.bench_pgbouncer``. It needs PostgreSQL (``TUX_BENCH_PG_ADMIN_DSN``) and
Debian's ``pgbouncer`` (``scripts/ensure-pgbouncer.sh``), started on a free port in transaction pooling
mode. Every contender takes turns with raw asyncpg's prepared ``fetchrow`` straight to PostgreSQL;
ratios are medians against it, over ``ROUNDS`` rounds (their range in brackets). The cache is off:
what is measured is each statement's way to the server.
"""

from __future__ import annotations

import asyncio
import statistics
from collections.abc import Mapping

import asyncpg
from tests.caching.conftest import free_port
from tests.reliability.pgbouncer import PrivatePgBouncer

from benchmarks._pg import temporary_database
from benchmarks._timing import Call, taking_turns
from tux.database import Database

GUILD = 123_456_789_012_345_678
MEMBER = 200_000_000_000_000_001
ROUNDS = 5
SAMPLES = 300
PK_SQL = "SELECT * FROM guild_config WHERE id = $1"


def _print(title: str, rounds: list[dict[str, list[float]]], reference: str) -> None:
    print(f"\n{title} (median us, ratio to {reference}, rounds' range)")
    for name in rounds[0]:
        medians = [statistics.median(timings[name]) for timings in rounds]
        ratios = [statistics.median(t[name]) / statistics.median(t[reference]) for t in rounds]
        print(
            f"  {name:<58} {statistics.median(medians):8.1f} us  "
            f"{statistics.median(ratios):5.2f}x ({min(ratios):.2f}-{max(ratios):.2f})"
        )


async def _rounds(calls: Mapping[str, Call]) -> list[dict[str, list[float]]]:
    await taking_turns(calls, 30)  # warm-up: connections made, statements prepared
    return [await taking_turns(calls, SAMPLES) for _ in range(ROUNDS)]


def _layer_calls(label: str, db: Database) -> dict[str, Call]:
    return {
        f"find_by_id (direct path), {label}": lambda: db.guild_configs.find_by_id(GUILD),
        f"find_all (ORM read), {label}": lambda: db.guild_configs.find_all(limit=5),
        f"add_xp (direct-path upsert), {label}": lambda: db.levels.add_xp(
            guild_id=GUILD, member_id=MEMBER, amount=1
        ),
    }


async def main() -> None:
    bouncer = PrivatePgBouncer(free_port())
    bouncer.start()
    try:
        async with temporary_database() as (url, dsn):
            name = url.rsplit("/", 1)[1]
            async with Database(url, cache_enabled=False) as direct:
                await direct.migrate()
                await direct.guild_setup.onboard(GUILD)
                raw = await asyncpg.connect(dsn)
                raw_bounced = await asyncpg.connect(
                    f"postgresql://postgres@127.0.0.1:{bouncer.port}/{name}", statement_cache_size=0
                )
                async with Database(bouncer.url(name), cache_enabled=False, pgbouncer=True) as bounced:
                    statement = await raw.prepare(PK_SQL)
                    reads = {
                        "raw asyncpg prepared fetchrow, direct": lambda: statement.fetchrow(GUILD),
                        "raw asyncpg fetchrow, PgBouncer, cache off": lambda: raw_bounced.fetchrow(
                            PK_SQL, GUILD
                        ),
                    }
                    for label, db in (("direct", direct), ("PgBouncer + setting", bounced)):
                        reads |= _layer_calls(label, db)
                    _print("Through PgBouncer (transaction pooling)", await _rounds(reads), next(iter(reads)))
                await raw.close()
                await raw_bounced.close()
    finally:
        bouncer.stop()


if __name__ == "__main__":
    asyncio.run(main())
