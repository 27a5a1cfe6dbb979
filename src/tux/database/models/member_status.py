"""Current moderation state of a member, kept alongside the case history for O(1) checks."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from tux.database.models._columns import positive
from tux.database.models.base import Base, DiscordId, utcnow


class MemberStatus(Base):
    """Whether a member is banned, jailed, snippet-banned, poll-banned or timed out in a guild.

    A primary-key lookup answers "is this member jailed?" without scanning cases; the case history stays
    the record of how the state came about.
    """

    __tablename__ = "member_status"
    __table_args__ = (positive("member_id"),)

    guild_id: Mapped[int] = mapped_column(
        DiscordId, ForeignKey("guild.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    member_id: Mapped[int] = mapped_column(DiscordId, primary_key=True, autoincrement=False)
    is_banned: Mapped[bool] = mapped_column(default=False)
    is_jailed: Mapped[bool] = mapped_column(default=False)
    is_snippet_banned: Mapped[bool] = mapped_column(default=False)
    is_poll_banned: Mapped[bool] = mapped_column(default=False)
    timed_out_until: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
