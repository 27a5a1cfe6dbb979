"""Per-member XP and level in a guild."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, column, not_
from sqlalchemy.orm import Mapped, mapped_column

from tux.database.models._columns import non_negative, partial_index, positive
from tux.database.models.base import Base, DiscordId

_NOT_BLACKLISTED = not_(column("blacklisted", Boolean()))


class Levels(Base):
    """A member's XP and level in one guild.

    The key is ``(guild_id, member_id)`` (guild first, for the guild's cascading delete).
    ``ix_levels_leaderboard`` on ``(guild_id, xp)``, partial on non-blacklisted members, answers the
    leaderboard (``ORDER BY xp DESC``, scanned backwards); filter with ``Levels.blacklisted == False``
    (or ``~Levels.blacklisted``; not ``.is_(False)``) so both backends match the predicate.
    """

    __tablename__ = "levels"
    __table_args__ = (
        positive("member_id"),
        non_negative("xp"),
        non_negative("level"),
        partial_index("ix_levels_leaderboard", "guild_id", "xp", where=_NOT_BLACKLISTED),
    )

    guild_id: Mapped[int] = mapped_column(
        DiscordId, ForeignKey("guild.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    member_id: Mapped[int] = mapped_column(DiscordId, primary_key=True, autoincrement=False)
    xp: Mapped[float] = mapped_column(default=0.0)
    level: Mapped[int] = mapped_column(default=0)
    blacklisted: Mapped[bool] = mapped_column(default=False)
    last_message: Mapped[datetime | None]
