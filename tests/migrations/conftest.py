"""Fixtures of the migration tests: an engine on the fresh database, and a second database to compare."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests import pg
from tux.database.core.engine import create_engine, normalize_url
from tux.database.settings import DatabaseSettings


@pytest.fixture
async def engine(empty_database_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine (built like the library builds it) on the test's fresh, empty database."""
    engine = create_engine(normalize_url(empty_database_url), DatabaseSettings())
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture
async def second_engine(backend: str, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """An engine on a second fresh database of the same backend, removed after the test."""
    if backend == "sqlite":
        engine = create_engine(
            normalize_url(f"sqlite+aiosqlite:///{tmp_path / 'second.sqlite3'}"), DatabaseSettings()
        )
        try:
            yield engine
        finally:
            await engine.dispose()
        return
    name = pg.database_name("second")
    await pg.create_database(name)
    engine = create_engine(normalize_url(pg.async_url(name)), DatabaseSettings())
    try:
        yield engine
    finally:
        await engine.dispose()
        await pg.drop_database(name)
