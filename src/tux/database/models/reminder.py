"""Reminders a member asked the bot to send later in a channel."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, String, column, not_
from sqlalchemy.orm import Mapped, mapped_column

from tux.database.models._columns import length_between, partial_index, positive
from tux.database.models.base import AutoIncrementId, Base, DiscordId, utcnow

_UNSENT = not_(column("reminder_sent", Boolean()))


class Reminder(Base):
    """A pending or delivered reminder.

    ``ix_reminder_pending`` is partial on unsent reminders so the delivery loop's "due and unsent" scan
    stays small; filter with ``Reminder.reminder_sent == False`` (or ``~Reminder.reminder_sent``; not
    ``.is_(False)``) so both backends match the predicate. ``ix_reminder_guild_id`` keeps the guild's
    cascading delete indexed.
    """

    __tablename__ = "reminder"
    __table_args__ = (
        length_between("reminder_content", 1, 2000),
        positive("reminder_channel_id"),
        positive("reminder_user_id"),
        partial_index("ix_reminder_pending", "reminder_expires_at", where=_UNSENT),
        Index("ix_reminder_guild_id", "guild_id"),
    )

    reminder_id: Mapped[int] = mapped_column(AutoIncrementId, primary_key=True, autoincrement=True)
    reminder_content: Mapped[str] = mapped_column(String(2000))
    reminder_created_at: Mapped[datetime] = mapped_column(default=utcnow)
    reminder_expires_at: Mapped[datetime]
    reminder_channel_id: Mapped[int] = mapped_column(DiscordId)
    reminder_user_id: Mapped[int] = mapped_column(DiscordId)
    reminder_sent: Mapped[bool] = mapped_column(default=False)
    guild_id: Mapped[int] = mapped_column(DiscordId, ForeignKey("guild.id", ondelete="CASCADE"))
