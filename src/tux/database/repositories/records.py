"""Small immutable results of queries that return less (or more) than one model row."""

from __future__ import annotations

from collections.abc import Sequence
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
class MessageState:
    """Everything a member's chat messages are decided on, whatever channel and roles they come with.

    What :class:`MessageContext` resolves for one channel and role set, kept whole (the guild's
    blacklisted channels and role multipliers) so one cached value per member answers every message
    until an award or a change of the guild's levelling setup invalidates it.
    """

    guild_known: bool
    enabled: bool
    cooldown_seconds: int
    base_xp: float
    blacklisted_channels: tuple[int, ...]
    multipliers: tuple[tuple[int, float], ...]
    """``(role_id, multiplier)`` of every role of the guild that has one."""
    member_blacklisted: bool
    xp: float
    level: int
    last_message: datetime | None

    def context_for(self, channel_id: int, role_ids: Sequence[int]) -> MessageContext:
        """Return the decision inputs of a message in ``channel_id`` by a member with ``role_ids``."""
        roles = set(role_ids)
        best = max((multiplier for role, multiplier in self.multipliers if role in roles), default=None)
        return MessageContext(
            guild_known=self.guild_known,
            enabled=self.enabled,
            cooldown_seconds=self.cooldown_seconds,
            base_xp=self.base_xp,
            channel_blacklisted=channel_id in self.blacklisted_channels,
            multiplier=1.0 if best is None else best,
            member_blacklisted=self.member_blacklisted,
            xp=self.xp,
            level=self.level,
            last_message=self.last_message,
        )


@dataclass(frozen=True, slots=True)
class XpAward:
    """The member's row right after an award: the new XP total and the level stored before it."""

    xp: float
    stored_level: int
