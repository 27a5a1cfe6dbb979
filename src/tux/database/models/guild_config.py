"""Per-guild settings: command prefix, log channels, jail setup and onboarding progress."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from tux.database.models._columns import length_between, positive, text_enum
from tux.database.models.base import Base, DiscordId
from tux.database.models.enums import OnboardingStage

CHANNEL_AND_ROLE_COLUMNS = (
    "mod_log_id",
    "audit_log_id",
    "join_log_id",
    "private_log_id",
    "report_log_id",
    "dev_log_id",
    "jail_channel_id",
    "jail_role_id",
)


class GuildConfig(Base):
    """One row per configured guild, keyed by the guild id itself.

    Channel and role ids are nullable: an unset log channel simply means that log is not sent.
    """

    __tablename__ = "guild_config"
    __table_args__ = (
        positive("id"),
        length_between("prefix", 1, 10),
        *(positive(name) for name in CHANNEL_AND_ROLE_COLUMNS),
    )

    id: Mapped[int] = mapped_column(
        DiscordId, ForeignKey("guild.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    prefix: Mapped[str] = mapped_column(String(10), default="$")
    mod_log_id: Mapped[int | None] = mapped_column(DiscordId)
    audit_log_id: Mapped[int | None] = mapped_column(DiscordId)
    join_log_id: Mapped[int | None] = mapped_column(DiscordId)
    private_log_id: Mapped[int | None] = mapped_column(DiscordId)
    report_log_id: Mapped[int | None] = mapped_column(DiscordId)
    dev_log_id: Mapped[int | None] = mapped_column(DiscordId)
    jail_channel_id: Mapped[int | None] = mapped_column(DiscordId)
    jail_role_id: Mapped[int | None] = mapped_column(DiscordId)
    onboarding_stage: Mapped[OnboardingStage] = mapped_column(
        text_enum(OnboardingStage, "onboarding_stage", 32), default=OnboardingStage.NOT_STARTED
    )
    onboarding_completed_at: Mapped[datetime | None]
