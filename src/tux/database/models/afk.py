"""AFK status: a member's away message, and the nickname to restore when they come back."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, column
from sqlalchemy.orm import Mapped, mapped_column

from tux.database.models._columns import length_between, partial_index, positive
from tux.database.models.base import Base, DiscordId, utcnow


class AFK(Base):
    """One AFK member in one guild.

    The key is ``(guild_id, member_id)``: guild first so a guild's rows are contiguous for its cascading
    delete, and a member lookup is still a primary-key probe. ``until`` is set for timed AFK;
    ``perm_afk`` survives the member talking; ``enforced`` means staff set it.
    """

    __tablename__ = "afk"
    __table_args__ = (
        positive("member_id"),
        length_between("nickname", 0, 100),
        length_between("reason", 0, 500),
        CheckConstraint("until IS NULL OR until > since", name="until_after_since"),
        partial_index("ix_afk_until", "until", where=column("until").is_not(None)),
    )

    guild_id: Mapped[int] = mapped_column(
        DiscordId, ForeignKey("guild.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    member_id: Mapped[int] = mapped_column(DiscordId, primary_key=True, autoincrement=False)
    nickname: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str] = mapped_column(String(500))
    since: Mapped[datetime] = mapped_column(default=utcnow)
    until: Mapped[datetime | None]
    enforced: Mapped[bool] = mapped_column(default=False)
    perm_afk: Mapped[bool] = mapped_column(default=False)
