"""``ReminderRepository``: pending reminders, and claiming due ones exactly once.

The delivery loop claims due reminders by marking them sent *before* delivering them, in one
``UPDATE ... RETURNING``, so two bot processes (or a restart mid-loop) never send a reminder twice. On
PostgreSQL the candidate rows are picked ``FOR UPDATE SKIP LOCKED``, so concurrent claimers take
disjoint batches instead of queueing on each other; on SQLite the write lock taken at ``BEGIN
IMMEDIATE`` serializes claimers and the outer ``reminder_sent = false`` guard keeps the claim exact.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from tux.database.models import Reminder
from tux.database.repositories.base import SQLAlchemyRepository, claim_statement
from tux.database.repositories.interfaces import IReminderRepository
from tux.database.repositories.support import checked, page_size

_CLAIM_DUE = claim_statement(
    Reminder,
    Reminder.reminder_id,
    ~Reminder.reminder_sent,
    Reminder.reminder_expires_at,
    {"reminder_sent": True},
)
"""The claim of due reminders (see :meth:`ReminderRepository.claim_due`)."""


class ReminderRepository(SQLAlchemyRepository[Reminder], IReminderRepository):
    """Reminders of every guild."""

    model = Reminder

    async def pending(self, *, guild_id: int | None = None, user_id: int | None = None) -> list[Reminder]:
        """Return unsent reminders, soonest first, optionally only a guild's and/or a user's."""
        where: list[Any] = [~Reminder.reminder_sent]
        if guild_id is not None:
            where.append(Reminder.guild_id == checked(Reminder, "guild_id", guild_id))
        if user_id is not None:
            where.append(Reminder.reminder_user_id == checked(Reminder, "reminder_user_id", user_id))
        statement = (
            select(Reminder)
            .where(*where)
            .order_by(Reminder.reminder_expires_at, Reminder.reminder_id)
            .execution_options(populate_existing=True)
        )
        async with self._sessions.reading() as session:
            return list((await session.scalars(statement)).all())

    async def claim_due(self, now: datetime, limit: int = 100) -> list[Reminder]:
        """Mark up to ``limit`` due, unsent reminders sent and return them, soonest first.

        Each due reminder is returned by exactly one call, however many claimers run at once.

        Raises
        ------
        ValidationError
            If ``now`` is naive or ``limit`` is not a positive integer.
        """
        values = {"due_at": checked(Reminder, "reminder_expires_at", now), "claim_limit": page_size(limit)}
        claimed = await self._instances(_CLAIM_DUE, values)
        claimed.sort(key=lambda reminder: (reminder.reminder_expires_at, reminder.reminder_id))
        return claimed
