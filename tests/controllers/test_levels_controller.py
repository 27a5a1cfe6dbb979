"""``db.controller.levels``: Tux's ``LevelsController`` methods over ``db.levels``."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.controllers.conftest import GUILD, OTHER_GUILD, OTHER_USER, USER
from tux.database import Database
from tux.database.controllers import DatabaseController
from tux.database.controllers.levels import LevelsController
from tux.database.services.levels_formula import level_for_xp

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

MOMENT = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


async def test_get_xp(legacy: DatabaseController) -> None:
    assert await legacy.levels.get_xp(USER, GUILD) == 0.0
    await legacy.levels.update_xp_and_level(USER, GUILD, 42.5, 1, MOMENT)
    assert await legacy.levels.get_xp(USER, GUILD) == 42.5
    assert await legacy.levels.get_xp(USER, OTHER_GUILD) == 0.0


async def test_get_level(legacy: DatabaseController) -> None:
    assert await legacy.levels.get_level(USER, GUILD) == 0
    await legacy.levels.update_xp_and_level(USER, GUILD, 500.0, 5, MOMENT)
    assert await legacy.levels.get_level(USER, GUILD) == 5


async def test_get_xp_and_level(legacy: DatabaseController) -> None:
    assert await legacy.levels.get_xp_and_level(USER, GUILD) == (0.0, 0)
    await legacy.levels.update_xp_and_level(USER, GUILD, 80.0, 2, MOMENT)
    assert await legacy.levels.get_xp_and_level(USER, GUILD) == (80.0, 2)


async def test_get_last_message_time(legacy: DatabaseController) -> None:
    assert await legacy.levels.get_last_message_time(USER, GUILD) is None
    await legacy.levels.update_xp_and_level(USER, GUILD, 1.0, 0, MOMENT)
    assert await legacy.levels.get_last_message_time(USER, GUILD) == MOMENT


async def test_is_blacklisted(legacy: DatabaseController) -> None:
    assert await legacy.levels.is_blacklisted(USER, GUILD) is False
    await legacy.levels.toggle_blacklist(USER, GUILD)
    assert await legacy.levels.is_blacklisted(USER, GUILD) is True


async def test_update_xp_and_level(legacy: DatabaseController, cached_db: Database) -> None:
    row = await legacy.levels.update_xp_and_level(USER, GUILD, 10.0, 0, MOMENT)
    assert (row.xp, row.level, row.last_message) == (10.0, 0, MOMENT)
    row = await legacy.levels.update_xp_and_level(USER, GUILD, 90.0, 2, MOMENT)
    assert (row.xp, row.level) == (90.0, 2)
    assert await cached_db.guilds.find_by_id(GUILD) is not None


async def test_toggle_blacklist(legacy: DatabaseController) -> None:
    assert await legacy.levels.toggle_blacklist(USER, GUILD) is True
    assert await legacy.levels.toggle_blacklist(USER, GUILD) is False
    assert await legacy.levels.toggle_blacklist(USER, GUILD) is True


async def test_reset_xp(legacy: DatabaseController) -> None:
    assert await legacy.levels.reset_xp(USER, GUILD) is None
    await legacy.levels.update_xp_and_level(USER, GUILD, 500.0, 5, MOMENT)
    row = await legacy.levels.reset_xp(USER, GUILD)
    assert row is not None
    assert (row.xp, row.level) == (0.0, 0)


async def test_get_top_members(legacy: DatabaseController) -> None:
    for offset, xp in enumerate((30.0, 10.0, 20.0, 40.0)):
        await legacy.levels.update_xp_and_level(USER + offset, GUILD, xp, 0, MOMENT)
    await legacy.levels.toggle_blacklist(USER + 3, GUILD)
    top = await legacy.levels.get_top_members(GUILD, limit=2)
    assert [row.xp for row in top] == [30.0, 20.0]
    rest = await legacy.levels.get_top_members(GUILD, limit=2, skip=2)
    assert [row.xp for row in rest] == [10.0]


async def test_add_xp(legacy: DatabaseController) -> None:
    xp, level, leveled_up = await legacy.levels.add_xp(USER, GUILD, 10.0)
    assert (xp, level, leveled_up) == (10.0, level_for_xp(10.0), False)
    xp, level, leveled_up = await legacy.levels.add_xp(USER, GUILD, 100.0)
    assert (xp, level, leveled_up) == (110.0, level_for_xp(110.0), True)
    assert await legacy.levels.get_level(USER, GUILD) == level
    assert await legacy.levels.get_last_message_time(USER, GUILD) is not None


def test_calculate_level() -> None:
    with pytest.warns(DeprecationWarning, match="level_for_xp"):
        assert LevelsController.calculate_level(500.0) == level_for_xp(500.0)


async def test_count_ranked_members(legacy: DatabaseController) -> None:
    await legacy.levels.add_xp(USER, GUILD, 5.0)
    await legacy.levels.add_xp(OTHER_USER, GUILD, 5.0)
    await legacy.levels.toggle_blacklist(OTHER_USER, GUILD)
    await legacy.levels.add_xp(USER, OTHER_GUILD, 5.0)
    assert await legacy.levels.count_ranked_members(GUILD) == 1


async def test_get_rank(legacy: DatabaseController) -> None:
    assert await legacy.levels.get_rank(USER, GUILD) == 0
    await legacy.levels.add_xp(USER, GUILD, 5.0)
    await legacy.levels.add_xp(OTHER_USER, GUILD, 50.0)
    assert await legacy.levels.get_rank(USER, GUILD) == 2
    assert await legacy.levels.get_rank(OTHER_USER, GUILD) == 1


async def test_bulk_delete_by_guild_id(legacy: DatabaseController) -> None:
    await legacy.levels.add_xp(USER, GUILD, 5.0)
    await legacy.levels.add_xp(OTHER_USER, GUILD, 5.0)
    await legacy.levels.add_xp(USER, OTHER_GUILD, 5.0)
    assert await legacy.levels.bulk_delete_by_guild_id(GUILD) == 2
    assert await legacy.levels.get_xp(USER, GUILD) == 0.0
    assert await legacy.levels.get_xp(USER, OTHER_GUILD) == 5.0
