"""The packaged migrations build exactly the models' schema, go down cleanly, and run from the CLI."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.migrations.schema import snapshot
from tux.database.core.engine import create_engine, normalize_url
from tux.database.migrations import runner
from tux.database.models import Base
from tux.database.settings import DatabaseSettings


async def _table_names(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as connection:
        return set(await connection.run_sync(lambda sync: inspect(sync).get_table_names()))


async def test_fresh_database_has_no_revision(engine: AsyncEngine) -> None:
    assert await runner.current(engine) is None
    assert runner.head() == "0001"


async def test_upgrade_to_head_matches_models(engine: AsyncEngine) -> None:
    await runner.upgrade(engine)

    assert await runner.current(engine) == runner.head()
    assert await runner.pending_changes(engine) == []
    assert await _table_names(engine) == {*Base.metadata.tables, "alembic_version"}


async def test_comparison_is_not_vacuous(engine: AsyncEngine) -> None:
    added = {diff[1].name for diff in await runner.pending_changes(engine) if diff[0] == "add_table"}
    assert added == set(Base.metadata.tables)

    await runner.upgrade(engine)
    async with engine.begin() as connection:
        await connection.execute(text("DROP INDEX ix_levels_leaderboard"))
        await connection.execute(text("DROP INDEX uq_snippet_guild_id_lower_snippet_name"))

    changes = {(diff[0], diff[1].name) for diff in await runner.pending_changes(engine)}
    expected = {("add_index", "ix_levels_leaderboard")}
    if engine.dialect.name == "postgresql":
        # SQLite cannot reflect expression indexes; test_migration_builds_same_ddl_as_models covers them.
        expected.add(("add_index", "uq_snippet_guild_id_lower_snippet_name"))
    assert changes == expected


async def test_migration_builds_same_ddl_as_models(engine: AsyncEngine, second_engine: AsyncEngine) -> None:
    await runner.upgrade(engine)
    async with second_engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)

    migrated = await snapshot(engine)
    assert migrated == await snapshot(second_engine)
    assert migrated  # the snapshot did read something


async def test_cache_entry_is_unlogged_on_postgresql_only(engine: AsyncEngine) -> None:
    await runner.upgrade(engine)
    async with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            persistence = await connection.scalar(
                text("SELECT relpersistence::text FROM pg_class WHERE relname = 'cache_entry'")
            )
            logged = await connection.scalar(
                text("SELECT relpersistence::text FROM pg_class WHERE relname = 'cases'")
            )
            assert (persistence, logged) == ("u", "p")
        else:
            sql = await connection.scalar(text("SELECT sql FROM sqlite_master WHERE name = 'cache_entry'"))
            assert sql is not None
            assert "UNLOGGED" not in sql


async def test_downgrade_removes_everything_and_upgrade_works_again(engine: AsyncEngine) -> None:
    await runner.upgrade(engine)
    await runner.downgrade(engine)

    assert await runner.current(engine) is None
    assert await _table_names(engine) == {"alembic_version"}
    async with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            leftovers = await connection.scalar(
                text(
                    "SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace "
                    "AND relname NOT LIKE 'alembic_version%'"
                )
            )
        else:
            leftovers = await connection.scalar(
                text("SELECT count(*) FROM sqlite_master WHERE tbl_name != 'alembic_version'")
            )
    assert leftovers == 0

    await runner.upgrade(engine)
    assert await runner.current(engine) == runner.head()
    assert await runner.pending_changes(engine) == []


async def test_concurrent_upgrades_are_serialized(empty_database_url: str) -> None:
    engines = [create_engine(normalize_url(empty_database_url), DatabaseSettings()) for _ in range(3)]
    try:
        await asyncio.gather(*(runner.upgrade(engine) for engine in engines))
        assert await runner.current(engines[0]) == runner.head()
    finally:
        for engine in engines:
            await engine.dispose()


def _alembic_command(*args: str) -> list[str]:
    config = Path(runner.__file__).with_name("alembic.ini")
    return [sys.executable, "-m", "alembic", "-c", str(config), *args]


def _environment() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}


async def test_upgrades_from_several_processes_are_serialized(
    engine: AsyncEngine, empty_database_url: str
) -> None:
    processes = [
        await asyncio.create_subprocess_exec(
            *_alembic_command("-x", f"url={empty_database_url}", "upgrade", "head"),
            env=_environment(),
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        for _ in range(3)
    ]
    results = [await process.communicate() for process in processes]

    assert [process.returncode for process in processes] == [0, 0, 0], [err.decode() for _, err in results]
    assert await runner.current(engine) == runner.head()
    assert await runner.pending_changes(engine) == []


def _alembic(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        _alembic_command(*args),
        capture_output=True,
        text=True,
        env=_environment(),
        check=True,
        timeout=120,
    )


def test_alembic_cli_upgrades_and_downgrades_a_url(tmp_path: Path) -> None:
    database = tmp_path / "cli.sqlite3"

    _alembic("-x", f"url=sqlite:///{database}", "upgrade", "head")
    with sqlite3.connect(database) as connection:
        assert connection.execute("SELECT version_num FROM alembic_version").fetchall() == [("0001",)]

    _alembic("-x", f"url=sqlite:///{database}", "downgrade", "base")
    with sqlite3.connect(database) as connection:
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert tables == {"alembic_version"}


@pytest.mark.parametrize(("url", "unlogged"), [("postgresql://u@h/db", True), ("sqlite:///x.db", False)])
def test_alembic_cli_offline_sql(url: str, unlogged: bool) -> None:
    sql = _alembic("-x", f"url={url}", "upgrade", "head", "--sql").stdout

    assert "CREATE TABLE guild" in sql
    assert "lower(snippet_name)" in sql
    assert ("CREATE UNLOGGED TABLE cache_entry" in sql) is unlogged
