"""Cached lookups refuse bad arguments before any SQL, cache table included."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tux.database.exceptions import ValidationError

if TYPE_CHECKING:
    from tux.database import Database


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_cached_leaderboard_refuses_a_bad_limit_before_any_sql(
    backend: str, cached_db: Database
) -> None:
    await cached_db.guilds.ensure(1)
    with cached_db.client.statements.recording() as sent, pytest.raises(ValidationError):
        await cached_db.levels.leaderboard(1, limit="1")  # type: ignore[arg-type]
    assert [record.sql for record in sent] == []
