"""Moderation cases: the permanent, per-guild numbered record of every moderation action."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, String, UniqueConstraint, column, not_
from sqlalchemy.orm import Mapped, mapped_column

from tux.database.models._columns import JsonType, length_between, partial_index, positive, text_enum
from tux.database.models.base import AutoIncrementId, Base, DiscordId, utcnow
from tux.database.models.enums import CaseStatus, CaseType

_UNPROCESSED_TEMPBAN = (column("case_type", String()) == CaseType.TEMPBAN.value) & not_(
    column("case_processed", Boolean())
)


class Case(Base):
    """One moderation action against one member.

    Indexes serve the bot's hot queries:

    - ``uq_cases_guild_id_case_number``: fetch case #n of a guild, and keeps numbers unique;
    - ``ix_cases_guild_id_case_user_id_case_number``: a member's history, newest first;
    - ``ix_cases_guild_id_case_user_id_case_type_case_number``: the latest case of a type pair for a
      member (``case_type IN ('JAIL', 'UNJAIL') ORDER BY case_number DESC LIMIT 1``), which decides
      whether the member is jailed, banned, snippet-banned or poll-banned. One general index serves every
      pair with two short index probes, where a partial index would serve only one pair;
    - ``ix_cases_tempban_pending``: the expiry loop's unhandled tempbans. It is partial, so it stays tiny;
      filter with ``Case.case_type == CaseType.TEMPBAN`` and ``Case.case_processed == False`` (or
      ``~Case.case_processed``) so both backends match the predicate.

    ``case_user_roles`` keeps the member's role ids at jail time so unjail can restore them.
    """

    __tablename__ = "cases"
    __table_args__ = (
        UniqueConstraint("guild_id", "case_number"),
        positive("case_number"),
        positive("case_moderator_id"),
        positive("case_user_id"),
        positive("mod_log_message_id"),
        length_between("case_reason", 1, 2000),
        length_between("case_void_reason", 1, 2000),
        Index("ix_cases_guild_id_case_user_id_case_number", "guild_id", "case_user_id", "case_number"),
        Index(
            "ix_cases_guild_id_case_user_id_case_type_case_number",
            "guild_id",
            "case_user_id",
            "case_type",
            "case_number",
        ),
        partial_index("ix_cases_tempban_pending", "case_expires_at", where=_UNPROCESSED_TEMPBAN),
    )

    id: Mapped[int] = mapped_column(AutoIncrementId, primary_key=True, autoincrement=True)
    guild_id: Mapped[int] = mapped_column(DiscordId, ForeignKey("guild.id", ondelete="CASCADE"))
    case_number: Mapped[int]
    case_type: Mapped[CaseType] = mapped_column(text_enum(CaseType, "case_type", 32))
    case_reason: Mapped[str] = mapped_column(String(2000))
    case_moderator_id: Mapped[int] = mapped_column(DiscordId)
    case_user_id: Mapped[int] = mapped_column(DiscordId)
    case_user_roles: Mapped[list[int]] = mapped_column(JsonType, default=list)
    case_created_at: Mapped[datetime] = mapped_column(default=utcnow)
    case_expires_at: Mapped[datetime | None]
    case_processed: Mapped[bool] = mapped_column(default=False)
    case_status: Mapped[CaseStatus] = mapped_column(
        text_enum(CaseStatus, "case_status", 16), default=CaseStatus.ACTIVE
    )
    case_void_reason: Mapped[str | None] = mapped_column(String(2000))
    case_voided_at: Mapped[datetime | None]
    case_metadata: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    mod_log_message_id: Mapped[int | None] = mapped_column(DiscordId)
