"""What a bot process loads: ``import tux.database`` and a connected ``Database`` load only what they use.

Each check runs in a fresh interpreter (``sys.modules`` of the test process holds everything the suite
imported), in a scratch working directory (a ``.env`` there would load python-dotenv). alembic and
mako are for migrations, typer, rich and click for the CLI, sentry-sdk and prometheus-client are
optional extras: none of them may load before they are used. Within the package, the services, the bulk
writer and the index advisor load on first use, and a process on PostgreSQL loads neither ``sqlite3`` nor
SQLAlchemy's SQLite dialect.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from tests.conftest import REDIS_URL

RUN_ONCE = {"alembic", "mako", "typer", "rich", "click", "pygments", "markdown_it", "shellingham"}
OPTIONAL = {"sentry_sdk", "prometheus_client"}
CONNECTED = {
    "greenlet",
    "loguru",
    "msgspec",
    "sqlalchemy",
    "typing_extensions",
}
"""Third-party packages a connected ``Database`` loads on every backend besides its driver and hiredis, the
Redis parser of the cache's own client (and Cython's runtime); redis-py itself is for the CLI only."""
ON_FIRST_USE = (
    "tux.database.services",
    "tux.database.operations",
    "tux.database.optimization.indexes",
    "tux.database.optimization.planner",
    "tux.database.optimization.catalog",
)
"""Modules a connected ``Database`` loads only when ``db.<domain>_service``, ``db.batch`` or
``db.index_optimizer`` is first used."""

SCRIPT = """
import asyncio, json, sys

def packages():
    tops = {name.partition(".")[0] for name in sys.modules}
    return sorted(top for top in tops - sys.stdlib_module_names if not top.startswith("_"))

WATCHED = ("tux.database.", "sqlite3", "sqlalchemy.dialects.sqlite")

def watched():
    return sorted(name for name in sys.modules if name.startswith(WATCHED))

import tux.database
report = {"import": packages()}

async def main(url, redis_url):
    async with tux.database.Database(url, redis_url or None, redis_namespace=sys.argv[3]) as db:
        await db.guild_configs.find_by_id(1)
        await db.guild_configs.get_prefix(1)
        async with db.transaction():
            await db.guild_configs.find_by_id(2)
        report["connected"] = packages()
        report["connected modules"] = watched()
        db.moderation_service, db.batch, db.index_optimizer
        report["used modules"] = watched()
        await db.migrate()
        report["migrated"] = packages()

asyncio.run(main(sys.argv[1], sys.argv[2]))
print(json.dumps(report))
"""


async def loaded_packages(
    database_url: str, redis_url: str, namespace: str, workdir: Path
) -> dict[str, set[str]]:
    """Run :data:`SCRIPT` in a new interpreter in ``workdir``; return the packages loaded at each step."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        SCRIPT,
        database_url,
        redis_url,
        namespace,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=workdir,
    )
    out, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    report = json.loads(out.decode().strip().splitlines()[-1])
    return {step: set(packages) - {"cython_runtime"} for step, packages in report.items()}


async def test_a_connected_database_loads_nothing_that_runs_once(
    backend: str, database_url: str, redis_namespace: str, tmp_path: Path
) -> None:
    redis_url = REDIS_URL if backend == "postgresql" else ""
    loaded = await loaded_packages(database_url, redis_url, redis_namespace, tmp_path)
    assert loaded["import"] == {"tux"}, "import tux.database loads no layer until Database is used"
    drivers = {"asyncpg", "hiredis"} if backend == "postgresql" else {"aiosqlite"}
    assert loaded["connected"] - {"tux"} == CONNECTED | drivers
    assert not loaded["connected"] & (RUN_ONCE | OPTIONAL)
    assert {"alembic", "mako"} <= loaded["migrated"], "the check sees a package once it is used"


def loaded_by(modules: set[str], prefixes: tuple[str, ...]) -> set[str]:
    """The names in ``modules`` that start with one of ``prefixes``."""
    return {name for name in modules if name.startswith(prefixes)}


async def test_services_bulk_writes_and_index_advice_load_on_first_use(
    backend: str, database_url: str, redis_namespace: str, tmp_path: Path
) -> None:
    redis_url = REDIS_URL if backend == "postgresql" else ""
    loaded = await loaded_packages(database_url, redis_url, redis_namespace, tmp_path)
    assert not loaded_by(loaded["connected modules"], ON_FIRST_USE)
    used = loaded_by(loaded["used modules"], ON_FIRST_USE)
    assert {"tux.database.services.moderation", "tux.database.operations.batch"} <= used
    assert "tux.database.optimization.indexes" in used
    without_redis = ("sqlite3", "sqlalchemy.dialects.sqlite", "tux.database.caching.database_level")
    for sqlite_only in without_redis:
        assert (sqlite_only in loaded["connected modules"]) == (backend == "sqlite"), sqlite_only


async def test_settings_load_python_dotenv_only_when_a_dotenv_file_exists(
    database_url: str, redis_namespace: str, tmp_path: Path
) -> None:
    (tmp_path / ".env").write_text("TUX_DB_ECHO=false\n")
    loaded = await loaded_packages(database_url, "", redis_namespace, tmp_path)
    assert "dotenv" in loaded["connected"]
    assert not loaded["connected"] & {"pydantic", "pydantic_settings"}
