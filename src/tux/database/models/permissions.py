"""Permission ranks: numbered staff levels, the roles that grant them, and per-command requirements."""

from __future__ import annotations

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tux.database.models._columns import between, length_between, positive
from tux.database.models.base import AutoIncrementId, Base, DiscordId

MAX_RANK = 100
"""Ranks run from 0 (everyone) to 100 (owner)."""


class PermissionRank(Base):
    """A named rank of a guild; ``rank`` is unique per guild and higher means more power."""

    __tablename__ = "permission_ranks"
    __table_args__ = (
        UniqueConstraint("guild_id", "rank"),
        between("rank", 0, MAX_RANK),
        length_between("name", 1, 100),
        length_between("description", 0, 500),
    )

    id: Mapped[int] = mapped_column(AutoIncrementId, primary_key=True, autoincrement=True)
    guild_id: Mapped[int] = mapped_column(DiscordId, ForeignKey("guild.id", ondelete="CASCADE"))
    rank: Mapped[int]
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str | None] = mapped_column(String(500))


class PermissionAssignment(Base):
    """A role that grants a rank; a role grants at most one rank per guild.

    ``ix_permission_assignments_permission_rank_id`` keeps deleting a rank (which cascades here) indexed.
    """

    __tablename__ = "permission_assignments"
    __table_args__ = (
        UniqueConstraint("guild_id", "role_id"),
        positive("role_id"),
        Index("ix_permission_assignments_permission_rank_id", "permission_rank_id"),
    )

    id: Mapped[int] = mapped_column(AutoIncrementId, primary_key=True, autoincrement=True)
    guild_id: Mapped[int] = mapped_column(DiscordId, ForeignKey("guild.id", ondelete="CASCADE"))
    permission_rank_id: Mapped[int] = mapped_column(
        AutoIncrementId, ForeignKey("permission_ranks.id", ondelete="CASCADE")
    )
    role_id: Mapped[int] = mapped_column(DiscordId)


class PermissionCommand(Base):
    """The minimum rank a command needs in a guild (overrides the command's default)."""

    __tablename__ = "permission_commands"
    __table_args__ = (
        UniqueConstraint("guild_id", "command_name"),
        length_between("command_name", 1, 100),
        between("required_rank", 0, MAX_RANK),
    )

    id: Mapped[int] = mapped_column(AutoIncrementId, primary_key=True, autoincrement=True)
    guild_id: Mapped[int] = mapped_column(DiscordId, ForeignKey("guild.id", ondelete="CASCADE"))
    command_name: Mapped[str] = mapped_column(String(100))
    required_rank: Mapped[int]
