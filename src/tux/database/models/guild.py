"""The guild row every other table hangs off (deleting it cascades to the guild's data)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Mapped, mapped_column

from tux.database.models._columns import non_negative, positive
from tux.database.models.base import Base, DiscordId, utcnow


class Guild(Base):
    """A Discord guild the bot has data for.

    ``case_count`` is the last case number handed out; it is bumped atomically when a case is created so
    case numbers stay dense per guild.
    """

    __tablename__ = "guild"
    __table_args__ = (positive("id"), non_negative("case_count"))

    id: Mapped[int] = mapped_column(DiscordId, primary_key=True, autoincrement=False)
    guild_joined_at: Mapped[datetime] = mapped_column(default=utcnow)
    case_count: Mapped[int] = mapped_column(default=0)
