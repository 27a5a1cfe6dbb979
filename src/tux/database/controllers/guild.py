"""``db.controller.guild``: Tux's Prisma-era ``GuildController`` over ``db.guilds``."""

from __future__ import annotations

from tux.database.controllers.base import LegacyController, legacy
from tux.database.models import Guild


class GuildController(LegacyController):
    """Guild rows with the methods and arguments of Tux's ``GuildController``."""

    @legacy("db.guilds.find_by_id")
    async def get_guild_by_id(self, guild_id: int) -> Guild | None:
        """Return the guild, ``None`` when it has no row."""
        return await self._db.guilds.find_by_id(guild_id)

    @legacy("db.guilds.ensure")
    async def get_or_create_guild(self, guild_id: int) -> Guild:
        """Return the guild, inserting it when missing."""
        return await self._db.guilds.ensure(guild_id)

    @legacy("db.guild_setup.onboard")
    async def insert_guild_by_id(self, guild_id: int) -> Guild:
        """Insert the guild (``ConflictError`` when it exists)."""
        return await self._db.guilds.create({"id": guild_id})

    @legacy("db.guilds.delete")
    async def delete_guild_by_id(self, guild_id: int) -> None:
        """Delete the guild and, by cascade, everything of it."""
        await self._db.guilds.delete(guild_id)

    @legacy("db.guilds.find_all")
    async def get_all_guilds(self) -> list[Guild]:
        """Return every guild."""
        return await self._db.guilds.find_all(order_by="id")
