"""``ReminderService``: creating reminders and claiming the due ones for delivery.

A due reminder is marked sent *before* it is delivered, in the claiming transaction, so a bot that
restarts mid-delivery never sends it twice (at worst a claimed reminder whose delivery crashed is lost,
which the cog can log). Two processes claiming at once each get a disjoint set.
"""

from __future__ import annotations

from datetime import datetime

from tux.database.exceptions import ValidationError
from tux.database.models import Reminder, utcnow
from tux.database.repositories.interfaces import IGuildRepository, IReminderRepository
from tux.database.repositories.support import checked_required
from tux.database.repositories.validation import validate_payload
from tux.database.transactions.patterns import TransactionManager


def _validate_content(content: object) -> str:
    """Return ``content`` if it is 1-2000 characters of text without NUL and not only whitespace."""
    text: str = checked_required(Reminder, "reminder_content", content)
    if not text.strip():
        raise ValidationError("reminder_content: a reminder needs some text")
    return text


class ReminderService:
    """Reminders of members.

    Parameters
    ----------
    transactions
        Opens the unit of work of each write.
    reminders
        The reminder rows.
    guilds
        Creates the guild row a first reminder needs.
    """

    def __init__(
        self, transactions: TransactionManager, *, reminders: IReminderRepository, guilds: IGuildRepository
    ) -> None:
        self._transactions = transactions
        self._reminders = reminders
        self._guilds = guilds

    async def create(
        self,
        guild_id: int,
        user_id: int,
        channel_id: int,
        content: str,
        expires_at: datetime,
        *,
        now: datetime | None = None,
    ) -> Reminder:
        """Schedule ``content`` to be sent to ``user_id`` in ``channel_id`` at ``expires_at``.

        Raises
        ------
        ValidationError
            If ``expires_at`` is naive or not after ``now``, or ``content`` is empty, longer than 2000
            characters or holds a NUL.
        """
        created_at: datetime = (
            utcnow() if now is None else checked_required(Reminder, "reminder_created_at", now)
        )
        if checked_required(Reminder, "reminder_expires_at", expires_at) <= created_at:
            raise ValidationError(f"expires_at: must be in the future (after {created_at.isoformat()})")
        data = validate_payload(
            Reminder,
            {
                "guild_id": guild_id,
                "reminder_user_id": user_id,
                "reminder_channel_id": channel_id,
                "reminder_content": _validate_content(content),
                "reminder_created_at": created_at,
                "reminder_expires_at": expires_at,
            },
            partial=False,
        )

        async def operation() -> Reminder:
            await self._guilds.ensure(guild_id)
            return await self._reminders.create(data)

        return await self._transactions.execute_in_transaction(operation, name="reminders.create")

    async def claim_due(self, now: datetime | None = None, limit: int = 100) -> list[Reminder]:
        """Mark up to ``limit`` due reminders sent and return them for delivery, soonest first.

        Each due reminder is returned by exactly one call, however many claimers run at once.

        Raises
        ------
        ValidationError
            If ``now`` is naive or ``limit`` is not a positive integer.
        """
        moment: datetime = utcnow() if now is None else checked_required(Reminder, "reminder_expires_at", now)

        async def operation() -> list[Reminder]:
            return await self._reminders.claim_due(moment, limit)

        return await self._transactions.execute_in_transaction(operation, name="reminders.claim_due")

    async def pending(self, *, guild_id: int | None = None, user_id: int | None = None) -> list[Reminder]:
        """Return unsent reminders, soonest first, optionally of one guild and/or user."""
        return await self._reminders.pending(guild_id=guild_id, user_id=user_id)
