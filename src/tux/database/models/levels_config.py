"""Levelling settings of a guild: XP rate, role rewards, role multipliers, ignored channels."""

from __future__ import annotations

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from tux.database.models._columns import non_negative, positive
from tux.database.models.base import Base, DiscordId


def _guild_key() -> Mapped[int]:
    """Key column shared by every table here: each is owned by a guild and goes away with it."""
    return mapped_column(
        DiscordId, ForeignKey("guild.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )


class LevelsConfig(Base):
    """Whether levelling is on, and how fast XP is earned (``base_xp`` per message, once per cooldown)."""

    __tablename__ = "levels_config"
    __table_args__ = (non_negative("xp_cooldown_seconds"), positive("base_xp"))

    guild_id: Mapped[int] = _guild_key()
    enabled: Mapped[bool] = mapped_column(default=True)
    xp_cooldown_seconds: Mapped[int] = mapped_column(default=60)
    base_xp: Mapped[float] = mapped_column(default=1.0)


class LevelRoleReward(Base):
    """A role granted on reaching ``level``; a level may grant several roles."""

    __tablename__ = "levels_role_reward"
    __table_args__ = (positive("level"), positive("role_id"))

    guild_id: Mapped[int] = _guild_key()
    level: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    role_id: Mapped[int] = mapped_column(DiscordId, primary_key=True, autoincrement=False)


class LevelRoleMultiplier(Base):
    """An XP multiplier for members holding ``role_id``."""

    __tablename__ = "levels_role_multiplier"
    __table_args__ = (positive("role_id"), positive("multiplier"))

    guild_id: Mapped[int] = _guild_key()
    role_id: Mapped[int] = mapped_column(DiscordId, primary_key=True, autoincrement=False)
    multiplier: Mapped[float]


class LevelChannelBlacklist(Base):
    """A channel where messages earn no XP."""

    __tablename__ = "levels_channel_blacklist"
    __table_args__ = (positive("channel_id"),)

    guild_id: Mapped[int] = _guild_key()
    channel_id: Mapped[int] = mapped_column(DiscordId, primary_key=True, autoincrement=False)
