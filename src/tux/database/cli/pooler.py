"""Whether a connection pooler (PgBouncer) sits between the layer and PostgreSQL, for ``tux-db doctor``.

Two signs, neither needing more than the URL's credentials: PgBouncer's admin console (database
``pgbouncer`` on the same address) reports its own version as ``server_version`` (``1.18.0/bouncer``)
when the user may open it; and a server that says it listens on another port than the one the URL
names is reached through something (a pooler or a proxy).
"""

from __future__ import annotations

import asyncpg
from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncConnection

POSTGRES_PORT = 5432
ADMIN_TIMEOUT = 3.0
BOUNCER_SUFFIX = "/bouncer"


async def find_pooler(connection: AsyncConnection, url: URL) -> str | None:
    """Return what answers in front of PostgreSQL on ``url`` (``connection`` goes through it), or ``None``."""
    version = await _bouncer_version(url)
    if version is not None:
        return f"PgBouncer {version}"
    server_port = (await connection.execute(text("SELECT inet_server_port()"))).scalar_one()
    port = url.port or POSTGRES_PORT
    if server_port is not None and int(server_port) != port:
        return f"a pooler or proxy (port {port} answers, the server listens on {server_port})"
    return None


async def _bouncer_version(url: URL) -> str | None:
    try:
        admin = await asyncpg.connect(
            host=url.host,
            port=url.port or POSTGRES_PORT,
            user=url.username,
            password=url.password,
            database="pgbouncer",
            statement_cache_size=0,
            timeout=ADMIN_TIMEOUT,
        )
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError):
        return None  # not PgBouncer, or its admin console is not open to this user
    try:
        reported = str(admin.get_settings().server_version)
    finally:
        await admin.close()
    return reported.removesuffix(BOUNCER_SUFFIX) if reported.endswith(BOUNCER_SUFFIX) else None
