"""``db.controller.levels``: Tux's Prisma-era ``LevelsController`` over ``db.levels`` and its service.

Reads take ``(member_id, guild_id)`` and answer 0 / 0.0 / ``False`` / ``None`` for a member without a row,
as Tux's did. Levels follow this project's curve (``services/levels_formula.py``), not Tux's
``floor(sqrt(xp / 100))``.
"""

from __future__ import annotations

import warnings
from datetime import UTC, datetime

from tux.database.controllers.base import LegacyController, legacy
from tux.database.models import Levels
from tux.database.services.levels_formula import level_for_xp


class LevelsController(LegacyController):
    """XP and levels with the methods and arguments of Tux's ``LevelsController``."""

    async def _row(self, member_id: int, guild_id: int) -> Levels | None:
        return await self._db.levels.find_by_id((member_id, guild_id))

    @legacy("db.levels.find_by_id")
    async def get_xp(self, member_id: int, guild_id: int) -> float:
        """Return the member's XP (0.0 without a row)."""
        row = await self._row(member_id, guild_id)
        return 0.0 if row is None else row.xp

    @legacy("db.levels.find_by_id")
    async def get_level(self, member_id: int, guild_id: int) -> int:
        """Return the member's level (0 without a row)."""
        row = await self._row(member_id, guild_id)
        return 0 if row is None else row.level

    @legacy("db.levels.find_by_id")
    async def get_xp_and_level(self, member_id: int, guild_id: int) -> tuple[float, int]:
        """Return ``(xp, level)`` (``(0.0, 0)`` without a row)."""
        row = await self._row(member_id, guild_id)
        return (0.0, 0) if row is None else (row.xp, row.level)

    @legacy("db.levels.find_by_id")
    async def get_last_message_time(self, member_id: int, guild_id: int) -> datetime | None:
        """Return when the member last earned XP."""
        row = await self._row(member_id, guild_id)
        return None if row is None else row.last_message

    @legacy("db.levels.find_by_id")
    async def is_blacklisted(self, member_id: int, guild_id: int) -> bool:
        """Return whether the member is excluded from XP."""
        row = await self._row(member_id, guild_id)
        return row is not None and row.blacklisted

    @legacy("db.levels_service.process_message")
    async def update_xp_and_level(
        self, member_id: int, guild_id: int, xp: float, level: int, last_message: datetime
    ) -> Levels:
        """Set XP, level and last message time (creating the row and guild when missing)."""
        async with self._db.transaction("legacy.levels.update_xp_and_level"):
            await self._db.levels.set_xp(guild_id=guild_id, member_id=member_id, xp=xp, level=level)
            row = await self._db.levels.update((member_id, guild_id), {"last_message": last_message})
            assert row is not None  # set_xp just wrote it in this unit of work
            return row

    @legacy("db.levels.set_blacklisted")
    async def toggle_blacklist(self, member_id: int, guild_id: int) -> bool:
        """Flip the member's blacklist flag and return the new state."""
        async with self._db.transaction("legacy.levels.toggle_blacklist"):
            row = await self._row(member_id, guild_id)
            blacklisted = row is None or not row.blacklisted
            await self._db.levels.set_blacklisted(
                guild_id=guild_id, member_id=member_id, blacklisted=blacklisted
            )
            return blacklisted

    @legacy("db.levels_service.reset_xp")
    async def reset_xp(self, member_id: int, guild_id: int) -> Levels | None:
        """Set the member back to 0 XP and level 0; ``None`` when they have no row."""
        return await self._db.levels.update((member_id, guild_id), {"xp": 0.0, "level": 0})

    @legacy("db.levels_service.leaderboard")
    async def get_top_members(self, guild_id: int, limit: int = 10, skip: int = 0) -> list[Levels]:
        """Return non-blacklisted members by XP; the first page is the cached leaderboard."""
        if skip == 0:
            return await self._db.levels.leaderboard(guild_id, limit=limit)
        return await self._db.levels.find_all(
            guild_id=guild_id, blacklisted=False, order_by=("-xp", "member_id"), limit=limit, offset=skip
        )

    @legacy("db.levels_service.process_message")
    async def add_xp(self, member_id: int, guild_id: int, xp_to_add: float) -> tuple[float, int, bool]:
        """Add XP atomically and store the level; return ``(xp, level, leveled_up)``."""
        async with self._db.transaction("legacy.levels.add_xp"):
            total = await self._db.levels.add_xp(guild_id=guild_id, member_id=member_id, amount=xp_to_add)
            before = await self._row(member_id, guild_id)
            previous = 0 if before is None else before.level  # read now: the update refreshes ``before``
            level = level_for_xp(total)
            await self._db.levels.update(
                (member_id, guild_id), {"level": level, "last_message": datetime.now(UTC)}
            )
            return total, level, level > previous

    @staticmethod
    def calculate_level(xp: float) -> int:
        """Return the level ``xp`` reaches."""
        warnings.warn(
            "LevelsController.calculate_level is deprecated; use "
            "tux.database.services.levels_formula.level_for_xp",
            DeprecationWarning,
            stacklevel=2,
        )
        return level_for_xp(xp)

    @legacy("db.levels.count")
    async def count_ranked_members(self, guild_id: int) -> int:
        """Return how many members of the guild are on the leaderboard."""
        return await self._db.levels.count(guild_id=guild_id, blacklisted=False)

    @legacy("db.levels_service.rank")
    async def get_rank(self, member_id: int, guild_id: int) -> int:
        """Return the member's 1-based leaderboard position; 0 when absent or blacklisted."""
        return await self._db.levels.rank(guild_id=guild_id, member_id=member_id) or 0

    @legacy("db.guilds.delete (cascades)")
    async def bulk_delete_by_guild_id(self, guild_id: int) -> int:
        """Delete every levels row of the guild; return how many."""
        return await self._delete_matching(self._db.levels, guild_id=guild_id)
