"""Small immutable results of queries that return less (or more) than one model row."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class ModerationSettings:
    """A guild's log channels and jail settings, read in one query."""

    guild_id: int
    mod_log_id: int | None
    audit_log_id: int | None
    join_log_id: int | None
    private_log_id: int | None
    report_log_id: int | None
    dev_log_id: int | None
    jail_channel_id: int | None
    jail_role_id: int | None


@dataclass(frozen=True, slots=True)
class MessageContext:
    """What deciding a message's XP needs, read in one query.

    ``guild_known`` is false when the guild has no row yet (the award must then create it). The rules
    are the guild's ``levels_config`` or, without one, the column defaults. ``multiplier`` is the highest
    multiplier among the member's roles that have one, ``1.0`` when none has. The member fields describe
    the member's ``levels`` row, zero/``None`` when there is none yet.
    """

    guild_known: bool
    enabled: bool
    cooldown_seconds: int
    base_xp: float
    channel_blacklisted: bool
    multiplier: float
    member_blacklisted: bool
    xp: float
    level: int
    last_message: datetime | None


@dataclass(frozen=True, slots=True)
class XpAward:
    """The member's row right after an award: the new XP total and the level stored before it."""

    xp: float
    stored_level: int
