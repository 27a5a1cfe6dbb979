"""``db.controller.reminder``: Tux's Prisma-era ``ReminderController`` over ``db.reminders``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from tux.database.controllers.base import LegacyController, legacy
from tux.database.models import Reminder

SOONEST_FIRST = ("reminder_expires_at", "reminder_id")


class ReminderController(LegacyController):
    """Reminders with the methods and arguments of Tux's ``ReminderController``."""

    @legacy("db.reminder_service.pending")
    async def get_all_reminders(self) -> list[Reminder]:
        """Return every reminder, sent or not, soonest first."""
        return await self._db.reminders.find_all(order_by=SOONEST_FIRST)

    @legacy("db.reminders.find_by_id")
    async def get_reminder_by_id(self, reminder_id: int) -> Reminder | None:
        """Return the reminder."""
        return await self._db.reminders.find_by_id(reminder_id)

    @legacy("db.reminder_service.create")
    async def insert_reminder(
        self,
        reminder_user_id: int,
        reminder_content: str,
        reminder_expires_at: datetime,
        reminder_channel_id: int,
        guild_id: int,
    ) -> Reminder:
        """Schedule a reminder (creating the guild row when missing)."""
        return await self._db.reminder_service.create(
            guild_id, reminder_user_id, reminder_channel_id, reminder_content, reminder_expires_at
        )

    @legacy("db.reminders.delete")
    async def delete_reminder_by_id(self, reminder_id: int) -> Reminder | None:
        """Delete the reminder and return it."""
        return await self._delete_returning(self._db.reminders, reminder_id)

    @legacy("db.reminders.update")
    async def update_reminder_by_id(self, reminder_id: int, reminder_content: str) -> Reminder | None:
        """Replace the reminder's text."""
        return await self._db.reminders.update(reminder_id, {"reminder_content": reminder_content})

    @legacy("db.reminder_service.claim_due")
    async def update_reminder_status(self, reminder_id: int, sent: bool = True) -> Reminder | None:
        """Mark the reminder sent (or not)."""
        return await self._db.reminders.update(reminder_id, {"reminder_sent": sent})

    @legacy("db.reminder_service.pending")
    async def get_reminders_by_user_id(
        self, user_id: int, include_sent: bool = False, limit: int | None = None
    ) -> list[Reminder]:
        """Return the user's reminders, soonest first; unsent ones only unless ``include_sent``."""
        return await self._db.reminders.find_all(
            reminder_user_id=user_id, order_by=SOONEST_FIRST, limit=limit, **_unsent(include_sent)
        )

    @legacy("db.reminder_service.pending")
    async def get_reminders_by_guild_id(
        self, guild_id: int, include_sent: bool = False, limit: int | None = None
    ) -> list[Reminder]:
        """Return the guild's reminders, soonest first; unsent ones only unless ``include_sent``."""
        return await self._db.reminders.find_all(
            guild_id=guild_id, order_by=SOONEST_FIRST, limit=limit, **_unsent(include_sent)
        )

    @legacy("db.reminders.count")
    async def count_reminders_by_guild_id(self, guild_id: int, include_sent: bool = False) -> int:
        """Return how many reminders the guild has; unsent ones only unless ``include_sent``."""
        return await self._db.reminders.count(guild_id=guild_id, **_unsent(include_sent))

    @legacy("db.guilds.delete (cascades)")
    async def bulk_delete_reminders_by_guild_id(self, guild_id: int) -> int:
        """Delete every reminder of the guild; return how many."""
        return await self._delete_matching(self._db.reminders, guild_id=guild_id)

    @legacy("db.reminder_service.claim_due")
    async def mark_reminders_as_sent(self, reminder_ids: Sequence[int]) -> int:
        """Mark the given reminders sent; return how many exist."""
        async with self._db.transaction("legacy.reminder.mark_reminders_as_sent"):
            marked = 0
            for reminder_id in reminder_ids:
                marked += await self._db.reminders.update(reminder_id, {"reminder_sent": True}) is not None
            return marked


def _unsent(include_sent: bool) -> dict[str, Any]:
    return {} if include_sent else {"reminder_sent": False}
