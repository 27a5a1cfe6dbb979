"""``db.controller.afk``: Tux's Prisma-era ``AfkController`` over ``db.afk`` and ``db.afk_service``."""

from __future__ import annotations

from datetime import datetime

from tux.database.controllers.base import LegacyController, legacy
from tux.database.models import AFK


class AfkController(LegacyController):
    """AFK entries with the methods and arguments of Tux's ``AfkController``."""

    @legacy("db.afk_service.get_afk")
    async def get_afk_member(self, member_id: int, *, guild_id: int) -> AFK | None:
        """Return the member's AFK entry."""
        return await self._db.afk_service.get_afk(guild_id, member_id)

    @legacy("db.afk_service.get_afk")
    async def is_afk(self, member_id: int, *, guild_id: int) -> bool:
        """Return whether the member is AFK."""
        return await self._db.afk_service.get_afk(guild_id, member_id) is not None

    @legacy("db.afk_service.get_afk")
    async def is_perm_afk(self, member_id: int, *, guild_id: int) -> bool:
        """Return whether the member is permanently AFK."""
        entry = await self._db.afk_service.get_afk(guild_id, member_id)
        return entry is not None and entry.perm_afk

    @legacy("db.afk_service.set_afk")
    async def set_afk(  # noqa: PLR0917 - Tux's signature
        self,
        member_id: int,
        nickname: str,
        reason: str,
        guild_id: int,
        perm_afk: bool = False,
        until: datetime | None = None,
        enforced: bool = False,
        *,
        is_perm: bool | None = None,
    ) -> AFK:
        """Mark the member AFK from now (``is_perm`` is today's Tux name of ``perm_afk``)."""
        permanent = perm_afk if is_perm is None else is_perm
        return await self._db.afk_service.set_afk(
            guild_id, member_id, nickname, reason, until=until, enforced=enforced, perm_afk=permanent
        )

    @legacy("db.afk_service.clear_afk")
    async def remove_afk(self, member_id: int, guild_id: int | None = None) -> AFK | None:
        """Clear the member's AFK entry and return it.

        Without ``guild_id`` (Tux's Prisma-era call, when a member had one entry in all) every entry of
        the member is cleared and the first one returned.
        """
        if guild_id is not None:
            return await self._db.afk_service.clear_afk(guild_id, member_id)
        async with self._db.transaction("legacy.afk.remove_afk"):
            removed = [
                await self._db.afk_service.clear_afk(entry.guild_id, member_id)
                for entry in await self._db.afk.find_all(member_id=member_id, order_by="guild_id")
            ]
            return next((entry for entry in removed if entry is not None), None)

    @legacy("db.afk.count")
    async def count_afk_members(self, guild_id: int) -> int:
        """Return how many members of the guild are AFK."""
        return await self._db.afk.count(guild_id=guild_id)

    @legacy("db.afk.find_all")
    async def get_all_afk_members(self, guild_id: int) -> list[AFK]:
        """Return every AFK entry of the guild."""
        return await self._db.afk.find_all(guild_id=guild_id, order_by="member_id")
