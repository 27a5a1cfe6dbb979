"""``db.controller.starboard`` and ``.starboard_message``: Tux's Prisma-era starboard controllers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tux.database.controllers.base import LegacyController, legacy
from tux.database.models import Starboard, StarboardMessage


class StarboardController(LegacyController):
    """Starboard configuration with the methods and arguments of Tux's ``StarboardController``."""

    @legacy("db.starboards.find_all")
    async def get_all_starboards(self) -> list[Starboard]:
        """Return every guild's starboard."""
        return await self._db.starboards.find_all(order_by="guild_id")

    @legacy("db.starboards.find_by_id")
    async def get_starboard_by_guild_id(self, guild_id: int) -> Starboard | None:
        """Return the guild's starboard."""
        return await self._db.starboards.find_by_id(guild_id)

    @legacy("db.starboards.upsert_starboard")
    async def create_or_update_starboard(
        self, guild_id: int, starboard_channel_id: int, starboard_emoji: str, starboard_threshold: int
    ) -> Starboard:
        """Create or replace the guild's starboard."""
        return await self._db.starboards.upsert_starboard(
            guild_id,
            {
                "starboard_channel_id": starboard_channel_id,
                "starboard_emoji": starboard_emoji,
                "starboard_threshold": starboard_threshold,
            },
        )

    @legacy("db.starboards.delete")
    async def delete_starboard_by_guild_id(self, guild_id: int) -> Starboard | None:
        """Delete the guild's starboard and return it."""
        return await self._delete_returning(self._db.starboards, guild_id)

    @legacy("db.starboards.count")
    async def count_starboards(self) -> int:
        """Return how many guilds have a starboard."""
        return await self._db.starboards.count()


class StarboardMessageController(LegacyController):
    """Starred messages with the methods and arguments of Tux's ``StarboardMessageController``."""

    @legacy("db.starboard_messages.find_by_id")
    async def get_starboard_message(self, message_id: int, guild_id: int) -> StarboardMessage | None:
        """Return the starred message of the guild."""
        return await self._message(message_id, guild_id)

    @legacy("db.starboard_messages.create / update")
    async def create_or_update_starboard_message(  # noqa: PLR0917 - Tux's signature
        self,
        message_id: int,
        message_content: str,
        message_expires_at: datetime,
        message_channel_id: int,
        message_user_id: int,
        message_guild_id: int,
        star_count: int,
        starboard_message_id: int,
    ) -> StarboardMessage:
        """Record a starred message or replace what is known of it."""
        data = {
            "message_id": message_id,
            "message_content": message_content,
            "message_expires_at": message_expires_at,
            "message_channel_id": message_channel_id,
            "message_user_id": message_user_id,
            "message_guild_id": message_guild_id,
            "star_count": star_count,
            "starboard_message_id": starboard_message_id,
        }
        async with self._db.transaction("legacy.starboard_message.create_or_update"):
            await self._db.guilds.ensure(message_guild_id)
            if await self._db.starboard_messages.find_by_id(message_id) is None:
                return await self._db.starboard_messages.create(data)
            updated = await self._db.starboard_messages.update(message_id, data)
            assert updated is not None  # found in this unit of work
            return updated

    @legacy("db.starboard_messages.delete")
    async def delete_starboard_message(self, message_id: int, guild_id: int) -> StarboardMessage | None:
        """Delete the starred message of the guild and return it."""
        async with self._db.transaction("legacy.starboard_message.delete"):
            if await self._message(message_id, guild_id) is None:
                return None
            return await self._delete_returning(self._db.starboard_messages, message_id)

    @legacy("db.starboard_messages.find_all")
    async def get_all_starboard_messages(
        self, guild_id: int, limit: int | None = None, order_by_stars: bool = False
    ) -> list[StarboardMessage]:
        """Return the guild's starred messages, most stars or latest expiry first."""
        order = ("-star_count", "message_id") if order_by_stars else ("-message_expires_at", "message_id")
        return await self._db.starboard_messages.find_all(
            message_guild_id=guild_id, order_by=order, limit=limit
        )

    @legacy("db.starboard_messages.change_stars")
    async def update_star_count(
        self, message_id: int, guild_id: int, new_star_count: int
    ) -> StarboardMessage | None:
        """Set the message's star count."""
        async with self._db.transaction("legacy.starboard_message.update_star_count"):
            if await self._message(message_id, guild_id) is None:
                return None
            return await self._db.starboard_messages.update(message_id, {"star_count": new_star_count})

    @legacy("db.starboard_messages.find_by_id")
    async def get_starboard_message_by_id(self, message_id: int, guild_id: int) -> StarboardMessage | None:
        """Return the starred message of the guild."""
        return await self._message(message_id, guild_id)

    @legacy("db.starboard_messages.change_stars")
    async def increment_star_count(self, message_id: int, guild_id: int) -> StarboardMessage | None:
        """Add one star atomically and return the message."""
        async with self._db.transaction("legacy.starboard_message.increment_star_count"):
            if (
                await self._db.starboard_messages.change_stars(
                    message_id=message_id, guild_id=guild_id, delta=1
                )
                is None
            ):
                return None
            return await self._db.starboard_messages.find_by_id(message_id)

    @legacy("db.starboard_messages.find_all")
    async def get_top_starred_messages(self, guild_id: int, limit: int = 10) -> list[StarboardMessage]:
        """Return the guild's most starred messages."""
        return await self._db.starboard_messages.find_all(
            message_guild_id=guild_id, order_by=("-star_count", "message_id"), limit=limit
        )

    @legacy("db.starboard_messages.count")
    async def count_starboard_messages(self, guild_id: int) -> int:
        """Return how many starred messages the guild has."""
        return await self._db.starboard_messages.count(message_guild_id=guild_id)

    @legacy("db.guilds.delete (cascades)")
    async def bulk_delete_messages_by_guild_id(self, guild_id: int) -> int:
        """Delete every starred message of the guild; return how many."""
        return await self._delete_matching(self._db.starboard_messages, message_guild_id=guild_id)

    @legacy("db.starboard_messages.find_all")
    async def get_messages_for_user(
        self, user_id: int, guild_id: int | None = None, limit: int | None = None
    ) -> list[StarboardMessage]:
        """Return the user's starred messages, most stars first, in one guild or all."""
        where: dict[str, Any] = {"message_user_id": user_id}
        if guild_id is not None:
            where["message_guild_id"] = guild_id
        return await self._db.starboard_messages.find_all(
            order_by=("-star_count", "message_id"), limit=limit, **where
        )

    async def _message(self, message_id: int, guild_id: int) -> StarboardMessage | None:
        message = await self._db.starboard_messages.find_by_id(message_id)
        return message if message is not None and message.message_guild_id == guild_id else None
