"""The legacy controllers run over a ``Database`` with its cache on, as a bot runs them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from tux.database import Database
    from tux.database.controllers import DatabaseController

GUILD = 111_111_111_111_111_111
OTHER_GUILD = 222_222_222_222_222_222
USER = 333_333_333_333_333_333
OTHER_USER = 333_333_333_333_333_334
MOD = 444_444_444_444_444_444
CHANNEL = 555_555_555_555_555_555


def in_days(days: float) -> datetime:
    return datetime.now(UTC) + timedelta(days=days)


@pytest.fixture
def legacy(cached_db: Database) -> DatabaseController:
    """``db.controller`` of a connected, cached ``Database`` on a fresh database."""
    return cached_db.controller
