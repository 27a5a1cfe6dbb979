"""Fixtures of the model tests: an engine on a fresh database migrated to head."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tux.database.core.engine import create_engine, normalize_url
from tux.database.migrations import runner
from tux.database.settings import DatabaseSettings


@pytest.fixture
async def engine(empty_database_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine on the test's fresh database, upgraded to the newest migration."""
    engine = create_engine(normalize_url(empty_database_url), DatabaseSettings())
    try:
        await runner.upgrade(engine)
        yield engine
    finally:
        await engine.dispose()
