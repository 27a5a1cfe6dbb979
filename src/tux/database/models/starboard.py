"""Starboard: a guild's showcase channel, and the messages reposted to it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from tux.database.models._columns import length_between, non_negative, positive
from tux.database.models.base import Base, DiscordId, utcnow


class Starboard(Base):
    """A guild's starboard: where starred messages go, which emoji counts, and how many stars it takes."""

    __tablename__ = "starboard"
    __table_args__ = (
        positive("starboard_channel_id"),
        length_between("starboard_emoji", 1, 64),
        positive("starboard_threshold"),
    )

    guild_id: Mapped[int] = mapped_column(
        DiscordId, ForeignKey("guild.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    starboard_channel_id: Mapped[int] = mapped_column(DiscordId)
    starboard_emoji: Mapped[str] = mapped_column(String(64))
    starboard_threshold: Mapped[int] = mapped_column(default=1)


class StarboardMessage(Base):
    """A starred message and its repost (``starboard_message_id``) on the starboard.

    ``ix_starboard_message_message_guild_id_star_count`` serves a guild's top-starred listing.
    """

    __tablename__ = "starboard_message"
    __table_args__ = (
        positive("message_id"),
        positive("message_channel_id"),
        positive("message_user_id"),
        positive("starboard_message_id"),
        length_between("message_content", 0, 4000),
        non_negative("star_count"),
        Index("ix_starboard_message_message_guild_id_star_count", "message_guild_id", "star_count"),
        Index("ix_starboard_message_starboard_post", "message_guild_id", "starboard_message_id"),
    )

    message_id: Mapped[int] = mapped_column(DiscordId, primary_key=True, autoincrement=False)
    message_content: Mapped[str] = mapped_column(String(4000))
    message_created_at: Mapped[datetime] = mapped_column(default=utcnow)
    message_expires_at: Mapped[datetime | None]
    message_channel_id: Mapped[int] = mapped_column(DiscordId)
    message_user_id: Mapped[int] = mapped_column(DiscordId)
    message_guild_id: Mapped[int] = mapped_column(DiscordId, ForeignKey("guild.id", ondelete="CASCADE"))
    star_count: Mapped[int] = mapped_column(default=0)
    starboard_message_id: Mapped[int] = mapped_column(DiscordId)
