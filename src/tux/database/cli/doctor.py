"""``tux-db doctor``: what the data layer will find when it starts, checked one item at a time.

Each check is OK, WARN (works, but something is worth fixing) or FAIL (the layer cannot work). URLs
are always shown with their password masked.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from redis.exceptions import RedisError
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection

from tux.database.cli.errors import ExitCode, schema_gap
from tux.database.cli.pooler import find_pooler
from tux.database.cli.reach import redis_info
from tux.database.core.client import DatabaseClient
from tux.database.exceptions import DatabaseError
from tux.database.migrations import runner
from tux.database.settings import DatabaseSettings, redact_url

EXTENSIONS = ("pg_stat_statements", "hypopg")
"""PostgreSQL extensions the layer's statistics and index advice use when they are there."""


class Status(StrEnum):
    """Outcome of one check."""

    OK = "OK"
    WARN = "WARN"
    FAIL = "FAIL"


@dataclass(frozen=True, slots=True)
class Finding:
    """One check: its name, outcome and what was seen."""

    check: str
    status: Status
    detail: str
    exit_code: ExitCode = ExitCode.OK
    """The exit code a FAIL (or a missing migration) gives the command."""


def exit_code(findings: Sequence[Finding]) -> ExitCode:
    """Return the most serious exit code among ``findings`` (unreachable before migration)."""
    codes = {finding.exit_code for finding in findings}
    for code in (ExitCode.CONFIGURATION, ExitCode.UNREACHABLE, ExitCode.MIGRATION):
        if code in codes:
            return code
    return ExitCode.OK


async def examine(settings: DatabaseSettings) -> list[Finding]:
    """Run every check for ``settings``' database and Redis."""
    findings = await _database_findings(settings)
    redis_url = settings.redis_url_value()
    if redis_url is None:
        findings.append(
            Finding("redis", Status.WARN, "not configured: the cache is per process (one bot process)")
        )
    else:
        findings.append(await _redis_finding(redis_url))
    return findings


async def _database_findings(settings: DatabaseSettings) -> list[Finding]:
    try:
        client = DatabaseClient(settings)
    except DatabaseError as error:
        return [Finding("database", Status.FAIL, str(error), ExitCode.CONFIGURATION)]
    try:
        started = time.perf_counter()
        try:
            await client.connect()
        except DatabaseError as error:
            return [Finding("database", Status.FAIL, f"{client.safe_url}: {error}", ExitCode.UNREACHABLE)]
        elapsed = (time.perf_counter() - started) * 1000
        findings = [Finding("database", Status.OK, f"{client.safe_url} answered in {elapsed:.1f} ms")]
        findings.append(await _schema_finding(client))
        async with client.engine.connect() as connection:
            if client.backend == "postgresql":
                findings += await _postgres_findings(connection, settings)
            else:
                findings += await _sqlite_findings(connection)
        return findings
    finally:
        await client.close()


async def _schema_finding(client: DatabaseClient) -> Finding:
    gap = await schema_gap(client.engine)
    if gap is None:
        return Finding("schema", Status.OK, f"at revision {runner.head()} (the newest)")
    return Finding("schema", Status.FAIL, gap, ExitCode.MIGRATION)


async def _scalar(connection: AsyncConnection, sql: str) -> str:
    return str((await connection.execute(text(sql))).scalar_one())


async def _postgres_findings(connection: AsyncConnection, settings: DatabaseSettings) -> list[Finding]:
    version = await _scalar(connection, "SHOW server_version")
    findings = [Finding("server", Status.OK, f"PostgreSQL {version}")]
    rows = await connection.execute(
        text("SELECT name, installed_version FROM pg_available_extensions WHERE name = ANY(:names)"),
        {"names": list(EXTENSIONS)},
    )
    available = dict(rows.tuples().all())
    preload = await _scalar(connection, "SHOW shared_preload_libraries")
    for name in EXTENSIONS:
        installed = available.get(name)
        if name not in available:
            findings.append(Finding(f"extension {name}", Status.WARN, "not available on this server"))
        elif installed is None:
            findings.append(
                Finding(
                    f"extension {name}", Status.WARN, f"available, not installed: CREATE EXTENSION {name}"
                )
            )
        elif name == "pg_stat_statements" and name not in preload:
            findings.append(
                Finding(
                    f"extension {name}",
                    Status.WARN,
                    f"{installed} installed, not in shared_preload_libraries",
                )
            )
        else:
            findings.append(Finding(f"extension {name}", Status.OK, f"{installed} installed"))
    max_connections = int(await _scalar(connection, "SHOW max_connections"))
    in_use = int(await _scalar(connection, "SELECT count(*) FROM pg_stat_activity"))
    most = settings.pool_size + settings.max_overflow
    detail = (
        f"pool_size {settings.pool_size} + max_overflow {settings.max_overflow} = {most} per process, "
        f"pool_timeout {settings.pool_timeout:g} s, pool_recycle {settings.pool_recycle:g} s; "
        f"server max_connections {max_connections}, {in_use} in use"
    )
    findings.append(Finding("pool", Status.WARN if most >= max_connections else Status.OK, detail))
    findings.append(await _pooler_finding(connection, settings))
    return findings


async def _pooler_finding(connection: AsyncConnection, settings: DatabaseSettings) -> Finding:
    seen = await find_pooler(connection, make_url(settings.database_url_value()))
    if seen is None and settings.pgbouncer:
        return Finding(
            "pooler", Status.WARN, "none seen, yet TUX_DB_PGBOUNCER=true: unset it when connecting directly"
        )
    if seen is None:
        return Finding("pooler", Status.OK, "none: PostgreSQL answers directly")
    if settings.pgbouncer:
        return Finding("pooler", Status.OK, f"{seen}; TUX_DB_PGBOUNCER=true applies")
    return Finding(
        "pooler",
        Status.WARN,
        f"{seen}: set TUX_DB_PGBOUNCER=true when it pools by transaction "
        "(no prepared statement may outlive its transaction there)",
    )


async def _sqlite_findings(connection: AsyncConnection) -> list[Finding]:
    version = await _scalar(connection, "SELECT sqlite_version()")
    journal = await _scalar(connection, "PRAGMA journal_mode")
    busy = await _scalar(connection, "PRAGMA busy_timeout")
    status = Status.OK if journal.lower() == "wal" else Status.WARN
    return [
        Finding("server", Status.OK, f"SQLite {version} (embedded)"),
        Finding("pool", status, f"journal_mode {journal}, busy_timeout {busy} ms, writers queue in-process"),
    ]


async def _redis_finding(url: str) -> Finding:
    shown = redact_url(url)
    started = time.perf_counter()
    try:
        info = await redis_info(url)
    except DatabaseError as error:
        return Finding("redis", Status.FAIL, str(error), ExitCode.CONFIGURATION)
    except (RedisError, OSError) as error:
        return Finding(
            "redis", Status.FAIL, f"{shown}: {type(error).__name__}: {error}", ExitCode.UNREACHABLE
        )
    elapsed = (time.perf_counter() - started) * 1000
    return Finding(
        "redis",
        Status.OK,
        f"{shown}: Redis {info.get('redis_version', '?')} answered in {elapsed:.1f} ms, "
        f"maxmemory-policy {info.get('maxmemory_policy', '?')}, used {info.get('used_memory_human', '?')}",
    )
