"""Append-only audit trail of what staff did through the bot."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from tux.database.models._columns import JsonType, length_between, positive
from tux.database.models.base import AutoIncrementId, Base, DiscordId, utcnow


class AuditLog(Base):
    """One recorded action; rows are only ever inserted.

    ``case_id`` is set to NULL if the case is deleted, so the trail survives. ``ix_audit_log_case_id``
    keeps that ``SET NULL`` (run once per deleted case, e.g. when a guild is removed) indexed, and
    ``ix_audit_log_guild_id_created_at`` serves a guild's trail in time order.
    """

    __tablename__ = "audit_log"
    __table_args__ = (
        positive("actor_id"),
        positive("target_id"),
        length_between("action", 1, 64),
        Index("ix_audit_log_guild_id_created_at", "guild_id", "created_at"),
        Index("ix_audit_log_case_id", "case_id"),
    )

    id: Mapped[int] = mapped_column(AutoIncrementId, primary_key=True, autoincrement=True)
    guild_id: Mapped[int] = mapped_column(DiscordId, ForeignKey("guild.id", ondelete="CASCADE"))
    actor_id: Mapped[int] = mapped_column(DiscordId)
    action: Mapped[str] = mapped_column(String(64))
    target_id: Mapped[int | None] = mapped_column(DiscordId)
    case_id: Mapped[int | None] = mapped_column(AutoIncrementId, ForeignKey("cases.id", ondelete="SET NULL"))
    details: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
